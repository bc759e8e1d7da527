"""Webhook mode: Telegram posts updates to us; each is saved before Telegram hears "200".

python-telegram-bot's webhook server answers Telegram first and handles the update later,
one at a time: a crash in between loses the update (Telegram does not send it again), and a
slow chat holds up everybody. This server uses the same path as long polling
(bot/telegram/polling.py): the update goes into the inbox, then Telegram gets its answer, then the
chat queues handle it. Should saving fail, Telegram gets a 500 and sends the update again.

Telegram also repeats every post answered with a 5xx, so junk must not get one: a post that
can never be an update (not JSON, not an object, no possible update_id) gets a 400 and one
log line; one with an update_id that python-telegram-bot cannot parse gets a 200 and is set
aside (bot/telegram/quarantine.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from functools import partial
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.config import Settings
from bot.storage.database import is_locked
from bot.telegram.polling import (
    POLL_TIMEOUT,
    ChatQueues,
    Stop,
    heartbeat_of,
    receive,
    running,
    until_done,
)
from bot.telegram.quarantine import read_update, update_id_of
from bot.telegram.transport import parse_update_json

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # an update is a few KB
SERVING_SIGN = POLL_TIMEOUT  # as often as long polling gives its sign


def webhook_server(
    app: Application[Any, Any, Any, Any, Any, Any], queues: ChatQueues, path: str, secret: str
) -> web.Application:
    """The aiohttp application that takes Telegram's posts at `/path`."""

    async def on_update(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403)
        raw = await request.read()
        try:
            data, body = parse_update_json(raw)  # invalid UTF-8 is a ValueError too
        except (ValueError, RecursionError) as error:
            return _refused(f"not JSON ({type(error).__name__})")
        update_id = update_id_of(data)
        if update_id is None:
            return _refused("no update_id")
        entry = read_update(update_id, data, body, app.bot)
        await queues.wait_for_room()
        try:
            fresh = await receive(app, [entry], raw=lambda _: body)
        except Exception as error:
            if not is_locked(error):
                stop: Stop | None = app.bot_data.get("stop")
                if stop is None:
                    raise
                stop.fail(error)  # like a failing chat queue: the process ends with it
                return web.Response(status=500)
            heartbeat_of(app).trouble("saving updates", error)
            return web.Response(status=503)  # Telegram posts it again a little later
        heartbeat_of(app).fine("saving updates")
        queues.put(fresh)
        return web.Response()  # only now: the update is saved

    server = web.Application(client_max_size=MAX_BODY)
    server.router.add_post(f"/{path}", on_update)
    return server


def _refused(reason: str) -> web.Response:
    """A post that can never be an update: 400, so Telegram does not send it again."""
    log.warning("webhook post refused: %s", reason)
    return web.Response(status=400, text="not a Telegram update")


async def run_webhook(app: Application[Any, Any, Any, Any, Any, Any], settings: Settings) -> None:
    """Register the webhook and serve it until SIGINT/SIGTERM (or a failure that ends it)."""
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value()
    heartbeat = heartbeat_of(app)
    async with running(app) as (queues, stop):
        server = webhook_server(app, queues, settings.webhook_path, secret)
        runner = web.AppRunner(server, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, settings.webhook_listen, settings.webhook_port)
            await site.start()
            log.info("serving a webhook on %s:%d", settings.webhook_listen, settings.webhook_port)
            register = partial(
                app.bot.set_webhook,
                settings.webhook_url,
                secret_token=secret,
                allowed_updates=Update.ALL_TYPES,
            )
            await until_done("setWebhook", register, stop, heartbeat)
            # Telegram posts when it has something, so serving is: the server is up, the
            # webhook registered, and nothing has stopped the bot.
            while not stop.is_set():
                heartbeat.served()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), SERVING_SIGN)
        finally:
            await runner.cleanup()  # stops taking posts, then the queues finish
