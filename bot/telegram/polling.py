"""Long polling that saves updates before it confirms them to Telegram.

python-telegram-bot's updater confirms a batch to Telegram (by asking for the next one)
before the batch is handled; a crash in between loses those messages for good. Here each
fetched batch is first saved in the database's inbox, then confirmed, then handled: after a
crash the inbox is handled first, so nothing is lost. Each update is handled in one SQLite
transaction together with its "processed" mark (which also takes it out of the inbox), so its
changes are saved exactly once. Its replies are saved with the mark and sent after the
commit (bot/telegram/outbox.py), each tried until it is delivered or refused for good, and
the saved copy is cleared as soon as they are out: after a crash only the reply in flight
may arrive a second time, and none is lost, also not to a long outage of the Bot API.

An update that cannot be parsed or keeps failing is set aside (bot/telegram/quarantine.py),
so it never blocks its chat or anyone else; a failing database stops the queues instead.

Fetching never waits for handling. Every chat has its own queue, handled in order (its
replies too: a later one never overtakes an earlier unsent one), and up to CONCURRENT_CHATS
chats are handled side by side, so a chat whose replies are slow (a flood wait, a failing
connection) holds up nobody else, not even in later batches. SIGTERM finishes the updates
being handled; the rest stays in the inbox (and unsent replies saved) for the next start.

Passing failures (the network, 5xx, a proxy's page, a database locked by another process)
are retried with backoff, at start-up too. A failure that must end the process (401, 409,
an unusable database), wherever it arises, sets `Stop`; `running` then shuts everything
down, the database last, and raises it for bot.telegram.process.run to exit with its code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from telegram import Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.coach import Coach, UserRef
from bot.storage.database import is_locked
from bot.telegram import outbox, quarantine
from bot.telegram.heartbeat import Heartbeat
from bot.telegram.quarantine import Unreadable
from bot.telegram.transport import retry_seconds

log = logging.getLogger(__name__)
POLL_TIMEOUT = 10
# Chats handled side by side; each chat's updates stay in order.
CONCURRENT_CHATS = 16
# Fetched but unhandled updates held in memory; beyond this, fetching waits.
MAX_BACKLOG = 1000
# On SIGTERM, how long the chats being handled may take to finish (a send that keeps
# failing is given up for now; its reply stays saved for the next start).
SHUTDOWN_GRACE = 5.0
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
    """The process's heartbeat (set by bot.telegram.process.run); one that only logs otherwise."""
    heartbeat = app.bot_data.get("heartbeat")
    if heartbeat is None:
        heartbeat = app.bot_data["heartbeat"] = Heartbeat(None)
    assert isinstance(heartbeat, Heartbeat)
    return heartbeat


async def until_done(
    what: str,
    call: Callable[[], Awaitable[T]],
    stop: asyncio.Event,
    heartbeat: Heartbeat,
    first_retry: float = FIRST_RETRY,
) -> T | None:
    """`call()` until it succeeds, backing off on passing failures; None if `stop` came first.

    Passing: network errors, timeouts, 5xx, a proxy's page, a garbled answer (NetworkError)
    and 429 (waited out as told). Anything else (401, 409, a 400, a 403, a bug) is raised.
    """
    delay = first_retry
    while not stop.is_set():
        task = asyncio.ensure_future(call())
        if not await _until_first(task, stop):
            break
        try:
            result = task.result()
        except RetryAfter as error:
            pause = retry_seconds(error)
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


@dataclass(frozen=True)
class Unsent:
    """What a handled update has to send, delivered in its chat's turn."""

    update_id: int
    chat_id: int
    items: tuple[outbox.Outgoing, ...]
    saved: bool  # whether the messages are saved with the update's mark (and cleared after)


# What a chat's queue holds: updates to handle, unreadable ones to set aside, replies to send.
Entry = Update | Unreadable | Unsent


def _chat_of(entry: Entry) -> int:
    if isinstance(entry, Update):
        chat = entry.effective_chat or entry.effective_user
        return chat.id if chat else 0
    if isinstance(entry, Unsent):
        return entry.chat_id
    return entry.chat_id or entry.user_id or 0


class ChatQueues:
    """Entries waiting to be handled: one queue per chat, in order, chats side by side.

    `handle(entry)` handles and saves one entry and returns what it has to send, if
    anything; `deliver(unsent)` sends that (outside the concurrency slot, before the chat's
    next entry) and clears its saved copy. A database locked by another process is waited
    for (the entry stays first in its chat's line); any other exception from either (a
    failing database) stops the queues, is passed to `on_failure` and raised by `failed()`.
    """

    def __init__(
        self,
        handle: Callable[[Entry], Awaitable[Unsent | None]],
        deliver: Callable[[Unsent], Awaitable[None]],
        concurrent: int = CONCURRENT_CHATS,
        *,
        heartbeat: Heartbeat | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._handle = handle
        self._deliver = deliver
        self._slots = asyncio.Semaphore(concurrent)
        self._queues: dict[int, deque[Entry]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self._stopping = False
        self._failure: BaseException | None = None
        self._heartbeat = heartbeat or Heartbeat(None)
        self._on_failure = on_failure
        self.backlog = 0

    def put(self, entries: Iterable[Entry]) -> None:
        """Queue entries behind their chats' earlier ones."""
        for entry in entries:
            chat = _chat_of(entry)
            self._queues.setdefault(chat, deque()).append(entry)
            self.backlog += 1
            if chat not in self._workers:
                self._workers[chat] = asyncio.create_task(self._work(chat))

    async def _work(self, chat: int) -> None:
        queue = self._queues[chat]
        try:
            # Checked after the last await: an entry queued meanwhile is not stranded.
            while queue and not self._stopping:
                handled, unsent = await self._handle_in_slot(queue[0])
                if not handled:
                    continue
                queue.popleft()
                self.backlog -= 1
                self._changed.set()
                if unsent is not None:
                    # Without a slot: a chat whose sends keep failing waits alone.
                    await self._deliver(unsent)
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

    async def _handle_in_slot(self, entry: Entry) -> tuple[bool, Unsent | None]:
        """Handle `entry` when a slot is free: whether it was, and what it has to send. It
        was not if the queues stop, or if the database was locked (then after a pause)."""
        async with self._slots:
            if self._stopping:
                return False, None
            try:
                unsent = await self._handle(entry)
            except Exception as error:
                if not is_locked(error):
                    raise
                self._heartbeat.trouble("handling updates", error)
            else:
                self._heartbeat.fine("handling updates")
                return True, unsent
        with contextlib.suppress(TimeoutError):  # a pause, shorter if the queues close
            await asyncio.wait_for(self._closing.wait(), LOCKED_RETRY)
        return False, None

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

    async def close(self, grace: float = SHUTDOWN_GRACE) -> None:
        """Finish the entries being handled (for up to `grace` seconds), leave the rest.

        What is left stays saved: updates in the inbox, replies with their marks.
        """
        self._stopping = True
        self._closing.set()
        workers = list(self._workers.values())
        if workers:
            _, late = await asyncio.wait(workers, timeout=grace)
            for worker in late:
                worker.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _idle(self) -> None:
        """Until no chat has a worker left."""
        while self._workers:
            self._changed.clear()
            await self._changed.wait()


async def receive(
    app: Application[Any, Any, Any, Any, Any, Any],
    entries: Iterable[Update | Unreadable],
    raw: Callable[[int], str | None] | None = None,
) -> list[Update | Unreadable]:
    """Save received updates in the inbox; those not saved or handled before, in order.

    `raw` gives an update's JSON as received (by default the getUpdates connection's, see
    bot.telegram.transport.UpdatesRequest); without it the update is serialised again.
    """
    coach: Coach = app.bot_data["coach"]
    if raw is None:
        raw = app.bot_data.get("raw_update", lambda _: None)
    fetched = list(entries)
    new = await coach.store.inbox.receive(
        [
            (entry.update_id, entry.user_id, entry.payload)
            if isinstance(entry, Unreadable)
            else (
                entry.update_id,
                entry.effective_user.id if entry.effective_user else None,
                raw(entry.update_id) or entry.to_json(),
            )
            for entry in fetched
        ]
    )
    return [entry for entry in fetched if entry.update_id in new]


async def from_inbox(app: Application[Any, Any, Any, Any, Any, Any]) -> list[Update | Unreadable]:
    """The updates a previous run saved but did not handle, oldest first."""
    coach: Coach = app.bot_data["coach"]
    restored: list[Update | Unreadable] = []
    for update_id, payload in await coach.store.inbox.unhandled():
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError) as error:
            restored.append(Unreadable(update_id, payload, quarantine.describe(error)))
        else:
            restored.append(quarantine.read_update(update_id, data, payload, app.bot))
    return restored


async def unsent(app: Application[Any, Any, Any, Any, Any, Any]) -> list[Unsent]:
    """The replies of updates handled before a crash but not delivered, oldest first."""
    coach: Coach = app.bot_data["coach"]
    left = []
    for update_id, saved in await coach.store.inbox.unsent():
        try:
            items = outbox.restore(saved)
            chat_id = items[0].chat_id  # an update's messages all go to its chat
        except (ValueError, KeyError, TypeError, IndexError) as error:
            log.error("saved messages of update %s unreadable, dropped: %s", update_id, error)
            await coach.store.inbox.mark_sent([update_id])
            continue
        left.append(Unsent(update_id, chat_id, tuple(items), saved=True))
    return left


def chat_queues(app: Application[Any, Any, Any, Any, Any, Any]) -> ChatQueues:
    """Queues that handle entries with `_handle` and send their replies with `_deliver`; a
    failure stops the bot (if `running`)."""
    coach: Coach = app.bot_data["coach"]
    stop: Stop | None = app.bot_data.get("stop")
    return ChatQueues(
        lambda entry: _handle(app, coach, entry),
        lambda unsent: _deliver(app, coach, unsent),
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
        fetch = partial(
            app.bot.get_updates,
            offset=offset,
            timeout=POLL_TIMEOUT,
            allowed_updates=Update.ALL_TYPES,
        )
        try:
            fetched = await until_done("getUpdates", fetch, stop, heartbeat)
        except TelegramError:
            raise
        except Exception:
            # PTB could not parse the batch (an update in a layout it does not know): read
            # it update by update, the unreadable ones to be set aside, not fetched forever.
            reread: Callable[[], list[Update | Unreadable]] | None = app.bot_data.get("reread")
            if reread is None:
                raise
            fetched = reread()
        if fetched is None:
            break  # stopped; nothing fetched is lost: unconfirmed updates come again
        updates: list[Update | Unreadable] = list(fetched)
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
    app: Application[Any, Any, Any, Any, Any, Any], coach: Coach, entry: Entry
) -> Unsent | None:
    """Handle an entry and save it; what it has to send. Raises only if the database fails.

    An update whose handling raises is tried again, up to quarantine.MAX_TRIES times
    (counted in the inbox, so across restarts), then set aside like an unreadable one.
    """
    if isinstance(entry, Unsent):
        return entry
    if isinstance(entry, Unreadable):
        log.error("update %s unreadable, set aside: %s", entry.update_id, entry.error)
        return await _set_aside(coach, entry.update_id, (entry.user_id, entry.chat_id), entry.error)
    while True:
        try:
            return await _handle_update(app, coach, entry)
        except Exception as error:
            if quarantine.is_database_failure(error):
                raise
            tries = await coach.store.inbox.count_failure(entry.update_id)
            if tries is not None and tries < quarantine.MAX_TRIES:
                log.warning(
                    "update %s failed (try %d of %d): %s",
                    entry.update_id, tries, quarantine.MAX_TRIES, quarantine.describe(error),
                )  # fmt: skip
                continue
            log.error("update %s failed every try, set aside", entry.update_id, exc_info=error)
            user, chat = entry.effective_user, entry.effective_chat
            sender = (user.id if user else None, chat.id if chat else None)
            return await _set_aside(coach, entry.update_id, sender, quarantine.describe(error))


async def _handle_update(
    app: Application[Any, Any, Any, Any, Any, Any], coach: Coach, update: Update
) -> Unsent | None:
    """Handle one update and save it with its messages; what it has to send.

    Changes and the "processed" mark (with the messages to send) commit together: after a
    crash the update is either done (and out of the inbox) or not at all (and handled again
    from the inbox). A handler's exception (PTB hands it to the error handler, which puts it
    in the outbox) undoes the update's changes and is raised. Messages are sent after the
    commit, outside the write lock.
    """
    box = outbox.Outbox()
    token = outbox.CURRENT.set(box)
    try:
        async with coach.store.unit_of_work():
            await app.process_update(update)
            if box.failure is not None:
                raise box.failure
            saved = box.saved_form()
            await coach.store.inbox.mark_processed(update.update_id, coach.clock(), saved)
    finally:
        outbox.CURRENT.reset(token)
    if not box.items:
        return None
    return Unsent(update.update_id, _chat_of(update), tuple(box.items), saved=saved is not None)


async def _set_aside(
    coach: Coach, update_id: int, sender: tuple[int | None, int | None], error: str
) -> Unsent | None:
    """Move an update to the dead letters; the friendly error reply to its chat, if known."""
    user_id, chat_id = sender
    box = outbox.Outbox()
    if chat_id is not None:
        box.send(chat_id, await coach.failure(UserRef(user_id) if user_id else None))
    saved = box.saved_form()
    await coach.store.inbox.set_aside(update_id, sender, error, coach.clock(), saved)
    if chat_id is None:
        return None
    return Unsent(update_id, chat_id, tuple(box.items), saved=True)


async def _deliver(
    app: Application[Any, Any, Any, Any, Any, Any], coach: Coach, unsent: Unsent
) -> None:
    """Send an update's messages, then clear their saved copy at once (see the module)."""
    await app.bot_data["send_outgoing"](unsent.items)
    if unsent.saved:
        await coach.store.inbox.mark_sent([unsent.update_id])


@contextlib.asynccontextmanager
async def running(
    app: Application[Any, Any, Any, Any, Any, Any],
) -> AsyncIterator[tuple[ChatQueues, Stop]]:
    """The bot's life around a source of updates (long polling or the webhook).

    Initialises, starts the jobs, queues the replies a crash left unsent and the updates it
    left in the inbox, and yields the chat queues and the stop event (SIGINT/SIGTERM, or a
    failure that ends the process, which is raised after shutting down). On the way out the
    updates being handled are finished, then everything shuts down, the database last,
    however the way out began: its thread would otherwise keep the process alive.
    """
    stop = app.bot_data["stop"] = Stop()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await _start(app, stop)
        queues = chat_queues(app)
        left = await unsent(app)
        if left:
            log.warning("sending the replies of %d update(s) interrupted by a crash", len(left))
        queues.put(left)  # each chat's first, before its updates left in the inbox
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
    """Initialise (getMe, retried), wire up (post_init), start the jobs; Stopped if
    SIGINT/SIGTERM came first."""
    await until_done("getMe", app.initialize, stop, heartbeat_of(app))
    if stop.is_set():
        raise Stopped
    if app.post_init is not None:
        await app.post_init(app)
    if stop.is_set():
        raise Stopped
    await app.start()


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
