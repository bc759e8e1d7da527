"""Logged connection requests, their events, nudge claims and the weekly digests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel

from bot.domain import Direction, FollowUp, NewFollowUp, Platform, State, User
from bot.storage.database import Database, epoch


class Event(BaseModel):
    at: int
    event: str
    detail: str | None


# Which requests a change may reach (SQL literals, never user input): snoozing needs an open
# one; settling also reaches an expired one (a late "accepted"); a correction reaches any.
_OPEN = "('pending')"
_SETTLEABLE = "('pending', 'expired')"
_ANY = "('pending', 'expired', 'accepted', 'declined', 'withdrawn')"


class FollowUps:
    """Connection requests and everything the nudge sweep and the digest record about them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        user_id: int,
        platform: Platform,
        direction: Direction,
        name: str,
        note: str | None,
        now: datetime,
        first_nudge: datetime,
    ) -> FollowUp:
        async with self.db.transaction():
            row = await self.db.row(
                """INSERT INTO follow_ups
                       (user_id, platform, direction, name, note, created_at, next_nudge_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *""",
                (user_id, platform, direction, name, note, epoch(now), epoch(first_nudge)),
            )
            assert row is not None
            follow_up = FollowUp.model_validate(dict(row))
            await self._event(follow_up.id, now, "created", direction)
        return follow_up

    async def _event(
        self, follow_up_id: int, now: datetime, event: str, detail: str | None
    ) -> None:
        await self.db.rows(
            "INSERT INTO follow_up_events (follow_up_id, at, event, detail) VALUES (?, ?, ?, ?)",
            (follow_up_id, epoch(now), event, detail),
        )

    async def get(self, user_id: int, follow_up_id: int) -> FollowUp | None:
        """The request if it exists and belongs to this user (anything else: None)."""
        row = await self.db.row(
            "SELECT * FROM follow_ups WHERE id = ? AND user_id = ?", (follow_up_id, user_id)
        )
        return FollowUp.model_validate(dict(row)) if row else None

    async def pending(self, user_id: int) -> list[FollowUp]:
        rows = await self.db.rows(
            """SELECT * FROM follow_ups WHERE user_id = ? AND state = 'pending'
               ORDER BY created_at, id""",
            (user_id,),
        )
        return [FollowUp.model_validate(dict(row)) for row in rows]

    async def history(self, follow_up_id: int) -> list[Event]:
        rows = await self.db.rows(
            "SELECT at, event, detail FROM follow_up_events WHERE follow_up_id = ? ORDER BY id",
            (follow_up_id,),
        )
        return [Event.model_validate(dict(row)) for row in rows]

    async def set_state(
        self, user_id: int, follow_up_id: int, state: State, now: datetime
    ) -> FollowUp | None:
        """Settle an open or expired request at `now`; None if not this user's or settled.

        An expired request may still be settled: a late "accepted" keeps its real date.
        """
        return await self._change(
            user_id, follow_up_id,
            "state = ?, next_nudge_at = NULL, claimed_at = NULL, closed_at = ?",
            (state, epoch(now)), now, state, None, _SETTLEABLE,
        )  # fmt: skip

    async def snooze(
        self, user_id: int, follow_up_id: int, until: datetime, now: datetime
    ) -> FollowUp | None:
        """Move only the next nudge of an open request."""
        return await self._change(
            user_id, follow_up_id, "next_nudge_at = ?", (epoch(until),), now, "snoozed",
            until.isoformat(), _OPEN,
        )  # fmt: skip

    async def _change(
        self,
        user_id: int,
        follow_up_id: int,
        assignments: str,
        values: tuple[object, ...],
        now: datetime,
        event: str,
        detail: str | None,
        states: str,
    ) -> FollowUp | None:
        """Update a request of this user in `states` and record the event, atomically.

        `assignments` and `states` are literals from this module, never user input; values
        are bound.
        """
        async with self.db.transaction():
            row = await self.db.row(
                f"""UPDATE follow_ups SET {assignments}
                    WHERE id = ? AND user_id = ? AND state IN {states} RETURNING *""",
                (*values, follow_up_id, user_id),
            )
            if row is not None:
                await self._event(follow_up_id, now, event, detail)
        return FollowUp.model_validate(dict(row)) if row else None

    async def delete(self, user_id: int, follow_up_id: int) -> bool:
        rows = await self.db.write(
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
        rows = await self.db.write(
            """UPDATE follow_ups SET claimed_at = ?
               WHERE id IN (
                   SELECT f.id FROM follow_ups AS f JOIN users AS u ON u.id = f.user_id
                   WHERE f.next_nudge_at <= ? AND f.claimed_at IS NULL
                     AND u.active = 1 AND u.nudges = 1
                   ORDER BY f.next_nudge_at LIMIT ?)
               RETURNING *""",
            (epoch(now), epoch(now), limit),
        )
        # Hot path (hundreds of rows per sweep): the schema's CHECK constraints already
        # guarantee the types, so the rows are not validated a second time.
        return sorted(
            (FollowUp.model_construct(**dict(row)) for row in rows),
            key=lambda f: (f.next_nudge_at or 0, f.id),
        )

    async def complete_nudge(
        self,
        follow_up_id: int,
        sent_at: datetime,
        next_at: datetime,
        event: str = "nudged",
        *,
        advised_withdraw: bool = False,
    ) -> None:
        """Record a sent nudge and when the next one (or the expiry) falls due."""
        async with self.db.transaction():
            await self.db.rows(
                """UPDATE follow_ups SET nudges_sent = nudges_sent + 1,
                       next_nudge_at = CASE WHEN state = 'pending' THEN ? END,
                       claimed_at = NULL, last_nudge_at = ?,
                       advised_withdraw = MAX(advised_withdraw, ?)
                   WHERE id = ?""",
                (epoch(next_at), epoch(sent_at), advised_withdraw, follow_up_id),
            )
            await self._event(
                follow_up_id, sent_at, event, "withdraw" if advised_withdraw else None
            )

    async def release(self, follow_up_id: int, due: datetime | None = None) -> None:
        """Give a claim back unsent, optionally due at another time (quiet hours)."""
        await self.db.write(
            """UPDATE follow_ups SET claimed_at = NULL,
                   next_nudge_at = CASE WHEN state = 'pending' THEN COALESCE(?, next_nudge_at) END
               WHERE id = ?""",
            (epoch(due) if due else None, follow_up_id),
        )

    async def expire(self, follow_up_id: int, now: datetime) -> None:
        """No more nudges; the request stays, and can still be settled late."""
        async with self.db.transaction():
            await self.db.rows(
                """UPDATE follow_ups SET state = 'expired', next_nudge_at = NULL,
                       claimed_at = NULL, closed_at = ?
                   WHERE id = ? AND state = 'pending'""",
                (epoch(now), follow_up_id),
            )
            await self._event(follow_up_id, now, "expired", None)

    async def of_platform(self, user_id: int, platform: Platform) -> list[FollowUp]:
        """All of the user's requests on one platform, in any state (to merge an import)."""
        rows = await self.db.rows(
            "SELECT * FROM follow_ups WHERE user_id = ? AND platform = ? ORDER BY id",
            (user_id, platform),
        )
        return [FollowUp.model_validate(dict(row)) for row in rows]

    async def sent_for_progress(self, user_id: int, since: datetime) -> list[FollowUp]:
        """Sent requests logged since `since`, and every sent one still open (the picture)."""
        rows = await self.db.rows(
            """SELECT * FROM follow_ups WHERE user_id = ? AND direction = 'sent'
               AND (created_at >= ? OR state = 'pending') ORDER BY created_at""",
            (user_id, epoch(since)),
        )
        return [FollowUp.model_validate(dict(row)) for row in rows]

    async def import_rows(
        self,
        user_id: int,
        new: Sequence[NewFollowUp],
        accepted: Sequence[tuple[int, datetime]],
        now: datetime,
    ) -> None:
        """Store an import in one transaction: new rows, and open ones settled as accepted.

        Nothing is half-imported: a failure rolls every row back.
        """
        async with self.db.transaction():
            first = await self.db.row("SELECT COALESCE(MAX(id), 0) FROM follow_ups")
            start = int(first[0]) if first else 0
            await self.db.many(
                """INSERT INTO follow_ups (id, user_id, platform, direction, name, note, state,
                       created_at, nudges_sent, next_nudge_at, closed_at, advised_withdraw,
                       profile_url)
                   VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    (start + number, user_id, row.platform, row.direction, row.name, row.state,
                     row.created_at, row.nudges_sent, row.next_nudge_at, row.closed_at,
                     row.advised_withdraw, row.profile_url)
                    for number, row in enumerate(new, start=1)
                ],
            )  # fmt: skip
            await self.db.many(
                """INSERT INTO follow_up_events (follow_up_id, at, event, detail)
                   VALUES (?, ?, ?, ?)""",
                [(start + number, epoch(now), "imported", row.state)
                 for number, row in enumerate(new, start=1)],
            )  # fmt: skip
            for follow_up_id, on in accepted:
                await self._change(
                    user_id, follow_up_id,
                    "state = 'accepted', next_nudge_at = NULL, claimed_at = NULL, closed_at = ?",
                    (epoch(on),), now, "accepted", "connections", _SETTLEABLE,
                )  # fmt: skip

    async def closed(self, user_id: int, since: datetime) -> list[FollowUp]:
        """The user's settled and expired requests closed since `since`, newest first."""
        rows = await self.db.rows(
            """SELECT * FROM follow_ups WHERE user_id = ? AND state != 'pending'
               AND closed_at >= ? ORDER BY closed_at DESC, id DESC""",
            (user_id, epoch(since)),
        )
        return [FollowUp.model_validate(dict(row)) for row in rows]

    async def correct(
        self,
        user_id: int,
        follow_up_id: int,
        platform: Platform,
        direction: Direction,
        name: str,
        note: str | None,
        now: datetime,
    ) -> FollowUp | None:
        """Change what was logged (a typo in the name, the wrong platform)."""
        return await self._change(
            user_id, follow_up_id, "platform = ?, direction = ?, name = ?, note = ?",
            (platform, direction, name, note), now, "corrected", None, _ANY,
        )  # fmt: skip

    async def move_nudge(self, follow_up_id: int, due: datetime) -> None:
        """Reschedule the next nudge of an open request that is not being sent right now."""
        await self.db.write(
            """UPDATE follow_ups SET next_nudge_at = ?
               WHERE id = ? AND state = 'pending' AND claimed_at IS NULL
                 AND next_nudge_at IS NOT NULL""",
            (epoch(due), follow_up_id),
        )

    async def purge_closed(self, before: datetime) -> int:
        """Delete requests closed before `before` (the retention period); the number deleted."""
        rows = await self.db.write(
            "DELETE FROM follow_ups WHERE state != 'pending' AND closed_at < ? RETURNING id",
            (epoch(before),),
        )
        return len(rows)

    async def stale_claims(self) -> list[FollowUp]:
        rows = await self.db.rows(
            "SELECT * FROM follow_ups WHERE claimed_at IS NOT NULL ORDER BY id"
        )
        return [FollowUp.model_validate(dict(row)) for row in rows]

    # -- weekly digest ---------------------------------------------------------------------

    async def digest_candidates(self, week: str, zone: str = "") -> list[User]:
        """Active users in time zone `zone` ("": the operator's) with the digest on who have
        not had this week's digest yet."""
        rows = await self.db.rows(
            """SELECT * FROM users WHERE digest = 1 AND active = 1
               AND COALESCE(timezone, '') = ? AND NOT EXISTS (
                   SELECT 1 FROM digests AS d WHERE d.user_id = users.id AND d.week = ?)""",
            (zone, week),
        )
        return [User.model_validate(dict(row)) for row in rows]

    async def claim_digest(self, user_id: int, week: str, now: datetime) -> bool:
        """Mark this week's digest as taken; False if it already was (at most once)."""
        rows = await self.db.write(
            "INSERT INTO digests (user_id, week, sent_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING user_id",
            (user_id, week, epoch(now)),
        )
        return bool(rows)

    async def unclaim_digest(self, user_id: int, week: str) -> None:
        """Give this week's digest back after a failed send, so a later sweep retries."""
        await self.db.write("DELETE FROM digests WHERE user_id = ? AND week = ?", (user_id, week))

    async def export(self, user_id: int) -> dict[str, object]:
        async def rows(sql: str) -> list[dict[str, object]]:
            return [dict(row) for row in await self.db.rows(sql, (user_id,))]

        return {
            "follow_ups": await rows("SELECT * FROM follow_ups WHERE user_id = ? ORDER BY id"),
            "follow_up_events": await rows(
                """SELECT e.* FROM follow_up_events AS e JOIN follow_ups AS f
                   ON f.id = e.follow_up_id WHERE f.user_id = ? ORDER BY e.id"""
            ),
            "digests": await rows("SELECT week, sent_at FROM digests WHERE user_id = ?"),
        }
