"""A user's follow-up settings: nudges, their delays, the digest and the time zone."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain import Lang, User
from bot.followups.policy import format_duration, format_every, zone_named
from bot.followups.tracker import RequestTracker
from bot.reply import Action, ActionKind, Block, Button, Reply

# Delays a user can pick in /settings (the operator's default applies until they do).
DELAY_CHOICES = (timedelta(days=3), timedelta(days=7), timedelta(days=14))
# Time zones offered in /settings before free entry; D-A-CH first.
TIMEZONE_CHOICES = (
    "Europe/Berlin",
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/London",
    "America/New_York",
    "UTC",
)


class Preferences:
    """The follow-up part of /settings and the changes its buttons make."""

    def __init__(self, tracker: RequestTracker) -> None:
        self.tracker = tracker

    def settings_blocks(self, lang: Lang, user: User | None) -> list[Block]:
        policy = self.tracker.policy_for(user)
        nudges = user.nudges if user else True
        digest = user.digest if user else False
        return [
            Block(
                self.tracker.ui(
                    lang,
                    "settings_nudges",
                    state=self.tracker.ui(lang, "on" if nudges else "off"),
                    after=format_duration(policy.after, lang),
                    every=format_every(policy.repeat, lang),
                )
            ),
            Block(self.tracker.ui(lang, "settings_delays_apply"), "note"),
            Block(
                self.tracker.ui(
                    lang, "settings_digest", state=self.tracker.ui(lang, "on" if digest else "off")
                )
            ),
            Block(self.tracker.ui(lang, "settings_timezone", zone=self.tracker.zone_for(user).key)),
        ]

    def settings_buttons(self, lang: Lang, user: User | None) -> list[tuple[Button, ...]]:
        """Full-width rows, each saying what it changes; the delays open a choice each."""
        policy = self.tracker.policy_for(user)
        nudges = user.nudges if user else True
        digest = user.digest if user else False
        every = format_every(policy.repeat, lang)
        return [
            (
                Button(
                    self.tracker.ui(lang, "button_nudges_off" if nudges else "button_nudges_on"),
                    Action(ActionKind.SETTING, "nudges-off" if nudges else "nudges-on"),
                ),
            ),
            (
                Button(
                    self.tracker.ui(
                        lang,
                        "button_after",
                        duration=format_duration(policy.after, lang, dative=False),
                    ),
                    Action(ActionKind.SETTING, "after-menu"),
                ),
            ),
            (
                Button(
                    self.tracker.ui(lang, "button_repeat", every=every),
                    Action(ActionKind.SETTING, "repeat-menu"),
                ),
            ),
            (
                Button(
                    self.tracker.ui(lang, "button_digest_off" if digest else "button_digest_on"),
                    Action(ActionKind.SETTING, "digest-off" if digest else "digest-on"),
                ),
            ),
            (
                Button(
                    self.tracker.ui(lang, "button_timezone"), Action(ActionKind.SETTING, "tz-menu")
                ),
            ),
        ]

    def delay_menu(self, lang: Lang, user: User | None, kind: str) -> Reply:
        """The three delays to choose from, the current one ticked; back to the settings."""
        policy = self.tracker.policy_for(user)
        current = policy.after if kind == "after" else policy.repeat
        choices = tuple(
            Button(
                ("✓ " if delay == current else "") + format_duration(delay, lang, dative=False),
                Action(ActionKind.SETTING, f"{kind}-{delay.days}d"),
            )
            for delay in DELAY_CHOICES
        )
        back = Button(self.tracker.ui(lang, "button_settings"), Action(ActionKind.SETTING, "back"))
        key = "choose_after" if kind == "after" else "choose_repeat"
        return Reply((Block(self.tracker.ui(lang, key)),), (choices, (back,)), edit=True)

    def timezone_menu(self, lang: Lang, user: User | None) -> Reply:
        current = self.tracker.zone_for(user).key
        rows = [
            tuple(
                Button(
                    ("✓ " if zone == current else "") + zone.split("/")[-1].replace("_", " "),
                    Action(ActionKind.SETTING, f"tz-{TIMEZONE_CHOICES.index(zone)}"),
                )
                for zone in TIMEZONE_CHOICES[start : start + 2]
            )
            for start in range(0, len(TIMEZONE_CHOICES), 2)
        ]
        other = Button(
            self.tracker.ui(lang, "button_timezone_other"), Action(ActionKind.SETTING, "tz-other")
        )
        back = Button(self.tracker.ui(lang, "button_settings"), Action(ActionKind.SETTING, "back"))
        text = self.tracker.ui(lang, "timezone_choose", zone=current)
        return Reply((Block(text),), (*rows, (other,), (back,)), edit=True)

    async def start_timezone_entry(self, user_id: int, lang: Lang, now: datetime) -> Reply:
        await self.tracker.store.users.set_step(user_id, "timezone", {}, now)
        return Reply(
            (Block(self.tracker.ui(lang, "timezone_ask")),), (self.tracker.cancel_row(lang),)
        )

    async def timezone_given(self, user_id: int, lang: Lang, text: str) -> Reply:
        """Free entry of a time zone, checked against the IANA database."""
        zone = zone_named(text)
        if zone is None:
            return Reply(
                (Block(self.tracker.ui(lang, "timezone_unknown", text=text[:64])),),
                (self.tracker.cancel_row(lang),),
            )
        await self.tracker.store.users.clear_step(user_id)
        await self.tracker.store.users.set_timezone(user_id, zone.key)
        return Reply((Block(self.tracker.ui(lang, "timezone_saved", zone=zone.key)),))

    async def change_setting(self, user_id: int, arg: str, now: datetime) -> bool:
        """Apply a settings button; False for data that is not one of ours."""
        name, _, value = arg.partition("-")
        if name == "nudges" and value in ("on", "off"):
            await self.tracker.store.users.set_preferences(user_id, nudges=value == "on")
            return True
        if name == "digest" and value in ("on", "off"):
            await self.tracker.store.users.set_preferences(user_id, digest=value == "on")
            return True
        if name == "tz" and value.isdigit() and int(value) < len(TIMEZONE_CHOICES):
            await self.tracker.store.users.set_timezone(user_id, TIMEZONE_CHOICES[int(value)])
            return True
        seconds = {f"{d.days}d": int(d.total_seconds()) for d in DELAY_CHOICES}.get(value)
        if seconds is None or name not in ("after", "repeat"):
            return False
        if name == "after":
            await self.tracker.store.users.set_preferences(user_id, follow_up_after=seconds)
        else:
            await self.tracker.store.users.set_preferences(user_id, follow_up_repeat=seconds)
        await self.tracker.reschedule_open(user_id, now)
        return True
