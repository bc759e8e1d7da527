"""What Telegram refuses in outgoing messages, for the fake Bot APIs used in tests."""

from __future__ import annotations

import html
import json
import re
from typing import Any

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_BYTES = 64
ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "tg-spoiler", "span", "blockquote", "tg-emoji",
}  # fmt: skip
_TOKEN = re.compile(r"<(/?)([a-zA-Z-]+)([^<>]*)>|&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);|[<>&]")


def html_problem(text: str, limit: int = MAX_TEXT) -> str | None:
    """Telegram's complaint about `text` in HTML parse mode, or None if it parses."""
    stack: list[str] = []
    visible: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        visible.append(text[position : match.start()])
        position = match.end()
        token = match.group(0)
        if match.group(2):
            closing, tag = match.group(1) == "/", match.group(2).lower()
            if tag not in ALLOWED_TAGS:
                return f'Can\'t parse entities: unsupported start tag "{tag}"'
            if closing:
                if not stack or stack.pop() != tag:
                    return f'Can\'t parse entities: unexpected end tag "{tag}"'
            else:
                stack.append(tag)
        elif match.group(4):
            visible.append(html.unescape(token))
        else:
            return f"Can't parse entities: unescaped {token!r}"
    visible.append(text[position:])
    if stack:
        return f'Can\'t parse entities: unclosed tag "{stack[-1]}"'
    shown = "".join(visible)
    if not shown.strip():
        return "Bad Request: message text is empty"
    if len(shown.encode("utf-16-le")) // 2 > limit:
        return "Bad Request: message is too long"
    return None


def _markup(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        loaded: dict[str, Any] = json.loads(value)
        return loaded
    return dict(value)


def _inline_problem(params: dict[str, Any]) -> str | None:
    results = params.get("results") or []
    if isinstance(results, str):
        results = json.loads(results)
    if len(results) > 50:
        return "Bad Request: RESULTS_TOO_MUCH"
    ids = [str(result.get("id", "")) for result in results]
    if len(set(ids)) != len(ids) or any(not 1 <= len(i.encode()) <= 64 for i in ids):
        return "Bad Request: RESULT_ID_INVALID"
    for result in results:
        content = result.get("input_message_content") or {}
        text = str(content.get("message_text", ""))
        problem = html_problem(text) if content.get("parse_mode") == "HTML" else None
        if problem or not result.get("title"):
            return problem or "Bad Request: RESULT_TITLE_EMPTY"
        for row in (result.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if not button.get("text") or not (button.get("url") or button.get("callback_data")):
                    return "Bad Request: BUTTON_INVALID"
    return None


def check_outgoing(method: str, params: dict[str, Any]) -> str | None:
    """The 400 description Telegram would give for this call, or None."""
    if method == "answerInlineQuery":
        return _inline_problem(params)
    if method in ("sendMessage", "editMessageText"):
        text = str(params.get("text", ""))
        if params.get("parse_mode") == "HTML":
            problem = html_problem(text)
        else:
            problem = "Bad Request: message is too long" if len(text) > MAX_TEXT else None
        if problem:
            return problem
    if method in ("sendPhoto", "sendDocument") and params.get("caption"):
        caption = str(params["caption"])
        if params.get("parse_mode") == "HTML":
            problem = html_problem(caption, MAX_CAPTION)
        else:
            problem = (
                "Bad Request: message caption is too long" if len(caption) > MAX_CAPTION else None
            )
        if problem:
            return problem
    markup = _markup(params.get("reply_markup"))
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if not button.get("text"):
                return "Bad Request: button text is empty"
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_BYTES:
                return "Bad Request: BUTTON_DATA_INVALID"
    return None
