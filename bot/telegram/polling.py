"""Long polling that saves updates before it confirms them to Telegram.

python-telegram-bot's updater confirms a batch to Telegram (by asking for the next one)
before the batch is handled; a crash in between loses those messages for good. Here each
fetched batch is first saved in the database's inbox, then confirmed, then handled: after a
crash the inbox is handled first, so nothing is lost. Each update is handled in one SQLite
transaction together with its "processed" mark (which also takes it out of the inbox), so its
changes are saved exactly once. Its replies are saved with the mark and sent after the
commit (bot/telegram/outbox.py): a reply may arrive a second time after a crash, never not at all.

Fetching never waits for handling. Every chat has its own queue, handled in order, and up
to CONCURRENT_CHATS chats are handled side by side, so a chat whose replies are slow (a
flood wait, a failing connection) holds up nobody else, not even in later batches. SIGTERM
finishes the updates being handled; the rest stays in the inbox for the next start.

Passing failures (the network, 5xx, a proxy's page, a database locked by another process)
are retried with backoff, at start-up too. A failure that must end the process (401, 409,
an unusable database), wherever it arises, sets `Stop`; `running` then shuts everything
down, the database last, and raises it for bot.telegram.app.run to exit with its code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from functools import partial
from typing import Any, TypeVar

from telegram import Update
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import Application

from bot.coach import Coach
from bot.storage.database import is_locked
from bot.telegram import outbox
from bot.telegram.heartbeat import Heartbeat

log = logging.getLogger(__name__)
POLL_TIMEOUT = 10
# Chats handled side by side; each chat's updates stay in order.
CONCURRENT_CHATS = 16
# Fetched but unhandled updates held in memory; beyond this, fetching waits.
MAX_BACKLOG = 1000
# A chat's sent replies are cleared from their processed marks after this many updates
# (and whenever its queue runs empty): a crash re-sends at most these.
SENT_FLUSH = 16
# Backoff for passing failures (network, 5xx, a proxy's page): from the first to the longest wait.
FIRST_RETRY = 1.0
LONGEST_RETRY = 60.0
# A locked database has already been waited for (SQLite's busy timeout); then try this often.
LOCKED_RETRY = 1.0
T = TypeVar("T")


class Stop(asyncio.Event):
    """Set by SIGINT/SIGTERM, or by the first failure that must end the process wherever it
    arose (a chat queue, the reminder sweep): `running` raises that once all is shut down."""

    def __init__(self) -> None:
        super().__init__()
        self.failure: BaseException | None = None

    def fail(self, error: BaseException) -> None:
        self.failure = self.failure or error
        self.set()


class Stopped(Exception):
    """SIGINT/SIGTERM came while the bot was still starting: nothing to serve or finish."""


def heartbeat_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Heartbeat:
    """The process's heartbeat (set by bot.telegram.app.run); one that only logs otherwise."""
    heartbeat = app.bot_data.get("heartbeat")
    if heartbeat is None:
        heartbeat = app.bot_data["heartbeat"] = Heartbeat(None)
    assert isinstance(heartbeat, Heartbeat)
    return heartbeat


async def until_done(
    what: str, call: Callable[[], Awaitable[T]], stop: asyncio.Event, heartbeat: Heartbeat
) -> T | None:
    """`call()` until it succeeds, backing off on passing failures; None if `stop` came first.

    Passing: network errors, timeouts, 5xx, a proxy's page, a garbled answer (NetworkError)
    and 429 (waited out as told). Anything else (401, 409, a 400, a bug) is raised.
    """
    delay = FIRST_RETRY
    while not stop.is_set():
        task = asyncio.ensure_future(call())
        if not await _until_first(task, stop):
            break
        try:
            result = task.result()
        except RetryAfter as error:
            wait = error.retry_after
            pause = wait if isinstance(wait, int) else wait.total_seconds()
        except BadRequest:
            raise
        except NetworkError as error:  # TimedOut too
            heartbeat.trouble(what, error)
            pause, delay = delay, min(delay * 2, LONGEST_RETRY)
        else:
            heartbeat.fine(what)
            return result
        await _until_first(asyncio.sleep(pause), stop)  # SIGTERM need not wait a minute
    return None


def _chat_of(update: Update) -> int:
    chat = update.effective_chat or update.effective_user
    return chat.id if chat else 0


class ChatQueues:
    """Updates waiting to be handled: one queue per chat, in order, chats side by side.

    `handle(update)` handles and saves one update and returns whether it saved replies;
    `flush_sent(ids)` clears those replies' saved copies once they are sent. A database
    locked by another process is waited for (the update stays first in its chat's line);
    any other exception from either stops the queues, is passed to `on_failure` and raised
    by `failed()`.
    """

    def __init__(
        self,
        handle: Callable[[Update], Awaitable[bool]],
        flush_sent: Callable[[list[int]], Awaitable[None]],
        concurrent: int = CONCURRENT_CHATS,
        *,
        heartbeat: Heartbeat | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._handle = handle
        self._flush_sent = flush_sent
        self._slots = asyncio.Semaphore(concurrent)
        self._queues: dict[int, deque[Update]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self._stopping = False
        self._failure: BaseException | None = None
        self._heartbeat = heartbeat or Heartbeat(None)
        self._on_failure = on_failure
        self.backlog = 0

    def put(self, updates: Iterable[Update]) -> None:
        """Queue updates behind their chats' earlier ones."""
        for update in updates:
            chat = _chat_of(update)
            self._queues.setdefault(chat, deque()).append(update)
            self.backlog += 1
            if chat not in self._workers:
                self._workers[chat] = asyncio.create_task(self._work(chat))

    async def _work(self, chat: int) -> None:
        queue = self._queues[chat]
        sent: list[int] = []
        try:
            while True:
                while queue and not self._stopping:
                    update = queue[0]
                    handled = await self._handle_in_slot(update)
                    if handled is None:
                        continue
                    if handled:
                        sent.append(update.update_id)
                    queue.popleft()
                    self.backlog -= 1
                    self._changed.set()
                    if len(sent) >= SENT_FLUSH:
                        sent = await self._flush(sent)
                sent = await self._flush(sent)
                # Checked after the last await: an update queued meanwhile is not stranded.
                if not queue or self._stopping:
                    break
        except Exception as error:  # a failing database: stop, the inbox keeps the rest
            self._failure = self._failure or error
            self._stopping = True
            if self._on_failure is not None:
                self._on_failure(error)
        finally:
            del self._workers[chat]
            if not queue or self._stopping:
                self._queues.pop(chat, None)
            self._changed.set()

    async def _handle_in_slot(self, update: Update) -> bool | None:
        """Handle `update` when a slot is free: whether it saved replies; None if it is still
        to be handled (stopping, or the database was locked: then after a pause)."""
        async with self._slots:
            if self._stopping:
                return None
            try:
                handled = await self._handle(update)
            except Exception as error:
                if not is_locked(error):
                    raise
                self._heartbeat.trouble("handling updates", error)
            else:
                self._heartbeat.fine("handling updates")
                return handled
        await self._pause(LOCKED_RETRY)
        return None

    async def _flush(self, sent: list[int]) -> list[int]:
        """Clear the saved copies of sent replies; those still to clear (database locked)."""
        try:
            await self._flush_sent(sent)
        except Exception as error:
            if not is_locked(error):
                raise
            self._heartbeat.trouble("handling updates", error)
            return sent  # cleared with the next ones; a crash meanwhile re-sends them
        return []

    async def _pause(self, seconds: float) -> None:
        """Wait `seconds`, or less if the queues are closed meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    def failed(self) -> None:
        """Raise what stopped the queues, if anything did."""
        if self._failure is not None:
            raise self._failure

    async def wait_for_room(self, limit: int = MAX_BACKLOG) -> None:
        """Until fewer than `limit` updates wait (or a failure stopped the queues)."""
        while self.backlog >= limit and self._failure is None:
            self._changed.clear()
            await self._changed.wait()

    async def drained(self) -> None:
        """Until every queued update is handled (or a failure stopped the queues)."""
        await self._idle()
        self.failed()

    async def close(self) -> None:
        """Finish the updates being handled, leave the rest (it stays in the inbox)."""
        self._stopping = True
        self._closing.set()
        await self._idle()

    async def _idle(self) -> None:
        """Until no chat has a worker left."""
        while self._workers:
            self._changed.clear()
            await self._changed.wait()


async def receive(
    app: Application[Any, Any, Any, Any, Any, Any],
    updates: Iterable[Update],
    raw: Callable[[int], str | None] | None = None,
) -> list[Update]:
    """Save received updates in the inbox; those not saved or handled before, in order.

    `raw` gives an update's JSON as received (by default the getUpdates connection's, see
    bot.telegram.transport.UpdatesRequest); without it the update is serialised again.
    """
    coach: Coach = app.bot_data["coach"]
    if raw is None:
        raw = app.bot_data.get("raw_update", lambda _: None)
    fetched = list(updates)
    new = await coach.store.inbox.receive(
        [
            (
                u.update_id,
                u.effective_user.id if u.effective_user else None,
                raw(u.update_id) or u.to_json(),
            )
            for u in fetched
        ]
    )
    return [u for u in fetched if u.update_id in new]


async def from_inbox(app: Application[Any, Any, Any, Any, Any, Any]) -> list[Update]:
    """The updates a previous run saved but did not handle, oldest first."""
    coach: Coach = app.bot_data["coach"]
    restored = []
    for update_id, payload in await coach.store.inbox.unhandled():
        try:
            update = Update.de_json(json.loads(payload), app.bot)
        except (ValueError, KeyError, TypeError) as error:
            log.error("saved update %s unreadable, dropped: %s", update_id, error)
            await coach.store.inbox.mark_processed(update_id, coach.clock())
            continue
        restored.append(update)
    return restored


def chat_queues(app: Application[Any, Any, Any, Any, Any, Any]) -> ChatQueues:
    """Queues that handle updates with `_handle` and clear sent replies in the inbox; a
    failure stops the bot (if `running`)."""
    coach: Coach = app.bot_data["coach"]
    stop: Stop | None = app.bot_data.get("stop")
    return ChatQueues(
        lambda update: _handle(app, coach, update),
        coach.store.inbox.mark_sent,
        heartbeat=heartbeat_of(app),
        on_failure=stop.fail if stop is not None else None,
    )


async def poll(
    app: Application[Any, Any, Any, Any, Any, Any], queues: ChatQueues, stop: asyncio.Event
) -> None:
    """Fetch, save, confirm and hand on to the chat queues, until `stop` is set.

    Each fetch whose updates are saved is a sign of serving (the heartbeat). A database
    locked by another process leaves the batch unconfirmed: it comes again with the next
    getUpdates. 401 and 409 are raised: they need the operator.
    """
    heartbeat = heartbeat_of(app)
    offset: int | None = None
    while not stop.is_set():
        await _until_first(queues.wait_for_room(), stop)
        queues.failed()
        if stop.is_set():
            break
        updates = await until_done(
            "getUpdates",
            partial(
                app.bot.get_updates,
                offset=offset,
                timeout=POLL_TIMEOUT,
                allowed_updates=Update.ALL_TYPES,
            ),
            stop,
            heartbeat,
        )
        if updates is None:
            break  # stopped; nothing fetched is lost: unconfirmed updates come again
        if updates:
            try:
                fresh = await receive(app, updates)
            except Exception as error:
                if not is_locked(error):
                    raise
                heartbeat.trouble("saving updates", error)
                await _until_first(asyncio.sleep(LOCKED_RETRY), stop)
                continue
            heartbeat.fine("saving updates")
            # Saved first: the next getUpdates confirms them to Telegram.
            queues.put(fresh)
            offset = updates[-1].update_id + 1
        heartbeat.served()
    if offset is not None:
        # Confirm what was saved, without waiting for new updates.
        with contextlib.suppress(NetworkError):
            await app.bot.get_updates(offset=offset, timeout=0, limit=1)
    queues.failed()


async def _until_first(work: Awaitable[Any], stop: asyncio.Event) -> bool:
    """Await `work` unless `stop` is set first (then `work` is cancelled); True if done."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if task.done():
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


async def _handle(
    app: Application[Any, Any, Any, Any, Any, Any], coach: Coach, update: Update
) -> bool:
    """Handle one update, save it, then send its messages; True if it saved messages.

    Changes and the "processed" mark (with the messages to send) commit together: after a
    crash the update is either done (and out of the inbox) or not at all (and handled again
    from the inbox). Messages are sent after the commit, outside the write lock.
    """
    box = outbox.Outbox()
    token = outbox.CURRENT.set(box)
    try:
        async with coach.store.unit_of_work():
            await app.process_update(update)
            saved = box.saved_form()
            await coach.store.inbox.mark_processed(update.update_id, coach.clock(), saved)
    finally:
        outbox.CURRENT.reset(token)
    await app.bot_data["send_outgoing"](box.items)
    return saved is not None


async def resend_unsent(app: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """Send messages saved by updates handled just before a crash; how many updates."""
    coach: Coach = app.bot_data["coach"]
    unsent = await coach.store.inbox.unsent()
    for update_id, saved in unsent:
        try:
            items = outbox.restore(saved)
        except (ValueError, KeyError, TypeError) as error:
            log.error("saved messages of update %s unreadable, dropped: %s", update_id, error)
        else:
            await app.bot_data["send_outgoing"](items)
    await coach.store.inbox.mark_sent([update_id for update_id, _ in unsent])
    return len(unsent)


@contextlib.asynccontextmanager
async def running(
    app: Application[Any, Any, Any, Any, Any, Any],
) -> AsyncIterator[tuple[ChatQueues, Stop]]:
    """The bot's life around a source of updates (long polling or the webhook).

    Initialises, starts the jobs, sends the replies a crash left unsent, queues the updates
    it left in the inbox, and yields the chat queues and the stop event (SIGINT/SIGTERM, or
    a failure that ends the process, which is raised after shutting down). On the way out
    the updates being handled are finished, then everything shuts down, the database last,
    however the way out began: its thread would otherwise keep the process alive.
    """
    stop = app.bot_data["stop"] = Stop()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await _start(app, stop)
        queues = chat_queues(app)
        queues.put(await from_inbox(app))
        try:
            yield queues, stop
        finally:
            await queues.close()
    finally:
        await _shut_down(app)
    if stop.failure is not None:
        raise stop.failure


async def _start(app: Application[Any, Any, Any, Any, Any, Any], stop: asyncio.Event) -> None:
    """Initialise (getMe, retried), wire up (post_init), start the jobs, resend what a crash
    left unsent; Stopped if SIGINT/SIGTERM came first."""
    await until_done("getMe", app.initialize, stop, heartbeat_of(app))
    if stop.is_set():
        raise Stopped
    if app.post_init is not None:
        await app.post_init(app)
    if stop.is_set():
        raise Stopped
    await app.start()
    resent = await resend_unsent(app)
    if resent:
        log.warning("sent the replies of %d update(s) interrupted by a crash", resent)


async def _shut_down(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop the jobs and close what was opened, whatever is left of it; post_shutdown last."""
    try:
        if app.running:
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
        await app.shutdown()
    finally:
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


async def run_polling(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Long polling until SIGINT/SIGTERM (or a failure that ends the process)."""
    async with running(app) as (queues, stop):
        # A webhook left set would make every getUpdates a 409.
        await until_done("deleteWebhook", app.bot.delete_webhook, stop, heartbeat_of(app))
        await poll(app, queues, stop)
