"""What handlers of net.server see and return: the request, a complete response, a streamed
(SSE) response. The connection they talk to is net.server's _Conn."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Awaitable, Callable
from urllib.parse import parse_qsl

from .headers import Headers

if TYPE_CHECKING:
    from .server import _Conn


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body larger than {limit} bytes")
        self.limit = limit


class Request:
    """What handlers see: method, path, query, headers (case-insensitive), the body."""

    __slots__ = ("method", "path", "query_string", "headers", "version", "content_length", "keep_alive",
                 "_conn", "_buf", "_done", "_too_large", "_waiter", "_query", "_chunked")

    def __init__(self, conn: "_Conn | None") -> None:
        self._conn = conn
        self.method = "GET"
        self.path = "/"
        self.query_string = ""
        self.headers: Headers = Headers()
        self.version = "1.1"
        self.content_length: int | None = None
        self.keep_alive = True
        self._buf = bytearray()
        self._done = False
        self._too_large = False
        self._waiter: asyncio.Future | None = None
        self._query: dict | None = None
        self._chunked = False

    @property
    def query(self) -> dict[str, str]:
        if self._query is None:
            self._query = dict(parse_qsl(self.query_string, keep_blank_values=True))
        return self._query

    @property
    def body_exists(self) -> bool:
        return bool(self.content_length) or self._chunked

    async def read(self, limit: int | None = None) -> bytes:
        """The whole body; BodyTooLarge past `limit` (or the server's max_body)."""
        while not self._done:
            if self._too_large or (limit is not None and len(self._buf) > limit):
                break
            if self._conn is None or self._conn.lost:
                raise ConnectionResetError("the client disconnected")
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        if self._too_large:
            raise BodyTooLarge(self._conn.server.max_body if limit is None else limit)
        if limit is not None and len(self._buf) > limit:
            raise BodyTooLarge(limit)
        return bytes(self._buf)

    def _wake(self) -> None:
        w = self._waiter
        if w is not None:
            self._waiter = None
            if not w.done():
                w.set_result(None)


class Response:
    """A complete response: status, headers, bytes body."""

    __slots__ = ("status", "headers", "body", "content_type")

    def __init__(self, body: bytes = b"", status: int = 200, headers: dict[str, str] | None = None,
                 content_type: str | None = None) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.content_type = content_type


class StreamResponse:
    """A response written piece by piece (SSE): chunked transfer encoding on HTTP/1.1."""

    __slots__ = ("status", "headers", "_conn", "_chunked", "_eof", "prepared")

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.headers = headers or {}
        self._conn: _Conn | None = None
        self._chunked = True
        self._eof = False
        self.prepared = False

    async def prepare(self, request: Request) -> None:
        conn = request._conn
        self._conn = conn
        self._chunked = request.version == "1.1"
        if not self._chunked:
            request.keep_alive = False  # HTTP/1.0: the body ends when the connection does
        self.prepared = True
        conn.responding = True
        head = conn.server.head(self.status, self.headers, None, request.keep_alive,
                                b"transfer-encoding: chunked\r\n" if self._chunked else b"")
        await conn.write(head)

    async def write(self, data: bytes) -> None:
        if not data:
            return
        if self._chunked:
            data = b"%x\r\n%b\r\n" % (len(data), data)
        await self._conn.write(data)

    async def write_eof(self) -> None:
        if not self._eof:
            self._eof = True
            if self._chunked:
                await self._conn.write(b"0\r\n\r\n")


Handler = Callable[[Request], Awaitable["Response | StreamResponse"]]


__all__ = ["BodyTooLarge", "Handler", "Request", "Response", "StreamResponse"]
