"""Checking an invitation text against the platform's limits: /entwurf (/draft).

An explicit action apart from the memo a user keeps with a request: the text is counted
against LinkedIn's 300 (about 200 free) and XING's Premium rule, with the dated updates of
the knowledge entry behind each limit.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain import GuidedStep, Lang, Platform
from bot.followups.requests import platform_word
from bot.followups.tracker import RequestTracker
from bot.reply import Action, ActionKind, Block, Button, Reply


class DraftCheck:
    """The draft menu, the guided step that waits for the text, and the check itself."""

    def __init__(self, tracker: RequestTracker) -> None:
        self.tracker = tracker

    def draft_menu(self, lang: Lang) -> Reply:
        buttons = tuple(
            Button(
                self.tracker.ui(lang, f"platform_{platform}"), Action(ActionKind.DRAFT, platform)
            )
            for platform in ("linkedin", "xing")
        )
        return Reply(
            (Block(self.tracker.ui(lang, "draft_choose")),),
            (buttons, self.tracker.cancel_row(lang)),
        )

    async def draft(self, user_id: int, lang: Lang, args: str, now: datetime) -> Reply:
        """`/entwurf [linkedin|xing] [text]`: check it now, or ask for what is missing."""
        words = args.split(maxsplit=1)
        platform = platform_word(words[0]) if words else None
        if platform is None:
            return self.draft_menu(lang)
        if len(words) == 1:
            return await self.start_draft(user_id, lang, platform, now)
        return self.check_draft(lang, platform, words[1])

    async def start_draft(self, user_id: int, lang: Lang, platform: str, now: datetime) -> Reply:
        if platform not in ("xing", "linkedin"):
            return Reply((), notice=self.tracker.ui(lang, "stale_button"))
        await self.tracker.store.users.set_step(user_id, "draft", {"platform": platform}, now)
        return Reply(
            (Block(self.tracker.ui(lang, f"draft_ask_{platform}")),),
            (self.tracker.cancel_row(lang),),
        )

    async def draft_given(self, user_id: int, lang: Lang, step: GuidedStep, text: str) -> Reply:
        await self.tracker.store.users.clear_step(user_id)
        return self.check_draft(lang, step.data.get("platform", "linkedin"), text)

    def check_draft(self, lang: Lang, platform: str, text: str) -> Reply:
        """Characters against the platform's limits, with the dated updates behind them."""
        chosen: Platform = "xing" if platform == "xing" else "linkedin"
        draft = text.strip()
        length = len(draft)
        blocks = [Block(self.tracker.ui(lang, f"draft_length_{chosen}", length=length), "title")]
        limit = self.tracker.kb.limit(chosen)
        if limit is not None:
            texts = limit.text(lang)
            if limit.note_max and length > limit.note_max:
                blocks.append(Block(texts.over_max.format(limit=limit.note_max, length=length)))
            elif limit.note_soft and length > limit.note_soft:
                blocks.append(Block(texts.over_soft.format(limit=limit.note_soft, length=length)))
            elif limit.note_max:
                blocks.append(
                    Block(
                        self.tracker.ui(
                            lang, "draft_fits", max=limit.note_max, soft=limit.note_soft or 0
                        )
                    )
                )
            if texts.always:
                blocks.append(Block(texts.always))
            entry = self.tracker.kb.entry(limit.entry)
            for update in entry.updates if entry else ():
                blocks.append(Block(self.tracker.kb.update_line(lang, update), "note"))
        return Reply(tuple(blocks))
