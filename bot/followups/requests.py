"""`/request` arguments: platform, direction, name and optional note. Pure parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain import Direction, Platform

MAX_NAME = 100
MAX_NOTE = 1000  # our own cap for any note; platform limits come from the knowledge base


@dataclass(frozen=True)
class RequestInput:
    """What `/request ...` said: platform, direction, name and optional note."""

    platform: Platform
    direction: Direction
    name: str
    note: str | None


_PLATFORM_WORDS: dict[str, Platform] = {"xing": "xing", "linkedin": "linkedin", "li": "linkedin"}
_DIRECTION_WORDS: dict[str, Direction] = {
    "sent": "sent",
    "gesendet": "sent",
    "gesandt": "sent",
    "verschickt": "sent",
    "received": "received",
    "erhalten": "received",
    "empfangen": "received",
    "bekommen": "received",
}
_NOTE_SEPARATOR = re.compile(r"\s*(?:\||;|\s[-–—]\s)\s*")


class RequestSyntaxError(ValueError):
    """`/request` arguments that cannot be understood; `reason` is a UI text key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_request(args: str) -> RequestInput:
    """Parse '[received] <xing|linkedin> <name> [| note]' in any order of the first words."""
    words = args.split()
    platform: Platform | None = None
    direction: Direction = "sent"
    while words:
        word = words[0].lower().strip(",.:")
        if word in _PLATFORM_WORDS and platform is None:
            platform = _PLATFORM_WORDS[word]
        elif word in _DIRECTION_WORDS:
            direction = _DIRECTION_WORDS[word]
        else:
            break
        words.pop(0)
    if platform is None:
        raise RequestSyntaxError("request_need_platform")
    rest = " ".join(words)
    name, _, note = (part.strip() for part in _split_note(rest))
    if not name:
        raise RequestSyntaxError("request_need_name")
    if len(name) > MAX_NAME:
        raise RequestSyntaxError("request_name_too_long")
    return RequestInput(platform, direction, name, note or None)


def _split_note(text: str) -> tuple[str, str, str]:
    match = _NOTE_SEPARATOR.search(text)
    if not match:
        return text, "", ""
    return text[: match.start()], match.group(0), text[match.end() :]
