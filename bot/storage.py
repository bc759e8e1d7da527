"""The only place that speaks SQL: a small repository over one SQLite file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import aiosqlite
from pydantic import BaseModel

from bot.knowledge import Lang

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
)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class User(BaseModel):
    id: int
    language: Lang | None
    language_code: str | None
    first_seen: int
    last_seen: int
    active: bool


class Stats(BaseModel):
    users: int
    questions_today: int
    questions_week: int
    decline_rate_week: float | None
    unanswered: list[tuple[str, int]]


class Repository:
    """Users, checklist progress and the question log, over aiosqlite."""

    # A user row is rewritten at most this often just to move last_seen forward.
    SEEN_PRECISION = 60

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        # This process is the only writer of users, so it may remember what it wrote last.
        self._users: dict[int, User] = {}

    @classmethod
    async def open(cls, path: Path | str) -> Repository:
        """Open (creating folder and file), tune and migrate the database."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: each statement is its own transaction (one thread hop per write);
        # multi-statement changes open one explicitly.
        db = await aiosqlite.connect(path, isolation_level=None)
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA busy_timeout=5000")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA synchronous=NORMAL")
        repo = cls(db)
        await repo._migrate()
        return repo

    async def close(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = row[0] if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # executescript commits first; the version bump is part of the same script.
            await self._db.executescript(
                f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def touch_user(self, user_id: int, language_code: str | None, now: datetime) -> User:
        """Record that the user was seen (creating them, reactivating them); return them."""
        stamp = _epoch(now)
        known = self._users.get(user_id)
        if (
            known is not None
            and known.active
            and language_code in (None, known.language_code)
            and 0 <= stamp - known.last_seen < self.SEEN_PRECISION
        ):
            return known
        async with self._db.execute(
            """INSERT INTO users (id, language_code, first_seen, last_seen, active)
               VALUES (?, ?, ?, ?, 1)
               ON CONFLICT (id) DO UPDATE SET
                   language_code = COALESCE(excluded.language_code, users.language_code),
                   last_seen = excluded.last_seen, active = 1
               RETURNING *""",
            (user_id, language_code, stamp, stamp),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        user = self._users[user_id] = User.model_validate(dict(row))
        return user

    async def user(self, user_id: int) -> User | None:
        async with self._db.execute("SELECT * FROM users WHERE id = ?", (user_id,)) as cursor:
            row = await cursor.fetchone()
        return User.model_validate(dict(row)) if row else None

    async def set_language(self, user_id: int, language: Lang | None) -> None:
        await self._db.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))
        self._users.pop(user_id, None)

    async def set_active(self, user_id: int, active: bool) -> None:
        await self._db.execute("UPDATE users SET active = ? WHERE id = ?", (active, user_id))
        self._users.pop(user_id, None)

    async def checklist_done(self, user_id: int) -> set[str]:
        async with self._db.execute(
            "SELECT item_id FROM checklist_progress WHERE user_id = ?", (user_id,)
        ) as cursor:
            return {row[0] async for row in cursor}

    async def set_checklist_item(
        self, user_id: int, item_id: str, done: bool, now: datetime
    ) -> None:
        if done:
            await self._db.execute(
                """INSERT INTO checklist_progress (user_id, item_id, done_at) VALUES (?, ?, ?)
                   ON CONFLICT (user_id, item_id) DO NOTHING""",
                (user_id, item_id, _epoch(now)),
            )
        else:
            await self._db.execute(
                "DELETE FROM checklist_progress WHERE user_id = ? AND item_id = ?",
                (user_id, item_id),
            )

    async def log_question(
        self,
        user_id: int,
        text: str,
        lang: Lang,
        outcome: Literal["answer", "clarify", "decline", "smalltalk"],
        entry_id: str | None,
        score: float | None,
        now: datetime,
    ) -> None:
        await self._db.execute(
            """INSERT INTO question_log (user_id, asked_at, text, lang, outcome, entry_id, score)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (user_id, _epoch(now), text, lang, outcome, entry_id, score),
        )

    async def stats(self, now: datetime, day_start: datetime, top: int = 5) -> Stats:
        """Figures for /stats; `day_start` is midnight in the operator's time zone."""
        week_ago = _epoch(now - timedelta(days=7))
        async with self._db.execute("SELECT COUNT(*) FROM users") as cursor:
            users = (await cursor.fetchone() or [0])[0]
        async with self._db.execute(
            """SELECT SUM(asked_at >= ?), COUNT(*), SUM(outcome = 'decline')
               FROM question_log WHERE asked_at >= ?""",
            (_epoch(day_start), week_ago),
        ) as cursor:
            today, week, declined = await cursor.fetchone() or (0, 0, 0)
        async with self._db.execute(
            """SELECT lower(text) AS question, COUNT(*) AS times FROM question_log
               WHERE outcome = 'decline' AND asked_at >= ?
               GROUP BY question ORDER BY times DESC, question LIMIT ?""",
            (week_ago, top),
        ) as cursor:
            unanswered = [(row[0], row[1]) async for row in cursor]
        return Stats(
            users=users,
            questions_today=today or 0,
            questions_week=week,
            decline_rate_week=(declined or 0) / week if week else None,
            unanswered=unanswered,
        )
