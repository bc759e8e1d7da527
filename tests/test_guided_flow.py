"""The guided /anfrage flow and request wording, as a person types them (issue 13).

Each misfire found when the tracker was tried as a new user would is replayed through
python-telegram-bot's real pipeline, offline.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.answering.service import AnswerService
from bot.coach import Coach
from bot.config import load_settings
from bot.storage import Storage
from bot.telegram.app import build_application, send_outgoing
from bot.telegram.throttle import FloodGuard
from tests.conftest import TOKEN, FakeClock
from tests.offline import OfflineRequest, UpdateFactory, to_update

App = Application[Any, Any, Any, Any, Any, Any]


async def _send(app: App, data: dict[str, Any]) -> None:
    await app.process_update(to_update(data, app.bot))


def _buttons(request: OfflineRequest) -> dict[str, str]:
    """Label -> callback data of the last message's keyboard."""
    call = [c for c in request.calls if c.method in ("sendMessage", "editMessageText")][-1]
    markup = call.params.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


async def _choose(app: App, updates: UpdateFactory, request: OfflineRequest, label: str) -> None:
    await _send(app, updates.message("/anfrage"))
    await _send(app, updates.press(_buttons(request)[label]))


async def test_every_step_has_a_cancel_button_and_cancel_logs_nothing(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    await _send(app, updates.message("/anfrage"))
    assert "Abbrechen" in _buttons(request_fake)
    await _send(app, updates.press(_buttons(request_fake)["LinkedIn: gesendet"]))
    assert "Wie heißt die Person?" in request_fake.texts()[-1]
    await _send(app, updates.press(_buttons(request_fake)["Abbrechen"]))
    assert "Abgebrochen" in request_fake.texts()[-1]
    await _send(app, updates.message("Erika Mustermann"))
    assert not await store.follow_ups.pending(7), "after cancelling, a name is a question again"


async def test_slash_cancel_and_any_command_end_the_step(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    await _choose(app, updates, request_fake, "LinkedIn: gesendet")
    await _send(app, updates.message("/abbrechen"))
    assert "Abgebrochen. Ich habe nichts notiert." in request_fake.texts()[-1]
    await _send(app, updates.message("/cancel"))
    assert "nichts, das ich abbrechen könnte" in request_fake.texts()[-1]
    await _choose(app, updates, request_fake, "XING: gesendet")
    await _send(app, updates.message("/themen"))
    await _send(app, updates.message("Max Mustermann"))
    assert not await store.follow_ups.pending(7)


async def test_a_question_is_answered_not_logged_as_a_person(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    await _choose(app, updates, request_fake, "LinkedIn: gesendet")
    await _send(app, updates.message("wie lang darf die notiz sein"))
    reply = request_fake.texts()[-1]
    assert "300 Zeichen" in reply and "noch nicht notiert" in reply
    assert not await store.follow_ups.pending(7)
    # The step is still there: the name that follows is logged.
    await _send(app, updates.message("Erika Mustermann"))
    (logged,) = await store.follow_ups.pending(7)
    assert (logged.name, logged.platform, logged.direction) == (
        "Erika Mustermann",
        "linkedin",
        "sent",
    )


async def test_a_cancel_phrase_cancels(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    await _choose(app, updates, request_fake, "LinkedIn: gesendet")
    await _send(app, updates.message("ach vergiss es"))
    assert "Abgebrochen" in request_fake.texts()[-1]
    assert not await store.follow_ups.pending(7)


async def test_an_unsure_reply_is_asked_back_with_yes_and_no(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    await _choose(app, updates, request_fake, "XING: erhalten")
    await _send(app, updates.message("ok danke"))
    assert "Soll ich „ok danke“ als Namen notieren?" in request_fake.texts()[-1]
    assert {"Ja", "Nein", "Abbrechen"} <= set(_buttons(request_fake))
    await _send(app, updates.press(_buttons(request_fake)["Nein"]))
    assert "Wie heißt die Person?" in request_fake.texts()[-1]
    await _send(app, updates.message("Hallo"))
    await _send(app, updates.press(_buttons(request_fake)["Ja"]))
    (logged,) = await store.follow_ups.pending(7)
    assert (logged.name, logged.direction) == ("Hallo", "received")
    # The Ja button of that question is stale now.
    await _send(app, updates.press(_buttons(request_fake).get("Ja", "v1|sp|yes")))
    assert len(await store.follow_ups.pending(7)) == 1


async def test_natural_wording_and_typos_keep_the_name_clean(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    await _send(app, updates.message("/anfrage linkedin an Max Mustermann"))
    assert "Notiert: LinkedIn-Einladung an Max Mustermann." in request_fake.texts()[-1]
    await _send(app, updates.message("/anfrage erhalten linkdin von Jonas Weber"))
    assert "Notiert: LinkedIn-Einladung von Jonas Weber." in request_fake.texts()[-1]
    await _send(app, updates.message("/anfrage xing Müller - Lüdenscheidt GmbH\nMesse Hamburg"))
    confirmation = request_fake.texts()[-1]
    assert "XING-Anfrage an Müller - Lüdenscheidt GmbH." in confirmation
    assert "Ihre Notiz (nur für Sie): Messe Hamburg" in confirmation
    await _send(app, updates.message("/anfrage linkedin Max M."))
    assert "an Max M.." not in request_fake.texts()[-1]
    names = sorted(f.name for f in await store.follow_ups.pending(7))
    assert names == ["Jonas Weber", "Max M", "Max Mustermann", "Müller - Lüdenscheidt GmbH"]


async def test_the_confirmation_can_be_corrected(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    await _send(app, updates.message("/anfrage linkedin Erika Musterman"))
    await _send(app, updates.press(_buttons(request_fake)["Korrigieren"]))
    assert "Bisher notiert: LinkedIn-Einladung an Erika Musterman" in request_fake.texts()[-1]
    await _send(app, updates.message("xing Erika Mustermann | Messe Hamburg"))
    assert "Korrigiert: XING-Anfrage an Erika Mustermann." in request_fake.texts()[-1]
    (logged,) = await store.follow_ups.pending(7)
    assert (logged.platform, logged.name, logged.note) == (
        "xing",
        "Erika Mustermann",
        "Messe Hamburg",
    )
    events = [e.event for e in await store.follow_ups.history(logged.id)]
    assert events == ["created", "corrected"]


@asynccontextmanager
async def _bot(
    service: AnswerService, db_path: Path, clock: FakeClock, request: OfflineRequest
) -> AsyncIterator[App]:
    """The application over its own connection: leaving it is the bot stopping."""
    store = await Storage.open(db_path)
    settings = load_settings({"BOT_TOKEN": TOKEN})
    application = build_application(settings, service, request=request)
    application.bot_data["coach"] = Coach(service, store, clock=clock)
    application.bot_data["flood_guard"] = FloodGuard(clock=clock)
    application.bot_data["send_outgoing"] = partial(send_outgoing, application.bot, store)
    try:
        async with application:
            yield application
    finally:
        await store.close()


async def test_a_restart_in_the_middle_of_the_flow_neither_loses_nor_corrupts_it(
    service: AnswerService, db_path: Path, clock: FakeClock, updates: UpdateFactory
) -> None:
    request = OfflineRequest()
    async with _bot(service, db_path, clock, request) as app:
        await _choose(app, updates, request, "LinkedIn: erhalten")
    restarted = OfflineRequest()
    async with _bot(service, db_path, clock, restarted) as app:
        await _send(app, updates.message("Jonas Weber"))
        assert "Notiert: LinkedIn-Einladung von Jonas Weber." in restarted.texts()[-1]
    store = await Storage.open(db_path)
    try:
        (logged,) = await store.follow_ups.pending(7)
        assert (logged.direction, logged.platform) == ("received", "linkedin")
        assert await store.users.step(7) is None
    finally:
        await store.close()


async def test_a_step_times_out_and_the_text_is_a_question_again(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage, clock: FakeClock
) -> None:
    await _choose(app, updates, request_fake, "LinkedIn: gesendet")
    clock.advance(minutes=31)
    await _send(app, updates.message("Erika Mustermann"))
    assert not await store.follow_ups.pending(7)


async def test_a_topic_that_reads_like_a_name_is_asked_back(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    await _choose(app, updates, request_fake, "LinkedIn: gesendet")
    await _send(app, updates.message("XING Premium"))
    assert "Soll ich „XING Premium“ als Namen notieren?" in request_fake.texts()[-1]
    assert not await store.follow_ups.pending(7)
