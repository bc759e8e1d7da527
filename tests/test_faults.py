"""Fault runs at the HTTP level: a misbehaving Bot API and a bot killed mid-write."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.bot_process import BotProcess, backup, start_bot, text_of
from tests.fake_bot_api import DROP, FakeBotAPI
from tests.offline import TOKEN

NUDGES = {
    "BOT_FOLLOW_UP_AFTER": "2s",
    "BOT_FOLLOW_UP_REPEAT": "1h",
    "BOT_REMINDER_SWEEP_SECONDS": "1",
    "BOT_QUIET_HOURS": "",
}


def test_answers_survive_5xx_dropped_connections_and_429_bursts(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    bot = start_bot(api, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    try:
        api.fail("sendMessage", 502, "Bad Gateway", times=2)
        mark = api.mark()
        api.say("wieviele zeichen linkdin anfrage")
        api.wait_for(lambda c: "300 Zeichen" in text_of(c), after=mark)

        api.fail("sendMessage", DROP, "connection dropped")
        mark = api.mark()
        api.say("/hilfe")
        api.wait_for(lambda c: "So nutzen Sie" in text_of(c), after=mark)

        api.fail("sendMessage", 429, "Too Many Requests: retry after 1", times=3)
        mark = api.mark()
        api.say("/start")
        api.wait_for(lambda c: "Willkommen" in text_of(c), after=mark, timeout=20)
        assert bot.stop() == 0
    finally:
        bot.kill()
    assert "Traceback" not in bot.output()


def test_a_slow_chat_does_not_hold_up_the_others(api: FakeBotAPI, tmp_path: Path) -> None:
    bot = start_bot(api, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    try:
        api.slow_chats[301] = 2.0  # every call to this chat takes two seconds
        mark = api.mark()
        api.say_together((301, "/hilfe"), (302, "/hilfe"), (303, "/start"))
        fast = [
            api.wait_for(lambda c, user=user: c.params.get("chat_id") == user, after=mark)
            for user in (302, 303)
        ]
        slow = api.wait_for(lambda c: c.params.get("chat_id") == 301, after=mark)
        assert all(call.at < slow.at - 1.0 for call in fast)

        # Nor messages that arrive while the slow chat is still waiting (a later fetch).
        mark = api.mark()
        api.say("/hilfe", user_id=301)
        time.sleep(0.3)  # fetched and being answered
        api.say("/start", user_id=302)
        later = api.wait_for(lambda c: c.params.get("chat_id") == 302, after=mark)
        slow = api.wait_for(lambda c: c.params.get("chat_id") == 301, after=mark)
        assert later.at < slow.at - 1.0
        assert bot.stop() == 0
    finally:
        bot.kill()


def test_sigkill_during_writes_loses_nothing(api: FakeBotAPI, tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    bot = start_bot(api, db, tmp_path / "bot.log", **NUDGES)
    names = [f"Kontakt {user}-{n}" for n in range(6) for user in range(3)]
    try:
        for n, name in enumerate(names):
            api.say(f"/request linkedin {name}", user_id=500 + n % 3)
        api.wait_for(lambda c: "Notiert" in text_of(c))
        time.sleep(0.05)
        bot.stop(signal.SIGKILL)  # in the middle of the burst
    finally:
        bot.kill()
    confirmed_before = {n for n in names if any(f"an {n}." in text_of(c) for c in api.sent())}
    assert confirmed_before, "some requests were handled before the kill"

    bot = start_bot(api, db, tmp_path / "bot.log", **NUDGES)
    try:
        # Every request gets confirmed (redelivered updates) and nudged, exactly once each.
        for name in names:
            api.wait_for(
                lambda c, name=name: f"Erinnerung: LinkedIn-Einladung an {name}" in text_of(c)
            )
        time.sleep(2.5)
        assert bot.stop() == 0
    finally:
        bot.kill()
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = [row[0] for row in connection.execute("SELECT name FROM follow_ups")]
    assert sorted(stored) == sorted(names), "each request saved once, none lost"
    nudges = [text_of(c) for c in api.sent() if "Erinnerung" in text_of(c)]
    assert len(nudges) == len(names), "each nudge delivered once"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _post(url: str, update: dict[str, object], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, json.dumps(update).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_webhook_answers_with_the_secret_and_refuses_without(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    env = {
        "BOT_WEBHOOK_URL": url,
        "BOT_WEBHOOK_PORT": str(port),
        "BOT_WEBHOOK_SECRET": "s3cret-Token_1",
    }
    bot = BotProcess(api.base_url, tmp_path / "bot.sqlite3", tmp_path / "bot.log", **env)
    bot.start()
    try:
        registered = api.wait_for(lambda c: c.method == "setWebhook", timeout=30)
        assert registered.params["url"] == url
        assert registered.params["secret_token"] == "s3cret-Token_1"
        deadline = time.monotonic() + 10
        status = 0
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        forged = api.factory.message("/start", user_id=61)
        assert _post(url, forged, None) == 403
        assert _post(url, forged, "wrong") == 403
        time.sleep(0.5)
        assert not [c for c in api.sent() if int(c.params.get("chat_id", 0)) == 61]
        mark = api.mark()
        status = _post(url, api.factory.message("/start", user_id=62), "s3cret-Token_1")
        assert status == 200
        api.wait_for(lambda c: "Willkommen" in text_of(c) and c.params["chat_id"] == 62, after=mark)
        assert bot.stop() == 0
    finally:
        bot.kill()
    output = bot.output()
    assert "s3cret-Token_1" not in output and TOKEN not in output


def test_backup_while_the_bot_writes(api: FakeBotAPI, tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    bot = start_bot(api, db, tmp_path / "bot.log")
    try:
        for n in range(40):
            api.say(f"/request xing Person {n}", user_id=700 + n % 4)
        time.sleep(0.3)  # writes are under way
        copy = tmp_path / "backup" / "copy.sqlite3"
        result = backup(bot, copy)
        assert result.returncode == 0, result.stderr
        api.wait_for(lambda c: "Person 39" in text_of(c), timeout=30)
        bot.stop()
    finally:
        bot.kill()
    with sqlite3.connect(copy) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        saved = connection.execute("SELECT COUNT(*) FROM follow_ups").fetchone()[0]
    assert saved > 0, "the copy holds the data written before it was taken"
    again = backup(bot, copy)
    assert again.returncode == 2 and "exists" in again.stderr


def test_start_up_waits_for_the_bot_api(tmp_path: Path) -> None:
    port = _free_port()
    bot = BotProcess(f"http://127.0.0.1:{port}", tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    bot.start()
    api = FakeBotAPI(TOKEN)
    try:
        # The API is down: the bot retries with backoff instead of dying. Waiting for its
        # first try, not a fixed time: under load the start alone can take seconds.
        deadline = time.monotonic() + 30
        while "getMe failed" not in bot.output():
            assert bot.process is not None and bot.process.poll() is None, bot.output()
            assert time.monotonic() < deadline, "the bot never tried the Bot API"
            time.sleep(0.1)
        api.start(port)
        api.wait_for(lambda c: c.method == "setMyCommands", timeout=30)
        assert bot.stop() == 0
    finally:
        bot.kill()
        api.stop()
    assert "getMe failed" in bot.output() and TOKEN not in bot.output()
