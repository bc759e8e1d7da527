"""Durable polling: the inbox of fetched updates, the outbox of their unsent replies, and
the dead letters (updates set aside because they cannot be parsed or keep failing)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from bot.storage.database import Database, epoch


class Inbox:
    """Updates saved before they are handled, and the messages they still have to send."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def receive(self, updates: Sequence[tuple[int, int | None, str]]) -> set[int]:
        """Save fetched updates (id, sender, JSON) in the inbox; the ids that are new.

        An update saved or handled before (Telegram sends unconfirmed ones again) is not new.
        """
        if not updates:
            return set()
        rows = ",".join("(?, ?, ?)" for _ in updates)
        params = tuple(value for update in updates for value in update)
        saved = await self.db.write(
            f"""INSERT OR IGNORE INTO inbox (update_id, user_id, payload)
                SELECT column1, column2, column3 FROM (VALUES {rows})
                WHERE column1 NOT IN (SELECT update_id FROM processed_updates)
                RETURNING update_id""",
            params,
        )
        return {row[0] for row in saved}

    async def unhandled(self) -> list[tuple[int, str]]:
        """(update id, JSON) of the updates saved but not handled, oldest first."""
        rows = await self.db.rows("SELECT update_id, payload FROM inbox ORDER BY update_id")
        return [(row[0], row[1]) for row in rows]

    async def mark_processed(
        self, update_id: int, now: datetime, outbox: str | None = None
    ) -> None:
        """Mark the update handled, with the messages it still has to send (if any)."""
        await self.db.write(
            "INSERT OR IGNORE INTO processed_updates (update_id, at, outbox) VALUES (?, ?, ?)",
            (update_id, epoch(now), outbox),
        )

    async def unsent(self) -> list[tuple[int, str]]:
        """(update id, saved messages) of handled updates whose messages were not sent."""
        rows = await self.db.rows(
            "SELECT update_id, outbox FROM processed_updates WHERE outbox IS NOT NULL "
            "ORDER BY update_id"
        )
        return [(row[0], row[1]) for row in rows]

    async def mark_sent(self, update_ids: Sequence[int]) -> None:
        if not update_ids:
            return
        marks = ",".join("?" * len(update_ids))
        await self.db.write(
            f"UPDATE processed_updates SET outbox = NULL WHERE update_id IN ({marks})",
            tuple(update_ids),
        )

    async def count_failure(self, update_id: int) -> int | None:
        """One more failed try of a saved update; its tries so far (None: not in the inbox)."""
        row = await self.db.write(
            "UPDATE inbox SET attempts = attempts + 1 WHERE update_id = ? RETURNING attempts",
            (update_id,),
        )
        return int(row[0][0]) if row else None

    async def set_aside(
        self,
        update_id: int,
        sender: tuple[int | None, int | None],
        error: str,
        now: datetime,
        outbox: str | None,
    ) -> None:
        """Move a saved update to the dead letters with its error, marked handled with the
        messages it still has to send; `sender` is its (user, chat), if known."""
        user_id, chat_id = sender
        async with self.db.transaction():
            await self.db.write(
                """INSERT OR REPLACE INTO dead_letters
                       (update_id, user_id, chat_id, payload, error, at)
                   SELECT update_id, ?, ?, payload, ?, ? FROM inbox WHERE update_id = ?""",
                (user_id, chat_id, error, epoch(now), update_id),
            )
            await self.mark_processed(update_id, now, outbox)

    async def set_aside_since(self, since: datetime) -> int:
        """How many updates were set aside since `since`."""
        row = await self.db.row("SELECT COUNT(*) FROM dead_letters WHERE at >= ?", (epoch(since),))
        return int(row[0]) if row else 0

    async def prune_dead_letters(self, before: datetime) -> int:
        """Delete dead letters set aside before `before`; how many."""
        rows = await self.db.write(
            "DELETE FROM dead_letters WHERE at < ? RETURNING update_id", (epoch(before),)
        )
        return len(rows)

    async def export(self, user_id: int) -> dict[str, object]:
        """The user's updates that were set aside, with their error."""
        rows = await self.db.rows(
            "SELECT update_id, at, error, payload FROM dead_letters WHERE user_id = ? "
            "ORDER BY update_id",
            (user_id,),
        )
        return {"dead_letters": [dict(row) for row in rows]}

    async def prune_processed(self, before: datetime) -> None:
        await self.db.write("DELETE FROM processed_updates WHERE at < ?", (epoch(before),))

    async def forget_user(self, user_id: int) -> None:
        """Drop a deleted user's saved updates and their replies still waiting to be sent."""
        # Their updates saved but not handled yet: a chat's earlier updates are handled
        # before its /delete, so these came later and are still queued in memory; only
        # their copy for a crash goes.
        await self.db.rows("DELETE FROM inbox WHERE user_id = ?", (user_id,))
        await self.db.rows(
            "DELETE FROM dead_letters WHERE user_id = ? OR chat_id = ?", (user_id, user_id)
        )
        # Messages to this user still waiting to be sent (after a crash) go as well.
        await self.db.rows(
            """UPDATE processed_updates SET outbox = NULL WHERE outbox IS NOT NULL
               AND EXISTS (SELECT 1 FROM json_each(outbox)
                           WHERE json_extract(value, '$.chat_id') = ?)""",
            (user_id,),
        )


def set_aside_since(path: Path, since: datetime) -> int | None:
    """For `python -m bot health`, without migrating or writing: updates set aside since
    `since`, or None if the database (or its dead letters) is not there yet."""
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            row = connection.execute(
                "SELECT COUNT(*) FROM dead_letters WHERE at >= ?", (epoch(since),)
            ).fetchone()
    except sqlite3.Error:
        return None
    return int(row[0])
