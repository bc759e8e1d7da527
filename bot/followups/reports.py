"""What a user gets back about their network: the import's summary and the progress picture."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.domain import Lang
from bot.followups import progress_chart
from bot.followups.importing import plan_import
from bot.followups.linkedin_export import ExportContent
from bot.followups.tracker import RequestTracker
from bot.reply import Action, ActionKind, Block, Button, Document, Reply


class Reports:
    """LinkedIn's data export merged into the requests, and the last 12 weeks as a PNG."""

    def __init__(self, tracker: RequestTracker) -> None:
        self.tracker = tracker

    async def import_export(
        self, user_id: int, lang: Lang, content: ExportContent, now: datetime
    ) -> Reply:
        """Merge a parsed export into the user's requests, in one transaction, and report."""
        policy = self.tracker.policy_for(await self.tracker.store.users.get(user_id))
        limit = self.tracker.kb.limit("linkedin")
        days = limit.withdraw_after_days if limit else None
        plan = plan_import(
            content,
            await self.tracker.store.follow_ups.of_platform(user_id, "linkedin"),
            policy,
            timedelta(days=days) if days else None,
            now,
        )
        await self.tracker.store.follow_ups.import_rows(user_id, plan.new, plan.accepted, now)
        blocks = [
            Block(self.tracker.ui(lang, "import_title"), "title"),
            Block(
                self.tracker.ui(
                    lang, "import_counts", added=plan.added, merged=plan.merged,
                    settled=plan.settled, skipped=len(plan.skipped),
                )
            ),
        ]  # fmt: skip
        if plan.stale:
            blocks.append(Block(self.tracker.ui(lang, "import_stale", count=plan.stale)))
        if plan.expired:
            blocks.append(
                Block(self.tracker.ui(lang, "import_expired", count=plan.expired), "note")
            )
        if plan.skipped:
            lines = ", ".join(f"{row.file} {row.line}" for row in plan.skipped[:5])
            more = "" if len(plan.skipped) <= 5 else " …"
            blocks.append(
                Block(self.tracker.ui(lang, "import_skipped", lines=lines + more), "note")
            )
        if not content.invitations and not content.connections:
            blocks = [Block(self.tracker.ui(lang, "import_nothing"))]
        pending = Button(self.tracker.ui(lang, "button_pending"), Action(ActionKind.PENDING))
        progress = Button(self.tracker.ui(lang, "button_progress"), Action(ActionKind.PROGRESS))
        return Reply(tuple(blocks), ((pending,), (progress,)))

    async def progress(self, user_id: int, lang: Lang, now: datetime) -> Reply:
        """`/fortschritt`: the last 12 weeks as a PNG with a one-line caption, or what to do."""
        user = await self.tracker.store.users.get(user_id)
        zone = self.tracker.zone_for(user)
        since = now - timedelta(weeks=progress_chart.WEEKS + 1)
        rows = await self.tracker.store.follow_ups.sent_for_progress(user_id, since)
        done = await self.tracker.store.checklist.done(user_id)
        data = progress_chart.build_progress_data(
            rows,
            now,
            zone,
            self.tracker.kb.checklist_done(done),
            len(self.tracker.kb.checklist),
            lang,
            self.tracker.kb.ui.prefixed(lang, "chart_"),
        )
        if not progress_chart.has_data(data):
            return Reply((Block(self.tracker.ui(lang, "progress_empty")),))
        # Drawing takes a few hundred milliseconds of CPU: not on the event loop.
        png = await asyncio.to_thread(progress_chart.render_png, data)
        name = "fortschritt.png" if lang == "de" else "progress.png"
        pending = (Button(self.tracker.ui(lang, "button_pending"), Action(ActionKind.PENDING)),)
        return Reply(
            (Block(progress_chart.caption(data)),),
            (pending,),
            documents=(Document(name, png, photo=True),),
        )
