"""A small Bot API server on 127.0.0.1 that behaves like Telegram where it matters.

Used by the HTTP-level tests and the benchmarks: the bot runs as its own process with
BOT_API_BASE_URL pointing here. It serves getMe, getUpdates (long polling), sendMessage,
editMessageText, answerCallbackQuery, setMyCommands, deleteWebhook and sendDocument; unknown
methods get 404. Outgoing messages are checked like Telegram does (tests/telegram_rules.py),
and failures (429 with retry_after, 5xx, 403) can be queued per method.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from tests.offline import BOT_USER, UpdateFactory
from tests.telegram_rules import check_outgoing

_JSON_PARAMS = {
    "chat_id", "message_id", "reply_markup", "commands", "offset", "limit", "timeout",
    "allowed_updates", "disable_web_page_preview", "show_alert", "scope",
}  # fmt: skip


@dataclass
class Sent:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    files: dict[str, bytes] = field(default_factory=dict)


class FakeBotAPI:
    """Thread-safe state behind the HTTP server."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self.calls: list[Sent] = []
        self.failures: dict[str, list[tuple[int, str]]] = {}
        self.factory = UpdateFactory()
        self._message_id = 1000
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    # -- control ---------------------------------------------------------------------------

    def start(self) -> str:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, payload = api.handle(self.path, self.headers.get("Content-Type", ""), body)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bot went away mid-poll (killed on purpose in some tests)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def fail(self, method: str, status: int, description: str, times: int = 1) -> None:
        with self._lock:
            self.failures.setdefault(method, []).extend([(status, description)] * times)

    def push(self, update: dict[str, Any]) -> None:
        with self._lock:
            self.updates.append(update)
            self._lock.notify_all()

    def say(self, text: str, user_id: int = 7, **kwargs: Any) -> None:
        self.push(self.factory.message(text, user_id=user_id, **kwargs))

    def press(self, data: str, user_id: int = 7, message_id: int | None = None) -> None:
        update = self.factory.press(data, user_id=user_id)
        if message_id is not None:
            update["callback_query"]["message"]["message_id"] = message_id
        self.push(update)

    def sent(self, *methods: str) -> list[Sent]:
        wanted = methods or ("sendMessage", "editMessageText")
        with self._lock:
            return [c for c in self.calls if c.method in wanted and "error" not in c.params]

    def wait_for(
        self,
        predicate: Callable[[Sent], bool],
        timeout: float = 15.0,
        after: int = 0,
        refused: bool = False,
    ) -> Sent:
        """The first call from index `after` on that satisfies `predicate`; by default only
        calls that were accepted, with `refused` only those answered with an error."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for call in self.calls[after:]:
                    if ("error" in call.params) == refused and predicate(call):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(c.method, str(c.params.get("text", ""))[:60]) for c in self.calls]
                    raise AssertionError(f"no matching call within {timeout}s; saw {seen}")
                self._lock.wait(remaining)

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)

    # -- the API ---------------------------------------------------------------------------

    def handle(self, path: str, content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = path[len(prefix) :]
        params, files = _decode(content_type, body)
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        with self._lock:
            queued = self.failures.get(method)
            if queued:
                status, description = queued.pop(0)
                self.calls.append(Sent(method, {**params, "error": status}))
                self._lock.notify_all()
                error: dict[str, Any] = {
                    "ok": False,
                    "error_code": status,
                    "description": description,
                }
                if status == 429:
                    error["parameters"] = {"retry_after": 1}
                return status, error
            problem = check_outgoing(method, params)
            if problem is not None:
                self.calls.append(Sent(method, {**params, "error": 400}))
                self._lock.notify_all()
                return 400, {"ok": False, "error_code": 400, "description": problem}
            result = self._result(method, params)
            if result is None:
                return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            self.calls.append(Sent(method, params, files=files))
            self._lock.notify_all()
            return 200, {"ok": True, "result": result}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                pending = [u for u in self.updates if u["update_id"] >= offset]
                # Confirmed updates are gone for good, as on Telegram.
                self.updates = pending
                if pending or time.monotonic() >= deadline:
                    return pending[:100]
                self._lock.wait(max(0.0, deadline - time.monotonic()))

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("deleteWebhook", "setMyCommands", "answerCallbackQuery", "setWebhook"):
            return True
        if method in ("sendMessage", "editMessageText", "sendDocument"):
            if method == "editMessageText":
                message_id = int(params["message_id"])
            else:
                self._message_id += 1
                message_id = self._message_id
            message: dict[str, Any] = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "from": BOT_USER,
            }
            if "text" in params:
                message["text"] = params["text"]
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            if method == "sendDocument":
                message["document"] = {"file_id": "doc", "file_unique_id": "doc"}
            return message
        return None


def _decode(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                files[str(name)] = payload
            else:
                params[str(name)] = payload.decode()
    elif content_type.startswith("application/json"):
        params = json.loads(body or b"{}")
    else:
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
    for key in _JSON_PARAMS & params.keys():
        if isinstance(params[key], str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params, files
