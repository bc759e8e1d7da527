"""Turning a Reply into text: plain for the terminal and JSON, HTML for Telegram.

Every string that reaches Telegram's HTML parse mode is escaped here and nowhere else;
long texts are split here; callback data is encoded and checked here.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from bot.reply import Action, ActionKind, Block, Reply

MAX_MESSAGE = 4096  # Telegram's limit, in UTF-16 code units
MAX_CAPTION = 1024  # a photo's caption
MAX_CALLBACK_BYTES = 64
CALLBACK_VERSION = "v1"
_ARG = re.compile(r"^[a-z0-9.-]{0,40}$")


def _plain_block(block: Block) -> str:
    return f"• {block.text}" if block.style == "item" else block.text


def _spaced(blocks: list[tuple[Block, str]]) -> list[str]:
    """Rendered blocks, with an empty line before every title but the first."""
    lines = []
    for number, (block, rendered) in enumerate(blocks):
        if block.style == "title" and number > 0:
            lines.append("")
        lines.append(rendered)
    return lines


def to_plain(reply: Reply) -> str:
    """The reply as the user reads it, without markup or buttons."""
    return "\n".join(_spaced([(block, _plain_block(block)) for block in reply.blocks]))


def _html_block(block: Block) -> str:
    text = html.escape(block.text, quote=False)
    if block.style == "title":
        return f"<b>{text}</b>"
    if block.style == "note":
        return f"<i>{text}</i>"
    if block.style == "item":
        return f"• {text}"
    return text


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@lru_cache(maxsize=1024)
def to_html(reply: Reply, limit: int = MAX_MESSAGE) -> tuple[str, ...]:
    """The reply as Telegram HTML, split at block boundaries into messages within `limit`.

    Replies are immutable and the answer engine hands out one object per topic, so the
    rendering of popular answers is kept (bounded) instead of being redone per message.
    """
    chunks: list[str] = []
    current = ""
    for block in reply.blocks:
        for piece in _fit(block, limit):
            if block.style == "title" and current:
                piece = "\n" + piece
            candidate = f"{current}\n{piece}" if current else piece.lstrip("\n")
            if _units(candidate) <= limit:
                current = candidate
            else:
                chunks.append(current)
                current = piece
    if current:
        chunks.append(current)
    return tuple(chunks) or ("",)


def _fit(block: Block, limit: int) -> list[str]:
    """One rendered block, or several if it alone is too long (split by lines, then words)."""
    rendered = _html_block(block)
    if _units(rendered) <= limit:
        return [rendered]
    pieces: list[str] = []
    for line in block.text.splitlines() or [block.text]:
        part = ""
        for word in line.split(" "):
            # Escaping can only grow a word, and markup adds a few characters: keep room.
            while _units(html.escape(word, quote=False)) > limit - 16:
                cut = (limit - 16) // 6
                head, word = word[:cut], word[cut:]
                if part:
                    pieces.append(_html_block(Block(part, block.style)))
                    part = ""
                pieces.append(_html_block(Block(head, block.style)))
            candidate = f"{part} {word}" if part else word
            if _units(_html_block(Block(candidate, block.style))) > limit:
                pieces.append(_html_block(Block(part, block.style)))
                part = word
            else:
                part = candidate
        if part:
            pieces.append(_html_block(Block(part, block.style)))
    return pieces


def encode_action(action: Action) -> str:
    """Callback data for a button: versioned, at most 64 bytes."""
    data = f"{CALLBACK_VERSION}|{action.kind.value}|{action.arg}"
    if action.owner is not None:
        data += f"|{action.owner}"
    if len(data.encode()) > MAX_CALLBACK_BYTES or not _ARG.match(action.arg):
        raise ValueError(f"callback data not encodable: {data!r}")
    return data


def decode_action(data: str | None) -> Action | None:
    """The action behind callback data, or None if it is stale, foreign or forged."""
    if not data or len(data.encode()) > MAX_CALLBACK_BYTES:
        return None
    parts = data.split("|")
    if len(parts) not in (3, 4) or parts[0] != CALLBACK_VERSION or not _ARG.match(parts[2]):
        return None
    owner = parts[3] if len(parts) == 4 else None
    if owner is not None and not (owner.isdigit() and len(owner) <= 15):
        return None
    try:
        kind = ActionKind(parts[1])
    except ValueError:
        return None
    return Action(kind, parts[2], int(owner) if owner is not None else None)
