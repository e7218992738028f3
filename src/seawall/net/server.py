"""HTTP/1.1 server on an asyncio protocol with httptools' request parser.

    async def handler(request: Request) -> Response | StreamResponse: ...
    server = Server(handler, max_body=1 << 20)
    srv = await loop.create_server(server, sock=sock)      # the Server is the protocol factory
    ...
    srv.close(); await server.shutdown(timeout=10.0)       # let in-flight requests finish

    running = await start(handler, "127.0.0.1", 0)         # or in one line, in-process
    running.url; await running.close()

Behaviour:
- Keep-alive per HTTP/1.1 (HTTP/1.0 on request); idle connections close after
  `keepalive_s`, and so do connections stuck in a request head for that long.
- Pipelined requests are parsed as they arrive and answered in order: one handler runs at a
  time per connection, each in its own task.
- Bodies (Content-Length or chunked) are buffered up to `max_body`; past it the rest is
  discarded and `Request.read()` raises BodyTooLarge. A response sent before the body was
  read to the end closes the connection afterwards (lingering briefly, so the client can
  read the answer before the socket goes away).
- A client that disconnects cancels the task of the request being handled: the gateway
  relies on that to cancel upstream calls at once.
- `Expect: 100-continue` is answered when the head arrives.
- Responses are written with one transport.write; streaming responses use chunked
  transfer encoding, one chunk per write, and wait (drain) while the transport's buffer is
  full. Date and Server headers are formatted once per second.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from email.utils import formatdate
from http import HTTPStatus
from typing import Awaitable, Callable
from urllib.parse import parse_qsl, unquote

import httptools

from .headers import Headers

log = logging.getLogger("seawall.net")

_MAX_HEAD = 64 * 1024  # request line + headers
_MAX_PIPELINED = 16  # parsed requests waiting behind the running one; more pauses reading
_LINGER_S = 2.0
_KEEP_DISCARDING = 1 << 20  # an unread body smaller than this is skipped and the connection kept
_REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body larger than {limit} bytes")
        self.limit = limit


class Request:
    """What handlers see: method, path, query, headers (case-insensitive), the body."""

    __slots__ = ("method", "path", "query_string", "headers", "version", "content_length", "keep_alive",
                 "_conn", "_buf", "_done", "_too_large", "_waiter", "_query", "_chunked",
                 "principal")  # who the application authenticated (it sets it)

    def __init__(self, conn: "_Conn | None") -> None:
        self._conn = conn
        self.method = "GET"
        self.path = "/"
        self.query_string = ""
        self.headers: Headers = Headers()
        self.version = "1.1"
        self.content_length: int | None = None
        self.keep_alive = True
        self.principal = None
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


class _Conn(asyncio.Protocol):
    """One client connection."""

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.loop = server.loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.req: Request | None = None  # the one being parsed
        self.url = b""
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.head_bytes = 0
        self.queue: deque[Request] = deque()  # parsed, waiting behind the running one
        self.task: asyncio.Task | None = None
        self.running: Request | None = None
        self.lost = False
        self.closing = False
        self.discard = False  # lingering close: incoming bytes are dropped
        self.read_paused = False
        self.write_paused = False
        self.drain_waiter: asyncio.Future | None = None
        self.wbuf: list[bytes] | None = None  # streamed pieces written in this loop tick
        self.last_active = time.monotonic()

    # ---- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.server.conns.add(self)

    def data_received(self, data: bytes) -> None:
        if self.discard:
            return
        self.last_active = self.server.now
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._bad(400, b"protocol upgrades are not supported")
        except httptools.HttpParserError:
            self._bad(431 if self.head_bytes > _MAX_HEAD else 400, b"malformed HTTP request")

    def connection_lost(self, exc) -> None:
        self.lost = True
        self.server.conns.discard(self)
        if self.task is not None and not self.task.done():
            self.task.cancel()  # the client went away: stop working on its request
        for r in (self.running, self.req, *self.queue):
            if r is not None:
                r._wake()
        self.queue.clear()
        w = self.drain_waiter
        if w is not None and not w.done():
            w.set_exception(ConnectionResetError("the client disconnected"))

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        w = self.drain_waiter
        if w is not None:
            self.drain_waiter = None
            if not w.done():
                w.set_result(None)

    # ---- httptools callbacks ----------------------------------------------------------

    def on_message_begin(self) -> None:
        self.req = Request(self)
        self.url = b""
        self.raw_headers = []
        self.head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self.url += url
        self.head_bytes += len(url)
        if self.head_bytes > _MAX_HEAD:
            raise httptools.HttpParserError("request head too large")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.raw_headers.append((name, value))
        self.head_bytes += len(name) + len(value)
        if self.head_bytes > _MAX_HEAD:
            raise httptools.HttpParserError("request head too large")

    def on_headers_complete(self) -> None:
        r = self.req
        p = self.parser
        r.method = p.get_method().decode("ascii")
        r.version = p.get_http_version()
        r.keep_alive = p.should_keep_alive()
        h = r.headers = Headers.from_raw(self.raw_headers)
        self.raw_headers = []
        cl = h.get("content-length")
        if cl is not None:
            r.content_length = int(cl)  # llhttp has validated it
        elif "chunked" in h.get("transfer-encoding", "").lower():
            r._chunked = True
        else:
            r._done = True  # no body: the message is complete once the head is (on_message_complete follows)
        url = self.url
        if url[:1] != b"/":
            if url[:4].lower() == b"http":  # absolute-form
                u = httptools.parse_url(url)
                url = (u.path or b"/") + (b"?" + u.query if u.query else b"")
            elif url == b"*":
                url = b"/"
        q = url.find(b"?")
        if q >= 0:
            r.query_string = url[q + 1:].decode("latin-1")
            url = url[:q]
        path = url.decode("latin-1")
        r.path = unquote(path) if "%" in path else path
        if r.version == "1.1" and h.get("expect", "").lower() == "100-continue" and self.transport is not None:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if self.task is None:
            self._start(r)
        else:
            self.queue.append(r)
            if len(self.queue) >= _MAX_PIPELINED and not self.read_paused:
                self.read_paused = True
                self.transport.pause_reading()

    def on_body(self, body: bytes) -> None:
        r = self.req
        if r._too_large:
            return
        if len(r._buf) + len(body) > self.server.max_body:
            r._too_large = True
            r._buf.clear()
        else:
            r._buf += body
        r._wake()

    def on_message_complete(self) -> None:
        r = self.req
        self.req = None
        if r is not None:
            r._done = True
            r._wake()

    # ---- handling -----------------------------------------------------------------------

    def _start(self, r: Request) -> None:
        self.running = r
        self.task = self.loop.create_task(self._handle(r))

    async def _handle(self, r: Request) -> None:
        server = self.server
        try:
            resp = await server.handler(r)
        except asyncio.CancelledError:
            if self.lost:
                return  # the client is gone; nothing to answer
            raise
        except Exception:
            log.exception("unhandled error in HTTP handler")
            resp = Response(b'{"error":{"message":"internal error","type":"internal_error"}}', 500,
                            content_type="application/json")
        if self.lost:
            return
        try:
            if isinstance(resp, StreamResponse):
                if not resp.prepared:
                    await resp.prepare(r)
                await resp.write_eof()
                self.flush()
                if not self._body_skippable(r):
                    r.keep_alive = False
            else:
                keep = r.keep_alive and not server.stopping and self._body_skippable(r)
                extra = b"content-type: %b\r\n" % resp.content_type.encode() if resp.content_type else b""
                if keep and r.version == "1.0":
                    extra += b"connection: keep-alive\r\n"
                body = resp.body
                self.transport.write(server.head(resp.status, resp.headers, len(body), keep, extra) +
                                     (b"" if r.method == "HEAD" else body))
                r.keep_alive = keep
        except (ConnectionError, OSError):
            return
        finally:
            self.task = None
            self.running = None
        self._next(r)

    def _body_skippable(self, r: Request) -> bool:
        """Can the connection carry on after this request although its body was not read?"""
        if r._done:
            return True
        if r.content_length is not None and r.content_length - len(r._buf) <= _KEEP_DISCARDING:
            r._too_large = True  # drop the rest as it arrives
            return True
        return False

    def _next(self, done: Request) -> None:
        if self.lost:
            return
        if not done.keep_alive or self.server.stopping:
            if done._done and self.req is None:
                self.close()
            else:
                self.linger()
            return
        self.last_active = self.server.now
        if self.queue:
            nxt = self.queue.popleft()
            if self.read_paused and len(self.queue) < _MAX_PIPELINED // 2:
                self.read_paused = False
                self.transport.resume_reading()
            self._start(nxt)

    async def write(self, data: bytes) -> None:
        """Streamed pieces written in one loop tick leave in one send (an upstream burst of
        SSE events costs one system call, not one per event); the flush runs before the
        loop polls again, so nothing waits."""
        if self.lost:
            raise ConnectionResetError("the client disconnected")
        buf = self.wbuf
        if buf is None:
            self.wbuf = [data]
            self.loop.call_soon(self.flush)
        else:
            buf.append(data)
        if self.write_paused:
            if self.drain_waiter is None or self.drain_waiter.done():
                self.drain_waiter = self.loop.create_future()
            await self.drain_waiter

    def flush(self) -> None:
        buf = self.wbuf
        if buf:
            self.wbuf = None
            if not self.lost:
                self.transport.write(buf[0] if len(buf) == 1 else b"".join(buf))

    def _bad(self, status: int, message: bytes) -> None:
        if self.task is None and self.transport is not None and not self.closing:
            self.transport.write(self.server.head(status, {"content-type": "text/plain"}, len(message), False)
                                 + message)
        self.discard = True
        if self.task is None:
            self.linger()
        elif self.running is not None:
            self.running.keep_alive = False  # answer what is running, then close
        self.queue.clear()

    def linger(self) -> None:
        """Stop sending, keep reading (and dropping) briefly, then close: closing with unread
        input would reset the connection and could destroy the answer in flight."""
        if self.closing:
            return
        self.flush()
        self.discard = True
        t = self.transport
        if t.can_write_eof():
            t.write_eof()
            self.loop.call_later(_LINGER_S, self.close)
        else:
            self.close()

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            if self.transport is not None:
                self.flush()
                self.transport.close()

    @property
    def idle(self) -> bool:
        return self.task is None and not self.queue


class Server:
    """Protocol factory plus the shared parts: handler, limits, cached Date, shutdown."""

    def __init__(self, handler: Handler, *, max_body: int = 1 << 20, keepalive_s: float = 75.0,
                 server_header: str = "seawall") -> None:
        self.handler = handler
        self.max_body = max_body
        self.keepalive_s = keepalive_s
        self.conns: set[_Conn] = set()
        self.stopping = False
        self._server_line = f"server: {server_header}\r\n".encode()
        self._date_sec = 0
        self._date_line = b""
        self._sweeper: asyncio.TimerHandle | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.now = time.monotonic()

    def __call__(self) -> _Conn:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
            # the clock ticks only from here on: left at the start-up time, a server that waited
            # longer than keepalive_s for its first client would sweep that client's live
            # connection as idle
            self.now = time.monotonic()
            self._sweeper = self.loop.call_later(1.0, self._sweep)
        return _Conn(self)

    def head(self, status: int, headers: dict[str, str], length: int | None, keep_alive: bool,
             extra: bytes = b"") -> bytes:
        sec = int(time.time())
        if sec != self._date_sec:
            self._date_sec = sec
            self._date_line = b"date: " + formatdate(sec, usegmt=True).encode() + b"\r\n" + self._server_line
        parts = [b"HTTP/1.1 %d %b\r\n" % (status, _REASONS.get(status, b"Unknown")), self._date_line]
        if headers:
            parts.append("".join([f"{k}: {v}\r\n" for k, v in headers.items()]).encode("latin-1", "replace"))
        if length is not None:
            parts.append(b"content-length: %d\r\n" % length)
        if not keep_alive:
            parts.append(b"connection: close\r\n")
        parts.append(extra)
        parts.append(b"\r\n")
        return b"".join(parts)

    def _sweep(self) -> None:
        """Once a second: refresh the clock and close connections idle past keepalive_s."""
        self.now = now = time.monotonic()
        for c in list(self.conns):
            if c.idle and now - c.last_active > self.keepalive_s:
                c.close()
        if not (self.stopping and not self.conns):
            self._sweeper = self.loop.call_later(1.0, self._sweep)

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Stop keep-alive, close idle connections, give in-flight requests `timeout` seconds,
        then cancel what is left. Close the listening socket first."""
        self.stopping = True
        for c in list(self.conns):
            if c.idle and c.req is None:
                c.close()
        try:
            async with asyncio.timeout(timeout):
                while not all(c.idle for c in self.conns):
                    await asyncio.sleep(0.02)
        except TimeoutError:
            pass
        for c in list(self.conns):
            if c.task is not None:
                c.task.cancel()
            c.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        await asyncio.sleep(0)


class Running:
    """A server started in-process by `start()`."""

    def __init__(self, server: Server, srv: asyncio.base_events.Server) -> None:
        self.server = server
        self.srv = srv
        sock = srv.sockets[0].getsockname()
        self.host, self.port = sock[0], sock[1]
        self.url = f"http://{self.host}:{self.port}"

    async def close(self, timeout: float = 2.0) -> None:
        self.srv.close()
        await self.server.shutdown(timeout)


async def start(handler: Handler, host: str = "127.0.0.1", port: int = 0, **kw) -> Running:
    """Serve `handler` on host:port (0 picks a free port) in the running loop."""
    server = Server(handler, **kw)
    srv = await asyncio.get_running_loop().create_server(server, host, port, backlog=1024)
    return Running(server, srv)


__all__ = ["BodyTooLarge", "Request", "Response", "Running", "Server", "StreamResponse", "start"]
