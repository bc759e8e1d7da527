"""The smaller faults of issue 16: flood counting, unusable databases, file modes, memory,
senders that share one Telegram id, and the one-time delete confirmation."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.coach import Coach, UserRef, reply_text
from bot.storage import Storage
from bot.storage.database import MIGRATIONS
from bot.telegram.throttle import FloodGuard
from tests.bot_process import BotProcess, backup, buttons_of, start_bot, text_of
from tests.conftest import ROOT, FakeClock
from tests.fake_bot_api import FakeBotAPI, Sent
from tests.offline import BOT_USER

SLOW_DOWN = "sehr viele Nachrichten"
ANONYMOUS_ADMIN = 1087968824  # Telegram's GroupAnonymousBot
CHANNEL_SENDER = 136817688  # Telegram's Channel_Bot
MENTION = f"@{BOT_USER['username']}"


def _to(api: FakeBotAPI, chat_id: int) -> list[Sent]:
    return [c for c in api.sent("sendMessage") if int(c.params["chat_id"]) == chat_id]


def _wait_for_count(api: FakeBotAPI, chat_id: int, count: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while len(_to(api, chat_id)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(_to(api, chat_id))} of {count} replies to {chat_id}")
        time.sleep(0.05)


def _dated(api: FakeBotAPI, text: str, user_id: int, at: datetime) -> dict[str, Any]:
    return api.factory.message(text, user_id=user_id, extra={"date": int(at.timestamp())})


@pytest.fixture
def bot_api_run(api: FakeBotAPI, tmp_path: Path) -> Iterator[BotProcess]:
    """The bot as a process with a one-second sweep (so the heartbeat comes soon)."""
    bot = start_bot(
        api, tmp_path / "bot.sqlite3", tmp_path / "bot.log", BOT_REMINDER_SWEEP_SECONDS="1"
    )
    try:
        yield bot
    finally:
        bot.kill()
    assert "Traceback" not in bot.output()


# -- the flood guard ---------------------------------------------------------------------


def test_messages_that_waited_during_downtime_count_at_their_own_date(
    api: FakeBotAPI, bot_api_run: BotProcess
) -> None:
    now = datetime.now(UTC)
    calm = [_dated(api, "hallo", 50, now - timedelta(seconds=30 * (25 - n))) for n in range(25)]
    burst = [_dated(api, "hallo", 51, now) for _ in range(25)]
    for update in (u for pair in zip(calm, burst, strict=True) for u in pair):
        api.push(update)  # all in one fetch, as after the bot was down for twelve minutes
    _wait_for_count(api, 50, 25)
    _wait_for_count(api, 51, 21)
    time.sleep(0.5)  # nothing more comes
    assert not any(SLOW_DOWN in text_of(c) for c in _to(api, 50)), "a calm user is no flood"
    flooded = _to(api, 51)
    assert len(flooded) == 21 and sum(SLOW_DOWN in text_of(c) for c in flooded) == 1
    assert bot_api_run.stop() == 0


def test_a_clock_stepping_back_blocks_no_one() -> None:
    clock = FakeClock()
    guard = FloodGuard(limit=20, window=timedelta(seconds=10), clock=clock)
    for _ in range(15):
        assert guard.check(7) == "ok"
        clock.advance(seconds=0.5)
    clock.advance(hours=-1)  # NTP corrects the wall clock by an hour
    verdicts = []
    for _ in range(30):  # a calm pace: one press a second
        verdicts.append(guard.check(7))
        clock.advance(seconds=1)
    assert verdicts == ["ok"] * 30
    clock.advance(seconds=-3)  # a small step back within the window is no flood either
    assert guard.check(7) == "ok"
    for _ in range(25):
        verdicts.append(guard.check(7))
    assert verdicts[-25:].count("notice") == 1, "a real flood is still one"


# -- databases the bot must not use --------------------------------------------------------


def _command(bot: BotProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=dict(bot.environ),
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _schema_version(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return int(connection.execute("PRAGMA user_version").fetchone()[0])


def test_a_database_from_a_newer_version_is_refused(api: FakeBotAPI, tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    asyncio.run(_create(db))
    newer = len(MIGRATIONS) + 1
    with sqlite3.connect(db) as connection:
        connection.execute("PRAGMA journal_mode = DELETE")  # as a newer version might keep it
        connection.execute(f"PRAGMA user_version = {newer}")
    bot = BotProcess(api.base_url, db, tmp_path / "bot.log")
    for args in (("review",), ("chat",), ("backup", str(tmp_path / "copy.sqlite3"))):
        result = _command(bot, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr.startswith("error: ") and f"schema version {newer}" in result.stderr
        assert str(db) in result.stderr and "Traceback" not in result.stderr
    assert _schema_version(db) == newer and not (tmp_path / "copy.sqlite3").exists()
    with sqlite3.connect(db) as connection:  # not even switched to WAL: left as it was
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_a_folder_as_database_is_refused_with_a_clear_message(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    bot = BotProcess(api.base_url, folder, tmp_path / "bot.log")
    for args in (("review",), ("chat",), ("backup", str(tmp_path / "copy.sqlite3"))):
        result = _command(bot, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr == f"error: {folder} is a folder; the database must be a file\n"
    assert list(folder.iterdir()) == []


async def _create(path: Path) -> None:
    store = await Storage.open(path)
    await store.close()


# -- files only their owner may read ---------------------------------------------------------


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask outside systemd: new files world-readable unless created otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_database_heartbeat_and_backups_are_owner_only(
    api: FakeBotAPI, tmp_path: Path, umask_022: None
) -> None:
    db = tmp_path / "bot.sqlite3"
    bot = start_bot(api, db, tmp_path / "bot.log", BOT_REMINDER_SWEEP_SECONDS="1")
    try:
        mark = api.mark()
        api.say("/request xing Erika Mustermann")
        api.wait_for(lambda c: "Erika" in text_of(c), after=mark)
        heartbeat = tmp_path / "bot.sqlite3.heartbeat"
        deadline = time.monotonic() + 10
        while not heartbeat.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), heartbeat]
        assert {path.name: _mode(path) for path in files} == {p.name: 0o600 for p in files}
        copy = tmp_path / "backups" / "copy.sqlite3"
        assert backup(bot, copy).returncode == 0
        assert _mode(copy) == 0o600
        assert bot.stop() == 0
    finally:
        bot.kill()
    # A mode the operator chose for an existing database is theirs: kept, not changed.
    db.chmod(0o640)
    bot = start_bot(api, db, tmp_path / "bot.log")
    try:
        assert _mode(db) == 0o640
        assert bot.stop() == 0
    finally:
        bot.kill()


def test_backup_refuses_a_dangling_symlink(api: FakeBotAPI, tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    asyncio.run(_create(db))
    elsewhere = tmp_path / "elsewhere.sqlite3"
    link = tmp_path / "backup.sqlite3"
    link.symlink_to(elsewhere)  # pointing nowhere (yet): exists() says False
    result = backup(BotProcess(api.base_url, db, tmp_path / "bot.log"), link)
    assert result.returncode == 2 and "exists" in result.stderr
    assert link.is_symlink() and not elsewhere.exists(), "nothing written through the link"


# -- memory --------------------------------------------------------------------------------


async def test_the_users_remembered_are_bounded_and_still_right(store: Storage) -> None:
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    await store.users.touch(1, "en", now)
    await store.users.set_language(1, "de")
    async with store.unit_of_work():  # one write lock, as a burst of updates would take it
        for user_id in range(2, 12_002):
            await store.users.touch(user_id, "de", now)
            await store.users.step(user_id)
    remembered = len(store.users._cache), len(store.users._steps)
    assert max(remembered) < 12_000, f"every user seen stays in memory: {remembered}"
    assert max(remembered) <= store.users.REMEMBERED
    first = await store.users.touch(1, None, now)  # forgotten long ago: read again
    assert (first.language, first.language_code) == ("de", "en")
    # A rolled-back unit still leaves nothing of its writes in memory.
    with pytest.raises(RuntimeError):
        async with store.unit_of_work():
            await store.users.set_step(1, "timezone", {}, now)
            raise RuntimeError("the update failed")
    assert await store.users.step(1) is None


# -- anonymous admins and channels -----------------------------------------------------------


def _group_message(
    api: FakeBotAPI, text: str, user_id: int, sender_chat: dict[str, Any], chat_id: int = -100500
) -> dict[str, Any]:
    group = {"id": chat_id, "type": "supergroup", "title": "Vertrieb"}
    extra = {"chat": group, "sender_chat": sender_chat}
    return api.factory.message(text, user_id=user_id, chat_type="supergroup", extra=extra)


def test_anonymous_admins_and_channel_senders_store_nothing(
    api: FakeBotAPI, bot_api_run: BotProcess, tmp_path: Path
) -> None:
    group = {"id": -100500, "type": "supergroup", "title": "Vertrieb"}
    channel = {"id": -100777, "type": "channel", "title": "Kanal"}
    senders = ((ANONYMOUS_ADMIN, group), (CHANNEL_SENDER, channel))
    personal = ("/anfrage linkedin an Erika Mustermann", "/offen", "/export", "/start export",
                "/loeschen")  # fmt: skip
    question = f"{MENTION} wie lang darf die linkedin notiz sein"
    pushed = [
        _group_message(api, text, sender, chat)
        for sender, chat in senders
        for text in (*personal, question)
    ]
    post = api.factory.message("/export", user_id=1)
    post["channel_post"] = {**post.pop("message"), "chat": channel, "sender_chat": channel}
    del post["channel_post"]["from"]
    pushed.append(post)
    for update in pushed:
        api.push(update)
    _wait_for_count(api, -100500, 12)
    time.sleep(0.5)
    assert bot_api_run.stop() == 0
    replies = [text_of(c) for c in _to(api, -100500)]
    assert sum("eigenen Konto" in text for text in replies) == 10, replies
    assert sum("300 Zeichen" in text for text in replies) == 2, "questions are answered"
    assert not api.sent("sendDocument") and not _to(api, -100777)
    with sqlite3.connect(tmp_path / "bot.sqlite3") as connection:
        handled = {row[0] for row in connection.execute("SELECT update_id FROM processed_updates")}
        assert handled >= {update["update_id"] for update in pushed}
        for table in ("users", "question_log", "guided_steps", "follow_ups"):
            assert connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,), table


async def test_the_coach_keeps_personal_commands_from_a_shared_sender(
    coach: Coach, store: Storage
) -> None:
    shared = UserRef(ANONYMOUS_ADMIN, shared=True)
    for command, args in (("request", "xing Erika"), ("export", ""), ("start", "pending")):
        reply = await coach.command(shared, command, args)
        assert "eigenen Konto" in reply_text(reply) and not reply.documents
    assert "300 Zeichen" in reply_text(await coach.question(shared, "wie lang darf die notiz sein"))
    stored = await store.export_user(ANONYMOUS_ADMIN)
    assert not any(stored.values()), stored


def test_anonymous_admins_of_many_groups_are_not_one_flood(
    api: FakeBotAPI, bot_api_run: BotProcess
) -> None:
    groups = [-100600 - n for n in range(25)]
    for chat_id in groups:
        sender_chat = {"id": chat_id, "type": "supergroup", "title": "Gruppe"}
        api.push(_group_message(api, f"{MENTION} hallo", ANONYMOUS_ADMIN, sender_chat, chat_id))
    for chat_id in groups:
        _wait_for_count(api, chat_id, 1)
    assert not any(SLOW_DOWN in text_of(c) for c in api.sent("sendMessage"))
    assert bot_api_run.stop() == 0


def test_a_deep_link_in_a_group_shows_no_personal_data(
    api: FakeBotAPI, bot_api_run: BotProcess
) -> None:
    api.say("/request xing Erika Mustermann", user_id=70)
    api.wait_for(lambda c: "Erika" in text_of(c))
    api.say("/start export", user_id=70, chat_type="group")
    pointer = api.wait_for(lambda c: c.params.get("chat_id") == -100500)
    assert "privaten Chat" in text_of(pointer)
    assert buttons_of(pointer)[0]["url"].endswith("?start=export")
    time.sleep(0.5)
    assert not api.sent("sendDocument")
    assert bot_api_run.stop() == 0


# -- "Ja, löschen" -------------------------------------------------------------------------


def test_a_stale_or_repeated_delete_confirmation_erases_nothing(
    api: FakeBotAPI, bot_api_run: BotProcess, tmp_path: Path
) -> None:
    def ask_to_delete() -> tuple[str, str]:
        """The data of "Ja, löschen" and of "Abbrechen" under a fresh question."""
        mark = api.mark()
        api.say("/loeschen", user_id=80)
        ask = api.wait_for(lambda c: "Wirklich alle" in text_of(c), after=mark)
        yes, cancel = (b["callback_data"] for b in buttons_of(ask))
        return yes, cancel

    def press(data: str, expected: str) -> None:
        mark = api.mark()
        api.press(data, user_id=80)
        api.wait_for(lambda c: expected in text_of(c), after=mark)

    def requests() -> int:
        with sqlite3.connect(tmp_path / "bot.sqlite3") as connection:
            return int(connection.execute("SELECT COUNT(*) FROM follow_ups").fetchone()[0])

    api.say("/request xing Erika Mustermann", user_id=80)
    api.wait_for(lambda c: "Erika" in text_of(c))
    stale, cancel = ask_to_delete()
    press(cancel, "Abgebrochen")
    press(stale, "nicht mehr gültig")
    assert requests() == 1, "cancelled means cancelled"

    yes, _ = ask_to_delete()
    press(yes, "Alle Ihre Daten sind gelöscht")
    api.say("/request xing Max Muster", user_id=80)
    api.wait_for(lambda c: "Max Muster" in text_of(c))
    press(yes, "nicht mehr gültig")
    assert requests() == 1, "the same button does not erase what came after"
    assert bot_api_run.stop() == 0
