"""One SQLite connection for every repository: migrations, transactions, the write lock."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path

import aiosqlite

# Each step moves the schema from version N to N+1; applied steps are never edited.
MIGRATIONS: Sequence[str] = (
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        language TEXT CHECK (language IN ('de', 'en')),
        language_code TEXT,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        active INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE checklist_progress (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        item_id TEXT NOT NULL,
        done_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, item_id)
    );
    CREATE TABLE question_log (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        asked_at INTEGER NOT NULL,
        text TEXT NOT NULL,
        lang TEXT NOT NULL,
        outcome TEXT NOT NULL,
        entry_id TEXT,
        score REAL
    );
    CREATE INDEX question_log_asked_at ON question_log(asked_at);
    CREATE INDEX question_log_user ON question_log(user_id);
    """,
    """
    ALTER TABLE users ADD COLUMN nudges INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE users ADD COLUMN follow_up_after INTEGER;
    ALTER TABLE users ADD COLUMN follow_up_repeat INTEGER;
    ALTER TABLE users ADD COLUMN digest INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE follow_ups (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        platform TEXT NOT NULL CHECK (platform IN ('xing', 'linkedin')),
        direction TEXT NOT NULL CHECK (direction IN ('sent', 'received')),
        name TEXT NOT NULL,
        note TEXT,
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'accepted', 'declined', 'withdrawn', 'expired')),
        created_at INTEGER NOT NULL,
        nudges_sent INTEGER NOT NULL DEFAULT 0,
        next_nudge_at INTEGER,
        claimed_at INTEGER
    );
    CREATE INDEX follow_ups_due ON follow_ups(next_nudge_at)
        WHERE next_nudge_at IS NOT NULL AND claimed_at IS NULL;
    CREATE INDEX follow_ups_user ON follow_ups(user_id, state);
    CREATE TABLE follow_up_events (
        id INTEGER PRIMARY KEY,
        follow_up_id INTEGER NOT NULL REFERENCES follow_ups(id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        event TEXT NOT NULL,
        detail TEXT
    );
    CREATE INDEX follow_up_events_follow_up ON follow_up_events(follow_up_id);
    CREATE TABLE digests (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        week TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, week)
    );
    """,
    """
    -- Telegram update ids already handled: a batch redelivered after a crash is not handled
    -- twice. Holds no personal data; pruned after a day.
    CREATE TABLE processed_updates (
        update_id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL
    );
    """,
    """
    -- The messages an update sends, saved with its mark and cleared once sent, so a crash
    -- between saving and sending re-sends them (see bot/telegram/outbox.py).
    ALTER TABLE processed_updates ADD COLUMN outbox TEXT;
    CREATE INDEX processed_updates_unsent ON processed_updates(update_id)
        WHERE outbox IS NOT NULL;
    """,
    """
    -- Updates fetched from Telegram and not handled yet, as the Bot API sent them: saved
    -- before they are confirmed to Telegram, so a slow chat never holds up the next fetch
    -- and a crash loses nothing. The "processed" mark of an update removes it from here.
    CREATE TABLE inbox (
        update_id INTEGER PRIMARY KEY,
        user_id INTEGER,
        payload TEXT NOT NULL
    );
    CREATE TRIGGER inbox_handled AFTER INSERT ON processed_updates
    BEGIN
        DELETE FROM inbox WHERE update_id = NEW.update_id;
    END;
    """,
    """
    -- What the user did with an unsure or declined answer: the offered entry they tapped,
    -- or "none" for "Nichts davon". Read by `python -m bot review` to grow the phrasings.
    ALTER TABLE question_log ADD COLUMN feedback TEXT;
    """,
    """
    -- Follow-ups that fit real life (issue 13): a user's own time zone; when a request was
    -- settled (a late "accepted" keeps its real date) and last nudged; whether the LinkedIn
    -- withdraw advice was given; and the step of a guided flow, kept across restarts.
    ALTER TABLE users ADD COLUMN timezone TEXT;
    ALTER TABLE follow_ups ADD COLUMN closed_at INTEGER;
    ALTER TABLE follow_ups ADD COLUMN last_nudge_at INTEGER;
    ALTER TABLE follow_ups ADD COLUMN advised_withdraw INTEGER NOT NULL DEFAULT 0;
    UPDATE follow_ups SET closed_at = (
        SELECT MAX(at) FROM follow_up_events AS e WHERE e.follow_up_id = follow_ups.id
    ) WHERE state != 'pending';
    CREATE INDEX follow_ups_closed ON follow_ups(user_id, closed_at) WHERE closed_at IS NOT NULL;
    CREATE TABLE guided_steps (
        user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        step TEXT NOT NULL,
        data TEXT NOT NULL,
        since INTEGER NOT NULL
    );
    """,
    """
    -- Requests imported from LinkedIn's data export (issue 14): the profile address they
    -- were matched by, so that importing the same file twice changes nothing.
    ALTER TABLE follow_ups ADD COLUMN profile_url TEXT;
    CREATE INDEX follow_ups_person ON follow_ups(user_id, platform, direction);
    """,
    """
    -- Poison updates (issue 16): the failed tries of each saved update, and the updates set
    -- aside (unreadable, or failed too often) with their error, so that none blocks the
    -- rest. Kept for the log retention period; a user's go with their data.
    ALTER TABLE inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE dead_letters (
        update_id INTEGER PRIMARY KEY,
        user_id INTEGER,
        chat_id INTEGER,
        payload TEXT NOT NULL,
        error TEXT NOT NULL,
        at INTEGER NOT NULL
    );
    CREATE INDEX dead_letters_at ON dead_letters(at);
    CREATE INDEX dead_letters_user ON dead_letters(user_id);
    """,
)


# The task inside Database.unit_of_work (an outermost transaction is one). A task, not a flag:
# tasks started from inside a unit inherit context variables, and must still take the lock
# like everyone else.
_IN_UNIT: ContextVar[asyncio.Task[object] | None] = ContextVar("in_unit_of_work", default=None)


def _in_unit() -> bool:
    task = _IN_UNIT.get()
    return task is not None and task is asyncio.current_task()


class UnusableDatabase(Exception):
    """The database cannot be used as it is; the message names the file and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class DiskFull(UnusableDatabase):
    """No room to write the database (a full disk, a quota, a file size limit)."""


# SQLite's primary result codes that say the file cannot be used (rather than a statement
# being wrong), with what an operator should read.
_UNUSABLE = {
    3: "no permission to use it",  # SQLITE_PERM
    8: "it is read-only (the file or its folder)",  # SQLITE_READONLY
    10: "a disk I/O error",  # SQLITE_IOERR
    11: "the file is corrupt; restore a backup",  # SQLITE_CORRUPT
    14: "it cannot be opened (check the folder and its permissions)",  # SQLITE_CANTOPEN
    26: "the file is not a database (corrupt?); restore a backup",  # SQLITE_NOTADB
}
_BUSY = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED
_FULL = 13  # SQLITE_FULL: the disk is full
# SQLITE_IOERR_WRITE (an extended code): SQLite says "full" for ENOSPC only; a quota or a
# file size limit (EDQUOT, EFBIG) arrive as this.
_WRITE_FAILED = 778


def _extended_code(error: BaseException) -> int:
    """SQLite's result code of an error from it; -1 for other errors."""
    return getattr(error, "sqlite_errorcode", -1) if isinstance(error, sqlite3.Error) else -1


def _code(error: BaseException) -> int:
    """SQLite's primary result code of an error (the extended codes add high bits)."""
    code = _extended_code(error)
    return code & 0xFF if code >= 0 else -1


def is_locked(error: BaseException) -> bool:
    """Another connection held the write lock for longer than the busy timeout: try later."""
    return _code(error) in _BUSY


def unusable(error: BaseException, path: Path | str) -> UnusableDatabase | None:
    """`error` as the reason the database at `path` cannot be used; None for other errors."""
    if isinstance(error, UnusableDatabase):
        return error
    code = _code(error)
    if code == _FULL or _extended_code(error) == _WRITE_FAILED:
        return DiskFull(
            f"{path}: no room to write, the disk (or a quota) is full ({error}); "
            "free space, then start again"
        )
    if code in _UNUSABLE:
        return UnusableDatabase(f"{path}: {_UNUSABLE[code]} ({error})")
    return None


def create_private(path: Path) -> None:
    """Create `path` as an empty file only its owner may use (0600; a umask only takes away).

    Refuses any existing path, a dangling symbolic link included (O_EXCL never follows one).
    """
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class Database:
    """The connection the repositories share; only this package calls its methods."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection
        # Handlers and the nudge sweep share one connection: a write of one must never land
        # inside another's open transaction, so every write takes this lock.
        self._write_lock = asyncio.Lock()
        self._on_rollback: list[Callable[[], None]] = []

    def on_rollback(self, forget: Callable[[], None]) -> None:
        """Call `forget` when a unit of work rolls back (a cache may hold its writes)."""
        self._on_rollback.append(forget)

    @contextlib.asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[None]:
        """All writes inside (in this task) commit together or not at all."""
        async with self._write_lock:
            token = _IN_UNIT.set(asyncio.current_task())
            try:
                await self.rows("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    await self.rows("ROLLBACK")
                    for forget in self._on_rollback:  # caches may hold rolled-back writes
                        forget()
                    raise
                await self.rows("COMMIT")
            finally:
                _IN_UNIT.reset(token)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Several statements as one: a transaction, or a savepoint inside a unit of work."""
        if _in_unit():  # nested in a unit of work: a savepoint, the lock is ours already
            await self.rows("SAVEPOINT step")
            try:
                yield
            except BaseException:
                await self.rows("ROLLBACK TO step")
                await self.rows("RELEASE step")
                raise
            await self.rows("RELEASE step")
            return
        # Outermost: a unit of work of its own, so a transaction opened inside it (in this
        # task) becomes a savepoint instead of waiting for the lock it holds itself.
        async with self.unit_of_work():
            yield

    async def rows(self, sql: str, params: Sequence[object] = ()) -> list[aiosqlite.Row]:
        """Run one statement and return its rows, in one trip to the database thread.

        `async with db.execute(...)` plus a fetch costs three trips (execute, fetch, close),
        each a hand-over between threads; on the per-message path that adds up.
        """
        return list(await self.connection.execute_fetchall(sql, params))

    async def many(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        """One statement for many rows (an import), in one trip to the database thread."""
        await self.connection.executemany(sql, rows)

    async def row(self, sql: str, params: Sequence[object] = ()) -> aiosqlite.Row | None:
        rows = await self.rows(sql, params)
        return rows[0] if rows else None

    async def write(self, sql: str, params: Sequence[object]) -> list[aiosqlite.Row]:
        """One write statement (its RETURNING rows, if any) under the write lock."""
        if _in_unit():
            return await self.rows(sql, params)
        async with self._write_lock:
            return await self.rows(sql, params)

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        """Open (creating folder and file), tune and migrate the database.

        A new file is readable by its owner only; SQLite gives its -wal and -shm files the
        database file's mode, and an existing file keeps the mode it has.
        """
        db: aiosqlite.Connection | None = None
        try:
            if str(path) != ":memory:":
                _prepare_file(Path(path))
            # Autocommit: each statement is its own transaction (one thread hop per write);
            # multi-statement changes open one explicitly.
            db = await _connect(path)
            db.row_factory = aiosqlite.Row
            await db.execute("PRAGMA busy_timeout=5000")
            database = cls(db)
            version = await database.schema_version()
            if version > len(MIGRATIONS):
                # Its tables may mean what this code does not know: not even a pragma that
                # writes (journal_mode) touches it.
                raise UnusableDatabase(
                    f"{path} has schema version {version}, newer than this version of the bot "
                    f"knows ({len(MIGRATIONS)}); run the newer version or restore a backup"
                )
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA foreign_keys=ON")
            await db.execute("PRAGMA synchronous=NORMAL")
            await database.migrate()
        except BaseException as error:
            if db is not None:
                await db.close()  # its thread is no daemon: it would keep the process alive
            raise _at_start(error, path) from None
        return database

    async def check_writable(self) -> None:
        """Raise now if the file or its folder is read-only, rather than at the first write.

        Takes the write lock for a moment, so not for tools (backup) that run beside the bot.
        """
        version = await self.schema_version()
        await self.rows("BEGIN IMMEDIATE")
        try:
            await self.rows(f"PRAGMA user_version = {version}")  # a write that changes nothing
        finally:
            await self.rows("ROLLBACK")

    async def close(self) -> None:
        await self.connection.close()

    async def migrate(self) -> None:
        version = await self.schema_version()
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # executescript commits first; the version bump is part of the same script.
            await self.connection.executescript(
                f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )

    async def schema_version(self) -> int:
        row = await self.row("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def backup(self, target: Path) -> None:
        """A consistent copy of the live database (SQLite's online backup API) in a new file.

        The copy is created exclusively and owner-only: an existing path, a symbolic link
        included, raises FileExistsError and is left as it was.
        """
        target.parent.mkdir(parents=True, exist_ok=True)
        create_private(target)
        try:
            async with aiosqlite.connect(target) as copy:
                await self.connection.backup(copy)
        except BaseException:
            await asyncio.to_thread(target.unlink)  # ours, and half written
            raise


async def _connect(path: Path | str) -> aiosqlite.Connection:
    """aiosqlite.connect, which on failure stops its thread without waiting for it: were the
    event loop closed before the thread answers, the thread would print a traceback."""
    connecting = aiosqlite.connect(path, isolation_level=None)
    try:
        return await connecting
    except BaseException:
        await asyncio.to_thread(connecting._thread.join, 5.0)
        raise


def _at_start(error: BaseException, path: Path | str) -> BaseException:
    """What opening the database failed with, said for an operator where it is the file."""
    if isinstance(error, OSError):  # creating the folder or the file
        return UnusableDatabase(f"{path}: {error.strerror or error}")
    if is_locked(error):
        return UnusableDatabase(f"{path} is locked by another process (a second bot?)")
    return unusable(error, path) or error


def _prepare_file(path: Path) -> None:
    """The database's folder, and the file itself owner-only if it is new; a folder where the
    file should be is refused (SQLite would only say "unable to open database file")."""
    if path.is_dir():
        raise UnusableDatabase(f"{path} is a folder; the database must be a file")
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        create_private(path)
