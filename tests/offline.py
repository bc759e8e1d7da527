"""Offline Bot API for pipeline tests: a fake BaseRequest, as python-telegram-bot's own tests do.

It answers like Telegram (including 400 for HTML that does not parse, texts over 4096
characters and callback data over 64 bytes), records every call, and can be told to fail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from bot.domain import Clock, utc_now
from tests.telegram_rules import check_outgoing

BOT_USER = {
    "id": 4242,
    "is_bot": True,
    "first_name": "Netzwerk-Coach",
    "username": "netzwerk_coach_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
TOKEN = "4242:TEST-token-never-printed"


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class OfflineRequest(BaseRequest):
    """Records calls; answers getMe, sends, edits and the rest with plausible results."""

    calls: list[Call] = field(default_factory=list)
    fail_next: dict[str, tuple[int, str]] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)  # chats whose user blocked the bot
    files: dict[str, bytes] = field(default_factory=dict)  # file_id -> what a user sent
    _message_id: int = 100

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:  # a download of a file the user sent (after getFile)
            self.calls.append(Call("download", {"url": url}))
            content = self.files.get(url.rsplit("/", 1)[-1])
            return (200, content) if content is not None else (404, _error(404, "Not Found"))
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        for field_name, (_, content, _) in (
            (request_data.multipart_data or {}).items() if (request_data) else ()
        ):
            params[field_name] = content  # an uploaded file: its bytes
        self.calls.append(Call(name, params))
        if name in self.fail_next:
            status, description = self.fail_next.pop(name)
            return status, _error(status, description)
        if name.startswith("send") and int(params.get("chat_id", 0)) in self.blocked:
            return 403, _error(403, "Forbidden: bot was blocked by the user")
        problem = check_outgoing(name, params)
        if problem is not None:
            return 400, _error(400, problem)
        return 200, json.dumps({"ok": True, "result": self._result(name, params)}).encode()

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT_USER
        if name == "getFile":
            file_id = str(params["file_id"])
            size = len(self.files.get(file_id, b""))
            return {"file_id": file_id, "file_unique_id": file_id, "file_size": size,
                    "file_path": f"documents/{file_id}"}  # fmt: skip
        if name == "sendPhoto":
            self._message_id += 1
            return {"message_id": self._message_id, "date": 0, "from": BOT_USER,
                    "chat": {"id": int(params.get("chat_id", 1)), "type": "private"},
                    "photo": [{"file_id": "p", "file_unique_id": "p", "width": 1080,
                               "height": 1350}]}  # fmt: skip
        if name in ("sendMessage", "editMessageText", "sendDocument"):
            self._message_id += 1
            chat_id = int(params.get("chat_id", 1))
            message: dict[str, Any] = {
                "message_id": params.get("message_id", self._message_id),
                "date": 0,
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            return message
        return True

    def sent(self, *methods: str) -> list[Call]:
        wanted = methods or ("sendMessage", "editMessageText")
        return [call for call in self.calls if call.method in wanted]

    def texts(self) -> list[str]:
        return [str(call.params.get("text", "")) for call in self.sent()]


def _error(status: int, description: str) -> bytes:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if status == 429:
        body["parameters"] = {"retry_after": 1}
    return json.dumps(body).encode()


class UpdateFactory:
    """Builds realistic updates for one private chat or a group, dated by `clock`."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self.clock = clock
        self._update_id = 0
        self._message_id = 0

    def _ids(self) -> tuple[int, int]:
        self._update_id += 1
        self._message_id += 1
        return self._update_id, self._message_id

    def message(
        self,
        text: str | None,
        *,
        user_id: int = 7,
        language_code: str | None = "de",
        chat_type: str = "private",
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        update_id, message_id = self._ids()
        chat_id = user_id if chat_type == "private" else -100500
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(self.clock().timestamp()),
            "chat": {"id": chat_id, "type": chat_type},
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": "Erika",
                **({"language_code": language_code} if language_code else {}),
            },
        }
        if text is not None:
            message["text"] = text
            if text.startswith("/") and len(text) > 1 and not text[1].isspace():
                length = len(text.split()[0])
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        message.update(extra or {})
        return {"update_id": update_id, "message": message}

    def inline(self, query: str, *, user_id: int = 7, language_code: str = "de") -> dict[str, Any]:
        """What Telegram sends while someone types "@bot <query>" in any chat."""
        update_id, _ = self._ids()
        sender = {"id": user_id, "is_bot": False, "first_name": "Erika",
                  "language_code": language_code}  # fmt: skip
        return {
            "update_id": update_id,
            "inline_query": {
                "id": f"iq{update_id}",
                "from": sender,
                "query": query,
                "offset": "",
            },
        }

    def document(
        self, file_id: str, file_name: str, size: int, *, user_id: int = 7
    ) -> dict[str, Any]:
        """A file sent in the private chat (Telegram sends its id; the bytes come later)."""
        document = {"file_id": file_id, "file_unique_id": file_id, "file_name": file_name,
                    "file_size": size, "mime_type": "application/zip"}  # fmt: skip
        return self.message(None, user_id=user_id, extra={"document": document})

    def press(
        self,
        data: str,
        *,
        user_id: int = 7,
        message_text: str = "…",
        language_code: str = "de",
        chat_type: str = "private",
    ) -> dict[str, Any]:
        update_id, message_id = self._ids()
        return {
            "update_id": update_id,
            "callback_query": {
                "id": str(update_id),
                "chat_instance": "ci",
                "data": data,
                "from": {
                    "id": user_id,
                    "is_bot": False,
                    "first_name": "Erika",
                    "language_code": language_code,
                },
                "message": {
                    "message_id": message_id,
                    "date": int(self.clock().timestamp()),
                    "chat": {
                        "id": user_id if chat_type == "private" else -100500,
                        "type": chat_type,
                    },
                    "from": BOT_USER,
                    "text": message_text,
                },
            },
        }


def to_update(data: dict[str, Any], bot: Any) -> Update:
    update = Update.de_json(data, bot)
    assert update is not None
    return update
