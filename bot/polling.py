"""Long polling that confirms updates to Telegram only once they have been handled.

python-telegram-bot's updater asks for the next batch (which confirms the previous one to
Telegram) while the previous batch is still waiting to be handled; a crash in between loses
those messages for good. Here a batch is handled completely before the next getUpdates, so
after a crash Telegram delivers the unconfirmed batch again. Each update is handled in one
SQLite transaction together with its "processed" mark, so its changes are saved exactly once;
a reply sent just before a crash may arrive a second time, nothing is lost or applied twice.
SIGTERM finishes the update in flight, then stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.coach import Clock, Coach

log = logging.getLogger(__name__)
POLL_TIMEOUT = 10


async def poll(app: Application[Any, Any, Any, Any, Any, Any], stop: asyncio.Event) -> None:
    """Fetch, handle, then confirm, until `stop` is set."""
    coach: Coach = app.bot_data["coach"]
    clock: Clock = coach.clock
    offset: int | None = None
    delay = 1.0
    while not stop.is_set():
        fetch = asyncio.ensure_future(
            app.bot.get_updates(
                offset=offset, timeout=POLL_TIMEOUT, allowed_updates=Update.ALL_TYPES
            )
        )
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not fetch.done():
            fetch.cancel()  # nothing fetched is lost: unconfirmed updates come again
            with contextlib.suppress(asyncio.CancelledError):
                await fetch
            break
        try:
            updates = fetch.result()
        except InvalidToken:
            raise
        except RetryAfter as error:
            await asyncio.sleep(
                float(
                    error.retry_after
                    if isinstance(error.retry_after, int)
                    else error.retry_after.total_seconds()
                )
            )
            continue
        except (NetworkError, TimedOut) as error:
            log.warning("getUpdates failed (%s); retrying in %.0f s", error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)
            continue
        delay = 1.0
        done = await coach.repo.processed([u.update_id for u in updates])
        for update in updates:
            if stop.is_set():
                break  # the rest stays unconfirmed and comes again after the restart
            if update.update_id not in done:
                # Handled and marked in one transaction: after a crash the update is either
                # done (and skipped) or not at all (and handled when Telegram sends it again).
                async with coach.repo.unit_of_work():
                    await app.process_update(update)
                    await coach.repo.mark_processed(update.update_id, clock())
            offset = update.update_id + 1
    if offset is not None:
        # Confirm what was handled, without waiting for new updates.
        with contextlib.suppress(NetworkError, TimedOut):
            await app.bot.get_updates(offset=offset, timeout=0, limit=1)


async def run_polling(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The bot's life: initialise, start jobs, poll until SIGINT/SIGTERM, shut down."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with app:
        if app.post_init is not None:
            await app.post_init(app)
        await app.bot.delete_webhook()
        await app.start()
        try:
            await poll(app, stop)
        finally:
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
