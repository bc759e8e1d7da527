"""HTTP level: `python -m bot run` as a process against a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

from tests.bot_process import BotProcess, buttons_of, start_bot, text_of
from tests.fake_bot_api import FakeBotAPI
from tests.offline import TOKEN


def test_conversation_survives_restart_and_flood_control(api: FakeBotAPI, tmp_path: Path) -> None:
    bot = start_bot(api, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    try:
        menus = api.sent("setMyCommands")
        assert {c.params.get("language_code") for c in menus} == {"de", "en", None}

        mark = api.mark()
        api.say("/start")
        api.wait_for(lambda c: "Willkommen" in text_of(c), after=mark)

        mark = api.mark()
        api.say("wieviele zeichen linkdin anfrage")
        api.wait_for(lambda c: "300 Zeichen" in text_of(c), after=mark)

        mark = api.mark()
        api.say("/compare")
        menu = api.wait_for(lambda c: "vergleichen" in text_of(c), after=mark)
        mark = api.mark()
        api.press(
            buttons_of(menu)[1]["callback_data"], message_id=int(menu.params.get("message_id", 1))
        )
        api.wait_for(lambda c: c.method == "answerCallbackQuery", after=mark)
        api.wait_for(lambda c: "XING vs. LinkedIn: Text zur Anfrage" in text_of(c), after=mark)

        mark = api.mark()
        api.say("/checklist")
        checklist = api.wait_for(lambda c: "0/9 erledigt" in text_of(c), after=mark)
        mark = api.mark()
        api.press(buttons_of(checklist)[0]["callback_data"], message_id=1001)
        api.wait_for(
            lambda c: c.method == "editMessageText" and "1/9 erledigt" in text_of(c), after=mark
        )

        # Unsure: candidates and "Nichts davon"; an answer's details edit it in place.
        mark = api.mark()
        api.say("linkedin")
        unsure = api.wait_for(lambda c: "Meinten Sie" in text_of(c), after=mark)
        mark = api.mark()
        api.press(buttons_of(unsure)[-1]["callback_data"], message_id=1002)
        api.wait_for(lambda c: "nichts gepasst" in text_of(c), after=mark)
        mark = api.mark()
        api.say("Soll ich beim Ablehnen auf XING einen Text mitschicken?")
        answer = api.wait_for(lambda c: "Mehr dazu" in str(c.params), after=mark)
        mark = api.mark()
        api.press(buttons_of(answer)[0]["callback_data"], message_id=1003)
        api.wait_for(lambda c: c.method == "editMessageText", after=mark)
        # "Passt nicht?" beside it: noted, and the other candidates offered.
        assert buttons_of(answer)[1]["text"] == "Passt nicht?"
        mark = api.mark()
        api.press(buttons_of(answer)[1]["callback_data"], message_id=1003)
        others = api.wait_for(lambda c: "nicht gepasst" in text_of(c), after=mark)
        assert buttons_of(others)[-1]["text"] == "Nichts davon"

        # Flood control: Telegram answers 429 with retry_after; the message still arrives.
        api.fail("sendMessage", 429, "Too Many Requests: retry after 1")
        mark = api.mark()
        api.say("<b>Tom & Jerry</b> wollen sich bei XING vernetzen 🤝")
        api.wait_for(lambda c: c.params.get("error") == 429, after=mark, refused=True)
        api.wait_for(lambda c: c.method == "sendMessage", after=mark)

        assert bot.stop(signal.SIGTERM) == 0
    finally:
        bot.kill()

    bot = start_bot(api, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    try:
        mark = api.mark()
        api.say("/checkliste")
        api.wait_for(lambda c: "1/9 erledigt" in text_of(c), after=mark)
    finally:
        bot.stop()
    output = bot.output()
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    assert "Traceback" not in output
    assert "linkdin" not in output and "Tom & Jerry" not in output, "no message texts in logs"
    assert all(line.startswith("{") for line in output.splitlines()), "JSON log lines"
    refused = [(c.method, text_of(c)[:80]) for c in api.calls if c.params.get("error") == 400]
    assert not refused, f"Telegram would have refused: {refused}"


def test_missing_token_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    bot = BotProcess("http://127.0.0.1:9", tmp_path / "x.sqlite3", tmp_path / "x.log")
    bot.environ["BOT_TOKEN"] = ""
    bot.environ["BOT_API_BASE_URL"] = "ftp://nowhere"
    bot.start()
    assert bot.wait() == 2
    assert "BOT_API_BASE_URL" in bot.output()


def test_nudges_arrive_once_across_sigkill_and_resist_replay(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    db = tmp_path / "bot.sqlite3"
    env = {
        "BOT_FOLLOW_UP_AFTER": "3s",
        "BOT_FOLLOW_UP_REPEAT": "1h",
        "BOT_REMINDER_SWEEP_SECONDS": "1",
        "BOT_QUIET_HOURS": "",
    }
    bot = start_bot(api, db, tmp_path / "bot.log", **env)
    try:
        mark = api.mark()
        api.say("/request linkedin Erika Mustermann")
        api.wait_for(lambda c: "Notiert: LinkedIn-Einladung an Erika" in text_of(c), after=mark)
        nudge = api.wait_for(lambda c: "Erinnerung: LinkedIn-Einladung an Erika" in text_of(c))
        assert int(nudge.params["chat_id"]) == 7

        mark = api.mark()
        api.say("/anfrage xing Max Muster")
        api.wait_for(lambda c: "Notiert: XING-Anfrage an Max Muster" in text_of(c), after=mark)
        bot.stop(signal.SIGKILL)  # before Max's nudge is due
    finally:
        bot.kill()

    time.sleep(3.5)  # the nudge falls due while the bot is down
    mark = api.mark()
    bot = start_bot(api, db, tmp_path / "bot.log", **env)
    try:
        api.wait_for(lambda c: "Erinnerung: XING-Anfrage an Max Muster" in text_of(c), after=mark)
        time.sleep(3)  # three more sweeps
        max_nudges = [c for c in api.sent() if "Erinnerung: XING-Anfrage an Max" in text_of(c)]
        assert len(max_nudges) == 1, "delivered exactly once after the restart"
        erika_nudges = [
            c for c in api.sent() if "Erinnerung: LinkedIn-Einladung an Erika" in text_of(c)
        ]
        assert len(erika_nudges) == 1, "the earlier nudge was not repeated"

        accept = next(b for b in buttons_of(nudge) if b["text"] == "Angenommen")["callback_data"]
        mark = api.mark()
        api.press(accept, user_id=99)  # somebody else replays the button's data
        answer = api.wait_for(lambda c: c.method == "answerCallbackQuery", after=mark)
        assert "gibt es nicht" in str(answer.params.get("text", ""))
        mark = api.mark()
        api.press(accept, user_id=7)
        api.wait_for(lambda c: "als angenommen vermerkt" in text_of(c), after=mark)
        bot.stop()
    finally:
        bot.kill()

    with sqlite3.connect(db) as connection:
        rows = dict(connection.execute("SELECT name, state FROM follow_ups").fetchall())
        nudged = connection.execute(
            "SELECT COUNT(*) FROM follow_up_events WHERE event = 'nudged'"
        ).fetchone()[0]
    assert rows == {"Erika Mustermann": "accepted", "Max Muster": "pending"}
    assert nudged == 2
    assert TOKEN not in bot.output()


def test_an_export_sent_as_a_file_is_imported_and_progress_comes_as_a_photo(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    from tests.test_import import NOW, export_zip, invitations

    sent = time.time() - 3 * 86400
    data = export_zip(
        Invitations=invitations(
            [("Max Mustermann", "OUTGOING", NOW.fromtimestamp(sent, NOW.tzinfo))]
        )
    )
    api.files["BQACAgIAAxk"] = data
    bot = start_bot(api, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    try:
        mark = api.mark()
        document = {"file_id": "BQACAgIAAxk", "file_unique_id": "u1", "file_size": len(data),
                    "file_name": "Basic_LinkedInDataExport.zip"}  # fmt: skip
        api.push(api.factory.message(None, extra={"document": document}))
        api.wait_for(lambda c: "Neu notiert: 1" in text_of(c), after=mark, timeout=30)
        methods = [c.method for c in api.calls[mark:]]
        assert methods.index("getFile") < methods.index("download") < methods.index("sendMessage")

        mark = api.mark()
        api.say("/fortschritt")
        photo = api.wait_for(lambda c: c.method == "sendPhoto", after=mark, timeout=30)
        assert "1 Anfrage" in str(photo.params.get("caption"))
        assert photo.files["photo"][:8] == b"\x89PNG\r\n\x1a\n"
        assert bot.stop() == 0
    finally:
        bot.kill()
    assert TOKEN not in bot.output()


def test_inline_mode_over_http(api: FakeBotAPI, tmp_path: Path) -> None:
    import json

    bot = start_bot(api, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    try:
        mark = api.mark()
        api.push(api.factory.inline("wieviele zeichen linkdin anfrage"))
        call = api.wait_for(lambda c: c.method == "answerInlineQuery", after=mark)
        results = call.params["results"]
        results = json.loads(results) if isinstance(results, str) else results
        assert "300 Zeichen" in results[0]["input_message_content"]["message_text"]
        mark = api.mark()
        api.push(api.factory.inline("Wo kann ich Aktien kaufen?"))
        call = api.wait_for(lambda c: c.method == "answerInlineQuery", after=mark)
        results = call.params["results"]
        assert (json.loads(results) if isinstance(results, str) else results) == []
        assert bot.stop() == 0
    finally:
        bot.kill()


def test_a_lone_surrogate_stops_nobody(api: FakeBotAPI, tmp_path: Path) -> None:
    """A text with half a UTF-16 pair once stopped the bot for every user (issue 16)."""
    bot = start_bot(api, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    try:
        mark = api.mark()
        api.say("Hallo \ud800 wie lang darf die notiz sein")
        api.say("wieviele zeichen linkdin anfrage", user_id=8)
        for chat in (7, 8):
            api.wait_for(
                lambda c, chat=chat: "300" in text_of(c) and int(c.params["chat_id"]) == chat,
                after=mark,
            )
        assert bot.stop() == 0
    finally:
        bot.kill()
