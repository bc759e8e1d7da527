"""The process under faults: a fatal one ends it with its exit code and one clear line, a
passing one heals by itself (and `health` says unhealthy meanwhile), and no log line holds
the token or the webhook secret.

Each case runs `python -m bot run` against the fake Bot API on 127.0.0.1 (or a bad database)
and prints how long the bot took to exit or to answer again after the fault ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import ANY

import pytest

from bot.config import ExitCode
from bot.storage import Storage
from bot.storage.database import MIGRATIONS
from bot.telegram.app import sweep_job
from bot.telegram.fatal import fatal
from bot.telegram.polling import ChatQueues, Stop, chat_queues, receive
from tests.bot_process import BotProcess, command, start_bot, text_of
from tests.conftest import ROOT
from tests.fake_bot_api import DROP, FakeBotAPI
from tests.offline import TOKEN, OfflineRequest, UpdateFactory, to_update
from tests.test_faults import _free_port, _post

# A fatal fault must end the process within this; a passing one must heal within this.
EXIT_WITHIN = 15.0
HEAL_WITHIN = 20.0
WEBHOOK_SECRET = "hook-Secret_never-printed"
PROXY_PAGE = (
    b"<html><body><h1>502 Bad Gateway</h1><p>upstream failed for "
    b"https://api.telegram.org/bot" + TOKEN.encode() + b"/getUpdates</p></body></html>"
)


class FaultyBotAPI(FakeBotAPI):
    """The fake Bot API, which can also answer any method (getUpdates too) with a raw body,
    hang up on every call (the network is down), or refuse the token (it was revoked)."""

    def __init__(self) -> None:
        super().__init__(TOKEN)
        self.raw: dict[str, list[tuple[int, bytes]]] = {}
        self.down = False
        self.revoked = False
        self.refused = 0  # calls answered with a fault

    def answer(self, method: str, status: int, body: bytes, times: int = 1) -> None:
        with self._lock:
            self.raw.setdefault(method, []).extend([(status, body)] * times)

    async def _dispatch(
        self, path: str, content_type: str, body: bytes
    ) -> tuple[int, dict[str, Any] | bytes]:
        method = path.rsplit("/", 1)[-1]
        with self._lock:
            queued = self.raw.get(method)
            fault: tuple[int, dict[str, Any] | bytes] | None = None
            if self.down:
                fault = DROP, b""
            elif self.revoked:
                fault = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            elif queued:
                fault = queued.pop(0)
            if fault is not None:
                self.refused += 1
                self._lock.notify_all()
                return fault
        return await super()._dispatch(path, content_type, body)

    def heal(self) -> None:
        """No more faults: the network is back, queued raw answers are dropped."""
        with self._lock:
            self.down = False
            self.raw.clear()

    def wait_refused(self, count: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.refused < count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"only {self.refused} of {count} faults were met"
                self._lock.wait(remaining)


@pytest.fixture
def faulty() -> Iterator[FaultyBotAPI]:
    server = FaultyBotAPI()
    server.start()
    yield server
    server.stop()


class UnprivilegedBot(BotProcess):
    """The bot as a service user runs it: as root it gives up the power to write files that
    are read-only (root ignores file modes otherwise)."""

    def start(self) -> UnprivilegedBot:
        argv = [sys.executable, "-m", "bot", "run"]
        if os.geteuid() == 0:
            argv = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", *argv]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                argv, cwd=ROOT, env=self.environ, stdout=log, stderr=subprocess.STDOUT
            )
        return self


@contextlib.contextmanager
def _killed_on_failure(bot: BotProcess) -> Iterator[None]:
    try:
        yield
    except BaseException:
        bot.kill()
        raise


def _errors(output: str) -> list[str]:
    """The messages of the log lines at ERROR or above."""
    found = []
    for line in output.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("level") in ("ERROR", "CRITICAL"):
            found.append(str(entry["message"]))
    return found


def _exits(bot: BotProcess, code: ExitCode, names: str, case: str, since: float) -> None:
    """The bot ends by itself with `code` and one clear error line naming `names`."""
    try:
        returned = bot.wait(EXIT_WITHIN)
    finally:
        bot.kill()
    print(f"TIMING {case}: exited {time.monotonic() - since:.1f} s after the fault")
    output = bot.output()
    assert returned == code, output[-2000:]
    errors = _errors(output)
    assert len(errors) == 1 and names in errors[0], errors
    assert "Traceback" not in output
    assert TOKEN not in output


def _health(bot: BotProcess) -> tuple[int, str]:
    result = command(bot, "health", timeout=30)
    return result.returncode, result.stdout.splitlines()[0]  # the verdict


def _serving(api: FakeBotAPI, tmp_path: Path, **env: str) -> BotProcess:
    """The bot started and serving (health says healthy), with `env` on top of its settings."""
    bot = BotProcess(api.base_url, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    bot.environ.update(env)
    bot.start()
    deadline = time.monotonic() + 30
    while (health := _health(bot))[0] != 0:
        assert time.monotonic() < deadline, health
        time.sleep(0.2)
    return bot


def _until_unhealthy(bot: BotProcess, timeout: float = 15.0) -> str:
    """The line `health` says once it says unhealthy."""
    deadline = time.monotonic() + timeout
    while True:
        code, line = _health(bot)
        if code != 0:
            assert line.startswith("unhealthy: "), line
            return line
        assert time.monotonic() < deadline, f"still {line!r}"
        time.sleep(0.2)


def _answers_again(api: FakeBotAPI, bot: BotProcess, case: str, since: float) -> None:
    """The bot answers a message, and health says healthy, after a fault that ended `since`."""
    mark = api.mark()
    api.say("/start", user_id=4711)
    api.wait_for(lambda c: "Willkommen" in text_of(c), after=mark, timeout=HEAL_WITHIN)
    print(f"TIMING {case}: answered {time.monotonic() - since:.1f} s after the fault ended")
    code, line = _health(bot)
    assert code == 0, line
    assert bot.stop() == 0
    output = bot.output()
    assert "Traceback" not in output
    assert TOKEN not in output


# -- fatal: exit with the code, one line, within seconds ---------------------------------------


def test_a_rejected_token_at_start_up_exits_with_3(faulty: FaultyBotAPI, tmp_path: Path) -> None:
    faulty.revoked = True
    since = time.monotonic()
    bot = BotProcess(faulty.base_url, tmp_path / "bot.sqlite3", tmp_path / "bot.log").start()
    _exits(bot, ExitCode.TOKEN_REJECTED, "BOT_TOKEN", "401 at start-up", since)


def test_a_token_revoked_while_serving_exits_with_3(faulty: FaultyBotAPI, tmp_path: Path) -> None:
    bot = start_bot(faulty, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    faulty.revoked = True  # every call is refused from now on
    _exits(bot, ExitCode.TOKEN_REJECTED, "BOT_TOKEN", "401 while serving", time.monotonic())
    code, line = _health(bot)
    assert code == 1 and "exit code 3" in line, line


@pytest.mark.parametrize(
    "description",
    [
        "Conflict: terminated by other getUpdates request; make sure that only one bot "
        "instance is running",
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
        "to delete the webhook first",
    ],
    ids=["second-instance", "webhook-set"],
)
def test_a_conflict_exits_with_4(faulty: FaultyBotAPI, tmp_path: Path, description: str) -> None:
    body = json.dumps({"ok": False, "error_code": 409, "description": description}).encode()
    faulty.answer("getUpdates", 409, body, times=100)
    bot = BotProcess(faulty.base_url, tmp_path / "bot.sqlite3", tmp_path / "bot.log").start()
    faulty.wait_refused(1)
    _exits(bot, ExitCode.CONFLICT, "another instance", "409 Conflict", time.monotonic())


def _sqlite_file(path: Path) -> Path:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x)")
    return path


@pytest.mark.parametrize(
    "fault", ["corrupt", "read-only file", "read-only folder", "a folder", "a newer schema"]
)
def test_an_unusable_database_exits_with_5(
    faulty: FaultyBotAPI, tmp_path: Path, fault: str
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "bot.sqlite3"
    if fault == "corrupt":
        db.write_bytes(b"not a database, a disk that lost some sectors " * 200)
    elif fault == "read-only file":
        _sqlite_file(db).chmod(0o444)
    elif fault == "read-only folder":
        _sqlite_file(db)
        folder.chmod(0o555)
    elif fault == "a newer schema":
        with contextlib.closing(sqlite3.connect(_sqlite_file(db))) as connection:
            connection.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    else:
        db.mkdir()
    since = time.monotonic()
    bot = UnprivilegedBot(faulty.base_url, db, tmp_path / "bot.log").start()
    try:
        _exits(bot, ExitCode.DATABASE, "BOT_DB_PATH", f"database {fault}", since)
    finally:
        folder.chmod(0o755)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB file system of its own (tmpfs; needs root)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small file system here (not root)")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


def _fill(disk: Path) -> None:
    with contextlib.suppress(OSError), (disk / "filler").open("wb", buffering=0) as filler:
        while True:
            filler.write(b"\0" * 4096)


def _write_until_it_exits(api: FakeBotAPI, bot: BotProcess) -> None:
    assert bot.process is not None
    for n in range(300):
        if bot.process.poll() is not None:
            break
        api.say(f"/request xing Person {n} mit einer Notiz, die Platz braucht", user_id=900)
        time.sleep(0.05)


def test_a_full_disk_exits_with_6(faulty: FaultyBotAPI, tmp_path: Path, small_disk: Path) -> None:
    """Exiting, not waiting for space: see ExitCode.DISK_FULL."""
    bot = start_bot(faulty, small_disk / "bot.sqlite3", tmp_path / "bot.log")
    with _killed_on_failure(bot):
        _fill(small_disk)
        since = time.monotonic()
        _write_until_it_exits(faulty, bot)
    _exits(bot, ExitCode.DISK_FULL, "BOT_DB_PATH", "disk full", since)


def test_a_file_size_limit_exits_with_6(faulty: FaultyBotAPI, tmp_path: Path) -> None:
    """A quota or file size limit reached: SQLite calls it a write error, not a full disk."""
    db, log = tmp_path / "bot.sqlite3", tmp_path / "bot.log"
    start_bot(faulty, db, log).stop()  # created and migrated; the next run starts a new WAL
    bot = start_bot(faulty, db, log)
    assert bot.process is not None
    with _killed_on_failure(bot):
        wal = db.with_name(db.name + "-wal")
        limit = max(wal.stat().st_size, log.stat().st_size) + 10_000
        resource.prlimit(bot.process.pid, resource.RLIMIT_FSIZE, (limit, limit))
        since = time.monotonic()
        _write_until_it_exits(faulty, bot)
    _exits(bot, ExitCode.DISK_FULL, "BOT_DB_PATH", "file size limit", since)


# -- passing: the bot comes back by itself; health is unhealthy meanwhile --------------------


@pytest.mark.parametrize(("method", "status"), [("setMyCommands", 502), ("deleteWebhook", 500)])
def test_a_failing_start_up_call_is_retried(
    faulty: FaultyBotAPI, tmp_path: Path, method: str, status: int
) -> None:
    body = json.dumps({"ok": False, "error_code": status, "description": "Bad Gateway"})
    faulty.answer(method, status, body.encode(), times=1000)  # until health has seen it
    bot = BotProcess(faulty.base_url, tmp_path / "bot.sqlite3", tmp_path / "bot.log").start()
    try:
        faulty.wait_refused(1)
        _until_unhealthy(bot)
        faulty.heal()
        _answers_again(faulty, bot, f"{status} from {method} at start-up", time.monotonic())
    finally:
        bot.kill()


def test_sigterm_while_start_up_retries_ends_at_once(faulty: FaultyBotAPI, tmp_path: Path) -> None:
    body = b'{"ok": false, "error_code": 502, "description": "Bad Gateway"}'
    faulty.answer("setMyCommands", 502, body, times=1000)
    bot = BotProcess(faulty.base_url, tmp_path / "bot.sqlite3", tmp_path / "bot.log").start()
    try:
        faulty.wait_refused(1)
        since = time.monotonic()
        assert bot.stop(timeout=EXIT_WITHIN) == ExitCode.STOPPED
        print(f"TIMING SIGTERM during start-up retries: exited {time.monotonic() - since:.1f} s")
    finally:
        bot.kill()
    assert "Traceback" not in bot.output()


GET_UPDATES_FAULTS = {
    "network down": None,
    "502 from getUpdates": (502, b'{"ok": false, "error_code": 502, "description": "Bad Gateway"}'),
    "a proxy's HTML page": (200, PROXY_PAGE),
    "a proxy's 502 page quoting the URL": (502, PROXY_PAGE),
    "a result of the wrong type": (200, b'{"ok": true, "result": "x"}'),
    "no result at all": (200, b'{"ok": true}'),
}


@pytest.mark.parametrize("case", list(GET_UPDATES_FAULTS))
def test_polling_comes_back_after(faulty: FaultyBotAPI, tmp_path: Path, case: str) -> None:
    bot = _serving(faulty, tmp_path)
    try:
        fault = GET_UPDATES_FAULTS[case]
        if fault is None:
            faulty.down = True
        else:
            faulty.answer("getUpdates", *fault, times=1000)  # until health has seen it
        faulty.wait_refused(1)
        assert "getUpdates" in _until_unhealthy(bot)
        faulty.heal()
        _answers_again(faulty, bot, case, time.monotonic())
    finally:
        bot.kill()


def test_a_wrong_result_from_sendmessage_is_retried(faulty: FaultyBotAPI, tmp_path: Path) -> None:
    bot = start_bot(faulty, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    try:
        faulty.answer("sendMessage", 200, b'{"ok": true, "result": "x"}')
        mark = faulty.mark()
        faulty.say("/hilfe")
        faulty.wait_refused(1)
        since = time.monotonic()
        faulty.wait_for(lambda c: "So nutzen Sie" in text_of(c), after=mark)
        print(f"TIMING sendMessage result 'x': answered {time.monotonic() - since:.1f} s later")
        _answers_again(faulty, bot, "sendMessage result 'x' (then a new message)", since)
    finally:
        bot.kill()


def test_a_database_locked_past_the_busy_timeout_is_waited_for(
    faulty: FaultyBotAPI, tmp_path: Path
) -> None:
    bot = _serving(faulty, tmp_path)
    locker = sqlite3.connect(tmp_path / "bot.sqlite3", isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")  # another process writes, for longer than 5 s
        mark = faulty.mark()
        faulty.say("wieviele zeichen linkdin anfrage")
        assert "database is locked" in _until_unhealthy(bot, timeout=20)
        assert not [c for c in faulty.calls[mark:] if c.method == "sendMessage"]
        locker.execute("ROLLBACK")
        since = time.monotonic()
        faulty.wait_for(lambda c: "300 Zeichen" in text_of(c), after=mark, timeout=HEAL_WITHIN)
        print(f"TIMING database locked: answered {time.monotonic() - since:.1f} s after")
        _answers_again(faulty, bot, "database locked (then a new message)", since)
    finally:
        locker.close()
        bot.kill()


async def test_an_update_meeting_a_locked_database_waits_first_in_its_line(
    app: Any,
    store: Storage,
    db_path: Path,
    updates: UpdateFactory,
    request_fake: OfflineRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Offline, the other half of the lock: saved already, then the handling finds it locked."""
    await store.db.rows("PRAGMA busy_timeout = 50")  # not 5 s per try
    queues = chat_queues(app)
    batch = [to_update(updates.message(text, user_id=21), app.bot) for text in ("/start", "/hilfe")]
    fresh = await receive(app, batch)
    locker = sqlite3.connect(db_path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    with caplog.at_level("INFO"):
        queues.put(fresh)
        await asyncio.sleep(1.5)  # a try, a pause, another try
        assert request_fake.sent() == []
        locker.execute("ROLLBACK")
        await asyncio.wait_for(queues.drained(), 10)
    locker.close()
    texts = [str(c.params["text"]) for c in request_fake.sent()]
    assert len(texts) == 2 and "Willkommen" in texts[0] and "So nutzen Sie" in texts[1]
    assert caplog.text.count("handling updates failed (database is locked)") == 1
    assert caplog.text.count("handling updates works again") == 1


def _corrupt_database_error(tmp_path: Path) -> sqlite3.DatabaseError:
    """A real error from SQLite for a file that is no database."""
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"no database" * 500)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        try:
            connection.execute("SELECT * FROM sqlite_master")
        except sqlite3.DatabaseError as error:
            return error
    raise AssertionError("SQLite read garbage as a database")


async def test_a_fatal_failure_in_the_sweep_stops_the_bot(app: Any, tmp_path: Path) -> None:
    """Offline: the sweep is a job; PTB would only log its error, every minute again."""
    error = _corrupt_database_error(tmp_path)

    class BrokenSweeper:
        async def sweep(self) -> None:
            raise error

    stop = app.bot_data["stop"] = Stop()
    app.bot_data["sweeper"] = BrokenSweeper()
    await sweep_job(SimpleNamespace(application=app))  # type: ignore[arg-type]
    assert stop.is_set() and stop.failure is error
    assert fatal(error, tmp_path / "bot.sqlite3") == (ExitCode.DATABASE, ANY)


async def test_a_fatal_failure_in_a_chat_queue_stops_the_bot(
    app: Any, tmp_path: Path, updates: UpdateFactory
) -> None:
    error = _corrupt_database_error(tmp_path)

    async def handle(update: Any) -> bool:
        raise error

    async def flush_sent(ids: list[int]) -> None:
        pass

    stop = Stop()
    queues = ChatQueues(handle, flush_sent, on_failure=stop.fail)
    queues.put([to_update(updates.message("/start", user_id=5), app.bot)])
    with pytest.raises(sqlite3.DatabaseError):
        await asyncio.wait_for(queues.drained(), 5)
    assert stop.is_set() and stop.failure is error


# -- secrets: not in any log line, at DEBUG too -------------------------------------------------


def test_debug_logs_hold_neither_the_token_nor_a_quoted_url(
    faulty: FaultyBotAPI, tmp_path: Path
) -> None:
    bot = _serving(faulty, tmp_path, BOT_LOG_LEVEL="DEBUG")
    try:
        faulty.answer("getUpdates", 502, PROXY_PAGE)
        faulty.answer("sendMessage", 502, PROXY_PAGE)
        mark = faulty.mark()
        faulty.say("/hilfe")
        faulty.wait_for(lambda c: "So nutzen Sie" in text_of(c), after=mark)
        assert bot.stop() == 0
    finally:
        bot.kill()
    output = bot.output()
    assert TOKEN not in output
    assert "bot<token>" in output, "the page quoting the URL was logged, without the token"


def test_debug_logs_hold_no_webhook_secret(faulty: FaultyBotAPI, tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    env = {
        "BOT_WEBHOOK_URL": url,
        "BOT_WEBHOOK_PORT": str(port),
        "BOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "BOT_LOG_LEVEL": "DEBUG",
    }
    bot = _serving(faulty, tmp_path, **env)
    try:
        assert faulty.sent("setWebhook")
        mark = faulty.mark()
        deadline = time.monotonic() + 10
        update = faulty.factory.message("/start", user_id=62)
        while _post_or_refused(url, update) != 200:
            assert time.monotonic() < deadline, "the webhook server never took the post"
            time.sleep(0.1)
        faulty.wait_for(lambda c: "Willkommen" in text_of(c), after=mark)
        assert _health(bot)[0] == 0
        assert bot.stop() == 0
    finally:
        bot.kill()
    output = bot.output()
    assert WEBHOOK_SECRET not in output and TOKEN not in output
    assert "<secret>" in output, "setWebhook's parameters were logged, without the secret"


def _post_or_refused(url: str, update: dict[str, object]) -> int:
    try:
        return _post(url, update, WEBHOOK_SECRET)
    except OSError:  # not listening yet
        return 0


# -- the last resort: a thread that outlives the event loop -------------------------------------


def test_a_lingering_thread_does_not_keep_the_process_alive() -> None:
    script = (
        "import threading, sys\n"
        "from bot.telegram.process import end\n"
        "threading.Thread(target=threading.Event().wait, name='stuck').start()\n"
        "sys.exit(end(5))\n"
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 5
    assert time.monotonic() - started < 15
