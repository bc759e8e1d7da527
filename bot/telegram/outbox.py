"""What handling an update sends, held back until the update's changes are saved.

The polling loop handles each update in one SQLite transaction. Sending from inside it would
hold the write lock across a round trip to Telegram, so one slow or failing chat would hold
up every other. Handlers therefore put their replies in the update's Outbox; the loop saves
the messages with the update's "processed" mark, commits, and only then sends them. After a
crash between the commit and the send, the saved messages go out at the next start: a reply
may arrive twice, never not at all. Answers to button presses (the little toast) are not
saved: Telegram forgets the press within seconds anyway.
"""

from __future__ import annotations

import base64
import json
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.reply import Action, ActionKind, Block, Button, Document, Reply

Kind = Literal["send", "edit", "answer"]


@dataclass(frozen=True)
class Outgoing:
    """One Bot API effect: send a reply, edit a message into a reply, or answer a press."""

    kind: Kind
    chat_id: int
    reply: Reply | None = None  # send, edit
    message_id: int | None = None  # edit
    query_id: str | None = None  # answer
    notice: str | None = None  # answer


@dataclass
class Outbox:
    """What handling one update sends, and the exception a handler raised, if one did."""

    items: list[Outgoing] = field(default_factory=list)
    failure: Exception | None = None

    def send(self, chat_id: int, reply: Reply) -> None:
        self.items.append(Outgoing("send", chat_id, reply))

    def edit(self, chat_id: int, message_id: int, reply: Reply) -> None:
        self.items.append(Outgoing("edit", chat_id, reply, message_id=message_id))

    def answer(self, chat_id: int, query_id: str, notice: str | None) -> None:
        self.items.append(Outgoing("answer", chat_id, query_id=query_id, notice=notice))

    def saved_form(self) -> str | None:
        """The messages as JSON for the database, or None if there are none."""
        kept = [_item_to_dict(item) for item in self.items if item.kind != "answer"]
        return json.dumps(kept, ensure_ascii=False) if kept else None


# The Outbox of the update being handled in this task, if any (None: send at once).
CURRENT: ContextVar[Outbox | None] = ContextVar("outbox", default=None)


def restore(saved: str) -> list[Outgoing]:
    """The messages saved by `Outbox.saved_form`."""
    return [_item_from_dict(item) for item in json.loads(saved)]


def _item_to_dict(item: Outgoing) -> dict[str, Any]:
    assert item.reply is not None
    return {
        "kind": item.kind,
        "chat_id": item.chat_id,
        "message_id": item.message_id,
        "reply": reply_to_dict(item.reply),
    }


def _item_from_dict(data: dict[str, Any]) -> Outgoing:
    kind = data["kind"]
    if kind not in ("send", "edit"):
        raise ValueError(f"unknown saved message kind {kind!r}")
    return Outgoing(
        kind,
        int(data["chat_id"]),
        reply_from_dict(data["reply"]),
        message_id=data.get("message_id"),
    )


def reply_to_dict(reply: Reply) -> dict[str, Any]:
    return {
        "blocks": [[block.text, block.style] for block in reply.blocks],
        "buttons": [
            [[b.label, b.action.kind.value, b.action.arg, b.url, b.action.owner] for b in row]
            for row in reply.buttons
        ],
        "edit": reply.edit,
        "notice": reply.notice,
        "documents": [
            {
                "filename": document.filename,
                "content": base64.b64encode(document.content).decode("ascii"),
                "photo": document.photo,
            }
            for document in reply.documents
        ],
    }


def reply_from_dict(data: dict[str, Any]) -> Reply:
    # Rows saved before a reply could carry several files hold one "document".
    saved = data.get("documents") or ([data["document"]] if data.get("document") else [])
    return Reply(
        tuple(Block(text, style) for text, style in data["blocks"]),
        tuple(
            tuple(
                # Rows saved before buttons had a link and an owner hold three fields.
                Button(label, Action(ActionKind(kind), arg, _at(rest, 1)), url=_at(rest, 0))
                for label, kind, arg, *rest in row
            )
            for row in data["buttons"]
        ),
        edit=bool(data.get("edit")),
        notice=data.get("notice"),
        documents=tuple(
            Document(item["filename"], base64.b64decode(item["content"]), bool(item.get("photo")))
            for item in saved
        ),
    )


def _at(values: list[Any], index: int) -> Any:
    return values[index] if len(values) > index else None
