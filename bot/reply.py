"""What the core answers: text blocks plus abstract buttons, free of any transport."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal

Style = Literal["title", "text", "item", "note"]


class ActionKind(StrEnum):
    """What pressing a button does; the value is its short code in callback data."""

    ENTRY = "e"  # show a knowledge entry
    OFFER = "o"  # an entry offered for an unsure or declined question: shown and recorded
    NONE = "n"  # "Nichts davon": none of the offers fitted; recorded as a miss
    WRONG = "w"  # "Passt nicht?" under an answer ("<id>.<id>"): recorded, the others offered
    MORE = "m"  # the details of the entries shown ("<id>,<id>"), edited in place
    MORE_ASKED = "ma"  # the same for an answer to a question: "Passt nicht?" stays
    COMPARE = "c"  # show a compare topic
    COMPARE_MENU = "cm"
    TOPICS = "t"
    CHECKLIST = "cl"
    CHECK = "ck"  # toggle a checklist item
    LANGUAGE = "lg"
    HELP = "h"
    REQUEST = "rq"  # guided /request: platform and direction chosen
    PENDING = "pd"  # the list of open requests
    FOLLOW_UP = "fu"  # one request
    DECIDE = "fs"  # a state button: "<id>-<code>"
    DELETE = "fx"  # confirmed deletion of a request
    CORRECT = "fc"  # correct a request just logged: "<id>"
    HISTORY = "fh"  # settled and expired requests
    STEP = "sp"  # an answer in a guided step: "cancel", "yes", "no"
    DRAFT = "dr"  # check an invitation text: the platform chosen
    PROGRESS = "pg"  # the progress picture
    SETTING = "st"  # a settings toggle or choice
    FORGET = "dl"  # /delete confirmed ("yes") or cancelled ("no")


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    arg: str = ""
    # In a group: the user the message was for; only they may press its buttons.
    owner: int | None = None


@dataclass(frozen=True)
class Button:
    label: str
    action: Action
    url: str | None = None  # a link (to the private chat) instead of a press


@dataclass(frozen=True)
class Block:
    text: str
    style: Style = "text"


@dataclass(frozen=True)
class Document:
    """A file sent along with a reply (Telegram: sendDocument; a photo: sendPhoto, with the
    reply's text as its caption and the buttons under it)."""

    filename: str
    content: bytes
    photo: bool = False


@dataclass(frozen=True)
class Reply:
    """A message to the user; `edit` asks the front door to replace the pressed message."""

    blocks: tuple[Block, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit: bool = False
    notice: str | None = None  # short toast for a button press (Telegram's callback answer)
    documents: tuple[Document, ...] = ()  # files sent after the text (a photo: instead of it)


def owned_by(reply: Reply, owner: int) -> Reply:
    """The reply with every button marked as `owner`'s (for a message into a group)."""
    rows = tuple(
        tuple(replace(b, action=replace(b.action, owner=owner)) for b in row)
        for row in reply.buttons
    )
    return replace(reply, buttons=rows)


def text_reply(text: str, *buttons: tuple[Button, ...]) -> Reply:
    return Reply((Block(text),), tuple(buttons))
