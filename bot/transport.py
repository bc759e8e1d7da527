"""How the bot speaks HTTP to the Bot API: JSON bodies over one pooled httpx client."""

from __future__ import annotations

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


def _chosen(value: object, default: float | None) -> float | None:
    """A timeout passed by a Bot method, or ours where it passed PTB's "not given" marker."""
    return value if value is None or isinstance(value, int | float) else default


class JsonRequest(BaseRequest):
    """python-telegram-bot's request backend, sending parameters as one JSON body.

    PTB's HTTPXRequest sends them form-encoded, which percent-encodes every byte of a reply's
    text and buttons in pure Python: for a typical answer about a quarter of a millisecond,
    the largest single cost of sending it. The Bot API takes application/json for every
    method; requests with files still go as multipart/form-data. Timeouts and errors follow
    HTTPXRequest (the same defaults, TimedOut and NetworkError).
    """

    __slots__ = ("_client", "_limits", "_media_write_timeout", "_timeout")

    def __init__(
        self,
        pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=write_timeout, pool=pool_timeout
        )
        self._limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
        self._media_write_timeout = media_write_timeout
        self._client = self._new_client()

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self._timeout, limits=self._limits)

    @property
    def read_timeout(self) -> float | None:
        return self._timeout.read

    async def initialize(self) -> None:
        if self._client.is_closed:
            self._client = self._new_client()

    async def shutdown(self) -> None:
        if not self._client.is_closed:
            await self._client.aclose()

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
        if self._client.is_closed:
            raise RuntimeError("JsonRequest is not initialized")
        files = request_data.multipart_data if request_data is not None else None
        write_default = self._media_write_timeout if files else self._timeout.write
        timeout = httpx.Timeout(
            connect=_chosen(connect_timeout, self._timeout.connect),
            read=_chosen(read_timeout, self._timeout.read),
            write=_chosen(write_timeout, write_default),
            pool=_chosen(pool_timeout, self._timeout.pool),
        )
        headers = {"User-Agent": self.USER_AGENT}
        try:
            if request_data is None:
                response = await self._client.request(method, url, headers=headers, timeout=timeout)
            elif files:
                response = await self._client.request(
                    method,
                    url,
                    headers=headers,
                    timeout=timeout,
                    files=files,
                    data=request_data.json_parameters,
                )
            else:
                headers["Content-Type"] = "application/json"
                response = await self._client.request(
                    method, url, headers=headers, timeout=timeout, content=request_data.json_payload
                )
        except httpx.PoolTimeout as error:
            raise TimedOut(
                "Pool timeout: every connection is busy; the request was not sent"
            ) from error
        except httpx.TimeoutException as error:
            raise TimedOut from error
        except httpx.HTTPError as error:
            raise NetworkError(f"httpx.{type(error).__name__}: {error}") from error
        return response.status_code, response.content
