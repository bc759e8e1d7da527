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
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.coach import Coach, UserRef
from bot.telegram import outbox, quarantine
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
    next entry) and clears its saved copy. An exception from either (a failing database)
    stops the queues and is raised by `failed()`.
    """

    def __init__(
        self,
        handle: Callable[[Entry], Awaitable[Unsent | None]],
        deliver: Callable[[Unsent], Awaitable[None]],
        concurrent: int = CONCURRENT_CHATS,
    ) -> None:
        self._handle = handle
        self._deliver = deliver
        self._slots = asyncio.Semaphore(concurrent)
        self._queues: dict[int, deque[Entry]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._changed = asyncio.Event()
        self._stopping = False
        self._failure: BaseException | None = None
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
                async with self._slots:
                    if self._stopping:
                        break
                    unsent = await self._handle(queue[0])
                queue.popleft()
                self.backlog -= 1
                self._changed.set()
                if unsent is not None:
                    # Without a slot: a chat whose sends keep failing waits alone.
                    await self._deliver(unsent)
        except Exception as error:  # a failing database: stop, the inbox keeps the rest
            log.exception("handling chat %s failed; stopping", chat)
            self._failure = self._failure or error
            self._stopping = True
        finally:
            del self._workers[chat]
            if not queue or self._stopping:
                self._queues.pop(chat, None)
            self._changed.set()

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
    """Queues that handle entries with `_handle` and send their replies with `_deliver`."""
    coach: Coach = app.bot_data["coach"]
    return ChatQueues(
        lambda entry: _handle(app, coach, entry), lambda unsent: _deliver(app, coach, unsent)
    )


async def poll(
    app: Application[Any, Any, Any, Any, Any, Any], queues: ChatQueues, stop: asyncio.Event
) -> None:
    """Fetch, save, confirm and hand on to the chat queues, until `stop` is set."""
    offset: int | None = None
    delay = 1.0
    while not stop.is_set():
        await _until_first(queues.wait_for_room(), stop)
        queues.failed()
        if stop.is_set():
            break
        fetch = asyncio.ensure_future(
            app.bot.get_updates(
                offset=offset, timeout=POLL_TIMEOUT, allowed_updates=Update.ALL_TYPES
            )
        )
        if not await _until_first(fetch, stop):
            break  # nothing fetched is lost: unconfirmed updates come again
        try:
            updates: list[Update | Unreadable] = list(fetch.result())
        except InvalidToken:
            raise
        except RetryAfter as error:
            await _until_first(asyncio.sleep(retry_seconds(error)), stop)
            continue
        except (NetworkError, TimedOut) as error:
            log.warning("getUpdates failed (%s); retrying in %.0f s", error, delay)
            await _until_first(asyncio.sleep(delay), stop)  # SIGTERM need not wait a minute
            delay = min(delay * 2, 60.0)
            continue
        except Exception:
            # PTB could not parse the batch (an update in a layout it does not know): read
            # it update by update, the unreadable ones to be set aside, not fetched forever.
            reread: Callable[[], list[Update | Unreadable]] | None = app.bot_data.get("reread")
            if reread is None:
                raise
            updates = reread()
        delay = 1.0
        if updates:
            # Saved first: the next getUpdates confirms them to Telegram.
            queues.put(await receive(app, updates))
            offset = updates[-1].update_id + 1
    if offset is not None:
        # Confirm what was saved, without waiting for new updates.
        with contextlib.suppress(NetworkError, TimedOut):
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
) -> AsyncIterator[tuple[ChatQueues, asyncio.Event]]:
    """The bot's life around a source of updates (long polling or the webhook).

    Initialises, starts the jobs, queues the replies a crash left unsent and the updates it
    left in the inbox, and yields the chat queues and an event set by SIGINT/SIGTERM. On
    the way out the updates being handled are finished, then everything shuts down.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with app:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
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
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


async def run_polling(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Long polling until SIGINT/SIGTERM."""
    async with running(app) as (queues, stop):
        await app.bot.delete_webhook()
        await poll(app, queues, stop)
