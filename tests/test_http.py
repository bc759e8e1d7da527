"""HTTP level: `python -m bot run` as a process against a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot_process import BotProcess
from tests.fake_bot_api import FakeBotAPI, Sent
from tests.offline import TOKEN


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    server = FakeBotAPI(TOKEN)
    server.base_url = server.start()  # type: ignore[attr-defined]
    yield server
    server.stop()


def _text(call: Sent) -> str:
    return str(call.params.get("text", ""))


def _buttons(call: Sent) -> list[dict[str, str]]:
    markup = call.params.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def _started(api: FakeBotAPI, bot: BotProcess) -> BotProcess:
    mark = api.mark()
    bot.start()
    api.wait_for(
        lambda c: c.method == "setMyCommands" and "language_code" not in c.params, after=mark
    )
    return bot


def test_conversation_survives_restart_and_flood_control(api: FakeBotAPI, tmp_path: Path) -> None:
    base: str = api.base_url  # type: ignore[attr-defined]
    bot = _started(api, BotProcess(base, tmp_path / "bot.sqlite3", tmp_path / "bot.log"))
    try:
        menus = api.sent("setMyCommands")
        assert {c.params.get("language_code") for c in menus} == {"de", "en", None}

        mark = api.mark()
        api.say("/start")
        api.wait_for(lambda c: "Willkommen" in _text(c), after=mark)

        mark = api.mark()
        api.say("wieviele zeichen linkdin anfrage")
        api.wait_for(lambda c: "300 Zeichen" in _text(c), after=mark)

        mark = api.mark()
        api.say("/compare")
        menu = api.wait_for(lambda c: "vergleichen" in _text(c), after=mark)
        mark = api.mark()
        api.press(
            _buttons(menu)[1]["callback_data"], message_id=int(menu.params.get("message_id", 1))
        )
        api.wait_for(lambda c: c.method == "answerCallbackQuery", after=mark)
        api.wait_for(lambda c: "XING vs. LinkedIn: Text zur Anfrage" in _text(c), after=mark)

        mark = api.mark()
        api.say("/checklist")
        checklist = api.wait_for(lambda c: "0/9 erledigt" in _text(c), after=mark)
        mark = api.mark()
        api.press(_buttons(checklist)[0]["callback_data"], message_id=1001)
        api.wait_for(
            lambda c: c.method == "editMessageText" and "1/9 erledigt" in _text(c), after=mark
        )

        # Flood control: Telegram answers 429 with retry_after; the message still arrives.
        api.fail("sendMessage", 429, "Too Many Requests: retry after 1")
        mark = api.mark()
        api.say("<b>Tom & Jerry</b> wollen sich bei XING vernetzen 🤝")
        api.wait_for(lambda c: c.params.get("error") == 429, after=mark, refused=True)
        api.wait_for(lambda c: c.method == "sendMessage", after=mark)

        assert bot.stop(signal.SIGTERM) == 0
    finally:
        if bot.process and bot.process.poll() is None:
            bot.stop(signal.SIGKILL)

    bot = _started(api, BotProcess(base, tmp_path / "bot.sqlite3", tmp_path / "bot.log"))
    try:
        mark = api.mark()
        api.say("/checkliste")
        api.wait_for(lambda c: "1/9 erledigt" in _text(c), after=mark)
    finally:
        bot.stop()
    output = bot.output()
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    assert "Traceback" not in output
    refused = [(c.method, _text(c)[:80]) for c in api.calls if c.params.get("error") == 400]
    assert not refused, f"Telegram would have refused: {refused}"


def test_missing_token_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    bot = BotProcess("http://127.0.0.1:9", tmp_path / "x.sqlite3", tmp_path / "x.log")
    bot.environ["BOT_TOKEN"] = ""
    bot.environ["BOT_API_BASE_URL"] = "ftp://nowhere"
    bot.start()
    assert bot.wait() == 2
    assert "BOT_API_BASE_URL" in bot.output()
