"""The types every layer shares: languages, users, connection requests and the clock.

Part of the shared bottom: it imports nothing from `bot`, so the storage, the subsystems,
the core and the front doors can all depend on it without depending on one another.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel

Lang = Literal["de", "en"]
LANGS: tuple[Lang, ...] = ("de", "en")

Platform = Literal["xing", "linkedin"]
PLATFORMS: tuple[Platform, ...] = ("xing", "linkedin")
Direction = Literal["sent", "received"]
State = Literal["pending", "accepted", "declined", "withdrawn", "expired"]

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class User(BaseModel):
    id: int
    language: Lang | None
    language_code: str | None
    first_seen: int
    last_seen: int
    active: bool
    nudges: bool = True
    follow_up_after: int | None = None  # seconds; None: the operator's default
    follow_up_repeat: int | None = None
    digest: bool = False
    timezone: str | None = None  # IANA name; None: the operator's BOT_TIMEZONE


class GuidedStep(BaseModel):
    """What the bot waits for from a user in a guided flow, kept across restarts.

    `kind` names the step ("name", "confirm_name", "correct", "draft", "timezone"); `data`
    holds what the earlier steps chose (platform, direction, a request id, a text).
    """

    kind: str
    data: dict[str, str]
    since: int


def language_for(record: User | None, language_code: str | None, default: Lang) -> Lang:
    """The user's setting, else their client's language (en* English), else `default`."""
    if record is not None and record.language is not None:
        return record.language
    code = (record.language_code if record else None) or language_code
    if code:
        return "en" if code.lower().startswith("en") else "de"
    return default


class FollowUp(BaseModel):
    """A logged connection request and where it stands."""

    id: int
    user_id: int
    platform: Platform
    direction: Direction
    name: str
    note: str | None
    state: State
    created_at: int
    nudges_sent: int
    next_nudge_at: int | None
    closed_at: int | None = None
    last_nudge_at: int | None = None
    advised_withdraw: bool = False
    profile_url: str | None = None  # known for requests imported from LinkedIn's export

    def age(self, now: datetime) -> timedelta:
        return now - datetime.fromtimestamp(self.created_at, tz=now.tzinfo)


class NewFollowUp(BaseModel):
    """A request to store as a row, with its own dates (from an import, not from now)."""

    platform: Platform
    direction: Direction
    name: str
    profile_url: str | None
    state: State
    created_at: int
    nudges_sent: int = 0
    next_nudge_at: int | None = None
    closed_at: int | None = None
    advised_withdraw: bool = False
