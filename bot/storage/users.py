"""Users and their settings (language, nudges, follow-up delays, digest)."""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import datetime
from typing import Generic, TypeVar

from bot.domain import GuidedStep, Lang, User
from bot.storage.database import Database, epoch

V = TypeVar("V")


class RecentUsers(Generic[V]):
    """What was read or written for the users seen most recently; the longest unseen go first.

    Every user ever seen would otherwise stay in memory (row and step about 1.5 KB: 518 MB
    after 300,000 users, benchmarks/many_users.py); one forgotten costs a read on return.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[int, V] = OrderedDict()

    def __contains__(self, user_id: int) -> bool:
        return user_id in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, user_id: int) -> V:
        self._items.move_to_end(user_id)
        return self._items[user_id]

    def get(self, user_id: int) -> V | None:
        return self[user_id] if user_id in self._items else None

    def __setitem__(self, user_id: int, value: V) -> None:
        self._items[user_id] = value
        self._items.move_to_end(user_id)
        if len(self._items) > self.size:
            self._items.popitem(last=False)

    def pop(self, user_id: int) -> None:
        self._items.pop(user_id, None)

    def clear(self) -> None:
        self._items.clear()


class Users:
    """The users table; remembers the rows it wrote, as this process is their only writer."""

    # A user row is rewritten at most this often just to move last_seen forward.
    SEEN_PRECISION = 60
    # Users remembered (row and guided step): far more than write within a minute, which
    # is what the cache saves work for; a few MB.
    REMEMBERED = 5_000

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: RecentUsers[User] = RecentUsers(self.REMEMBERED)
        self._steps: RecentUsers[GuidedStep | None] = RecentUsers(self.REMEMBERED)
        db.on_rollback(self._cache.clear)
        db.on_rollback(self._steps.clear)

    async def touch(self, user_id: int, language_code: str | None, now: datetime) -> User:
        """Record that the user was seen (creating them, reactivating them); return them."""
        stamp = epoch(now)
        known = self._cache.get(user_id)
        if (
            known is not None
            and known.active
            and language_code in (None, known.language_code)
            and 0 <= stamp - known.last_seen < self.SEEN_PRECISION
        ):
            return known
        (row,) = await self.db.write(
            """INSERT INTO users (id, language_code, first_seen, last_seen, active)
               VALUES (?, ?, ?, ?, 1)
               ON CONFLICT (id) DO UPDATE SET
                   language_code = COALESCE(excluded.language_code, users.language_code),
                   last_seen = excluded.last_seen, active = 1
               RETURNING *""",
            (user_id, language_code, stamp, stamp),
        )
        user = self._cache[user_id] = User.model_validate(dict(row))
        return user

    async def get(self, user_id: int) -> User | None:
        row = await self.db.row("SELECT * FROM users WHERE id = ?", (user_id,))
        return User.model_validate(dict(row)) if row else None

    async def set_language(self, user_id: int, language: Lang | None) -> None:
        await self.db.write("UPDATE users SET language = ? WHERE id = ?", (language, user_id))
        self._cache.pop(user_id)

    async def set_active(self, user_id: int, active: bool) -> None:
        await self.db.write("UPDATE users SET active = ? WHERE id = ?", (active, user_id))
        self._cache.pop(user_id)

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
        await self.db.write(
            """UPDATE users SET
                   nudges = COALESCE(?, nudges),
                   follow_up_after = COALESCE(?, follow_up_after),
                   follow_up_repeat = COALESCE(?, follow_up_repeat),
                   digest = COALESCE(?, digest)
               WHERE id = ?""",
            (nudges, follow_up_after, follow_up_repeat, digest, user_id),
        )
        self._cache.pop(user_id)

    async def set_timezone(self, user_id: int, timezone: str | None) -> None:
        await self.db.write("UPDATE users SET timezone = ? WHERE id = ?", (timezone, user_id))
        self._cache.pop(user_id)

    async def digest_zones(self) -> list[str]:
        """The time zones of active users with the digest on ("": the operator's)."""
        rows = await self.db.rows(
            "SELECT DISTINCT COALESCE(timezone, '') FROM users WHERE digest = 1 AND active = 1"
        )
        return sorted(row[0] for row in rows)

    # -- the step of a guided flow ----------------------------------------------------------

    async def step(self, user_id: int) -> GuidedStep | None:
        # Asked on every message: remembered, as this process is the only writer.
        if user_id in self._steps:
            return self._steps[user_id]
        row = await self.db.row(
            "SELECT step, data, since FROM guided_steps WHERE user_id = ?", (user_id,)
        )
        step = GuidedStep(kind=row[0], data=json.loads(row[1]), since=row[2]) if row else None
        self._steps[user_id] = step
        return step

    async def set_step(self, user_id: int, kind: str, data: dict[str, str], now: datetime) -> None:
        """Wait for `kind` from the user next (replacing any step they were in)."""
        await self.db.write(
            """INSERT INTO guided_steps (user_id, step, data, since) VALUES (?, ?, ?, ?)
               ON CONFLICT (user_id) DO UPDATE SET
                   step = excluded.step, data = excluded.data, since = excluded.since""",
            (user_id, kind, json.dumps(data, ensure_ascii=False), epoch(now)),
        )
        self._steps[user_id] = GuidedStep(kind=kind, data=dict(data), since=epoch(now))

    async def clear_step(self, user_id: int) -> bool:
        """End the user's guided step; whether there was one."""
        if user_id in self._steps and self._steps[user_id] is None:
            return False  # every command ends a step: most have none to end
        rows = await self.db.write(
            "DELETE FROM guided_steps WHERE user_id = ? RETURNING user_id", (user_id,)
        )
        self._steps[user_id] = None
        return bool(rows)

    async def export(self, user_id: int) -> dict[str, object]:
        row = await self.db.row("SELECT * FROM users WHERE id = ?", (user_id,))
        step = await self.db.row(
            "SELECT step, data, since FROM guided_steps WHERE user_id = ?", (user_id,)
        )
        return {"user": dict(row) if row else None, "guided_step": dict(step) if step else None}

    async def delete(self, user_id: int) -> None:
        """Erase the user; every table refers to users with ON DELETE CASCADE."""
        await self.db.rows("DELETE FROM users WHERE id = ?", (user_id,))
        self._cache.pop(user_id)
        self._steps.pop(user_id)
