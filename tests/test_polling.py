"""Durable polling: an inbox before confirming, replies after the commit, chats side by side."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application
from telegram.warnings import PTBDeprecationWarning

from bot.reply import Action, ActionKind, Block, Button, Document, Reply
from bot.storage import Storage
from bot.telegram import outbox
from bot.telegram.app import until_delivered
from bot.telegram.polling import ChatQueues, chat_queues, from_inbox, poll, receive, unsent
from bot.telegram.quarantine import Unreadable, is_database_failure
from tests.offline import OfflineRequest, UpdateFactory, to_update

App = Application[Any, Any, Any, Any, Any, Any]


def test_saved_messages_come_back_exactly() -> None:
    reply = Reply(
        (Block("Grüße & <Tags>", "title"), Block("• Punkt", "item")),
        (
            (Button("Themen 👋", Action(ActionKind.TOPICS)),),
            (Button("x", Action(ActionKind.CHECK, "a-1")),),
        ),
        edit=True,
        documents=(
            Document("export.txt", "Grüße".encode()),
            Document("export.json", b'{"\xc3\xa4": 1}\x00'),
        ),
    )
    box = outbox.Outbox()
    box.answer(7, "query-1", "Gespeichert")  # a press's toast is not kept
    box.send(7, reply)
    box.edit(7, 55, reply)
    saved = box.saved_form()
    assert saved is not None
    assert outbox.restore(saved) == box.items[1:]
    assert outbox.Outbox().saved_form() is None


def _updates(app: App, factory: UpdateFactory, texts: list[tuple[int, str]]) -> list[Any]:
    return [to_update(factory.message(text, user_id=user), app.bot) for user, text in texts]


async def _handle_all(app: App, fetched: list[Any]) -> ChatQueues:
    """What polling does with a fetched batch: save it, queue the new updates, handle them."""
    queues = chat_queues(app)
    queues.put(await receive(app, fetched))
    await queues.drained()
    return queues


def _texts_to(request_fake: OfflineRequest, chat: int) -> list[str]:
    return [str(c.params["text"]) for c in request_fake.sent() if c.params["chat_id"] == chat]


async def test_each_chat_is_answered_in_order_and_marked_once(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    batch = _updates(
        app, updates, [(1, "/start"), (2, "/hilfe"), (1, "/themen"), (2, "/start"), (1, "/hilfe")]
    )
    await _handle_all(app, batch)
    expected = {
        1: ["Willkommen beim", "Zu diesen Themen", "So nutzen Sie"],
        2: ["So nutzen Sie", "Willkommen beim"],
    }
    for user, openings in expected.items():
        texts = _texts_to(request_fake, user)
        assert len(texts) == len(openings)
        for text, opening in zip(texts, openings, strict=True):
            assert opening in text
    assert await store.inbox.unhandled() == []  # handled, so out of the inbox
    assert await store.inbox.unsent() == []  # sent, so nothing waits for a restart
    # The same batch again (Telegram sends it again if the confirmation got lost): known as
    # handled, so not new.
    before = len(request_fake.calls)
    assert await receive(app, batch) == []
    assert len(request_fake.calls) == before


async def test_a_reply_saved_but_not_sent_goes_out_after_the_restart(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    class Crash(Exception):
        pass

    async def crash(items: Any) -> None:
        raise Crash  # the process dies after the commit, before sending

    send = app.bot_data["send_outgoing"]
    app.bot_data["send_outgoing"] = crash
    (update,) = _updates(app, updates, [(3, "wieviele zeichen linkdin anfrage")])
    with pytest.raises(Crash):
        await _handle_all(app, [update])
    assert request_fake.sent() == []
    assert [update_id for update_id, _ in await store.inbox.unsent()] == [update.update_id]

    app.bot_data["send_outgoing"] = send  # the restart
    assert await from_inbox(app) == []  # it was handled: only its reply is missing
    left = await unsent(app)
    assert [entry.chat_id for entry in left] == [3]
    restarted = chat_queues(app)
    restarted.put(left)
    await restarted.drained()
    (answer,) = request_fake.sent()
    assert "300 Zeichen" in answer.params["text"] and answer.params["chat_id"] == 3
    assert await store.inbox.unsent() == []
    assert await unsent(app) == []  # once


async def test_a_failing_chat_does_not_hold_up_the_others(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    request_fake.blocked.add(4)
    batch = _updates(app, updates, [(4, "/start"), (5, "/start"), (5, "/hilfe")])
    await _handle_all(app, batch)
    assert len(_texts_to(request_fake, 5)) == 2
    blocked = await store.users.get(4)
    assert blocked is not None and not blocked.active  # nudges pause until they write again
    assert await store.inbox.unhandled() == []


async def test_a_slow_chat_does_not_hold_up_later_updates_of_others(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    send = app.bot_data["send_outgoing"]
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow_for_twelve(items: Any) -> None:
        if any(item.chat_id == 12 for item in items):
            entered.set()
            await release.wait()  # replies to chat 12 stuck, say, in a flood wait
        await send(items)

    app.bot_data["send_outgoing"] = slow_for_twelve
    queues = chat_queues(app)
    queues.put(await receive(app, _updates(app, updates, [(12, "linkedin notiz")])))
    await asyncio.wait_for(entered.wait(), 5)
    # A later fetch, while chat 12 is still busy: answered at once.
    queues.put(await receive(app, _updates(app, updates, [(13, "/start"), (12, "/hilfe")])))
    for _ in range(200):
        if _texts_to(request_fake, 13):
            break
        await asyncio.sleep(0.01)
    assert "Willkommen" in _texts_to(request_fake, 13)[0]
    assert _texts_to(request_fake, 12) == []
    release.set()
    await asyncio.wait_for(queues.drained(), 5)
    first, second = _texts_to(request_fake, 12)
    assert "300" in first and "So nutzen Sie" in second  # in the order they were sent


async def test_stopping_leaves_the_rest_in_the_inbox_for_the_next_start(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    batch = _updates(app, updates, [(6, "/start"), (6, "/hilfe")])
    queues = chat_queues(app)
    queues.put(await receive(app, batch))
    await queues.close()  # SIGTERM before the chat's turn
    assert request_fake.sent() == []
    assert [update_id for update_id, _ in await store.inbox.unhandled()] == [
        u.update_id for u in batch
    ]
    # Telegram sends them again after the restart: they are waiting in the inbox already.
    assert await receive(app, batch) == []

    restarted = chat_queues(app)
    restored = await from_inbox(app)
    assert [u.update_id for u in restored] == [u.update_id for u in batch]
    restarted.put(restored)
    await restarted.drained()
    first, second = _texts_to(request_fake, 6)
    assert "Willkommen" in first and "So nutzen Sie" in second
    assert await store.inbox.unhandled() == []


async def test_an_unreadable_saved_update_is_set_aside_at_the_next_start(
    app: App, store: Storage, request_fake: OfflineRequest, caplog: pytest.LogCaptureFixture
) -> None:
    assert await store.inbox.receive([(77, 1, "{not json")]) == {77}
    (restored,) = await from_inbox(app)
    assert isinstance(restored, Unreadable) and restored.update_id == 77
    queues = chat_queues(app)
    queues.put([restored])
    with caplog.at_level("ERROR"):
        await queues.drained()
    assert "update 77 unreadable, set aside" in caplog.text
    assert await store.inbox.unhandled() == []
    assert await store.inbox.set_aside_since(app.bot_data["coach"].clock()) == 1
    assert request_fake.sent() == []  # no chat known: nobody to tell


async def test_fetching_waits_while_too_many_updates_wait(
    app: App, updates: UpdateFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    coach = app.bot_data["coach"]
    original = coach.question
    release = asyncio.Event()

    async def question(user: Any, text: str) -> Reply:
        await release.wait()
        return await original(user, text)

    monkeypatch.setattr(coach, "question", question)
    queues = chat_queues(app)
    queues.put(await receive(app, _updates(app, updates, [(20, "notiz"), (20, "notiz")])))
    room = asyncio.ensure_future(queues.wait_for_room(limit=2))
    await asyncio.sleep(0.05)
    assert not room.done()
    release.set()
    await asyncio.wait_for(room, 5)
    await queues.drained()


async def test_deleting_a_user_drops_their_unsent_messages(
    app: App, updates: UpdateFactory, store: Storage, clock: Any
) -> None:
    box = outbox.Outbox()
    box.send(8, Reply((Block("Ihre Anfrage an Erika"),)))
    other = outbox.Outbox()
    other.send(9, Reply((Block("für jemand anderen"),)))
    await store.users.touch(8, "de", clock())
    await store.inbox.mark_processed(900, clock(), box.saved_form())
    await store.inbox.mark_processed(901, clock(), other.saved_form())
    await store.delete_user(8)
    assert [update_id for update_id, _ in await store.inbox.unsent()] == [901]


async def test_a_failing_handler_is_tried_three_times_then_set_aside_with_one_notice(
    app: App,
    updates: UpdateFactory,
    request_fake: OfflineRequest,
    store: Storage,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coach = app.bot_data["coach"]
    original = coach.question
    tries = 0

    async def question(user: Any, text: str) -> Reply:
        nonlocal tries
        if user.id == 10:
            tries += 1
            await store.users.set_active(10, False)  # a change the failed try must not keep
            raise RuntimeError("a bug in one handler")
        return await original(user, text)

    monkeypatch.setattr(coach, "question", question)
    batch = _updates(
        app,
        updates,
        [(10, "wie lang darf die notiz sein"), (11, "linkedin notiz"), (10, "/hilfe")],
    )
    with caplog.at_level("WARNING"):
        await _handle_all(app, batch)
    assert tries == 3
    to_10 = _texts_to(request_fake, 10)
    assert len(to_10) == 2 and "schiefgelaufen" in to_10[0] and "So nutzen Sie" in to_10[1]
    assert "300" in _texts_to(request_fake, 11)[0]
    assert "a bug in one handler" in caplog.text
    assert await store.inbox.set_aside_since(coach.clock()) == 1
    assert (await store.users.get(10)).active  # type: ignore[union-attr]
    assert await store.inbox.unsent() == [] and await store.inbox.unhandled() == []
    exported = await store.export_user(10)
    (letter,) = exported["dead_letters"]  # type: ignore[misc]
    assert "RuntimeError: a bug in one handler" in letter["error"]
    await store.delete_user(10)
    assert await store.inbox.set_aside_since(coach.clock()) == 0


async def test_a_failing_database_stops_the_queues_and_sets_nothing_aside(
    app: App, updates: UpdateFactory, store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    coach = app.bot_data["coach"]

    async def question(user: Any, text: str) -> Reply:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(coach, "question", question)
    (update,) = _updates(app, updates, [(14, "linkedin notiz")])
    with pytest.raises(sqlite3.OperationalError):
        await _handle_all(app, [update])
    assert [update_id for update_id, _ in await store.inbox.unhandled()] == [update.update_id]
    assert await store.inbox.set_aside_since(coach.clock()) == 0


async def test_sigterm_does_not_wait_out_a_backoff(
    app: App, request_fake: OfflineRequest, caplog: pytest.LogCaptureFixture
) -> None:
    request_fake.fail_next["getUpdates"] = (502, "Bad Gateway")  # then a 1 s backoff
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, stop.set)
    queues = chat_queues(app)
    with caplog.at_level("WARNING"):
        await asyncio.wait_for(poll(app, queues, stop), timeout=0.9)
    assert "getUpdates failed" in caplog.text
    await queues.close()


@pytest.mark.parametrize(
    ("error", "database"),
    [
        (sqlite3.OperationalError("database or disk is full"), True),
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.DatabaseError("database disk image is malformed"), True),
        (sqlite3.IntegrityError("CHECK constraint failed"), False),
        (sqlite3.ProgrammingError("Error binding parameter 1"), False),
        (OverflowError("Python int too large to convert to SQLite INTEGER"), False),
        (RuntimeError("a bug"), False),
    ],
)
def test_the_database_failing_is_told_from_one_update_failing(
    error: Exception, database: bool
) -> None:
    assert is_database_failure(error) is database


async def test_a_send_is_tried_until_delivered_as_long_as_telegram_asks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    with pytest.warns(PTBDeprecationWarning):  # PTB 22 reads its own int in the constructor
        flood = RetryAfter(7)
    failures: list[Exception] = [
        NetworkError("Bad Gateway"),
        TimedOut(),
        flood,
        NetworkError("Bad Gateway"),
        *[NetworkError("Bad Gateway")] * 8,
    ]

    async def call() -> str:
        if failures:
            raise failures.pop(0)
        return "sent"

    assert await until_delivered(call) == "sent"
    assert waits == [0.5, 1.0, 7.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0, 60.0]

    async def refused() -> str:
        raise BadRequest("Bad Request: chat not found")

    with pytest.raises(BadRequest):
        await until_delivered(refused)
