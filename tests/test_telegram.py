"""The Telegram front door through python-telegram-bot's real pipeline, offline."""

from __future__ import annotations

import json
from typing import Any

import pytest
from telegram.ext import Application

from bot.answering.service import AnswerService
from bot.coach import Coach, UserRef
from bot.render import encode_action
from bot.reply import Action, ActionKind
from bot.storage import Storage
from bot.telegram.app import publish_commands
from tests.conftest import FakeClock
from tests.offline import OfflineRequest, UpdateFactory, to_update

App = Application[Any, Any, Any, Any, Any, Any]


async def _send(app: App, data: dict[str, Any]) -> None:
    await app.process_update(to_update(data, app.bot))


def _markup(call_params: dict[str, Any]) -> list[list[dict[str, Any]]]:
    markup = call_params.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    rows: list[list[dict[str, Any]]] = markup.get("inline_keyboard", [])
    return rows


async def test_start_greets_with_main_buttons(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    await _send(app, updates.message("/start"))
    (call,) = request_fake.sent()
    assert "Willkommen beim Netzwerk-Coach" in call.params["text"]
    assert call.params["parse_mode"] == "HTML"
    labels = [b["text"] for row in _markup(call.params) for b in row]
    assert labels == ["Themen", "Vergleich", "Checkliste", "Hilfe"]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/help", "So nutzen Sie den Netzwerk-Coach"),
        ("/hilfe", "So nutzen Sie den Netzwerk-Coach"),
        ("/topics", "Zu diesen Themen"),
        ("/themen", "Zu diesen Themen"),
        ("/compare", "Welches Thema möchten Sie vergleichen?"),
        ("/vergleich spam", "Schutz vor Spam und Fake-Profilen"),
        ("/checklist", "0/9 erledigt"),
        ("/checkliste", "Checkliste Netzwerkaufbau"),
        ("/settings", "Sprache der Antworten"),
        ("/einstellungen", "Sprache der Antworten"),
        ("/help@netzwerk_coach_bot", "So nutzen Sie"),
        ("/stats", "Administratoren vorbehalten"),
        ("/foo", "Diesen Befehl kenne ich nicht"),
        ("/start trailing garbage <b>", "Willkommen"),
    ],
)
async def test_every_command_and_alias_answers(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, command: str, expected: str
) -> None:
    await _send(app, updates.message(command))
    assert any(expected in text for text in request_fake.texts()), request_fake.texts()


async def test_english_client_gets_english_commands(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    await _send(app, updates.message("/help", language_code="en-GB"))
    assert "How to use Netzwerk-Coach" in request_fake.texts()[0]


async def test_compare_shows_both_platforms_and_ends_with_the_verdict(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    await _send(app, updates.message("/vergleich text zur anfrage"))
    text = request_fake.texts()[0]
    assert "<b>XING</b>" in text and "<b>LinkedIn</b>" in text
    assert text.index("XING</b>") < text.index("LinkedIn</b>")
    assert text.rstrip().endswith("</i>") and "Fazit: Laut Artikel geht ein Text" in text


async def test_compare_menu_button_opens_the_topic(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    await _send(app, updates.message("/compare"))
    first = _markup(request_fake.sent()[0].params)[0][0]
    await _send(app, updates.press(first["callback_data"]))
    assert request_fake.sent("answerCallbackQuery")
    assert "XING vs. LinkedIn: Anfrage senden" in request_fake.texts()[-1]


async def test_question_gets_answer_with_related_and_compare_buttons(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    await _send(app, updates.message("wieviele zeichen linkdin anfrage"))
    call = request_fake.sent()[0]
    assert "300 Zeichen" in call.params["text"]
    labels = [b["text"] for row in _markup(call.params) for b in row]
    assert "⚖️ Vergleich: Text zur Anfrage" in labels
    stats = await store.questions.stats(FakeClock().now, FakeClock().now.replace(hour=0))
    assert stats.questions_today == 1


async def test_clarify_offers_candidates_as_buttons(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    await _send(app, updates.message("linkedin"))
    call = request_fake.sent()[0]
    assert "Meinten Sie" in call.params["text"]
    buttons = [b for row in _markup(call.params) for b in row]
    assert 3 <= len(buttons) <= 4 and buttons[-1]["text"] == "Nichts davon"
    await _send(app, updates.press(buttons[0]["callback_data"]))
    assert "Quelle:" in request_fake.texts()[-1], "the offered entry itself"


async def test_decline_offers_topics(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    await _send(app, updates.message("Wo kann ich Aktien kaufen?"))
    call = request_fake.sent()[0]
    assert "keine verlässliche Antwort" in call.params["text"]
    await _send(app, updates.press(_markup(call.params)[0][0]["callback_data"]))
    assert "Zu diesen Themen" in request_fake.texts()[-1]


async def test_nothing_fitted_and_tapped_offers_are_recorded(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    await _send(app, updates.message("linkedin"))
    buttons = [row[0] for row in _markup(request_fake.sent()[0].params)]
    await _send(app, updates.press(buttons[-1]["callback_data"]))
    assert "nichts gepasst" in request_fake.texts()[-1]
    await _send(app, updates.message("xing"))
    offer = _markup(request_fake.sent()[-1].params)[0][0]
    await _send(app, updates.press(offer["callback_data"]))
    assert "Quelle:" in request_fake.texts()[-1]
    log = (await store.export_user(7))["question_log"]
    assert isinstance(log, list)
    entry_id = offer["callback_data"].split("|")[-1]
    assert [(row["text"], row["feedback"]) for row in log] == [
        ("linkedin", "none"),
        ("xing", entry_id),
    ]


async def test_an_answer_that_did_not_fit_offers_the_other_candidates(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    await _send(app, updates.message("Wie lang darf die LinkedIn-Notiz sein?"))
    answer = request_fake.sent()[0]
    assert "300 Zeichen" in answer.params["text"]
    first_row = [b["text"] for b in _markup(answer.params)[0]]
    assert first_row == ["Mehr dazu", "Passt nicht?"], "beside the details, on one row"
    await _send(app, updates.press(_markup(answer.params)[0][0]["callback_data"]))
    details = request_fake.sent("editMessageText")[-1]
    assert len(details.params["text"]) > len(answer.params["text"])
    labels = [b["text"] for row in _markup(details.params) for b in row]
    assert "Passt nicht?" in labels and "Mehr dazu" not in labels, "it stays with the details"
    wrong = _markup(answer.params)[0][1]
    await _send(app, updates.press(wrong["callback_data"]))
    reply = request_fake.sent()[-1]
    assert "nicht gepasst" in reply.params["text"]
    offers = [row[0] for row in _markup(reply.params)]
    assert offers[-1]["text"] == "Nichts davon" and 2 <= len(offers) <= 4
    assert all("Text zur Einladung" not in b["text"] for b in offers), "not the answer again"
    assert all(not b["text"].startswith("XING") for b in offers[:-1]), "the platform named"
    await _send(app, updates.press(offers[0]["callback_data"]))
    assert "Quelle:" in request_fake.texts()[-1]
    log = (await store.export_user(7))["question_log"]
    assert isinstance(log, list) and len(log) == 1
    tapped = offers[0]["callback_data"].split("|")[2]
    assert (log[0]["outcome"], log[0]["entry_id"], log[0]["feedback"]) == (
        "answer",
        "li-note",
        tapped,
    )


async def test_more_button_edits_the_answer_in_place(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, service: AnswerService
) -> None:
    entry = next(e for e in service.kb.entries if e.de.more)
    await _send(app, updates.press(encode_action(Action(ActionKind.ENTRY, entry.id))))
    first = request_fake.sent()[-1]
    more = _markup(first.params)[0][0]
    assert more["text"] == "Mehr dazu"
    await _send(app, updates.press(more["callback_data"]))
    edit = request_fake.sent("editMessageText")[-1]
    assert len(edit.params["text"]) > len(first.params["text"])
    assert all(row[0]["text"] != "Mehr dazu" for row in _markup(edit.params))


async def test_question_language_beats_client_language(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    await _send(app, updates.message("How long can a LinkedIn note be?", language_code="de"))
    assert "300 characters" in request_fake.texts()[0]


async def test_checklist_toggle_edits_in_place_and_persists(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    await _send(app, updates.message("/checklist"))
    first = _markup(request_fake.sent()[0].params)[0][0]
    assert first["text"].startswith("⬜")
    await _send(app, updates.press(first["callback_data"]))
    edit = request_fake.sent("editMessageText")[-1]
    assert "1/9 erledigt" in edit.params["text"]
    assert _markup(edit.params)[0][0]["text"].startswith("✅")
    assert await store.checklist.done(7) == {"close-circle"}
    await _send(app, updates.press(first["callback_data"]))  # undo
    assert "0/9 erledigt" in request_fake.sent("editMessageText")[-1].params["text"]
    assert await store.checklist.done(7) == set()


async def test_language_setting_is_saved(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    await _send(app, updates.press(encode_action(Action(ActionKind.LANGUAGE, "en"))))
    assert "I will reply in English" in request_fake.texts()[-1]
    user = await store.users.get(7)
    assert user is not None and user.language == "en"
    await _send(app, updates.message("/help", language_code="de"))
    assert "How to use" in request_fake.texts()[-1]


@pytest.mark.parametrize(
    "data",
    ["v0|e|li-note", "v1|e|does-not-exist", "v1|zz|x", "garbage", "v1|ck|../../etc", "v1|e|A B"],
)
async def test_stale_or_forged_buttons_get_a_notice_and_change_nothing(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage, data: str
) -> None:
    await _send(app, updates.press(data))
    (answer,) = request_fake.sent("answerCallbackQuery")
    assert "nicht mehr gültig" in answer.params.get("text", "")
    assert not request_fake.sent()
    assert await store.checklist.done(7) == set()


async def test_unknown_checklist_item_is_answered_politely(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    await _send(app, updates.press("v1|ck|no-such-step"))
    (answer,) = request_fake.sent("answerCallbackQuery")
    assert "gibt es nicht" in answer.params.get("text", "")


async def test_admin_stats(app: App, updates: UpdateFactory, request_fake: OfflineRequest) -> None:
    await _send(app, updates.message("Wo kann ich Aktien kaufen?", user_id=8))
    await _send(app, updates.message("Wie lang darf die LinkedIn-Notiz sein?", user_id=9))
    await _send(app, updates.message("linkedin", user_id=9))
    await _send(app, updates.message("/stats", user_id=42))
    text = request_fake.texts()[-1]
    assert "Nutzer: 3" in text and "Fragen heute: 3" in text
    assert "21.11. 0 Fragen: – · – · –" in text
    assert "27.11. 3 Fragen: 33 % · 33 % · 33 %" in text
    assert "Ablehnungsquote (7 Tage): 33 %" in text and "1× wo kann ich aktien kaufen?" in text
    assert "1× linkedin" in text, "clarified questions count as unanswered too"
    assert "Antworten mit „Passt nicht?“ (7 Tage): 0" in text


@pytest.mark.parametrize(
    "text",
    [
        "x" * 4096,
        "<b>bold</b> & <script>alert(1)</script> *markdown* _x_ `code`",
        "😀🙏🔥",
        "مرحبا كيف حالك",  # right-to-left
        "/",
        "/start@other_bot",
        "<<<>>>&&&",
    ],
)
async def test_bad_input_gets_a_reply_telegram_accepts(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, text: str
) -> None:
    await _send(app, updates.message(text))
    sent = request_fake.sent()
    assert sent, "every input gets a reply"
    assert all(call.params.get("parse_mode") == "HTML" for call in sent)
    # OfflineRequest answers 400 for what Telegram refuses; a 400 would raise and log an error.
    assert not any("error" in t.lower() and "schiefgelaufen" in t for t in request_fake.texts())


async def test_stickers_and_photos_get_a_hint(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    sticker = {
        "sticker": {
            "file_id": "s",
            "file_unique_id": "s",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
    }
    await _send(app, updates.message(None, extra=sticker))
    photo = {"photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]}
    await _send(app, updates.message(None, extra=photo))
    assert len(request_fake.texts()) == 2
    assert all("als Text" in t for t in request_fake.texts())


async def test_groups_only_react_to_commands_and_mentions(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    await _send(app, updates.message("wie lang darf die linkedin notiz sein", chat_type="group"))
    assert not request_fake.sent()
    await _send(
        app,
        updates.message(
            "@netzwerk_coach_bot wie lang darf die linkedin notiz sein", chat_type="group"
        ),
    )
    assert "300" in request_fake.texts()[-1]
    await _send(app, updates.message("/hilfe", chat_type="group"))
    assert "So nutzen Sie" in request_fake.texts()[-1]
    count = len(request_fake.sent())
    await _send(app, updates.message("/start@other_bot", chat_type="group"))
    await _send(app, updates.message("/weather", chat_type="group"))
    assert len(request_fake.sent()) == count, "other bots' commands are not ours"


async def test_a_failing_send_is_logged_and_the_next_user_is_served(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    request_fake.fail_next["sendMessage"] = (403, "Forbidden: bot was blocked by the user")
    await _send(app, updates.message("/start", user_id=11))
    user = await store.users.get(11)
    assert user is not None and not user.active
    await _send(app, updates.message("/start", user_id=12))
    assert "Willkommen" in request_fake.texts()[-1]
    await _send(app, updates.message("/start", user_id=11))
    user = await store.users.get(11)
    assert user is not None and user.active, "writing again reactivates"


async def test_command_menus_are_published_in_both_languages(
    app: App, request_fake: OfflineRequest, service: AnswerService
) -> None:
    await publish_commands(app, service.kb)
    calls = request_fake.sent("setMyCommands")
    assert [c.params.get("language_code") for c in calls] == ["de", "en", None]
    german = [c["command"] for c in calls[0].params["commands"]]
    assert german == [
        "start", "hilfe", "themen", "vergleich", "checkliste", "anfrage", "offen", "entwurf",
        "fortschritt", "abbrechen", "einstellungen", "datenschutz", "export", "loeschen",
    ]  # fmt: skip
    english = [c["command"] for c in calls[2].params["commands"]]
    assert english == [
        "start", "help", "topics", "compare", "checklist", "request", "pending", "draft",
        "progress", "cancel", "settings", "privacy", "export", "delete",
    ]  # fmt: skip
    assert calls[1].params["commands"] == calls[2].params["commands"]
    # Every command /hilfe teaches is in the menu, under the name /hilfe uses.
    help_text = service.kb.ui.get("de", "help")
    taught = {word.strip("/,.:;") for word in help_text.split() if word.startswith("/")}
    assert taught <= set(german), taught - set(german)
    assert "Export" in calls[1].params["commands"][-2]["description"]


async def test_flooding_user_gets_one_notice_and_others_are_served(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, clock: FakeClock
) -> None:
    for _ in range(25):
        await _send(app, updates.message("hallo", user_id=30))
    texts = request_fake.texts()
    assert len(texts) == 21
    assert sum("sehr viele Nachrichten" in t for t in texts) == 1
    await _send(app, updates.message("/start", user_id=31))
    assert "Willkommen" in request_fake.texts()[-1]
    clock.advance(seconds=11)
    await _send(app, updates.message("danke", user_id=30))
    assert "Gern geschehen" in request_fake.texts()[-1]


async def test_export_arrives_as_a_readable_summary_and_a_json_document(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    await _send(app, updates.message("/export"))
    readable, machine = request_fake.sent("sendDocument")
    assert readable.params["chat_id"] == machine.params["chat_id"] == 7
    assert "Netzwerk-Coach: Ihre gespeicherten Daten" in readable.params["document"].decode()
    assert json.loads(machine.params["document"])["user"]["id"] == 7
    assert "Alle Daten" in request_fake.texts()[0]


async def test_delete_through_buttons(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    await _send(app, updates.message("/checklist"))
    await _send(app, updates.press(_markup(request_fake.sent()[0].params)[0][0]["callback_data"]))
    await _send(app, updates.message("/loeschen"))
    ask = request_fake.sent()[-1]
    yes = next(b for b in _markup(ask.params)[0] if b["text"] == "Ja, löschen")
    await _send(app, updates.press(yes["callback_data"]))
    assert "Alle Ihre Daten sind gelöscht" in request_fake.texts()[-1]
    assert await store.users.get(7) is None and await store.checklist.done(7) == set()


def _results(call_params: dict[str, Any]) -> list[dict[str, Any]]:
    results = call_params["results"]
    return json.loads(results) if isinstance(results, str) else list(results)


async def test_inline_mode_offers_the_answer_with_its_source_and_a_way_to_the_bot(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    await _send(app, updates.inline("wie lang darf die notiz sein"))
    (call,) = request_fake.sent("answerInlineQuery")
    (result,) = _results(call.params)
    text = result["input_message_content"]["message_text"]
    assert "300 Zeichen" in text and "Quelle:" in text
    assert result["input_message_content"]["parse_mode"] == "HTML"
    (button,) = result["reply_markup"]["inline_keyboard"][0]
    assert button["url"] == "https://t.me/netzwerk_coach_bot?start=inline"
    assert call.params["cache_time"] == 300
    assert not request_fake.sent(), "nothing is sent to a chat"


async def test_inline_mode_offers_nothing_for_off_topic_text_and_candidates_when_unsure(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    await _send(app, updates.inline("Wo kann ich Aktien kaufen?"))
    assert _results(request_fake.sent("answerInlineQuery")[-1].params) == []
    await _send(app, updates.inline("linkedin"))
    unsure = _results(request_fake.sent("answerInlineQuery")[-1].params)
    assert 2 <= len(unsure) <= 3
    await _send(app, updates.inline(""))
    popular = _results(request_fake.sent("answerInlineQuery")[-1].params)
    assert 1 <= len(popular) <= 5
    stats = await store.questions.stats(FakeClock().now, FakeClock().now.replace(hour=0))
    assert stats.questions_today == 0, "inline queries are not logged"


async def test_inline_mode_offers_the_most_asked_topics_for_an_empty_query(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    for _ in range(3):
        await _send(app, updates.message("Wie melde ich Spam auf XING?"))
    await _send(app, updates.message("wieviele zeichen linkdin anfrage"))
    await _send(app, updates.inline(""))
    popular = _results(request_fake.sent("answerInlineQuery")[-1].params)
    assert [r["id"] for r in popular][:2] == ["xing-spam", "li-note"]


@pytest.mark.parametrize(
    "command", ["/offen", "/export", "/loeschen", "/einstellungen", "/anfrage xing Max", "/stats"]
)
async def test_personal_commands_in_a_group_only_point_to_the_private_chat(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage, command: str
) -> None:
    await _send(app, updates.message("/anfrage linkedin Erika Mustermann"))  # private
    request_fake.calls.clear()
    await _send(app, updates.message(command, chat_type="group"))
    (call,) = request_fake.sent()
    assert call.params["chat_id"] == -100500
    assert "privaten Chat" in call.params["text"] and "Erika" not in call.params["text"]
    (button,) = _markup(call.params)[0]
    name = command.split()[0].lstrip("/")
    canonical = {"offen": "pending", "loeschen": "delete", "einstellungen": "settings",
                 "anfrage": "request"}.get(name, name)  # fmt: skip
    assert button["url"] == f"https://t.me/netzwerk_coach_bot?start={canonical}"
    assert not request_fake.sent("sendDocument")
    assert [f.name for f in await store.follow_ups.pending(7)] == ["Erika Mustermann"]


async def test_the_deep_link_from_a_group_opens_the_command_in_private(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    await _send(app, updates.message("/anfrage linkedin Erika Mustermann"))
    await _send(app, updates.message("/start pending"))
    assert "Offene Anfragen: 1" in request_fake.texts()[-1]


async def test_yes_delete_is_valid_once_and_only_until_cancelled(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    await _send(app, updates.message("/anfrage linkedin Erika Mustermann"))
    await _send(app, updates.message("/loeschen"))
    first = {b["text"]: b["callback_data"] for b in _markup(request_fake.sent()[-1].params)[0]}
    await _send(app, updates.press(first["Abbrechen"]))
    await _send(app, updates.press(first["Ja, löschen"]))  # the old question's yes
    assert await store.follow_ups.pending(7), "cancelled: its yes is stale"
    # Someone else pressing (or forging) this user's yes deletes nothing of theirs.
    await _send(app, updates.message("/anfrage xing Max", user_id=8))
    await _send(app, updates.message("/loeschen"))
    second = {b["text"]: b["callback_data"] for b in _markup(request_fake.sent()[-1].params)[0]}
    await _send(app, updates.press(second["Ja, löschen"], user_id=8))
    assert await store.follow_ups.pending(8)
    await _send(app, updates.press(second["Ja, löschen"]))
    assert not await store.follow_ups.pending(7)
    await _send(app, updates.press(second["Ja, löschen"]))  # twice: nothing more happens
    notice = request_fake.sent("answerCallbackQuery")[-1].params.get("text")
    assert notice is not None and "nicht mehr gültig" in notice


async def test_in_a_group_only_the_asker_can_press_the_answers_buttons(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    await _send(app, updates.message("@netzwerk_coach_bot linkedin", chat_type="group"))
    offers = [row[0] for row in _markup(request_fake.sent()[-1].params)]
    assert all(b["callback_data"].endswith("|7") for b in offers)
    sent = len(request_fake.sent())
    await _send(app, updates.press(offers[0]["callback_data"], user_id=8, chat_type="group"))
    assert len(request_fake.sent()) == sent, "someone else's press changes nothing"
    notice = request_fake.sent("answerCallbackQuery")[-1].params.get("text")
    assert notice is not None and "gehören zu der Person" in notice
    forged = offers[0]["callback_data"].rsplit("|", 1)[0]  # the owner cut off
    await _send(app, updates.press(forged, user_id=8, chat_type="group"))
    assert len(request_fake.sent()) == sent
    await _send(app, updates.press(offers[0]["callback_data"], chat_type="group"))
    edited = request_fake.sent()[-1]
    assert "Quelle:" in edited.params["text"]
    assert all(b["callback_data"].endswith("|7") for row in _markup(edited.params) for b in row)


async def test_anonymous_admins_and_channels_see_no_personal_data_in_a_group(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    anonymous = 1087968824  # Telegram's GroupAnonymousBot, the sender of anonymous admins
    # Logged under the shared id before such senders were refused (a private chat never has one).
    coach: Coach = app.bot_data["coach"]
    await coach.command(UserRef(anonymous), "request", "linkedin Erika Mustermann")
    request_fake.calls.clear()
    channel = {"sender_chat": {"id": -100777, "type": "channel", "title": "Kanal"}}
    for command in ("/offen", "/export", "/anfrage xing Max"):
        await _send(
            app, updates.message(command, user_id=anonymous, chat_type="group", extra=channel)
        )
    texts = request_fake.texts()
    assert len(texts) == 3 and all("privaten Chat" in text for text in texts)
    assert not any("Erika" in text for text in texts) and not request_fake.sent("sendDocument")
    assert [f.name for f in await store.follow_ups.pending(anonymous)] == ["Erika Mustermann"]
