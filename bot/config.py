"""Configuration from environment variables, validated once at start."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from enum import IntEnum
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.domain import Lang
from bot.followups.policy import NudgePolicy, QuietHours, parse_duration

TELEGRAM_API = "https://api.telegram.org"
# Variables for which an empty value means "off" rather than "use the default".
EMPTY_IS_A_VALUE = frozenset({"BOT_QUIET_HOURS"})


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class ExitCode(IntEnum):
    """How `python -m bot run` ends, so that a supervisor (systemd, Docker) can tell why.

    Each fatal condition has its own code and one log line naming the variable or file; passing
    failures (network, 5xx, a locked database) never end the process, they are retried.
    """

    STOPPED = 0  # SIGINT/SIGTERM
    BUG = 1  # an unexpected error, logged with its traceback
    CONFIG = 2  # a setting is missing or malformed
    TOKEN_REJECTED = 3  # the Bot API answered 401: BOT_TOKEN is wrong or revoked
    CONFLICT = 4  # 409: another instance polls with this token, or a webhook is set
    DATABASE = 5  # BOT_DB_PATH unusable: corrupt, read-only, a newer schema, a folder, locked
    DISK_FULL = 6  # the disk holding BOT_DB_PATH is full


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    token: SecretStr | None = Field(default=None, alias="BOT_TOKEN")
    api_base_url: str = Field(default=TELEGRAM_API, alias="BOT_API_BASE_URL")
    db_path: Path = Field(default=Path("data/bot.sqlite3"), alias="BOT_DB_PATH")
    admin_ids: frozenset[int] = Field(default=frozenset(), alias="BOT_ADMIN_IDS")
    default_language: Lang = Field(default="de", alias="BOT_DEFAULT_LANGUAGE")
    timezone: str = Field(default="Europe/Berlin", alias="BOT_TIMEZONE")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", alias="BOT_LOG_LEVEL"
    )
    # Telegram allows about 30 messages per second in bulk (more with paid broadcasts).
    rate_limit: float = Field(default=30.0, gt=0, le=1000, alias="BOT_RATE_LIMIT")
    follow_up_after: timedelta = Field(default=timedelta(days=7), alias="BOT_FOLLOW_UP_AFTER")
    follow_up_repeat: timedelta = Field(default=timedelta(days=7), alias="BOT_FOLLOW_UP_REPEAT")
    sweep_seconds: float = Field(default=60.0, gt=0, le=3600, alias="BOT_REMINDER_SWEEP_SECONDS")
    quiet_hours: str = Field(default="21:00-08:00", alias="BOT_QUIET_HOURS")
    log_retention_days: int = Field(default=90, ge=1, le=3650, alias="BOT_LOG_RETENTION_DAYS")
    webhook_url: str | None = Field(default=None, alias="BOT_WEBHOOK_URL")
    webhook_listen: str = Field(default="127.0.0.1", alias="BOT_WEBHOOK_LISTEN")
    webhook_port: int = Field(default=8443, ge=1, le=65535, alias="BOT_WEBHOOK_PORT")
    webhook_secret: SecretStr | None = Field(default=None, alias="BOT_WEBHOOK_SECRET")

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be the public https:// address Telegram posts updates to")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram allows 1-256 characters A-Z, a-z, 0-9, _ and -.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("use 1-256 characters from A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("BOT_WEBHOOK_SECRET is required when BOT_WEBHOOK_URL is set")
        return self

    @property
    def webhook_path(self) -> str:
        """The local path the webhook listens on: the path of BOT_WEBHOOK_URL."""
        return urlsplit(self.webhook_url or "").path.strip("/")

    @field_validator("follow_up_after", "follow_up_repeat", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        QuietHours.parse(value)
        return value

    @property
    def quiet(self) -> QuietHours | None:
        return QuietHours.parse(self.quiet_hours)

    @property
    def nudge_policy(self) -> NudgePolicy:
        return NudgePolicy(self.follow_up_after, self.follow_up_repeat)

    @field_validator("token", mode="before")
    @classmethod
    def _token(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip() or None
            # A Telegram token is "<bot id>:<secret>"; catch pasted quotes or URLs early.
            if value is not None and (":" not in value or " " in value or "/" in value):
                raise ValueError("must look like 123456:ABC-DEF... (the token from @BotFather)")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("default_language", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}, e.g. Europe/Berlin") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def bot_base_url(self) -> str:
        """The URL python-telegram-bot appends the token to."""
        return (
            self.api_base_url if self.api_base_url.endswith("/bot") else self.api_base_url + "/bot"
        )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `environ` (default: the process environment); empty values mean default."""
    source = os.environ if environ is None else environ
    values = {
        key: value
        for key, value in source.items()
        if key.startswith("BOT_") and (value != "" or key in EMPTY_IS_A_VALUE)
    }
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = error["loc"][0] if error["loc"] else "BOT_WEBHOOK_SECRET"
            name = _alias(str(field))
            # Never echo the offending value: for BOT_TOKEN it would leak the secret.
            problems.append(f"{name}: {error['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None


def _alias(field: str) -> str:
    for name, info in Settings.model_fields.items():
        if field in (name, info.alias):
            return info.alias or name
    return field
