"""The only place that speaks SQL: a small repository over one SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextvars import ContextVar
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import aiosqlite
from pydantic import BaseModel

from bot.followups import Direction, FollowUp, Platform, State
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
    -- between saving and sending re-sends them (see bot/outbox.py).
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
)


# The task inside Repository.unit_of_work. A task, not a flag: tasks started from inside a
# unit inherit context variables, and must still take the lock like everyone else.
_IN_UNIT: ContextVar[asyncio.Task[object] | None] = ContextVar("in_unit_of_work", default=None)


def _in_unit() -> bool:
    task = _IN_UNIT.get()
    return task is not None and task is asyncio.current_task()


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class User(BaseModel):
    id: int
    language: Lang | None
    language_code: str | None
    first_seen: int
    last_seen: int
    active: bool
    nudges: bool = True
    follow_up_after: int | None = None  # seconds; None: the operator's default
    follow_up_repeat: int | None = None
    digest: bool = False


class Event(BaseModel):
    at: int
    event: str
    detail: str | None


class DayCounts(BaseModel):
    """Questions of one local day by outcome (small talk counts as answered)."""

    day: str  # ISO date
    answered: int = 0
    clarified: int = 0
    declined: int = 0

    @property
    def total(self) -> int:
        return self.answered + self.clarified + self.declined


class LoggedQuestion(BaseModel):
    text: str
    lang: str
    outcome: str
    entry_id: str | None
    feedback: str | None


class Stats(BaseModel):
    users: int
    per_day: list[DayCounts]  # the last seven local days, oldest first
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
        # Handlers and the nudge sweep share one connection: a write of one must never land
        # inside another's open transaction, so every write takes this lock.
        self._write_lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[None]:
        """All writes inside (in this task) commit together or not at all.

        The durable polling loop handles each Telegram update in one unit together with its
        "processed" mark, so a crash never leaves half an update's changes behind.
        """
        async with self._write_lock:
            token = _IN_UNIT.set(asyncio.current_task())
            try:
                await self._rows("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    await self._rows("ROLLBACK")
                    self._users.clear()  # the cache may hold rolled-back writes
                    raise
                await self._rows("COMMIT")
            finally:
                _IN_UNIT.reset(token)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        if _in_unit():  # nested in a unit of work: a savepoint, the lock is ours already
            await self._rows("SAVEPOINT step")
            try:
                yield
            except BaseException:
                await self._rows("ROLLBACK TO step")
                await self._rows("RELEASE step")
                raise
            await self._rows("RELEASE step")
            return
        async with self._write_lock:
            await self._rows("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                await self._rows("ROLLBACK")
                raise
            await self._rows("COMMIT")

    async def _rows(self, sql: str, params: Sequence[object] = ()) -> list[aiosqlite.Row]:
        """Run one statement and return its rows, in one trip to the database thread.

        `async with db.execute(...)` plus a fetch costs three trips (execute, fetch, close),
        each a hand-over between threads; on the per-message path that adds up.
        """
        return list(await self._db.execute_fetchall(sql, params))

    async def _row(self, sql: str, params: Sequence[object] = ()) -> aiosqlite.Row | None:
        rows = await self._rows(sql, params)
        return rows[0] if rows else None

    async def _write(self, sql: str, params: Sequence[object]) -> list[aiosqlite.Row]:
        """One write statement (its RETURNING rows, if any) under the write lock."""
        if _in_unit():
            return await self._rows(sql, params)
        async with self._write_lock:
            return await self._rows(sql, params)

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
        row = await self._row("PRAGMA user_version")
        version = row[0] if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # executescript commits first; the version bump is part of the same script.
            await self._db.executescript(
                f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )

    async def schema_version(self) -> int:
        row = await self._row("PRAGMA user_version")
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
        (row,) = await self._write(
            """INSERT INTO users (id, language_code, first_seen, last_seen, active)
               VALUES (?, ?, ?, ?, 1)
               ON CONFLICT (id) DO UPDATE SET
                   language_code = COALESCE(excluded.language_code, users.language_code),
                   last_seen = excluded.last_seen, active = 1
               RETURNING *""",
            (user_id, language_code, stamp, stamp),
        )
        user = self._users[user_id] = User.model_validate(dict(row))
        return user

    async def user(self, user_id: int) -> User | None:
        row = await self._row("SELECT * FROM users WHERE id = ?", (user_id,))
        return User.model_validate(dict(row)) if row else None

    async def set_language(self, user_id: int, language: Lang | None) -> None:
        await self._write("UPDATE users SET language = ? WHERE id = ?", (language, user_id))
        self._users.pop(user_id, None)

    async def set_active(self, user_id: int, active: bool) -> None:
        await self._write("UPDATE users SET active = ? WHERE id = ?", (active, user_id))
        self._users.pop(user_id, None)

    async def checklist_done(self, user_id: int) -> set[str]:
        rows = await self._rows(
            "SELECT item_id FROM checklist_progress WHERE user_id = ?", (user_id,)
        )
        return {row[0] for row in rows}

    async def set_checklist_item(
        self, user_id: int, item_id: str, done: bool, now: datetime
    ) -> None:
        if done:
            await self._write(
                """INSERT INTO checklist_progress (user_id, item_id, done_at) VALUES (?, ?, ?)
                   ON CONFLICT (user_id, item_id) DO NOTHING""",
                (user_id, item_id, _epoch(now)),
            )
        else:
            await self._write(
                "DELETE FROM checklist_progress WHERE user_id = ? AND item_id = ?",
                (user_id, item_id),
            )

    async def unanswered_questions(self, since: datetime) -> list[LoggedQuestion]:
        """Questions declined or clarified since `since`, and those whose offer was refused."""
        rows = await self._rows(
            """SELECT text, lang, outcome, entry_id, feedback FROM question_log
               WHERE asked_at >= ? AND (outcome IN ('decline', 'clarify') OR feedback = 'none')
               ORDER BY id""",
            (_epoch(since),),
        )
        return [
            LoggedQuestion(text=r[0], lang=r[1], outcome=r[2], entry_id=r[3], feedback=r[4])
            for r in rows
        ]

    async def question_feedback(self, user_id: int, feedback: str, since: datetime) -> bool:
        """Attach `feedback` to the user's latest unsure or declined question after `since`."""
        rows = await self._write(
            """UPDATE question_log SET feedback = ? WHERE id = (
                   SELECT id FROM question_log WHERE user_id = ? AND asked_at >= ?
                   AND outcome IN ('clarify', 'decline') ORDER BY id DESC LIMIT 1)
               RETURNING id""",
            (feedback, user_id, _epoch(since)),
        )
        return bool(rows)

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
        await self._write(
            """INSERT INTO question_log (user_id, asked_at, text, lang, outcome, entry_id, score)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (user_id, _epoch(now), text, lang, outcome, entry_id, score),
        )

    async def stats(self, now: datetime, day_start: datetime, top: int = 5) -> Stats:
        """Figures for /stats; `day_start` is midnight in the operator's time zone."""
        week_ago = _epoch(now - timedelta(days=7))
        starts = [day_start - timedelta(days=back) for back in range(6, -1, -1)]
        bounds = [*map(_epoch, starts), _epoch(now) + 1]
        day_of = " ".join(f"WHEN asked_at < ? THEN {n}" for n in range(len(starts)))
        counts = await self._rows(
            f"""SELECT CASE {day_of} END AS day, outcome, COUNT(*) FROM question_log
                WHERE asked_at >= ? AND asked_at < ? GROUP BY day, outcome""",
            (*bounds[1:], bounds[0], bounds[-1]),
        )
        per_day = [DayCounts(day=start.date().isoformat()) for start in starts]
        field = {"clarify": "clarified", "decline": "declined"}
        for day, outcome, n in counts:
            name = field.get(outcome, "answered")
            setattr(per_day[day], name, getattr(per_day[day], name) + n)
        users = (await self._row("SELECT COUNT(*) FROM users") or [0])[0]
        week, declined = await self._row(
            "SELECT COUNT(*), SUM(outcome = 'decline') FROM question_log WHERE asked_at >= ?",
            (week_ago,),
        ) or (0, 0)
        rows = await self._rows(
            """SELECT lower(text) AS question, COUNT(*) AS times FROM question_log
               WHERE outcome IN ('decline', 'clarify') AND asked_at >= ?
               GROUP BY question ORDER BY times DESC, question LIMIT ?""",
            (week_ago, top),
        )
        unanswered = [(row[0], row[1]) for row in rows]
        return Stats(
            users=users,
            per_day=per_day,
            questions_today=per_day[-1].total,
            questions_week=week,
            decline_rate_week=(declined or 0) / week if week else None,
            unanswered=unanswered,
        )

    # -- preferences -------------------------------------------------------------------------

    async def set_preferences(
        self,
        user_id: int,
        *,
        nudges: bool | None = None,
        follow_up_after: int | None = None,
        follow_up_repeat: int | None = None,
        digest: bool | None = None,
    ) -> None:
        """Change the given nudge preferences; omitted ones stay as they are."""
        await self._write(
            """UPDATE users SET
                   nudges = COALESCE(?, nudges),
                   follow_up_after = COALESCE(?, follow_up_after),
                   follow_up_repeat = COALESCE(?, follow_up_repeat),
                   digest = COALESCE(?, digest)
               WHERE id = ?""",
            (nudges, follow_up_after, follow_up_repeat, digest, user_id),
        )
        self._users.pop(user_id, None)

    # -- follow-ups ---------------------------------------------------------------------------

    async def add_follow_up(
        self,
        user_id: int,
        platform: Platform,
        direction: Direction,
        name: str,
        note: str | None,
        now: datetime,
        first_nudge: datetime,
    ) -> FollowUp:
        async with self._transaction():
            row = await self._row(
                """INSERT INTO follow_ups
                       (user_id, platform, direction, name, note, created_at, next_nudge_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *""",
                (user_id, platform, direction, name, note, _epoch(now), _epoch(first_nudge)),
            )
            assert row is not None
            follow_up = FollowUp.model_validate(dict(row))
            await self._event(follow_up.id, now, "created", direction)
        return follow_up

    async def _event(
        self, follow_up_id: int, now: datetime, event: str, detail: str | None
    ) -> None:
        await self._rows(
            "INSERT INTO follow_up_events (follow_up_id, at, event, detail) VALUES (?, ?, ?, ?)",
            (follow_up_id, _epoch(now), event, detail),
        )

    async def follow_up(self, user_id: int, follow_up_id: int) -> FollowUp | None:
        """The request if it exists and belongs to this user (anything else: None)."""
        row = await self._row(
            "SELECT * FROM follow_ups WHERE id = ? AND user_id = ?", (follow_up_id, user_id)
        )
        return FollowUp.model_validate(dict(row)) if row else None

    async def open_follow_ups(self, user_id: int) -> list[FollowUp]:
        rows = await self._rows(
            """SELECT * FROM follow_ups WHERE user_id = ? AND state = 'pending'
               ORDER BY created_at, id""",
            (user_id,),
        )
        return [FollowUp.model_validate(dict(row)) for row in rows]

    async def history(self, follow_up_id: int) -> list[Event]:
        rows = await self._rows(
            "SELECT at, event, detail FROM follow_up_events WHERE follow_up_id = ? ORDER BY id",
            (follow_up_id,),
        )
        return [Event.model_validate(dict(row)) for row in rows]

    async def set_state(
        self, user_id: int, follow_up_id: int, state: State, now: datetime
    ) -> FollowUp | None:
        """Close an open request; None if it is not this user's or no longer open."""
        return await self._change_open(
            user_id, follow_up_id, "state = ?, next_nudge_at = NULL", (state,), now, state, None
        )

    async def snooze(
        self, user_id: int, follow_up_id: int, until: datetime, now: datetime
    ) -> FollowUp | None:
        """Move only the next nudge of an open request."""
        return await self._change_open(
            user_id, follow_up_id, "next_nudge_at = ?", (_epoch(until),), now, "snoozed",
            until.isoformat(),
        )  # fmt: skip

    async def _change_open(
        self,
        user_id: int,
        follow_up_id: int,
        assignments: str,
        values: tuple[object, ...],
        now: datetime,
        event: str,
        detail: str | None,
    ) -> FollowUp | None:
        """Update an open request of this user and record the event, in one transaction.

        `assignments` is a literal from this module, never user input; values are bound.
        """
        async with self._transaction():
            row = await self._row(
                f"""UPDATE follow_ups SET {assignments}
                    WHERE id = ? AND user_id = ? AND state = 'pending' RETURNING *""",
                (*values, follow_up_id, user_id),
            )
            if row is not None:
                await self._event(follow_up_id, now, event, detail)
        return FollowUp.model_validate(dict(row)) if row else None

    async def delete_follow_up(self, user_id: int, follow_up_id: int) -> bool:
        rows = await self._write(
            "DELETE FROM follow_ups WHERE id = ? AND user_id = ? RETURNING id",
            (follow_up_id, user_id),
        )
        return bool(rows)

    # -- the nudge sweep -------------------------------------------------------------------
    #
    # Delivery is at most once per nudge: a due row is claimed (claimed_at set, committed)
    # before it is sent and completed after. A claim found at start-up is left over from a
    # crash while sending; whether Telegram got the message is unknown, so it is counted as
    # sent rather than risk a double (see recover_claims).

    async def claim_due(self, now: datetime, limit: int) -> list[FollowUp]:
        """Claim up to `limit` due nudges of active users who want them, oldest first."""
        rows = await self._write(
            """UPDATE follow_ups SET claimed_at = ?
               WHERE id IN (
                   SELECT f.id FROM follow_ups AS f JOIN users AS u ON u.id = f.user_id
                   WHERE f.next_nudge_at <= ? AND f.claimed_at IS NULL
                     AND u.active = 1 AND u.nudges = 1
                   ORDER BY f.next_nudge_at LIMIT ?)
               RETURNING *""",
            (_epoch(now), _epoch(now), limit),
        )
        # Hot path (hundreds of rows per sweep): the schema's CHECK constraints already
        # guarantee the types, so the rows are not validated a second time.
        return sorted(
            (FollowUp.model_construct(**dict(row)) for row in rows),
            key=lambda f: (f.next_nudge_at or 0, f.id),
        )

    async def complete_nudge(
        self, follow_up_id: int, sent_at: datetime, next_at: datetime, event: str = "nudged"
    ) -> None:
        """Record a sent nudge and when the next one (or the expiry) falls due."""
        async with self._transaction():
            await self._rows(
                """UPDATE follow_ups SET nudges_sent = nudges_sent + 1, next_nudge_at = ?,
                       claimed_at = NULL
                   WHERE id = ?""",
                (_epoch(next_at), follow_up_id),
            )
            await self._event(follow_up_id, sent_at, event, None)

    async def release(self, follow_up_id: int, due: datetime | None = None) -> None:
        """Give a claim back unsent, optionally due at another time (quiet hours)."""
        await self._write(
            """UPDATE follow_ups SET claimed_at = NULL, next_nudge_at = COALESCE(?, next_nudge_at)
               WHERE id = ?""",
            (_epoch(due) if due else None, follow_up_id),
        )

    async def expire(self, follow_up_id: int, now: datetime) -> None:
        async with self._transaction():
            await self._rows(
                """UPDATE follow_ups SET state = 'expired', next_nudge_at = NULL, claimed_at = NULL
                   WHERE id = ? AND state = 'pending'""",
                (follow_up_id,),
            )
            await self._event(follow_up_id, now, "expired", None)

    async def stale_claims(self) -> list[FollowUp]:
        rows = await self._rows("SELECT * FROM follow_ups WHERE claimed_at IS NOT NULL ORDER BY id")
        return [FollowUp.model_validate(dict(row)) for row in rows]

    # -- weekly digest ---------------------------------------------------------------------

    async def digest_candidates(self, week: str) -> list[User]:
        """Active users with the digest on who have not had this week's digest yet."""
        rows = await self._rows(
            """SELECT * FROM users WHERE digest = 1 AND active = 1 AND NOT EXISTS (
                   SELECT 1 FROM digests AS d WHERE d.user_id = users.id AND d.week = ?)""",
            (week,),
        )
        return [User.model_validate(dict(row)) for row in rows]

    async def claim_digest(self, user_id: int, week: str, now: datetime) -> bool:
        """Mark this week's digest as taken; False if it already was (at most once)."""
        rows = await self._write(
            "INSERT INTO digests (user_id, week, sent_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING user_id",
            (user_id, week, _epoch(now)),
        )
        return bool(rows)

    async def unclaim_digest(self, user_id: int, week: str) -> None:
        """Give this week's digest back after a failed send, so a later sweep retries."""
        await self._write("DELETE FROM digests WHERE user_id = ? AND week = ?", (user_id, week))

    # -- privacy -----------------------------------------------------------------------------

    async def export_user(self, user_id: int) -> dict[str, object]:
        """Every row about one user, table by table (for /export)."""

        async def rows(sql: str) -> list[dict[str, object]]:
            return [dict(row) for row in await self._rows(sql, (user_id,))]

        user = await rows("SELECT * FROM users WHERE id = ?")
        return {
            "user": user[0] if user else None,
            "checklist_progress": await rows(
                "SELECT item_id, done_at FROM checklist_progress WHERE user_id = ? ORDER BY item_id"
            ),
            "follow_ups": await rows("SELECT * FROM follow_ups WHERE user_id = ? ORDER BY id"),
            "follow_up_events": await rows(
                """SELECT e.* FROM follow_up_events AS e JOIN follow_ups AS f
                   ON f.id = e.follow_up_id WHERE f.user_id = ? ORDER BY e.id"""
            ),
            "digests": await rows("SELECT week, sent_at FROM digests WHERE user_id = ?"),
            "question_log": await rows(
                """SELECT asked_at, text, lang, outcome, entry_id, score, feedback
                   FROM question_log WHERE user_id = ? ORDER BY id"""
            ),
        }

    async def delete_user(self, user_id: int) -> None:
        """Erase the user; every table refers to users with ON DELETE CASCADE."""
        async with self._transaction():
            await self._rows("DELETE FROM users WHERE id = ?", (user_id,))
            # Their updates saved but not handled yet: a chat's earlier updates are handled
            # before its /delete, so these came later and are still queued in memory; only
            # their copy for a crash goes.
            await self._rows("DELETE FROM inbox WHERE user_id = ?", (user_id,))
            # Messages to this user still waiting to be sent (after a crash) go as well.
            await self._rows(
                """UPDATE processed_updates SET outbox = NULL WHERE outbox IS NOT NULL
                   AND EXISTS (SELECT 1 FROM json_each(outbox)
                               WHERE json_extract(value, '$.chat_id') = ?)""",
                (user_id,),
            )
        self._users.pop(user_id, None)

    async def purge_question_log(self, before: datetime) -> int:
        """Delete logged questions older than `before`; the number deleted."""
        rows = await self._write(
            "DELETE FROM question_log WHERE asked_at < ? RETURNING id", (_epoch(before),)
        )
        return len(rows)

    async def backup(self, target: Path) -> None:
        """A consistent copy of the live database (SQLite's online backup API)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(target) as copy:
            await self._db.backup(copy)

    # -- durable polling -------------------------------------------------------------------

    async def receive(self, updates: Sequence[tuple[int, int | None, str]]) -> set[int]:
        """Save fetched updates (id, sender, JSON) in the inbox; the ids that are new.

        An update saved or handled before (Telegram sends unconfirmed ones again) is not new.
        """
        if not updates:
            return set()
        rows = ",".join("(?, ?, ?)" for _ in updates)
        params = tuple(value for update in updates for value in update)
        saved = await self._write(
            f"""INSERT OR IGNORE INTO inbox (update_id, user_id, payload)
                SELECT column1, column2, column3 FROM (VALUES {rows})
                WHERE column1 NOT IN (SELECT update_id FROM processed_updates)
                RETURNING update_id""",
            params,
        )
        return {row[0] for row in saved}

    async def inbox(self) -> list[tuple[int, str]]:
        """(update id, JSON) of the updates saved but not handled, oldest first."""
        rows = await self._rows("SELECT update_id, payload FROM inbox ORDER BY update_id")
        return [(row[0], row[1]) for row in rows]

    async def mark_processed(
        self, update_id: int, now: datetime, outbox: str | None = None
    ) -> None:
        """Mark the update handled, with the messages it still has to send (if any)."""
        await self._write(
            "INSERT OR IGNORE INTO processed_updates (update_id, at, outbox) VALUES (?, ?, ?)",
            (update_id, _epoch(now), outbox),
        )

    async def unsent(self) -> list[tuple[int, str]]:
        """(update id, saved messages) of handled updates whose messages were not sent."""
        rows = await self._rows(
            "SELECT update_id, outbox FROM processed_updates WHERE outbox IS NOT NULL "
            "ORDER BY update_id"
        )
        return [(row[0], row[1]) for row in rows]

    async def mark_sent(self, update_ids: Sequence[int]) -> None:
        if not update_ids:
            return
        marks = ",".join("?" * len(update_ids))
        await self._write(
            f"UPDATE processed_updates SET outbox = NULL WHERE update_id IN ({marks})",
            tuple(update_ids),
        )

    async def prune_processed(self, before: datetime) -> None:
        await self._write("DELETE FROM processed_updates WHERE at < ?", (_epoch(before),))
