"""Poison updates: one that cannot be parsed or keeps failing is set aside, never blocks the rest.

An update saved in the inbox is handled until it is done; one that raises every time would
stop its chat, and after a restart stop it again. So failures are counted per update: an
update python-telegram-bot cannot parse is set aside at once (the same library fails the
same way on the same JSON every time), one whose handling raises is tried MAX_TRIES times.
Set aside means: moved to the dead letters with its error (kept for the log retention
period, counted in /stats and `python -m bot health`), marked handled, so that neither
Telegram's redelivery nor the next start brings it back, and the user gets the friendly
error reply once, if its chat is known.

What is not a poison update: the database failing. A full disk, a database locked for
longer than the busy timeout, a read-only or corrupt file, a closed connection: every update
would fail the same way, and setting them all aside would lose them. SQLite reports these
as OperationalError, InternalError, NotSupportedError or DatabaseError itself; they stop
the queues (the inbox keeps the updates). What one update's values cause is that update's
failure: a constraint it violates (IntegrityError), a value SQLite cannot hold or bind
(DataError, ProgrammingError, InterfaceError, OverflowError), and every exception that
is not SQLite's. Should the database fail in a way classed as the update's, counting the try
is itself a write and raises, so the queues stop all the same.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from telegram import Bot, Update

MAX_TRIES = 3
# Enough of an error to recognise it; a message quoting a whole update can be long.
MAX_ERROR = 500
# update_id and chat ids fit SQLite's INTEGER; anything beyond can never be a real one.
MAX_ID = 2**63 - 1


def is_database_failure(error: BaseException) -> bool:
    """True if `error` is the database failing (stop), not one update's fault (set aside)."""
    per_update = (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.ProgrammingError)
    return isinstance(error, sqlite3.DatabaseError) and not isinstance(error, per_update)


def describe(error: BaseException) -> str:
    """The error as the dead letter keeps it: its type and message, shortened."""
    return f"{type(error).__name__}: {error}"[:MAX_ERROR]


@dataclass(frozen=True)
class Unreadable:
    """An update python-telegram-bot could not parse, as received, until it is set aside."""

    update_id: int
    payload: str
    error: str
    user_id: int | None = None
    chat_id: int | None = None


def update_id_of(data: Any) -> int | None:
    """The update_id of data posted or fetched as an update, if it has a possible one."""
    if not isinstance(data, dict):
        return None
    update_id = data.get("update_id")
    if type(update_id) is not int or not 0 <= update_id <= MAX_ID:  # bool is no id either
        return None
    return update_id


def read_update(update_id: int, data: Any, payload: str, bot: Bot) -> Update | Unreadable:
    """Saved or received JSON as an Update, or as Unreadable with the reason."""
    try:
        update = Update.de_json(data, bot)
    except Exception as error:  # PTB raises whatever its constructors meet (Type-, Key-, ...)
        reason = describe(error)
    else:
        if update is not None:
            return update
        reason = "empty update"
    sender = _sender(data) if isinstance(data, dict) else (None, None)
    return Unreadable(update_id, payload, reason, *sender)


def _sender(data: dict[str, Any]) -> tuple[int | None, int | None]:
    """(user, chat) of an update's JSON, where its layout still says so."""
    for value in data.values():
        if not isinstance(value, dict):
            continue
        inner = value.get("message")  # a button press names its chat in its message
        message = inner if isinstance(inner, dict) else value
        user = _id(value.get("from")) or _id(value.get("user"))
        return user, _id(message.get("chat"))
    return None, None


def _id(value: Any) -> int | None:
    raw = value.get("id") if isinstance(value, dict) else None
    return raw if type(raw) is int and -MAX_ID <= raw <= MAX_ID else None
