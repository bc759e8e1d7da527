"""Long polling that confirms updates to Telegram only once they have been handled.

python-telegram-bot's updater asks for the next batch (which confirms the previous one to
Telegram) while the previous batch is still waiting to be handled; a crash in between loses
those messages for good. Here a batch is handled completely before the next getUpdates, so
after a crash Telegram delivers the unconfirmed batch again. Each update is handled in one
SQLite transaction together with its "processed" mark, so its changes are saved exactly once.
Its replies are saved with the mark and sent after the commit (bot/outbox.py): a reply may
arrive a second time after a crash, nothing is lost or applied twice. Chats are handled side
by side, each in order, so a slow or failing chat does not hold up the others. SIGTERM
finishes the updates in flight, then stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot import outbox
from bot.coach import Coach

log = logging.getLogger(__name__)
POLL_TIMEOUT = 10
# Chats handled side by side within a batch; each chat's updates stay in order.
CONCURRENT_CHATS = 16


async def poll(app: Application[Any, Any, Any, Any, Any, Any], stop: asyncio.Event) -> None:
    """Fetch, handle, then confirm, until `stop` is set."""
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
        if updates:
            handled = await _handle_batch(app, updates, stop)
            # Confirm up to the first update not handled (stopped early): it and everything
            # after it come again after the restart; the handled ones are skipped then.
            pending = [u.update_id for u in updates if u.update_id not in handled]
            offset = min(pending) if pending else updates[-1].update_id + 1
    if offset is not None:
        # Confirm what was handled, without waiting for new updates.
        with contextlib.suppress(NetworkError, TimedOut):
            await app.bot.get_updates(offset=offset, timeout=0, limit=1)


async def _handle_batch(
    app: Application[Any, Any, Any, Any, Any, Any], updates: Sequence[Update], stop: asyncio.Event
) -> set[int]:
    """Handle a batch, chats side by side and each chat in order; the ids handled."""
    coach: Coach = app.bot_data["coach"]
    done = await coach.repo.processed([u.update_id for u in updates])
    chats: dict[int, list[Update]] = {}
    for update in updates:
        if update.update_id not in done:
            chat = update.effective_chat or update.effective_user
            chats.setdefault(chat.id if chat else 0, []).append(update)
    handled = set(done)
    slots = asyncio.Semaphore(CONCURRENT_CHATS)

    async def one_chat(queue: list[Update]) -> None:
        sent: list[int] = []
        try:
            async with slots:
                for update in queue:
                    if stop.is_set():
                        return  # the rest stays unconfirmed and comes again after the restart
                    if await _handle(app, coach, update):
                        sent.append(update.update_id)
                    handled.add(update.update_id)
        finally:
            # Once per chat and batch: a crash repeats at most this chat's latest replies.
            await coach.repo.mark_sent(sent)

    results = await asyncio.gather(
        *(one_chat(queue) for queue in chats.values()), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException):
            # A failing database: stop; what was not handled comes again after the restart.
            raise result
    return handled


async def _handle(
    app: Application[Any, Any, Any, Any, Any, Any], coach: Coach, update: Update
) -> bool:
    """Handle one update, save it, then send its messages; True if it saved messages.

    Changes and the "processed" mark (with the messages to send) commit together: after a
    crash the update is either done (and skipped) or not at all (and handled again when
    Telegram sends it again). Messages are sent after the commit, outside the write lock.
    """
    box = outbox.Outbox()
    token = outbox.CURRENT.set(box)
    try:
        async with coach.repo.unit_of_work():
            await app.process_update(update)
            saved = box.saved_form()
            await coach.repo.mark_processed(update.update_id, coach.clock(), saved)
    finally:
        outbox.CURRENT.reset(token)
    await app.bot_data["send_outgoing"](box.items)
    return saved is not None


async def resend_unsent(app: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """Send messages saved by updates handled just before a crash; how many updates."""
    coach: Coach = app.bot_data["coach"]
    unsent = await coach.repo.unsent()
    for update_id, saved in unsent:
        try:
            items = outbox.restore(saved)
        except (ValueError, KeyError, TypeError) as error:
            log.error("saved messages of update %s unreadable, dropped: %s", update_id, error)
        else:
            await app.bot_data["send_outgoing"](items)
    await coach.repo.mark_sent([update_id for update_id, _ in unsent])
    return len(unsent)


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
        resent = await resend_unsent(app)
        if resent:
            log.warning("sent the replies of %d update(s) interrupted by a crash", resent)
        try:
            await poll(app, stop)
        finally:
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
