"""Fault runs for the inbox and the outbox: poison updates, webhook junk, failing sends, SIGKILL.

Each runs the bot as its own process against the fake Bot API on 127.0.0.1. Where the bot
recovers from a fault, the seconds from the fault's end to the next delivered reply are
recorded as the test's `recovery_s` property (pytest --junitxml shows them).
"""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bot_process import BotProcess, command, start_bot, text_of
from tests.fake_bot_api import FakeBotAPI, Sent

ADMIN = {"BOT_ADMIN_IDS": "42"}
SECRET = "s3cret-Token_1"
FAILED = "schiefgelaufen"  # the friendly error reply


@pytest.fixture
def running(api: FakeBotAPI, tmp_path: Path) -> Iterator[Callable[..., BotProcess]]:
    """Start bots on one database; whatever is still running at the end is killed."""
    started: list[BotProcess] = []

    def start(**env: str) -> BotProcess:
        bot = start_bot(api, tmp_path / "bot.sqlite3", tmp_path / "bot.log", **{**ADMIN, **env})
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.kill()


def _to(chat: int, *words: str) -> Callable[[Sent], bool]:
    return lambda c: c.params.get("chat_id") == chat and all(w in text_of(c) for w in words)


def _texts_to(api: FakeBotAPI, chat: int) -> list[str]:
    return [text_of(c) for c in api.sent() if c.params.get("chat_id") == chat]


def _dead_letters(db: Path) -> list[tuple[int, int | None, str]]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT update_id, chat_id, error FROM dead_letters")
        return [(row[0], row[1], row[2]) for row in rows]


def _health(bot: BotProcess) -> str:
    result = command(bot, "health", timeout=30)
    return result.stdout


def test_updates_ptb_cannot_parse_are_set_aside_and_the_batch_is_answered(
    api: FakeBotAPI,
    running: Callable[..., BotProcess],
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    bot = running()
    first = api.factory.message("/start", user_id=81)
    old_poll = {
        "update_id": api.factory.message("")["update_id"],
        "poll": {"id": "p1", "question": "Wohin?", "options": [{"text": "A", "voter_count": 1}]},
    }
    bare_answer = {
        "update_id": api.factory.message("")["update_id"],
        "poll_answer": {"poll_id": "p1"},
    }
    broken = api.factory.message("ohne Datum", user_id=82)
    del broken["message"]["date"]  # a message PTB cannot build, in a chat we know
    after = api.factory.message("/hilfe", user_id=81)
    mark = api.mark()
    fault_end = time.monotonic()
    api.push_together(first, old_poll, bare_answer, broken, after)
    api.wait_for(_to(81, "So nutzen Sie"), after=mark)
    record_property("recovery_s", round(time.monotonic() - fault_end, 2))
    api.wait_for(_to(82, FAILED), after=mark)
    assert any("Willkommen" in text for text in _texts_to(api, 81))
    assert bot.stop() == 0
    set_aside = _dead_letters(tmp_path / "bot.sqlite3")
    assert sorted(row[0] for row in set_aside) == [
        old_poll["update_id"],
        bare_answer["update_id"],
        broken["update_id"],
    ]
    assert not api.updates, "the set-aside updates were confirmed to Telegram too"

    bot = running()  # nothing of it comes back after a restart
    mark = api.mark()
    api.say("/start", user_id=83)
    api.wait_for(_to(83, "Willkommen"), after=mark)
    assert bot.stop() == 0
    assert [text for text in _texts_to(api, 82) if FAILED in text] == [_texts_to(api, 82)[0]]
    output = bot.output()
    assert "Traceback" not in output and "Wohin?" not in output


def test_a_20_digit_request_id_in_a_button_gets_a_notice(
    api: FakeBotAPI, running: Callable[..., BotProcess]
) -> None:
    bot = running()
    mark = api.mark()
    api.press("v1|fu|12345678901234567890", user_id=84)
    answered = api.wait_for(lambda c: c.method == "answerCallbackQuery", after=mark)
    assert "gibt es nicht" in str(answered.params.get("text"))
    api.say("/hilfe", user_id=84)
    api.wait_for(_to(84, "So nutzen Sie"), after=mark)
    assert bot.stop() == 0
    assert not [text for text in _texts_to(api, 84) if FAILED in text]
    assert "Traceback" not in bot.output()


def test_an_update_that_fails_every_time_is_set_aside_also_across_a_restart(
    api: FakeBotAPI,
    running: Callable[..., BotProcess],
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    db = tmp_path / "bot.sqlite3"
    assert running().stop() == 0  # creates the database
    with sqlite3.connect(db) as connection:
        # A reply the database refuses: saving this update's "processed" mark fails each try.
        connection.execute(
            """CREATE TRIGGER poison BEFORE INSERT ON processed_updates
               WHEN NEW.outbox LIKE '%Vergiftet%'
               BEGIN SELECT RAISE(ABORT, 'poisoned reply'); END"""
        )
    bot = running()
    mark = api.mark()
    fault_end = time.monotonic()
    api.say("/request linkedin Vergiftet Person", user_id=85)
    api.say("/start", user_id=86)
    api.wait_for(_to(85, FAILED), after=mark)
    api.say("/hilfe", user_id=85)
    api.wait_for(_to(85, "So nutzen Sie"), after=mark)
    record_property("recovery_s", round(time.monotonic() - fault_end, 2))
    api.wait_for(_to(86, "Willkommen"), after=mark)
    api.say("/stats", user_id=42)
    stats = api.wait_for(_to(42, "Statistik"), after=mark)
    assert "Beiseitegelegte Updates (7 Tage): 1" in text_of(stats)
    assert "updates set aside in the last day: 1" in _health(bot)
    assert bot.stop() == 0
    ((_, chat_id, error),) = _dead_letters(db)
    assert chat_id == 85 and "poisoned reply" in error

    bot = running()  # the trigger is still there: the update does not come back
    mark = api.mark()
    api.say("/start", user_id=85)
    api.wait_for(_to(85, "Willkommen"), after=mark)
    assert bot.stop() == 0
    assert len([text for text in _texts_to(api, 85) if FAILED in text]) == 1
    assert bot.output().count("Traceback") == 1  # logged once, when it was set aside


def test_webhook_junk_gets_400_and_an_unparsable_update_200_and_set_aside(
    api: FakeBotAPI, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    env = {"BOT_WEBHOOK_URL": url, "BOT_WEBHOOK_PORT": str(port), "BOT_WEBHOOK_SECRET": SECRET}
    bot = BotProcess(api.base_url, tmp_path / "bot.sqlite3", tmp_path / "bot.log", **env).start()
    try:
        api.wait_for(lambda c: c.method == "setWebhook", timeout=30)
        _wait_for_port(port)
        junk = [
            b"[]",
            b"5",
            b"null",
            b'"x"',
            b'{"update_id": "7", "message": {}}',
            b'{"update_id": true}',
            b'{"update_id": 99999999999999999999}',
            b'{"message": {"text": "hi"}}',
            b"[" * 100_000 + b"]" * 100_000,
            b'{"update_id": 9, "message": {"text": "\xff\xfe"}}',
        ]
        assert [_post(url, body) for body in junk] == [400] * len(junk)
        broken = api.factory.message("ohne Datum", user_id=87)
        del broken["message"]["date"]
        mark = api.mark()
        body = _json(broken)
        assert _post(url, body) == 200
        assert _post(url, body) == 200  # Telegram's repeat: set aside once, told once
        api.wait_for(_to(87, FAILED), after=mark)
        fault_end = time.monotonic()
        assert _post(url, _json(api.factory.message("/start", user_id=87))) == 200
        api.wait_for(_to(87, "Willkommen"), after=mark)
        record_property("recovery_s", round(time.monotonic() - fault_end, 2))
        assert bot.stop() == 0
    finally:
        bot.kill()
    assert [text for text in _texts_to(api, 87) if FAILED in text] == [_texts_to(api, 87)[0]]
    assert [row[0] for row in _dead_letters(tmp_path / "bot.sqlite3")] == [broken["update_id"]]
    output = bot.output()
    assert "Traceback" not in output
    assert output.count("webhook post refused") == len(junk)


def test_a_reply_outlasting_the_retries_is_kept_and_sent_in_order(
    api: FakeBotAPI, running: Callable[..., BotProcess], record_property: Callable[..., None]
) -> None:
    bot = running()
    api.fail("sendMessage", 502, "Bad Gateway", times=4)  # every one of the old four tries
    mark = api.mark()
    api.say("/start", user_id=88)
    api.wait_for(lambda c: c.method == "sendMessage", after=mark, refused=True)
    api.say("/hilfe", user_id=88)  # while the first reply is still failing
    first = api.wait_for(_to(88, "Willkommen"), after=mark, timeout=20)
    fault_end = max(c.at for c in api.calls if "error" in c.params)
    record_property("recovery_s", round(first.at - fault_end, 2))
    second = api.wait_for(_to(88, "So nutzen Sie"), after=mark, timeout=20)
    assert first.at < second.at
    assert bot.stop() == 0
    assert len(_texts_to(api, 88)) == 2


def test_a_429_longer_than_the_retries_waits_and_delivers(
    api: FakeBotAPI, running: Callable[..., BotProcess], record_property: Callable[..., None]
) -> None:
    bot = running()
    api.fail("sendMessage", 429, "Too Many Requests: retry after 1", times=5)
    mark = api.mark()
    api.say("/start", user_id=90)
    delivered = api.wait_for(_to(90, "Willkommen"), after=mark, timeout=20)
    fault_end = max(c.at for c in api.calls if "error" in c.params)
    record_property("recovery_s", round(delivered.at - fault_end, 2))
    assert bot.stop() == 0
    assert len(_texts_to(api, 90)) == 1


def test_a_reply_still_failing_at_shutdown_goes_out_after_the_restart(
    api: FakeBotAPI, running: Callable[..., BotProcess], record_property: Callable[..., None]
) -> None:
    bot = running()
    api.fail("sendMessage", 502, "Bad Gateway", times=1000)  # down for good, for now
    mark = api.mark()
    api.say("/request linkedin Erika Muster", user_id=91)
    api.wait_for(lambda c: c.method == "sendMessage", after=mark, refused=True)
    assert bot.stop() == 0
    api.failures["sendMessage"].clear()
    fault_end = time.monotonic()
    bot = running()
    delivered = api.wait_for(_to(91, "Erika Muster"), after=mark)
    record_property("recovery_s", round(delivered.at - fault_end, 2))
    assert bot.stop() == 0
    assert len(_texts_to(api, 91)) == 1


def test_after_a_sigkill_in_a_burst_at_most_the_reply_in_flight_repeats(
    api: FakeBotAPI, running: Callable[..., BotProcess], record_property: Callable[..., None]
) -> None:
    api.latency = 0.05  # each call a round trip, so the kill lands in the middle
    bot = running()
    names = [f"Person {n}" for n in range(15)]
    for name in names:
        api.say(f"/request xing {name}", user_id=92)
    api.wait_for(_to(92, "Person 4."))
    bot.stop(signal.SIGKILL)
    delivered_before = len(_texts_to(api, 92))
    assert delivered_before < len(names), "killed in the middle of the burst"
    fault_end = time.monotonic()
    bot = running()
    last = api.wait_for(_to(92, "Person 14."), timeout=30)
    record_property("recovery_s", round(last.at - fault_end, 2))
    assert bot.stop() == 0
    confirmations = Counter(text for text in _texts_to(api, 92) if "Notiert" in text)
    assert len(confirmations) == len(names), "every request confirmed"
    assert sum(confirmations.values()) - len(names) <= 1, confirmations


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port}")


def _json(update: dict[str, Any]) -> bytes:
    return json.dumps(update).encode()


def _post(url: str, body: bytes) -> int:
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    request = urllib.request.Request(url, body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
