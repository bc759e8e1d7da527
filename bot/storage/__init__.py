"""The only place that speaks SQL: one SQLite file, one migration list, a repository each.

Shared bottom layer. May import `bot.domain` only (besides aiosqlite and pydantic); every
other layer reaches the database through `Storage`, whose repositories return pydantic
objects. Each repository owns its tables:

- `users`: users and their settings;
- `checklist` and `questions`: checklist progress and the question log;
- `follow_ups`: logged connection requests, their events, nudge claims and digests;
- `inbox`: durable polling's saved updates, their unsent replies and the dead letters.

They share one connection (`database.Database`) with its write lock, so a unit of work
spans them all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.storage.checklist import Checklist
from bot.storage.database import Database
from bot.storage.follow_ups import Event, FollowUps
from bot.storage.inbox import Inbox
from bot.storage.questions import DayCounts, LoggedQuestion, QuestionLog, Stats
from bot.storage.users import Users

__all__ = ["DayCounts", "Event", "LoggedQuestion", "Stats", "Storage"]


class Storage:
    """The repositories over one connection, and what spans them (units of work, privacy)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.users = Users(db)
        self.checklist = Checklist(db)
        self.questions = QuestionLog(db)
        self.follow_ups = FollowUps(db)
        self.inbox = Inbox(db)

    @classmethod
    async def open(cls, path: Path | str) -> Storage:
        """Open (creating folder and file), tune and migrate the database."""
        return cls(await Database.open(path))

    async def close(self) -> None:
        await self.db.close()

    async def check_writable(self) -> None:
        await self.db.check_writable()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[None]:
        """All writes inside (in this task), in any repository, commit together or not at all.

        The durable polling loop handles each Telegram update in one unit together with its
        "processed" mark, so a crash never leaves half an update's changes behind.
        """
        async with self.db.unit_of_work():
            yield

    async def schema_version(self) -> int:
        return await self.db.schema_version()

    async def backup(self, target: Path) -> None:
        await self.db.backup(target)

    async def export_user(self, user_id: int) -> dict[str, object]:
        """Every row about one user, table by table (for /export)."""
        return {
            **await self.users.export(user_id),
            **await self.checklist.export(user_id),
            **await self.follow_ups.export(user_id),
            **await self.questions.export(user_id),
            **await self.inbox.export(user_id),
        }

    async def delete_user(self, user_id: int) -> None:
        """Erase the user and everything saved about them, in one transaction."""
        async with self.db.transaction():
            await self.users.delete(user_id)
            await self.inbox.forget_user(user_id)
