"""The question log: what was asked, how it was answered, what the user did with offers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from bot.domain import Lang
from bot.storage.database import Database, epoch

# The feedback of a question whose answer the user found did not fit ("Passt nicht?");
# an offer tapped afterwards replaces it with that entry's id, "Nichts davon" with "none".
WRONG = "wrong"
# The questions the bot did not settle: asked back, declined, or given feedback on (only
# unsure, declined and "Passt nicht?" answers get any).
_UNSETTLED = "(outcome IN ('clarify', 'decline') OR feedback IS NOT NULL)"


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
    wrong_week: int  # answers the user marked as not fitting ("Passt nicht?")
    unanswered: list[tuple[str, int]]


class QuestionLog:
    """Logged questions, their feedback, and the figures for /stats."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def log(
        self,
        user_id: int,
        text: str,
        lang: Lang,
        outcome: Literal["answer", "clarify", "decline", "smalltalk"],
        entry_id: str | None,
        score: float | None,
        now: datetime,
    ) -> None:
        await self.db.write(
            """INSERT INTO question_log (user_id, asked_at, text, lang, outcome, entry_id, score)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (user_id, epoch(now), text, lang, outcome, entry_id, score),
        )

    async def feedback(self, user_id: int, feedback: str, since: datetime) -> bool:
        """Attach `feedback` to the user's latest unsure or declined question after `since`,
        or to an answered one the user marked as not fitting ("Passt nicht?")."""
        rows = await self.db.write(
            f"""UPDATE question_log SET feedback = ? WHERE id = (
                   SELECT id FROM question_log WHERE user_id = ? AND asked_at >= ?
                   AND {_UNSETTLED} ORDER BY id DESC LIMIT 1)
               RETURNING id""",
            (feedback, user_id, epoch(since)),
        )
        return bool(rows)

    async def mark_wrong(
        self, user_id: int, entry_ids: Sequence[str], since: datetime
    ) -> str | None:
        """Mark the user's latest question after `since` answered with one of `entry_ids`
        as answered wrongly ("Passt nicht?"); its text, or None if there is none."""
        marks = ", ".join("?" for _ in entry_ids)
        rows = await self.db.write(
            f"""UPDATE question_log SET feedback = ? WHERE id = (
                   SELECT id FROM question_log WHERE user_id = ? AND asked_at >= ?
                   AND outcome = 'answer' AND entry_id IN ({marks})
                   ORDER BY id DESC LIMIT 1)
               RETURNING text""",
            (WRONG, user_id, epoch(since), *entry_ids),
        )
        return str(rows[0][0]) if rows else None

    async def unanswered(self, since: datetime) -> list[LoggedQuestion]:
        """Questions declined or clarified since `since`, and those the user gave feedback
        on: an offer refused ("Nichts davon") or an answer that did not fit."""
        rows = await self.db.rows(
            f"""SELECT text, lang, outcome, entry_id, feedback FROM question_log
               WHERE asked_at >= ? AND {_UNSETTLED}
               ORDER BY id""",
            (epoch(since),),
        )
        return [
            LoggedQuestion(text=r[0], lang=r[1], outcome=r[2], entry_id=r[3], feedback=r[4])
            for r in rows
        ]

    async def stats(self, now: datetime, day_start: datetime, top: int = 5) -> Stats:
        """Figures for /stats; `day_start` is midnight in the operator's time zone."""
        week_ago = epoch(now - timedelta(days=7))
        starts = [day_start - timedelta(days=back) for back in range(6, -1, -1)]
        bounds = [*map(epoch, starts), epoch(now) + 1]
        day_of = " ".join(f"WHEN asked_at < ? THEN {n}" for n in range(len(starts)))
        counts = await self.db.rows(
            f"""SELECT CASE {day_of} END AS day, outcome, COUNT(*) FROM question_log
                WHERE asked_at >= ? AND asked_at < ? GROUP BY day, outcome""",
            (*bounds[1:], bounds[0], bounds[-1]),
        )
        per_day = [DayCounts(day=start.date().isoformat()) for start in starts]
        field = {"clarify": "clarified", "decline": "declined"}
        for day, outcome, n in counts:
            name = field.get(outcome, "answered")
            setattr(per_day[day], name, getattr(per_day[day], name) + n)
        users = (await self.db.row("SELECT COUNT(*) FROM users") or [0])[0]
        week, declined, wrong = await self.db.row(
            """SELECT COUNT(*), SUM(outcome = 'decline'),
                      SUM(outcome = 'answer' AND feedback IS NOT NULL)
               FROM question_log WHERE asked_at >= ?""",
            (week_ago,),
        ) or (0, 0, 0)
        rows = await self.db.rows(
            f"""SELECT lower(text) AS question, COUNT(*) AS times FROM question_log
               WHERE {_UNSETTLED} AND asked_at >= ?
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
            wrong_week=wrong or 0,
            unanswered=unanswered,
        )

    async def purge(self, before: datetime) -> int:
        """Delete logged questions older than `before`; the number deleted."""
        rows = await self.db.write(
            "DELETE FROM question_log WHERE asked_at < ? RETURNING id", (epoch(before),)
        )
        return len(rows)

    async def top_entries(self, since: datetime, limit: int) -> list[str]:
        """The entries answered most often since `since`, most asked first."""
        rows = await self.db.rows(
            """SELECT entry_id FROM question_log
               WHERE outcome = 'answer' AND entry_id IS NOT NULL AND asked_at >= ?
               GROUP BY entry_id ORDER BY COUNT(*) DESC, entry_id LIMIT ?""",
            (epoch(since), limit),
        )
        return [row[0] for row in rows]

    async def export(self, user_id: int) -> dict[str, object]:
        rows = await self.db.rows(
            """SELECT asked_at, text, lang, outcome, entry_id, score, feedback
               FROM question_log WHERE user_id = ? ORDER BY id""",
            (user_id,),
        )
        return {"question_log": [dict(row) for row in rows]}
