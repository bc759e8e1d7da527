"""The follow-up policy: what a user can decide, when nudges fall due, quiet hours. Pure logic."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# What a user can do with an open request; snooze keeps it open and moves only the next nudge.
Decision = Literal["accepted", "declined", "withdrawn", "snooze", "delete"]
DECISIONS: dict[str, Decision] = {
    "a": "accepted",
    "d": "declined",
    "w": "withdrawn",
    "s": "snooze",
    "x": "delete",
}
DECISION_CODES = {decision: code for code, decision in DECISIONS.items()}
MAX_NUDGES = 3

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """'30s', '15m', '12h', '7d' or '2w' as a timedelta; ValueError otherwise."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"not a duration like 30s, 12h or 7d: {text!r}")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2).lower()])


_UNIT_SIZES = (604800, 86400, 3600, 60, 1)
# (singular, plural, plural dative) per unit, largest first
_UNIT_NAMES = {
    "de": (("Woche", "Wochen", "Wochen"), ("Tag", "Tage", "Tagen"),
           ("Stunde", "Stunden", "Stunden"), ("Minute", "Minuten", "Minuten"),
           ("Sekunde", "Sekunden", "Sekunden")),
    "en": (("week", "weeks", "weeks"), ("day", "days", "days"), ("hour", "hours", "hours"),
           ("minute", "minutes", "minutes"), ("second", "seconds", "seconds")),
}  # fmt: skip
_EVERY_ONE = {"de": ("jede Woche", "jeden Tag", "jede Stunde", "jede Minute", "jede Sekunde")}


def _unit(delta: timedelta) -> tuple[int, int]:
    """(count, index of the largest unit that divides the duration)."""
    seconds = max(1, int(delta.total_seconds()))
    for index, size in enumerate(_UNIT_SIZES):
        if seconds % size == 0:
            return seconds // size, index
    raise AssertionError("unreachable: every duration divides into seconds")


# One of a unit in words, as after "seit", "in", "nach" (dative) and in English.
_ONE = {
    "de": ("einer Woche", "einem Tag", "einer Stunde", "einer Minute", "einer Sekunde"),
    "en": ("a week", "a day", "an hour", "a minute", "a second"),
}
# The same on its own, as a label ("1 Woche"), not after a preposition.
_ONE_ALONE = {
    "de": ("1 Woche", "1 Tag", "1 Stunde", "1 Minute", "1 Sekunde"),
    "en": ("1 week", "1 day", "1 hour", "1 minute", "1 second"),
}


def format_duration(delta: timedelta, lang: Literal["de", "en"], dative: bool = True) -> str:
    """A duration as people say it after "seit", "in", "nach": '3 Tagen', 'einer Woche';
    without `dative`, as a label on its own: '3 Tage', '1 Woche'."""
    count, index = _unit(delta)
    if count == 1:
        return (_ONE if dative else _ONE_ALONE)[lang][index]
    _, many, many_dative = _UNIT_NAMES[lang][index]
    return f"{count} {many_dative if dative else many}"


def format_every(delta: timedelta, lang: Literal["de", "en"]) -> str:
    """A repetition: 'jede Woche', 'alle 3 Tage', 'every 2 weeks'."""
    count, index = _unit(delta)
    if count == 1:
        return _EVERY_ONE[lang][index] if lang == "de" else f"every {_UNIT_NAMES['en'][index][0]}"
    words = "alle" if lang == "de" else "every"
    return f"{words} {format_duration(delta, lang, dative=False)}"


@dataclass(frozen=True)
class QuietHours:
    """A daily span in local time (may cross midnight) in which no nudge is sent."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """'21:00-08:00' -> QuietHours; '' -> None (no quiet hours)."""
        if not text.strip():
            return None
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
        if not match:
            raise ValueError(f"not a span like 21:00-08:00: {text!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59 or (h1, m1) == (h2, m2):
            raise ValueError(f"not a span like 21:00-08:00: {text!r}")
        return cls(time(h1, m1), time(h2, m2))

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def defer(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """`moment` itself if outside quiet hours, else when they end (same zone as given)."""
        local = moment.astimezone(zone)
        if not self.contains(local.time()):
            return moment
        end = datetime.combine(local.date(), self.end, tzinfo=zone)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(moment.tzinfo)


@dataclass(frozen=True)
class NudgePolicy:
    """When nudges fall due: first `after` logging, then every `repeat`, at most MAX_NUDGES."""

    after: timedelta
    repeat: timedelta
    max_nudges: int = MAX_NUDGES

    def first(self, created: datetime) -> datetime:
        return created + self.after

    def following(self, sent: datetime) -> datetime:
        """After a nudge: the next one, or (after the last) the moment the request expires."""
        return sent + self.repeat


def zone_named(name: str) -> ZoneInfo | None:
    """The IANA time zone a user typed ("europe/berlin", "Asia/Dubai"), if it exists."""
    cleaned = name.strip().replace(" ", "_")
    if not cleaned or len(cleaned) > 64 or ".." in cleaned or cleaned.startswith("/"):
        return None
    try:
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError):
        wanted = cleaned.casefold()
        for zone in available_timezones():
            if zone.casefold() == wanted:
                return ZoneInfo(zone)
        return None
