"""Logging connection requests and following them up: the core behind /request and /pending."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain import Direction, FollowUp, Lang, Platform, User
from bot.followups.policy import (
    DECISION_CODES,
    DECISIONS,
    NudgePolicy,
    format_duration,
    format_every,
)
from bot.followups.requests import MAX_NOTE, RequestInput, RequestSyntaxError, parse_request
from bot.knowledge import KnowledgeBase
from bot.reply import Action, ActionKind, Block, Button, Reply
from bot.storage import Storage

# Delays a user can pick in /settings (the operator's default applies until they do).
DELAY_CHOICES = (timedelta(days=3), timedelta(days=7), timedelta(days=14))
PENDING_SHOWN = 10
# A guided /request waits this long for the name.
AWAIT_NAME = timedelta(minutes=15)


@dataclass(frozen=True)
class _Awaiting:
    platform: Platform
    direction: Direction
    since: datetime


class RequestTracker:
    """Requests in, confirmations, lists, nudges and decisions out."""

    def __init__(self, kb: KnowledgeBase, store: Storage, policy: NudgePolicy) -> None:
        self.kb = kb
        self.store = store
        self.policy = policy
        self._awaiting: dict[int, _Awaiting] = {}

    def _ui(self, lang: Lang, key: str, **values: object) -> str:
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

    def _what(self, lang: Lang, follow_up: FollowUp | RequestInput) -> str:
        return self._ui(lang, f"what_{follow_up.direction}_{follow_up.platform}")

    # -- logging ---------------------------------------------------------------------------

    async def request(self, user_id: int, lang: Lang, args: str, now: datetime) -> Reply:
        """`/request` with arguments logs at once; without, it asks platform and direction."""
        if not args.strip():
            return self._choose(lang)
        try:
            parsed = parse_request(args)
        except RequestSyntaxError as error:
            return Reply((Block(self._ui(lang, error.reason)),), self._choose(lang).buttons)
        return await self.log(user_id, lang, parsed, now)

    def _choose(self, lang: Lang) -> Reply:
        rows = tuple(
            tuple(
                Button(
                    self._ui(lang, f"button_request_{platform}_{direction}"),
                    Action(ActionKind.REQUEST, f"{platform}-{direction}"),
                )
                for platform in ("xing", "linkedin")
            )
            for direction in ("sent", "received")
        )
        return Reply((Block(self._ui(lang, "request_choose")),), rows)

    def start_guided(self, user_id: int, lang: Lang, arg: str, now: datetime) -> Reply:
        """A platform/direction button: remember it and ask for the name."""
        platform, _, direction = arg.partition("-")
        if platform not in ("xing", "linkedin") or direction not in ("sent", "received"):
            return Reply((), notice=self._ui(lang, "stale_button"))
        self._awaiting[user_id] = _Awaiting(platform, direction, now)  # type: ignore[arg-type]
        return Reply((Block(self._ui(lang, "request_ask_name")),))

    def forget(self, user_id: int) -> None:
        """Drop what is held in memory about the user (after /delete)."""
        self._awaiting.pop(user_id, None)

    def awaiting_name(self, user_id: int, now: datetime) -> bool:
        waiting = self._awaiting.get(user_id)
        if waiting is not None and now - waiting.since > AWAIT_NAME:
            del self._awaiting[user_id]
            return False
        return waiting is not None

    async def name_given(self, user_id: int, lang: Lang, text: str, now: datetime) -> Reply:
        """The answer to "Wie heißt die Person?" in the guided flow."""
        waiting = self._awaiting.pop(user_id)
        try:
            parsed = parse_request(f"{waiting.platform} {waiting.direction} {text}")
        except RequestSyntaxError as error:
            self._awaiting[user_id] = waiting  # let them try again
            return Reply((Block(self._ui(lang, error.reason)),))
        return await self.log(user_id, lang, parsed, now)

    async def log(self, user_id: int, lang: Lang, request: RequestInput, now: datetime) -> Reply:
        """Check the note against the platform's limits, store, confirm when the nudge comes."""
        hints: list[Block] = []
        note = request.note
        limit = self.kb.limit(request.platform)
        if note is not None:
            length = len(note)
            if limit and limit.note_max and length > limit.note_max:
                text = limit.text(lang).over_max.format(limit=limit.note_max, length=length)
                return Reply((Block(text),))
            if length > MAX_NOTE:
                return Reply((Block(self._ui(lang, "request_note_too_long", limit=MAX_NOTE)),))
            if limit and limit.note_soft and length > limit.note_soft:
                hints.append(
                    Block(
                        limit.text(lang).over_soft.format(limit=limit.note_soft, length=length),
                        "note",
                    )
                )
            if limit and limit.text(lang).always and request.direction == "sent":
                hints.append(Block(limit.text(lang).always, "note"))
        user = await self.store.users.get(user_id)
        policy = self.policy_for(user)
        follow_up = await self.store.follow_ups.add(
            user_id,
            request.platform,
            request.direction,
            request.name,
            note,
            now,
            policy.first(now),
        )
        blocks = [
            Block(
                self._ui(lang, "request_saved", what=self._what(lang, request), name=follow_up.name)
            )
        ]
        if user is None or user.nudges:
            blocks.append(
                Block(self._ui(lang, "request_when", duration=format_duration(policy.after, lang)))
            )
        else:
            blocks.append(Block(self._ui(lang, "request_nudges_off")))
        pending = (Button(self._ui(lang, "button_pending"), Action(ActionKind.PENDING)),)
        return Reply((*blocks, *hints), (pending,))

    # -- the list and one request ----------------------------------------------------------

    async def pending(
        self, user_id: int, lang: Lang, now: datetime, *, edit: bool = False
    ) -> Reply:
        open_requests = await self.store.follow_ups.pending(user_id)
        if not open_requests:
            return Reply((Block(self._ui(lang, "pending_empty")),), edit=edit)
        blocks = [Block(self._ui(lang, "pending_title", count=len(open_requests)), "title")]
        buttons = []
        for follow_up in open_requests[:PENDING_SHOWN]:
            label = self._ui(
                lang,
                "pending_item",
                what=self._what(lang, follow_up),
                name=follow_up.name,
                age=format_duration(_whole(follow_up.age(now)), lang),
            )
            blocks.append(Block(label, "item"))
            buttons.append((Button(label, Action(ActionKind.FOLLOW_UP, str(follow_up.id))),))
        if len(open_requests) > PENDING_SHOWN:
            more = len(open_requests) - PENDING_SHOWN
            blocks.append(Block(self._ui(lang, "pending_more", count=more)))
        blocks.append(Block(self._ui(lang, "pending_hint"), "note"))
        return Reply(tuple(blocks), tuple(buttons), edit=edit)

    def follow_up_reply(
        self, lang: Lang, follow_up: FollowUp, now: datetime, *, nudge: bool = False
    ) -> Reply:
        """One request with its state buttons; as a nudge, with advice for its situation."""
        what = self._what(lang, follow_up)
        age = format_duration(_whole(follow_up.age(now)), lang)
        if nudge:
            blocks = [
                Block(self._ui(lang, "nudge_title", what=what, name=follow_up.name), "title"),
                Block(self._ui(lang, self._advice(follow_up, now), age=age)),
            ]
            if follow_up.nudges_sent + 1 >= self.policy.max_nudges:
                blocks.append(Block(self._ui(lang, "nudge_last"), "note"))
        else:
            blocks = [
                Block(f"{what} {follow_up.name}", "title"),
                Block(
                    self._ui(
                        lang,
                        "follow_up_open_since",
                        age=age,
                        nudges=follow_up.nudges_sent,
                        max=self.policy.max_nudges,
                    )
                ),
            ]
        if follow_up.note:
            blocks.append(Block(self._ui(lang, "follow_up_note", note=follow_up.note), "note"))
        blocks.append(Block(self._ui(lang, "follow_up_question")))
        return Reply(tuple(blocks), self._decision_buttons(lang, follow_up), edit=not nudge)

    def _advice(self, follow_up: FollowUp, now: datetime) -> str:
        if follow_up.direction == "received":
            return f"nudge_received_{follow_up.platform}"
        if follow_up.platform == "linkedin":
            limit = self.kb.limit("linkedin")
            days = limit.withdraw_after_days if limit else None
            if days is not None and follow_up.age(now) >= timedelta(days=days):
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
                self._ui(lang, key),
                Action(ActionKind.DECIDE, f"{follow_up.id}-{code}"),
            )

        first = [button("accepted"), button("declined")]
        if follow_up.direction == "sent":
            first.append(button("withdrawn"))
        back = Button(self._ui(lang, "button_back"), Action(ActionKind.PENDING))
        return (tuple(first), (button("snooze"), button("delete")), (back,))

    async def open(self, user_id: int, lang: Lang, arg: str, now: datetime) -> Reply:
        follow_up = await self._own(user_id, arg)
        if follow_up is None:
            return Reply((), notice=self._ui(lang, "follow_up_gone"))
        if follow_up.state != "pending":
            state = self._ui(lang, f"state_{follow_up.state}")
            return Reply((), notice=self._ui(lang, "follow_up_closed", state=state))
        return self.follow_up_reply(lang, follow_up, now)

    async def _own(self, user_id: int, arg: str) -> FollowUp | None:
        """The request `arg` names, only if it is this user's (ownership is checked in SQL)."""
        if not arg.isdigit():
            return None
        return await self.store.follow_ups.get(user_id, int(arg))

    async def decide(self, user_id: int, lang: Lang, arg: str, now: datetime) -> Reply:
        """A state button: accepted, declined, withdrawn, later, or delete (asks first)."""
        number, _, code = arg.partition("-")
        decision = DECISIONS.get(code)
        follow_up = await self._own(user_id, number)
        if decision is None or follow_up is None:
            return Reply((), notice=self._ui(lang, "follow_up_gone"))
        name = follow_up.name
        if decision == "delete":
            confirm = Button(
                self._ui(lang, "button_delete_confirm"), Action(ActionKind.DELETE, number)
            )
            back = Button(self._ui(lang, "button_back"), Action(ActionKind.PENDING))
            return Reply(
                (Block(self._ui(lang, "delete_ask", name=name)),), ((confirm, back),), edit=True
            )
        if follow_up.state != "pending":
            state = self._ui(lang, f"state_{follow_up.state}")
            return Reply((), notice=self._ui(lang, "follow_up_closed", state=state))
        if decision == "snooze":
            delay = self.policy_for(await self.store.users.get(user_id)).repeat
            await self.store.follow_ups.snooze(user_id, follow_up.id, now + delay, now)
            text = self._ui(lang, "snoozed", name=name, duration=format_duration(delay, lang))
        else:
            changed = await self.store.follow_ups.set_state(user_id, follow_up.id, decision, now)
            if changed is None:  # settled meanwhile, e.g. by a press on an older message
                return Reply((), notice=self._ui(lang, "follow_up_gone"))
            text = self._ui(lang, f"saved_{decision}", name=name)
        pending = Button(self._ui(lang, "button_pending"), Action(ActionKind.PENDING))
        return Reply((Block(text),), ((pending,),), edit=True)

    async def delete(self, user_id: int, lang: Lang, arg: str) -> Reply:
        follow_up = await self._own(user_id, arg)
        if follow_up is None or not await self.store.follow_ups.delete(user_id, follow_up.id):
            return Reply((), notice=self._ui(lang, "follow_up_gone"))
        text = self._ui(lang, "deleted", what=self._what(lang, follow_up), name=follow_up.name)
        pending = Button(self._ui(lang, "button_pending"), Action(ActionKind.PENDING))
        return Reply((Block(text),), ((pending,),), edit=True)

    # -- settings ----------------------------------------------------------------------------

    def settings_blocks(self, lang: Lang, user: User | None) -> list[Block]:
        policy = self.policy_for(user)
        nudges = user.nudges if user else True
        digest = user.digest if user else False
        return [
            Block(
                self._ui(
                    lang,
                    "settings_nudges",
                    state=self._ui(lang, "on" if nudges else "off"),
                    after=format_duration(policy.after, lang),
                    every=format_every(policy.repeat, lang),
                )
            ),
            Block(
                self._ui(lang, "settings_digest", state=self._ui(lang, "on" if digest else "off"))
            ),
        ]

    def settings_buttons(self, lang: Lang, user: User | None) -> list[tuple[Button, ...]]:
        policy = self.policy_for(user)
        nudges = user.nudges if user else True
        digest = user.digest if user else False

        def choice(kind: str, current: timedelta) -> tuple[Button, ...]:
            def label(delay: timedelta) -> str:
                if kind == "after":
                    return self._ui(lang, "button_after", duration=format_duration(delay, lang))
                every = format_every(delay, lang)
                return every[0].upper() + every[1:]

            return tuple(
                Button(
                    ("✓ " if delay == current else "") + label(delay),
                    Action(ActionKind.SETTING, f"{kind}-{delay.days}d"),
                )
                for delay in DELAY_CHOICES
            )

        return [
            (
                Button(
                    self._ui(lang, "button_nudges_off" if nudges else "button_nudges_on"),
                    Action(ActionKind.SETTING, "nudges-off" if nudges else "nudges-on"),
                ),
                Button(
                    self._ui(lang, "button_digest_off" if digest else "button_digest_on"),
                    Action(ActionKind.SETTING, "digest-off" if digest else "digest-on"),
                ),
            ),
            choice("after", policy.after),
            choice("repeat", policy.repeat),
        ]

    async def change_setting(self, user_id: int, arg: str) -> bool:
        """Apply a settings button; False for data that is not one of ours."""
        name, _, value = arg.partition("-")
        if name == "nudges" and value in ("on", "off"):
            await self.store.users.set_preferences(user_id, nudges=value == "on")
            return True
        if name == "digest" and value in ("on", "off"):
            await self.store.users.set_preferences(user_id, digest=value == "on")
            return True
        seconds = {f"{d.days}d": int(d.total_seconds()) for d in DELAY_CHOICES}.get(value)
        if seconds is None:
            return False
        if name == "after":
            await self.store.users.set_preferences(user_id, follow_up_after=seconds)
            return True
        if name == "repeat":
            await self.store.users.set_preferences(user_id, follow_up_repeat=seconds)
            return True
        return False

    # -- digest ----------------------------------------------------------------------------

    async def digest(self, user: User, lang: Lang, now: datetime) -> Reply:
        """Open requests and checklist progress in one message."""
        open_requests = await self.store.follow_ups.pending(user.id)
        done = await self.store.checklist.done(user.id)
        total = len(self.kb.checklist)
        count = sum(item.id in done for item in self.kb.checklist)
        blocks = [
            Block(self._ui(lang, "digest_title"), "title"),
            Block(self._ui(lang, "digest_open", count=len(open_requests))),
        ]
        for follow_up in open_requests[:PENDING_SHOWN]:
            age = format_duration(_whole(follow_up.age(now)), lang)
            what = self._what(lang, follow_up)
            blocks.append(
                Block(
                    self._ui(lang, "pending_item", what=what, name=follow_up.name, age=age), "item"
                )
            )
        blocks.append(Block(self._ui(lang, "digest_checklist", done=count, total=total)))
        buttons = (
            (
                Button(self._ui(lang, "button_pending"), Action(ActionKind.PENDING)),
                Button(self._ui(lang, "button_checklist"), Action(ActionKind.CHECKLIST)),
            ),
        )
        return Reply(tuple(blocks), buttons)


def _whole(age: timedelta) -> timedelta:
    """An age rounded down to what people say: days, else hours, else minutes."""
    for unit in (timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)):
        if age >= unit:
            return unit * (age // unit)
    return timedelta(seconds=max(1, int(age.total_seconds())))
