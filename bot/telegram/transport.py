"""How the bot speaks HTTP to the Bot API: JSON bodies over one pooled aiohttp session."""

from __future__ import annotations

import json
import re
import ssl
import warnings
from contextvars import ContextVar
from functools import cache
from typing import Any

import aiohttp
import certifi
from telegram import Bot, Update
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBDeprecationWarning

from bot.telegram.quarantine import Unreadable, read_update

# Bot API URLs carry the token ("/bot123:abc/sendMessage"); some aiohttp errors quote the URL.
_TOKEN_IN_URL = re.compile(r"bot\d+:[\w-]+")
# The Bot API method of the call being made, per task: PTB parses the answer without it.
_METHOD: ContextVar[str] = ContextVar("bot_api_method", default="")


def _chosen(value: object, default: float | None) -> float | None:
    """A timeout passed by a Bot method, or ours where it passed PTB's "not given" marker."""
    return value if value is None or isinstance(value, int | float) else default


def _sum(*timeouts: float | None) -> float | None:
    """The sum of the phases' timeouts; no limit if one of them has none."""
    return None if None in timeouts else sum(t for t in timeouts if t is not None)


@cache
def _certificates() -> ssl.SSLContext:
    """The same certificate authorities as httpx, independent of the host's store.

    Loading them takes about 90 ms, so all connections share one context.
    """
    return ssl.create_default_context(cafile=certifi.where())


def without_token(text: str) -> str:
    """`text` with any Bot API token in a URL ("bot123:abc") cut out."""
    return _TOKEN_IN_URL.sub("bot<token>", text)


def retry_seconds(error: RetryAfter) -> float:
    """How long Telegram asked to wait (PTB gives seconds or a timedelta)."""
    # PTB 22 warns on every read until it is switched to timedeltas; both forms work here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        wait = error.retry_after
    return float(wait) if isinstance(wait, int | float) else wait.total_seconds()


def _redacted(error: BaseException) -> str:
    return without_token(f"aiohttp.{type(error).__name__}: {error}")


class JsonRequest(BaseRequest):
    """python-telegram-bot's request backend: JSON bodies, sent with aiohttp.

    Two costs of PTB's default HTTPXRequest mattered here, both measured per Bot API call on
    loopback (benchmarks/telegram_throughput.py): it form-encodes parameters, percent-encoding
    every byte of a reply in pure Python (about a quarter of a millisecond per answer), and
    httpx itself spends about four times the CPU of aiohttp on a request and its response.
    Parameters go as one application/json body, which the Bot API takes for every method;
    requests with files go as multipart/form-data.

    Timeouts follow HTTPXRequest's defaults. aiohttp has no separate pool or write timeout:
    waiting for a free connection counts towards connecting, and the whole call is bounded
    by the sum of the four. Timeouts raise TimedOut, other failures NetworkError; neither
    message contains the token.
    """

    __slots__ = (
        "_connect",
        "_media_write",
        "_pool",
        "_pool_size",
        "_read",
        "_session",
        "_write",
    )

    def __init__(
        self,
        pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ssl=_certificates()),
                headers={"User-Agent": self.USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),  # the Bot API sets none
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("JsonRequest is not initialized")
        files = request_data.multipart_data if request_data is not None else None
        read = _chosen(read_timeout, self._read)
        write = _chosen(write_timeout, self._media_write if files else self._write)
        connect = _chosen(connect_timeout, self._connect)
        pool = _chosen(pool_timeout, self._pool)
        timeout = aiohttp.ClientTimeout(
            total=_sum(pool, connect, write, read),
            connect=_sum(pool, connect),
            sock_connect=connect,
            sock_read=read,
        )
        body: aiohttp.FormData | bytes | None = None
        headers = {}
        if request_data is not None and files:
            body = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                body.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                body.add_field(name, content, filename=filename, content_type=mimetype)
        elif request_data is not None:
            body = request_data.json_payload
            headers["Content-Type"] = "application/json"
        _METHOD.set(url.rsplit("/", 1)[-1])  # for parse_json_payload, in this task
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's timeouts are TimeoutErrors too
            raise TimedOut(_redacted(error)) from None
        except aiohttp.ClientError as error:
            raise NetworkError(_redacted(error)) from None

    # PTB's documented hook for decoding responses, static there. Its own logs a page that is
    # not JSON with a traceback and raises a TelegramError nothing retries; a proxy's error
    # page is a passing network failure like a 502.
    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        try:
            data = json.loads(payload)
        except ValueError:
            raise NetworkError("the Bot API answered with something that is not JSON") from None
        if not isinstance(data, dict):
            raise NetworkError("the Bot API answered with JSON that is not a Bot API response")
        if data.get("ok") is True:
            # PTB would turn `{"ok": true, "result": "x"}` into an AttributeError deep inside,
            # which nothing expects; for us it is a garbled answer, retried like any other.
            # getUpdates answers a list of updates; every other method used here an object or
            # True.
            method, result = _METHOD.get(), data.get("result")
            if method == "getUpdates":
                wrong = not isinstance(result, list) or not all(isinstance(u, dict) for u in result)
            else:
                wrong = not isinstance(result, dict | bool)
            if wrong:
                kind = type(result).__name__
                raise NetworkError(f"the Bot API answered {method} with a result of type {kind}")
        return data


# A lone UTF-16 surrogate ("\ud800" without its pair) parses from JSON but cannot be written
# as UTF-8: SQLite, the logs and Telegram itself refuse it. json.loads joins every valid pair,
# so whatever is left in this range is alone.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def without_lone_surrogates(value: Any) -> Any:
    """JSON data with every lone surrogate replaced by U+FFFD, before anything else sees it."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {key: without_lone_surrogates(item) for key, item in value.items()}
    return value


def parse_update_json(payload: bytes) -> tuple[Any, str]:
    """An update posted to us: its JSON data and the text to save, both without lone
    surrogates. The text is the payload as received unless it had one to clean."""
    data = json.loads(payload)
    if not _ESCAPED_SURROGATE.search(payload):
        return data, payload.decode("utf-8")
    clean = without_lone_surrogates(data)
    return clean, json.dumps(clean, ensure_ascii=False)


class UpdatesRequest(JsonRequest):
    """The getUpdates connection, which also keeps the fetched updates as the Bot API sent them.

    Durable polling saves every fetched update before confirming it (bot/telegram/polling.py), and
    turning PTB's Update objects back into JSON costs about 0.2 ms each, as much as
    answering the question; the response already holds each update's JSON.
    """

    __slots__ = ("_raw",)

    def __init__(self, **timeouts: float | None) -> None:
        super().__init__(pool_size=1, **timeouts)  # long polling needs one connection
        self._raw: dict[int, str] = {}

    def raw(self, update_id: int) -> str | None:
        """The JSON of an update of the last fetched batch, as received."""
        return self._raw.get(update_id)

    def reread(self, bot: Bot) -> list[Update | Unreadable]:
        """The last fetched batch parsed update by update, where PTB failed on it as a whole.

        PTB parses a batch in one go, so one update it cannot parse (a layout it does not
        know) fails all of them; here only that one is Unreadable, to be set aside.
        """
        return [
            read_update(update_id, json.loads(payload), payload, bot)
            for update_id, payload in self._raw.items()
        ]

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        self._raw = {}  # a failed fetch leaves no batch behind for `reread`
        return await super().do_request(*args, **kwargs)

    # PTB's documented hook for decoding responses, static there; here it keeps the batch.
    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        data = super().parse_json_payload(payload)
        if _ESCAPED_SURROGATE.search(payload):
            data = without_lone_surrogates(data)
        result = data.get("result")
        self._raw = {}
        if isinstance(result, list):
            for update in result:
                if isinstance(update, dict) and isinstance(update.get("update_id"), int):
                    self._raw[update["update_id"]] = json.dumps(update, ensure_ascii=False)
        return data
