"""Durable polling: replies leave after the commit, chats side by side, each in order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram.ext import Application

from bot import outbox
from bot.polling import _handle_batch, resend_unsent
from bot.reply import Action, ActionKind, Block, Button, Document, Reply
from bot.storage import Repository
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
        document=Document("export.json", b'{"\xc3\xa4": 1}\x00'),
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


async def test_each_chat_is_answered_in_order_and_marked_once(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, repo: Repository
) -> None:
    batch = _updates(
        app, updates, [(1, "/start"), (2, "/hilfe"), (1, "/themen"), (2, "/start"), (1, "/hilfe")]
    )
    handled = await _handle_batch(app, batch, asyncio.Event())
    assert handled == {u.update_id for u in batch}
    expected = {
        1: ["Willkommen beim", "Zu diesen Themen", "So nutzen Sie"],
        2: ["So nutzen Sie", "Willkommen beim"],
    }
    for user, openings in expected.items():
        texts = [str(c.params["text"]) for c in request_fake.sent() if c.params["chat_id"] == user]
        assert len(texts) == len(openings)
        for text, opening in zip(texts, openings, strict=True):
            assert opening in text
    assert await repo.processed([u.update_id for u in batch]) == handled
    assert await repo.unsent() == []  # sent, so nothing waits for a restart
    # The same batch again (Telegram redelivers after a crash): nothing happens twice.
    before = len(request_fake.calls)
    assert await _handle_batch(app, batch, asyncio.Event()) == handled
    assert len(request_fake.calls) == before


async def test_a_reply_saved_but_not_sent_goes_out_after_the_restart(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, repo: Repository
) -> None:
    class Crash(Exception):
        pass

    async def crash(items: Any) -> None:
        raise Crash  # the process dies after the commit, before sending

    send = app.bot_data["send_outgoing"]
    app.bot_data["send_outgoing"] = crash
    (update,) = _updates(app, updates, [(3, "wieviele zeichen linkdin anfrage")])
    with pytest.raises(Crash):
        await _handle_batch(app, [update], asyncio.Event())
    assert request_fake.sent() == []
    assert [update_id for update_id, _ in await repo.unsent()] == [update.update_id]

    app.bot_data["send_outgoing"] = send  # the restart
    assert await resend_unsent(app) == 1
    (answer,) = request_fake.sent()
    assert "300 Zeichen" in answer.params["text"] and answer.params["chat_id"] == 3
    assert await repo.unsent() == []
    assert await resend_unsent(app) == 0  # once


async def test_a_failing_chat_does_not_hold_up_the_others(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, repo: Repository
) -> None:
    request_fake.blocked.add(4)
    batch = _updates(app, updates, [(4, "/start"), (5, "/start"), (5, "/hilfe")])
    handled = await _handle_batch(app, batch, asyncio.Event())
    assert handled == {u.update_id for u in batch}
    to_five = [c for c in request_fake.sent() if c.params["chat_id"] == 5]
    assert len(to_five) == 2
    blocked = await repo.user(4)
    assert blocked is not None and not blocked.active  # nudges pause until they write again


async def test_stopping_leaves_the_rest_unconfirmed(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, repo: Repository
) -> None:
    stop = asyncio.Event()
    stop.set()
    batch = _updates(app, updates, [(6, "/start"), (6, "/hilfe")])
    assert await _handle_batch(app, batch, stop) == set()
    assert request_fake.sent() == []
    assert await repo.processed([u.update_id for u in batch]) == set()


async def test_deleting_a_user_drops_their_unsent_messages(
    app: App, updates: UpdateFactory, repo: Repository, clock: Any
) -> None:
    box = outbox.Outbox()
    box.send(8, Reply((Block("Ihre Anfrage an Erika"),)))
    other = outbox.Outbox()
    other.send(9, Reply((Block("für jemand anderen"),)))
    await repo.touch_user(8, "de", clock())
    await repo.mark_processed(900, clock(), box.saved_form())
    await repo.mark_processed(901, clock(), other.saved_form())
    await repo.delete_user(8)
    assert [update_id for update_id, _ in await repo.unsent()] == [901]


async def test_a_failing_handler_gets_the_user_a_notice_and_spares_the_others(
    app: App,
    updates: UpdateFactory,
    request_fake: OfflineRequest,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coach = app.bot_data["coach"]
    original = coach.question

    async def question(user: Any, text: str) -> Reply:
        if user.id == 10:
            raise RuntimeError("a bug in one handler")
        return await original(user, text)

    monkeypatch.setattr(coach, "question", question)
    batch = _updates(app, updates, [(10, "wie lang darf die notiz sein"), (11, "linkedin notiz")])
    with caplog.at_level("ERROR"):
        assert await _handle_batch(app, batch, asyncio.Event()) == {u.update_id for u in batch}
    to = {c.params["chat_id"]: str(c.params["text"]) for c in request_fake.sent()}
    assert "schiefgelaufen" in to[10]
    assert "300" in to[11]
    assert "a bug in one handler" in caplog.text
