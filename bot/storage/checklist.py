"""Checklist progress per user."""

from __future__ import annotations

from datetime import datetime

from bot.storage.database import Database, epoch


class Checklist:
    """Which checklist items each user has ticked."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def done(self, user_id: int) -> set[str]:
        rows = await self.db.rows(
            "SELECT item_id FROM checklist_progress WHERE user_id = ?", (user_id,)
        )
        return {row[0] for row in rows}

    async def mark(self, user_id: int, item_id: str, done: bool, now: datetime) -> None:
        if done:
            await self.db.write(
                """INSERT INTO checklist_progress (user_id, item_id, done_at) VALUES (?, ?, ?)
                   ON CONFLICT (user_id, item_id) DO NOTHING""",
                (user_id, item_id, epoch(now)),
            )
        else:
            await self.db.write(
                "DELETE FROM checklist_progress WHERE user_id = ? AND item_id = ?",
                (user_id, item_id),
            )

    async def export(self, user_id: int) -> dict[str, object]:
        rows = await self.db.rows(
            "SELECT item_id, done_at FROM checklist_progress WHERE user_id = ? ORDER BY item_id",
            (user_id,),
        )
        return {"checklist_progress": [dict(row) for row in rows]}
