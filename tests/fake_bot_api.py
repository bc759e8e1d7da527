"""A small Bot API server on 127.0.0.1 that behaves like Telegram where it matters.

Used by the HTTP-level tests and the benchmarks: the bot runs as its own process with
BOT_API_BASE_URL pointing here. It serves getMe, getUpdates (long polling), sendMessage,
editMessageText, answerCallbackQuery, setMyCommands, deleteWebhook and sendDocument; unknown
methods get 404. Outgoing messages are checked like Telegram does (tests/telegram_rules.py),
and failures (429 with retry_after, 5xx, 403) can be queued per method.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from tests.offline import BOT_USER, UpdateFactory
from tests.telegram_rules import check_outgoing

DROP = 0  # a "status" for fail(): close the connection instead of answering
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
    content_type: str = ""


class FakeBotAPI:
    """Thread-safe state behind the HTTP server."""

    def __init__(self, token: str, latency: float = 0.0) -> None:
        self.token = token
        # Seconds each call (but getUpdates) takes, like the round trip to Telegram.
        self.latency = latency
        self.slow_chats: dict[int, float] = {}  # chat id -> extra seconds per call to it
        self.updates: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}  # file_id -> what a user sent, for getFile
        self.calls: list[Sent] = []
        self.failures: dict[str, list[tuple[int, str]]] = {}
        self.factory = UpdateFactory()
        self._message_id = 1000
        self._lock = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.base_url = ""
        self._closing = False
        self._wakeup: asyncio.Event | None = None
        self._port = 0

    # -- control ---------------------------------------------------------------------------

    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 (a free port unless given) in a thread of its own; the base URL."""
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            self._wakeup = asyncio.Event()
            server = loop.run_until_complete(
                asyncio.start_server(self._connection, "127.0.0.1", port, limit=2**20)
            )
            self._port = server.sockets[0].getsockname()[1]
            self._server = server
            ready.set()
            try:
                loop.run_forever()
            finally:
                # Let every connection end by itself: closed sockets end the readers, the
                # wake-up ends long polls; cancelling them would only make asyncio complain.
                server.close()
                self._closing = True
                for writer in list(self._writers):
                    writer.close()
                self._wakeup.set()
                tasks = asyncio.all_tasks(loop)
                if tasks:
                    loop.run_until_complete(asyncio.wait(tasks, timeout=5))
                # Closing a transport finishes on the next loop pass; give it that pass, or
                # a transport left "closing" warns when it is collected.
                loop.run_until_complete(asyncio.sleep(0))
                loop.close()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        ready.wait(10)
        self.base_url = f"http://127.0.0.1:{self._port}"
        return self.base_url

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """HTTP/1.1 with keep-alive, just enough for aiohttp and httpx."""
        self._writers.add(writer)
        try:
            while not self._closing:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                status, payload = await self._dispatch(path, headers.get("content-type", ""), body)
                if status == DROP:
                    break  # hang up without an answer, as a broken connection would
                raw = isinstance(payload, bytes)  # a file download, not a Bot API answer
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                kind = "application/octet-stream" if raw else "application/json"
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass  # the client closed the connection (or the bot was killed mid-poll)
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _dispatch(
        self, path: str, content_type: str, body: bytes
    ) -> tuple[int, dict[str, Any] | bytes]:
        files = f"/file/bot{self.token}/"
        if path.startswith(files):
            with self._lock:
                self.calls.append(Sent("download", {"path": path[len(files) :]}))
                content = self.files.get(path[len(files) :].rsplit("/", 1)[-1])
            if content is None:
                return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            return 200, content
        prefix = f"/bot{self.token}/"
        if path.startswith(prefix) and path[len(prefix) :] == "getUpdates":
            params, _ = _decode(content_type, body)
            return 200, {"ok": True, "result": await self._get_updates(params)}
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.slow_chats:
            params, _ = _decode(content_type, body)
            await asyncio.sleep(self.slow_chats.get(int(params.get("chat_id") or 0), 0.0))
        return self.handle(path, content_type, body)

    def fail(self, method: str, status: int, description: str, times: int = 1) -> None:
        with self._lock:
            self.failures.setdefault(method, []).extend([(status, description)] * times)

    def push(self, update: dict[str, Any]) -> None:
        with self._lock:
            self.updates.append(update)
            self._lock.notify_all()
        if self._loop is not None and self._wakeup is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    def say(self, text: str, user_id: int = 7, **kwargs: Any) -> None:
        self.push(self.factory.message(text, user_id=user_id, **kwargs))

    def say_together(self, *messages: tuple[int, str]) -> None:
        """Messages of several users that arrive in one getUpdates batch."""
        with self._lock:
            for user_id, text in messages:
                self.updates.append(self.factory.message(text, user_id=user_id))
            self._lock.notify_all()
        if self._loop is not None and self._wakeup is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

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
            self.calls.append(Sent(method, params, files=files, content_type=content_type))
            self._lock.notify_all()
            return 200, {"ok": True, "result": result}

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 2.0)
        assert self._wakeup is not None
        while True:
            self._wakeup.clear()
            with self._lock:
                # Confirmed updates are gone for good, as on Telegram.
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                pending = self.updates[:100]
            remaining = deadline - time.monotonic()
            if pending or remaining <= 0 or self._closing:
                return pending
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), remaining)

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "getFile":
            file_id = str(params["file_id"])
            if file_id not in self.files:
                return None
            size = len(self.files[file_id])
            return {"file_id": file_id, "file_unique_id": file_id, "file_size": size,
                    "file_path": f"documents/{file_id}"}  # fmt: skip
        if method == "sendPhoto":
            self._message_id += 1
            return {"message_id": self._message_id, "date": int(time.time()), "from": BOT_USER,
                    "chat": {"id": int(params["chat_id"]), "type": "private"},
                    "photo": [{"file_id": "p", "file_unique_id": "p", "width": 1080,
                               "height": 1350}]}  # fmt: skip
        if method in (
            "deleteWebhook", "setMyCommands", "answerCallbackQuery", "setWebhook",
            "answerInlineQuery",
        ):  # fmt: skip
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

    def push_together(self, *updates: dict[str, Any]) -> None:
        """Updates (of any layout) that arrive in one getUpdates batch."""
        with self._lock:
            self.updates.extend(updates)
            self._lock.notify_all()
        if self._loop is not None and self._wakeup is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)


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
