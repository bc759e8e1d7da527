"""What people type to log a request: platform, direction, name, memo. Pure parsing.

`/request linkedin an Max Mustermann` and `/anfrage erhalten linkdin von Jonas Weber` must
both mean what they say: leading "an"/"von"/"to"/"from" belong to the sentence, not to the
name, platform words tolerate a typo, and only an explicit separator (a new line or `|`)
splits off the memo, so "Müller - Lüdenscheidt GmbH" stays one name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from rapidfuzz.distance import DamerauLevenshtein

from bot.domain import Direction, Platform

MAX_NAME = 100
# A private memo ("Messe Hamburg") is never checked against platform rules; this is our own
# cap so that a pasted essay does not end up in every nudge.
MAX_NOTE = 1000

_PLATFORM_WORDS: dict[str, Platform] = {"xing": "xing", "linkedin": "linkedin", "li": "linkedin"}
_DIRECTION_WORDS: dict[str, Direction] = {
    "sent": "sent",
    "gesendet": "sent",
    "gesandt": "sent",
    "verschickt": "sent",
    "geschickt": "sent",
    "received": "received",
    "erhalten": "received",
    "empfangen": "received",
    "bekommen": "received",
}
# "an Max" / "to Max": the person invited; "von Jonas" / "from Jonas": the one who invited.
_LINK_WORDS: dict[str, Direction] = {
    "an": "sent",
    "to": "sent",
    "von": "received",
    "from": "received",
}
_NOTE_SEPARATOR = re.compile(r"\s*(?:\r?\n|\|)\s*")
_EDGE_PUNCTUATION = " \t,.;:!?\"'„“”‚‘’«»()[]"


@dataclass(frozen=True)
class RequestInput:
    """What `/request ...` said: platform, direction, name and optional memo."""

    platform: Platform
    direction: Direction
    name: str
    note: str | None


class RequestSyntaxError(ValueError):
    """`/request` arguments that cannot be understood; `reason` is a UI text key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def platform_word(word: str) -> Platform | None:
    """The platform a word names, tolerating one slip ("linkdin", "Linkedn", "xnig")."""
    word = word.lower().strip(_EDGE_PUNCTUATION)
    if word in _PLATFORM_WORDS:
        return _PLATFORM_WORDS[word]
    # Same first letter and one edit (two for the long word): "King" or "Linda" stay names.
    if word[:1] == "x" and len(word) >= 3 and DamerauLevenshtein.distance(word, "xing") <= 1:
        return "xing"
    if word[:1] == "l" and len(word) >= 6 and DamerauLevenshtein.distance(word, "linkedin") <= 2:
        return "linkedin"
    return None


def parse_request(args: str) -> RequestInput:
    """Parse '[received] <xing|linkedin> [an|von] <name> [| memo]', first words in any order."""
    head, _, note = _split_note(args)
    words = head.split()
    platform: Platform | None = None
    direction: Direction | None = None
    while words:
        word = words[0].lower().strip(_EDGE_PUNCTUATION)
        if word == "linked" and len(words) > 1 and words[1].lower().strip(",.:") == "in":
            words.pop(0)  # "Linked In"
            word = "linkedin"
        found = platform_word(word) if platform is None else None
        if found is not None:
            platform = found
        elif word in _DIRECTION_WORDS:
            direction = _DIRECTION_WORDS[word]
        else:
            break
        words.pop(0)
    if platform is None:
        raise RequestSyntaxError("request_need_platform")
    return _person(platform, direction, " ".join(words), note)


def parse_person(text: str, platform: Platform, direction: Direction) -> RequestInput:
    """The answer to "Wie heißt die Person?" once platform and direction are chosen."""
    head, _, note = _split_note(text)
    return _person(platform, direction, head, note, chosen=True)


def _person(
    platform: Platform,
    direction: Direction | None,
    head: str,
    note: str,
    *,
    chosen: bool = False,
) -> RequestInput:
    words = head.split()
    link = _LINK_WORDS.get(words[0].lower()) if len(words) > 1 else None
    if link is not None:
        words.pop(0)
        # "von Jonas Weber" says who sent it, unless the direction was already given.
        if direction is None and not chosen:
            direction = link
    name = " ".join(words).strip(_EDGE_PUNCTUATION)
    if not name:
        raise RequestSyntaxError("request_need_name")
    if len(name) > MAX_NAME:
        raise RequestSyntaxError("request_name_too_long")
    memo = note.strip() or None
    if memo is not None and len(memo) > MAX_NOTE:
        raise RequestSyntaxError("request_note_too_long")
    return RequestInput(platform, direction or "sent", name, memo)


def name_part(text: str) -> str:
    """The text before the memo separator: what would be logged as the name."""
    return _split_note(text)[0]


def _split_note(text: str) -> tuple[str, str, str]:
    match = _NOTE_SEPARATOR.search(text.strip())
    if not match:
        return text.strip(), "", ""
    text = text.strip()
    return text[: match.start()], match.group(0), text[match.end() :]


# -- what a reply in the guided flow reads like ------------------------------------------

Reading = Literal["name", "cancel", "question", "unsure"]

_CANCEL_WORDS = frozenset(
    {"abbrechen", "abbruch", "cancel", "vergiss", "vergessen", "stop", "stopp", "quit", "exit"}
)
_CANCEL_PHRASES = frozenset(
    {"nein", "nee", "no", "doch nicht", "egal", "lass mal", "lass es", "never mind", "nevermind"}
)
_QUESTION_WORDS = frozenset(
    {
        "wie", "was", "wann", "wo", "woher", "wohin", "warum", "wieso", "weshalb", "welche",
        "welcher", "welches", "wer", "wen", "wem", "wieviel", "wieviele", "kann", "koennen",
        "können", "darf", "dürfen", "soll", "sollte", "muss", "gibt", "ist", "sind", "habe",
        "hab", "how", "what", "when", "where", "why", "which", "who", "can", "should", "is",
        "are", "do", "does", "may",
    }
)  # fmt: skip
# Words that occur in sentences but hardly in a person's name.
_SENTENCE_WORDS = frozenset(
    {
        "ich", "du", "er", "es", "wir", "ihr", "mir", "mich", "mein", "meine", "dich", "sie",
        "und", "oder", "aber", "nicht", "noch", "mal", "ja", "ok", "okay", "danke", "hallo",
        "hi", "hey", "bitte", "moin", "servus", "gut", "super", "eine", "ein", "einen", "the",
        "a", "an", "i", "my", "you", "and", "or", "not", "thanks", "hello", "please", "yes",
        "this", "that", "die", "das", "den", "dem", "notiz", "anfrage", "einladung",
    }
)  # fmt: skip
_MAX_NAME_WORDS = 5


def read_reply(text: str) -> Reading:
    """Whether a reply to "Wie heißt die Person?" reads as a name, a cancel, a question.

    "unsure" (for example "ok danke" or a long sentence) makes the bot ask before it logs.
    """
    head = name_part(text)
    words = re.findall(r"[\wäöüß'-]+", head.lower())
    phrase = " ".join(words)
    if phrase in _CANCEL_PHRASES or _CANCEL_WORDS & set(words):
        return "cancel"
    if "?" in head or (words and words[0] in _QUESTION_WORDS):
        return "question"
    if not words or len(words) > _MAX_NAME_WORDS or any(ch.isdigit() for ch in head):
        return "unsure"
    if _SENTENCE_WORDS & set(words[:1]) or len(_SENTENCE_WORDS & set(words)) > 1:
        return "unsure"
    return "name"
