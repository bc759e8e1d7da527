"""Logging connection requests and following them up: the core behind /request and /pending."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain import FollowUp, GuidedStep, Lang, Platform, User
from bot.followups.policy import (
    DECISION_CODES,
    DECISIONS,
    NudgePolicy,
    format_duration,
    zone_named,
)
from bot.followups.requests import (
    MAX_NOTE,
    RequestInput,
    RequestSyntaxError,
    parse_person,
    parse_request,
    platform_word,
)
from bot.knowledge import BUTTON_MAX, KnowledgeBase
from bot.reply import Action, ActionKind, Block, Button, Reply
from bot.storage import Storage

PENDING_SHOWN = 10
THREE_WEEKS = timedelta(days=21)
# A guided step (a name, a draft, a time zone) is forgotten after this long.
STEP_TIMEOUT = timedelta(minutes=30)


class RequestTracker:
    """Requests in, confirmations, lists, nudges and decisions out."""

    def __init__(
        self,
        kb: KnowledgeBase,
        store: Storage,
        policy: NudgePolicy,
        zone: ZoneInfo | None = None,
        retention: timedelta = timedelta(days=90),
    ) -> None:
        self.kb = kb
        self.store = store
        self.policy = policy
        self.zone = zone or ZoneInfo("Europe/Berlin")
        self.retention = retention

    def zone_for(self, user: User | None) -> ZoneInfo:
        """The user's own time zone, else the operator's."""
        return self.zone_for_name(user.timezone if user is not None else None)

    def zone_for_name(self, name: str | None) -> ZoneInfo:
        """A stored time zone name ("" or None: the operator's)."""
        return (zone_named(name) if name else None) or self.zone

    def ui(self, lang: Lang, key: str, **values: object) -> str:
        return self.kb.ui.get(lang, key, **values)

    def policy_for(self, user: User | None) -> NudgePolicy:
        """The user's own delays where they chose some, else the operator's."""
        if user is None:
            return self.policy
        return NudgePolicy(
            timedelta(seconds=user.follow_up_after) if user.follow_up_after else self.policy.after,
            timedelta(seconds=user.follow_up_repeat)
            if user.follow_up_repeat
            else self.policy.repeat,
            self.policy.max_nudges,
        )

    def what(self, lang: Lang, follow_up: FollowUp | RequestInput) -> str:
        return self.ui(lang, f"what_{follow_up.direction}_{follow_up.platform}")

    # -- logging ---------------------------------------------------------------------------

    async def request(self, user_id: int, lang: Lang, args: str, now: datetime) -> Reply:
        """`/request` with arguments logs at once; without, it asks platform and direction."""
        if not args.strip():
            return self._choose(lang)
        try:
            parsed = parse_request(args)
        except RequestSyntaxError as error:
            return Reply(
                (Block(self.ui(lang, error.reason, limit=MAX_NOTE)),), self._choose(lang).buttons
            )
        return await self.log(user_id, lang, parsed, now)

    def _choose(self, lang: Lang) -> Reply:
        rows = tuple(
            (
                Button(
                    self.ui(lang, f"button_request_{platform}_{direction}"),
                    Action(ActionKind.REQUEST, f"{platform}-{direction}"),
                ),
            )
            for direction in ("sent", "received")
            for platform in ("xing", "linkedin")
        )
        return Reply((Block(self.ui(lang, "request_choose")),), (*rows, self.cancel_row(lang)))

    def cancel_row(self, lang: Lang) -> tuple[Button, ...]:
        return (Button(self.ui(lang, "button_cancel"), Action(ActionKind.STEP, "cancel")),)

    # -- the guided flow: one step at a time, kept with the user ----------------------------

    async def start_guided(self, user_id: int, lang: Lang, arg: str, now: datetime) -> Reply:
        """A platform/direction button: remember it with the user and ask for the name."""
        platform, _, direction = arg.partition("-")
        if platform not in ("xing", "linkedin") or direction not in ("sent", "received"):
            return Reply((), notice=self.ui(lang, "stale_button"))
        await self.store.users.set_step(
            user_id, "name", {"platform": platform, "direction": direction}, now
        )
        return Reply((Block(self.ui(lang, "request_ask_name")),), (self.cancel_row(lang),))

    async def step(self, user_id: int, now: datetime) -> GuidedStep | None:
        """The step the user is in, unless it has timed out (then it is dropped)."""
        step = await self.store.users.step(user_id)
        if step is None:
            return None
        if now.timestamp() - step.since > STEP_TIMEOUT.total_seconds():
            await self.store.users.clear_step(user_id)
            return None
        return step

    async def cancel(self, user_id: int, lang: Lang, *, edit: bool = False) -> Reply:
        """/abbrechen or a cancel button: end the step; nothing is logged."""
        had_step = await self.store.users.clear_step(user_id)
        key = "step_cancelled" if had_step else "step_nothing_to_cancel"
        return Reply((Block(self.ui(lang, key)),), edit=edit)

    async def name_given(
        self, user_id: int, lang: Lang, step: GuidedStep, text: str, now: datetime
    ) -> Reply:
        """The answer to "Wie heißt die Person?": logged, or asked again with the reason."""
        platform, direction = step.data["platform"], step.data["direction"]
        try:
            parsed = parse_person(text, platform, direction)  # type: ignore[arg-type]
        except RequestSyntaxError as error:
            return Reply(
                (Block(self.ui(lang, error.reason, limit=MAX_NOTE)),), (self.cancel_row(lang),)
            )
        await self.store.users.clear_step(user_id)
        return await self.log(user_id, lang, parsed, now)

    async def ask_to_confirm(
        self, user_id: int, lang: Lang, step: GuidedStep, text: str, now: datetime
    ) -> Reply:
        """A reply that may not be a name: "Soll ich „…“ als Namen notieren?" Ja / Nein."""
        await self.store.users.set_step(user_id, "confirm_name", {**step.data, "text": text}, now)
        shown = text if len(text) <= 60 else text[:59] + "…"
        buttons = (
            Button(self.ui(lang, "button_yes"), Action(ActionKind.STEP, "yes")),
            Button(self.ui(lang, "button_no"), Action(ActionKind.STEP, "no")),
        )
        return Reply(
            (Block(self.ui(lang, "request_confirm_name", text=shown)),),
            (buttons, self.cancel_row(lang)),
        )

    async def confirmed(
        self, user_id: int, lang: Lang, step: GuidedStep, yes: bool, now: datetime
    ) -> Reply:
        """Ja: log the text as the name. Nein: ask for the name again."""
        if yes:
            return await self.name_given(user_id, lang, step, step.data["text"], now)
        data = {key: value for key, value in step.data.items() if key != "text"}
        await self.store.users.set_step(user_id, "name", data, now)
        return Reply(
            (Block(self.ui(lang, "request_ask_name_again")),), (self.cancel_row(lang),), edit=True
        )

    async def start_correction(self, user_id: int, lang: Lang, arg: str, now: datetime) -> Reply:
        """The "Korrigieren" button under a confirmation: ask for the corrected entry."""
        follow_up = await self._own(user_id, arg)
        if follow_up is None:
            return Reply((), notice=self.ui(lang, "follow_up_gone"))
        await self.store.users.set_step(user_id, "correct", {"id": str(follow_up.id)}, now)
        current = self._summary(lang, follow_up)
        return Reply(
            (Block(self.ui(lang, "request_correct_ask", current=current)),),
            (self.cancel_row(lang),),
        )

    async def correction_given(
        self, user_id: int, lang: Lang, step: GuidedStep, text: str, now: datetime
    ) -> Reply:
        """The corrected entry: a new name (and memo), or with a platform word, all of it."""
        follow_up = await self._own(user_id, step.data.get("id", ""))
        if follow_up is None:
            await self.store.users.clear_step(user_id)
            return Reply((Block(self.ui(lang, "follow_up_gone")),))
        try:
            first = text.split(maxsplit=1)[0] if text.split() else ""
            if platform_word(first) is not None:
                parsed = parse_request(text)
            else:
                parsed = parse_person(text, follow_up.platform, follow_up.direction)
        except RequestSyntaxError as error:
            return Reply(
                (Block(self.ui(lang, error.reason, limit=MAX_NOTE)),), (self.cancel_row(lang),)
            )
        await self.store.users.clear_step(user_id)
        changed = await self.store.follow_ups.correct(
            user_id,
            follow_up.id,
            parsed.platform,
            parsed.direction,
            parsed.name,
            parsed.note,
            now,
        )
        if changed is None:
            return Reply((Block(self.ui(lang, "follow_up_gone")),))
        return self._confirmation(lang, changed, "request_corrected", ())

    async def log(self, user_id: int, lang: Lang, request: RequestInput, now: datetime) -> Reply:
        """Store the request and confirm what was understood, and when the nudge comes.

        The memo is the user's own and never checked against platform rules; checking an
        invitation text is /entwurf.
        """
        user = await self.store.users.get(user_id)
        policy = self.policy_for(user)
        created = FollowUp(
            id=0,
            user_id=user_id,
            platform=request.platform,
            direction=request.direction,
            name=request.name,
            note=request.note,
            state="pending",
            created_at=int(now.timestamp()),
            nudges_sent=0,
            next_nudge_at=None,
        )
        first = self.first_due(created, policy)
        logged_at = datetime.fromtimestamp(created.created_at, tz=now.tzinfo)
        follow_up = await self.store.follow_ups.add(
            user_id,
            request.platform,
            request.direction,
            request.name,
            request.note,
            now,
            first,
        )
        if user is None or user.nudges:
            when = Block(
                self.ui(lang, "request_when", duration=format_duration(first - logged_at, lang))
            )
        else:
            when = Block(self.ui(lang, "request_nudges_off"))
        return self._confirmation(lang, follow_up, "request_saved", (when,))

    def _summary(self, lang: Lang, follow_up: FollowUp) -> str:
        """ "LinkedIn-Einladung an Erika Mustermann" plus the memo, if any."""
        text = f"{self.what(lang, follow_up)} {follow_up.name}"
        if follow_up.note:
            text += "\n" + self.ui(lang, "follow_up_note", note=follow_up.note)
        return text

    def _confirmation(
        self, lang: Lang, follow_up: FollowUp, key: str, extra: tuple[Block, ...]
    ) -> Reply:
        blocks = [Block(self.ui(lang, key, what=self.what(lang, follow_up), name=follow_up.name))]
        if follow_up.note:
            blocks.append(Block(self.ui(lang, "follow_up_note", note=follow_up.note), "note"))
        correct = Button(
            self.ui(lang, "button_correct"), Action(ActionKind.CORRECT, str(follow_up.id))
        )
        pending = Button(self.ui(lang, "button_pending"), Action(ActionKind.PENDING))
        return Reply((*blocks, *extra), ((correct,), (pending,)))

    # -- the list and one request ----------------------------------------------------------

    async def pending(
        self, user_id: int, lang: Lang, now: datetime, *, edit: bool = False
    ) -> Reply:
        open_requests = await self.store.follow_ups.pending(user_id)
        history = (Button(self.ui(lang, "button_history"), Action(ActionKind.HISTORY)),)
        if not open_requests:
            return Reply((Block(self.ui(lang, "pending_empty")),), (history,), edit=edit)
        blocks = [Block(self.ui(lang, "pending_title", count=len(open_requests)), "title")]
        buttons = []
        for follow_up in open_requests[:PENDING_SHOWN]:
            age = format_duration(_whole(follow_up.age(now)), lang, dative=False)
            item = self.ui(
                lang, "pending_item", what=self.what(lang, follow_up), name=follow_up.name,
                age=format_duration(_whole(follow_up.age(now)), lang),
            )  # fmt: skip
            blocks.append(Block(item, "item"))
            label = self._list_label(lang, follow_up.name, follow_up.platform, age)
            buttons.append((Button(label, Action(ActionKind.FOLLOW_UP, str(follow_up.id))),))
        if len(open_requests) > PENDING_SHOWN:
            more = len(open_requests) - PENDING_SHOWN
            blocks.append(Block(self.ui(lang, "pending_more", count=more)))
        blocks.append(Block(self.ui(lang, "pending_hint"), "note"))
        return Reply(tuple(blocks), (*buttons, history), edit=edit)

    def _list_label(self, lang: Lang, name: str, platform: Platform, what: str) -> str:
        """Name first, as people scan for it: "Erika Mustermann · LinkedIn · 22 Tage".

        Too long for a button, the platform goes (the list above names it), then the name
        is shortened.
        """
        full = self.ui(
            lang, "pending_label", name=name, platform=self.ui(lang, f"platform_{platform}"),
            age=what,
        )  # fmt: skip
        if len(full) <= BUTTON_MAX:
            return full
        short = self.ui(lang, "pending_label_short", name=name, age=what)
        if len(short) <= BUTTON_MAX:
            return short
        room = BUTTON_MAX - (len(short) - len(name)) - 1
        return self.ui(lang, "pending_label_short", name=name[:room].rstrip() + "…", age=what)

    async def history(self, user_id: int, lang: Lang, now: datetime) -> Reply:
        """Settled and expired requests of the retention period, newest first."""
        closed = await self.store.follow_ups.closed(user_id, now - self.retention)
        back = (Button(self.ui(lang, "button_back"), Action(ActionKind.PENDING)),)
        days = self.retention.days
        if not closed:
            return Reply((Block(self.ui(lang, "history_empty", days=days)),), (back,), edit=True)
        zone = self.zone_for(await self.store.users.get(user_id))
        blocks = [Block(self.ui(lang, "history_title", count=len(closed), days=days), "title")]
        buttons = []
        for follow_up in closed[:PENDING_SHOWN]:
            label = self.ui(
                lang,
                "history_item",
                what=self.what(lang, follow_up),
                name=follow_up.name,
                state=self.ui(lang, f"state_{follow_up.state}"),
                date=_local_date(follow_up.closed_at, zone, lang),
            )
            blocks.append(Block(label, "item"))
            state = self.ui(lang, f"state_{follow_up.state}")
            button = self._list_label(lang, follow_up.name, follow_up.platform, state)
            buttons.append((Button(button, Action(ActionKind.FOLLOW_UP, str(follow_up.id))),))
        if len(closed) > PENDING_SHOWN:
            blocks.append(Block(self.ui(lang, "pending_more", count=len(closed) - PENDING_SHOWN)))
        return Reply(tuple(blocks), (*buttons, back), edit=True)

    def follow_up_reply(
        self, lang: Lang, follow_up: FollowUp, now: datetime, *, nudge: bool = False
    ) -> Reply:
        """One request with its state buttons; as a nudge, with advice for its situation."""
        what = self.what(lang, follow_up)
        age = format_duration(_whole(follow_up.age(now)), lang)
        if nudge:
            blocks = [
                Block(self.ui(lang, "nudge_title", what=what, name=follow_up.name), "title"),
                Block(self.ui(lang, self._advice(follow_up, now), age=age)),
            ]
            if self.is_last_nudge(follow_up, self.policy, now):
                blocks.append(Block(self.ui(lang, "nudge_last"), "note"))
        else:
            blocks = [
                Block(f"{what} {follow_up.name}", "title"),
                Block(
                    self.ui(
                        lang,
                        "follow_up_open_since",
                        age=age,
                        nudges=follow_up.nudges_sent,
                        max=self.policy.max_nudges,
                    )
                ),
            ]
        if follow_up.note:
            blocks.append(Block(self.ui(lang, "follow_up_note", note=follow_up.note), "note"))
        blocks.append(Block(self.ui(lang, "follow_up_question")))
        return Reply(tuple(blocks), self._decision_buttons(lang, follow_up), edit=not nudge)

    def expired_reply(self, lang: Lang, follow_up: FollowUp, now: datetime) -> Reply:
        """Told once when the last nudge went unanswered; the buttons still settle it."""
        what = self.what(lang, follow_up)
        age = format_duration(_whole(follow_up.age(now)), lang)
        blocks = [
            Block(self.ui(lang, "expired_title", what=what, name=follow_up.name), "title"),
            Block(self.ui(lang, "expired_text", age=age)),
        ]
        expired = follow_up.model_copy(update={"state": "expired"})
        return Reply(tuple(blocks), self._decision_buttons(lang, expired))

    def _closed_reply(self, lang: Lang, follow_up: FollowUp, zone: ZoneInfo) -> Reply:
        state = self.ui(lang, f"state_{follow_up.state}")
        blocks = [
            Block(f"{self.what(lang, follow_up)} {follow_up.name}", "title"),
            Block(
                self.ui(
                    lang, "follow_up_closed_on", state=state,
                    date=_local_date(follow_up.closed_at, zone, lang),
                )
            ),
        ]  # fmt: skip
        if follow_up.note:
            blocks.append(Block(self.ui(lang, "follow_up_note", note=follow_up.note), "note"))
        if follow_up.state == "expired":
            blocks.append(Block(self.ui(lang, "expired_still")))
            return Reply(tuple(blocks), self._decision_buttons(lang, follow_up), edit=True)
        back = Button(self.ui(lang, "button_history"), Action(ActionKind.HISTORY))
        return Reply(tuple(blocks), ((back,),), edit=True)

    # -- when nudges fall due ---------------------------------------------------------------

    def withdraw_at(self, follow_up: FollowUp) -> datetime | None:
        """When an open LinkedIn invitation should get the withdraw advice, if still due."""
        if follow_up.platform != "linkedin" or follow_up.direction != "sent":
            return None
        if follow_up.advised_withdraw:
            return None
        limit = self.kb.limit("linkedin")
        days = limit.withdraw_after_days if limit else None
        if days is None:
            return None
        created = datetime.fromtimestamp(follow_up.created_at, tz=self.zone)
        return created + timedelta(days=days)

    def advise_withdraw(self, follow_up: FollowUp, now: datetime) -> bool:
        """Whether a nudge now carries the advice to withdraw (about three weeks open)."""
        due = self.withdraw_at(follow_up)
        return due is not None and now >= due

    def first_due(self, follow_up: FollowUp, policy: NudgePolicy) -> datetime:
        """The first nudge: after the user's delay, but no later than the withdraw advice."""
        created = datetime.fromtimestamp(follow_up.created_at, tz=self.zone)
        first = policy.first(created)
        withdraw = self.withdraw_at(follow_up)
        return min(first, withdraw) if withdraw is not None else first

    def next_due(
        self, follow_up: FollowUp, policy: NudgePolicy, sent_at: datetime, advised: bool
    ) -> datetime:
        """After a nudge sent at `sent_at`: the next nudge, or the expiry notice.

        Whatever the cadence, the LinkedIn withdraw advice comes at about three weeks: the
        next nudge is brought forward to it, and the expiry waits for it.
        """
        regular = policy.following(sent_at)
        withdraw = None if advised else self.withdraw_at(follow_up)
        if withdraw is None or withdraw <= sent_at:
            return regular
        if follow_up.nudges_sent + 1 >= policy.max_nudges:
            return withdraw
        return min(regular, withdraw)

    def expires(self, follow_up: FollowUp, policy: NudgePolicy, now: datetime) -> bool:
        """All nudges sent and no withdraw advice still to come: the expiry notice is due."""
        if follow_up.nudges_sent < policy.max_nudges:
            return False
        return not self.advise_withdraw(follow_up, now)

    def is_last_nudge(self, follow_up: FollowUp, policy: NudgePolicy, now: datetime) -> bool:
        """Whether the nudge being sent now is the last one (the expiry notice follows)."""
        if follow_up.nudges_sent + 1 < policy.max_nudges:
            return False
        advised = self.advise_withdraw(follow_up, now)
        return advised or self.withdraw_at(follow_up) is None

    async def reschedule_open(self, user_id: int, now: datetime) -> int:
        """After the user changed their delays: open requests follow them from the next nudge."""
        policy = self.policy_for(await self.store.users.get(user_id))
        moved = 0
        for follow_up in await self.store.follow_ups.pending(user_id):
            if follow_up.next_nudge_at is None:
                continue
            if follow_up.nudges_sent == 0 or follow_up.last_nudge_at is None:
                due = self.first_due(follow_up, policy)
            else:
                last = datetime.fromtimestamp(follow_up.last_nudge_at, tz=self.zone)
                due = self.next_due(follow_up, policy, last, advised=False)
            await self.store.follow_ups.move_nudge(follow_up.id, max(due, now))
            moved += 1
        return moved

    def _advice(self, follow_up: FollowUp, now: datetime) -> str:
        if follow_up.direction == "received":
            return f"nudge_received_{follow_up.platform}"
        if follow_up.platform == "linkedin":
            if self.advise_withdraw(follow_up, now):
                return "nudge_sent_linkedin_withdraw"
            return "nudge_sent_linkedin"
        return "nudge_sent_xing"

    def _decision_buttons(self, lang: Lang, follow_up: FollowUp) -> tuple[tuple[Button, ...], ...]:
        def button(decision: str) -> Button:
            code = DECISION_CODES[decision]  # type: ignore[index]
            # LinkedIn has no "decline": the person ignores an invitation.
            key = f"button_{decision}"
            if decision == "declined":
                key += f"_{follow_up.platform}"
            return Button(
                self.ui(lang, key),
                Action(ActionKind.DECIDE, f"{follow_up.id}-{code}"),
            )

        back = Button(self.ui(lang, "button_back"), Action(ActionKind.PENDING))
        buttons = [button("accepted"), button("declined")]
        if follow_up.direction == "sent":
            buttons.append(button("withdrawn"))
        if follow_up.state != "expired":  # an expired one has no nudge left to move
            buttons.append(button("snooze"))
        buttons += [button("delete"), back]
        # Two per row: the longest labels ("Zurückgezogen") fit half a phone's width.
        return tuple(tuple(buttons[start : start + 2]) for start in range(0, len(buttons), 2))

    async def open(self, user_id: int, lang: Lang, arg: str, now: datetime) -> Reply:
        follow_up = await self._own(user_id, arg)
        if follow_up is None:
            return Reply((), notice=self.ui(lang, "follow_up_gone"))
        if follow_up.state != "pending":
            zone = self.zone_for(await self.store.users.get(user_id))
            return self._closed_reply(lang, follow_up, zone)
        return self.follow_up_reply(lang, follow_up, now)

    async def _own(self, user_id: int, arg: str) -> FollowUp | None:
        """The request `arg` names, only if it is this user's (ownership is checked in SQL)."""
        if not arg.isdigit() or len(arg) > 18:  # beyond SQLite's INTEGER: no request's id
            return None
        return await self.store.follow_ups.get(user_id, int(arg))

    async def decide(self, user_id: int, lang: Lang, arg: str, now: datetime) -> Reply:
        """A state button: accepted, declined, withdrawn, later, or delete (asks first)."""
        number, _, code = arg.partition("-")
        decision = DECISIONS.get(code)
        follow_up = await self._own(user_id, number)
        if decision is None or follow_up is None:
            return Reply((), notice=self.ui(lang, "follow_up_gone"))
        name = follow_up.name
        if decision == "delete":
            confirm = Button(
                self.ui(lang, "button_delete_confirm"), Action(ActionKind.DELETE, number)
            )
            back = Button(self.ui(lang, "button_back"), Action(ActionKind.PENDING))
            return Reply(
                (Block(self.ui(lang, "delete_ask", name=name)),), ((confirm,), (back,)), edit=True
            )
        late = follow_up.state == "expired" and decision != "snooze"
        if follow_up.state != "pending" and not late:
            state = self.ui(lang, f"state_{follow_up.state}")
            return Reply((), notice=self.ui(lang, "follow_up_closed", state=state))
        if decision == "snooze":
            delay = self.policy_for(await self.store.users.get(user_id)).repeat
            await self.store.follow_ups.snooze(user_id, follow_up.id, now + delay, now)
            text = self.ui(lang, "snoozed", name=name, duration=format_duration(delay, lang))
        else:
            changed = await self.store.follow_ups.set_state(user_id, follow_up.id, decision, now)
            if changed is None:  # settled meanwhile, e.g. by a press on an older message
                return Reply((), notice=self.ui(lang, "follow_up_gone"))
            text = self.ui(lang, f"saved_{decision}", name=name)
        pending = Button(self.ui(lang, "button_pending"), Action(ActionKind.PENDING))
        return Reply((Block(text),), ((pending,),), edit=True)

    async def delete(self, user_id: int, lang: Lang, arg: str) -> Reply:
        follow_up = await self._own(user_id, arg)
        if follow_up is None or not await self.store.follow_ups.delete(user_id, follow_up.id):
            return Reply((), notice=self.ui(lang, "follow_up_gone"))
        text = self.ui(lang, "deleted", what=self.what(lang, follow_up), name=follow_up.name)
        pending = Button(self.ui(lang, "button_pending"), Action(ActionKind.PENDING))
        return Reply((Block(text),), ((pending,),), edit=True)

    # -- digest ----------------------------------------------------------------------------

    async def digest(self, user: User, lang: Lang, now: datetime) -> Reply:
        """Open requests, those that crossed three weeks this week, and checklist progress."""
        open_requests = await self.store.follow_ups.pending(user.id)
        done = await self.store.checklist.done(user.id)
        total = len(self.kb.checklist)
        count = self.kb.checklist_done(done)
        blocks = [
            Block(self.ui(lang, "digest_title"), "title"),
            Block(self.ui(lang, "digest_open", count=len(open_requests))),
        ]
        for follow_up in open_requests[:PENDING_SHOWN]:
            age = format_duration(_whole(follow_up.age(now)), lang)
            what = self.what(lang, follow_up)
            blocks.append(
                Block(
                    self.ui(lang, "pending_item", what=what, name=follow_up.name, age=age), "item"
                )
            )
        crossed = [
            f.name
            for f in open_requests
            if f.direction == "sent" and THREE_WEEKS <= f.age(now) < THREE_WEEKS + timedelta(days=7)
        ]
        if crossed:
            blocks.append(Block(self.ui(lang, "digest_three_weeks", names=", ".join(crossed))))
        blocks.append(Block(self.ui(lang, "digest_checklist", done=count, total=total)))
        buttons = (
            (Button(self.ui(lang, "button_pending"), Action(ActionKind.PENDING)),),
            (Button(self.ui(lang, "button_checklist"), Action(ActionKind.CHECKLIST)),),
            (Button(self.ui(lang, "button_progress"), Action(ActionKind.PROGRESS)),),
        )
        return Reply(tuple(blocks), buttons)


def _whole(age: timedelta) -> timedelta:
    """An age rounded down to what people say: days, else hours, else minutes."""
    for unit in (timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)):
        if age >= unit:
            return unit * (age // unit)
    return timedelta(seconds=max(1, int(age.total_seconds())))


def _local_date(epoch: int | None, zone: ZoneInfo, lang: Lang) -> str:
    """A stored moment as the user's local date: "03.12.2026", "3 Dec 2026"."""
    if epoch is None:
        return "–"
    moment = datetime.fromtimestamp(epoch, tz=zone)
    return moment.strftime("%d.%m.%Y") if lang == "de" else f"{moment.day} {moment:%b %Y}"
