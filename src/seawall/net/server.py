"""HTTP/1.1 server on an asyncio protocol with httptools' request parser.

    async def handler(request: Request) -> Response | StreamResponse: ...
    server = Server(handler, max_body=1 << 20)
    srv = await loop.create_server(server, sock=sock)      # the Server is the protocol factory
    ...
    srv.close(); await server.shutdown(timeout=10.0)       # let in-flight requests finish

    running = await start(handler, "127.0.0.1", 0)         # or in one line, in-process
    running.url; await running.close()

Behaviour:
- Keep-alive per HTTP/1.1 (HTTP/1.0 on request); idle connections close after `keepalive_s`.
- Every wait on the client is bounded (net.limits, docs/configuration.md): a request head
  (and a new connection's first one) must arrive within `head_timeout_s`, a body within
  `body_timeout_s` with no silence past `body_idle_timeout_s` (else 408 and close), and a
  client that stops reading is dropped after `send_timeout_s`. Connections past
  `max_connections`, or past `max_connections_per_client` for one IP address, get a 503 and
  are closed at once.
- Memory per connection is bounded: the head by _MAX_HEAD (431), the body by `max_body`,
  chunk framing by _MAX_FRAMING, and pipelining: requests behind the running one are parsed
  only from what has already been read (reading pauses until it finishes), at most
  _MAX_PIPELINED of them; a client that does not read its answers is not served more.
- A malformed request (bad chunking included) gets 400 and the connection closes; a handler
  still waiting for that body is cancelled.
- Pipelined requests are answered in order: one handler runs at a time per connection, each
  in its own task.
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
from urllib.parse import unquote

import httptools

from .headers import Headers
from .limits import default_max_connections
from .messages import BodyTooLarge, Handler, Request, Response, StreamResponse

log = logging.getLogger("seawall.net")

_MAX_HEAD = 64 * 1024  # request line + headers
_MAX_FRAMING = 16 * 1024  # chunk-size lines, extensions and trailers beyond the body's own size
_MAX_PIPELINED = 32  # parsed requests waiting behind the running one; more is refused
_LINGER_S = 2.0
_ABORT_AFTER_S = 5.0  # a closing connection whose client does not take our last bytes is reset
_KEEP_DISCARDING = 1 << 20  # an unread body smaller than this is skipped and the connection kept
_REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}


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
        self.queue: deque[Request] = deque()  # parsed, waiting behind the running one
        self.task: asyncio.Task | None = None
        self.running: Request | None = None
        self.answered: Request | None = None  # the last request a response was written for
        self.responding = False  # the running request's streamed response has begun
        self.lost = False
        self.closing = False  # lingering or closed: no more requests
        self.closed = False
        self.refused = False
        self.discard = False  # lingering close: incoming bytes are dropped
        self.read_paused = False
        self.write_paused = False
        self.drain_waiter: asyncio.Future | None = None
        self.wbuf: list[bytes] | None = None  # streamed pieces written in this loop tick
        self.peer: str | None = None  # counted in server.per_client
        self.framing = 0  # bytes of chunk framing of the chunked body being received
        now = server.now
        self.last_active = now
        # the parser waits for a request head; head_since is when its first byte came (0: none
        # yet, the connection is idle). A new connection's first head is timed from the accept.
        self.in_head = True
        self.head_left = _MAX_HEAD
        self.head_since = time.monotonic()  # not the sweep's clock, which may be a tick old
        self.body_since = 0.0
        self.closing_since = 0.0
        self.write_paused_since = 0.0

    # ---- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport
        server = self.server
        if server.max_per_client:
            peer = transport.get_extra_info("peername")
            ip = peer[0] if isinstance(peer, tuple) else ""
            n = server.per_client.get(ip, 0)
            if n >= server.max_per_client:
                return self._refuse(b"too many connections from this address")
            server.per_client[ip] = n + 1
            self.peer = ip
        if len(server.conns) >= server.max_connections:
            self._forget_peer()
            return self._refuse(b"too many connections")
        server.conns.add(self)

    def _refuse(self, message: bytes) -> None:
        """Past a connection cap: a 503 and close at once, nothing is read."""
        self.refused = self.discard = self.closing = self.closed = True
        self.server.note_refused()
        t = self.transport
        t.write(self.server.head(503, {"content-type": "text/plain"}, len(message), False) + message)
        t.close()

    def _forget_peer(self) -> None:
        ip, self.peer = self.peer, None
        if ip is not None:
            counts = self.server.per_client
            n = counts.get(ip, 1) - 1
            if n > 0:
                counts[ip] = n
            else:
                counts.pop(ip, None)

    def data_received(self, data: bytes) -> None:
        if self.discard:
            return
        self.last_active = now = self.server.now
        if self.in_head:
            if not self.head_since:
                self.head_since = now
            left = self.head_left
            if len(data) > left:
                return self._feed_past_head_budget(data, left)
            self.head_left = left - len(data)
            self._feed(data)
        else:
            r = self.req
            if r is not None and r._chunked and not r._too_large:
                # count the chunk framing (size lines, extensions, trailers): max_body does not see it
                before = len(r._buf)
                self._feed(data)
                if not self.discard and not r._too_large and (
                        self.req is r or (self.req is None and (not self.queue or self.queue[-1] is r))):
                    # all of `data` was r's: no later request began in it
                    self.framing += len(data) - (len(r._buf) - before)
                    if self.framing > _MAX_FRAMING + len(r._buf):
                        self._reject(400, b"chunked body with oversized chunk lines or trailers", r)
            else:
                self._feed(data)
        if self.task is not None and not self.read_paused and (
                self.queue or (self.req is not None and self.req is not self.running)):
            # bytes of a later request arrived while one is handled: read no further ahead
            self.read_paused = True
            self.transport.pause_reading()

    def _feed(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._reject(400, b"protocol upgrades are not supported")
        except httptools.HttpParserError:
            self._reject(400, b"malformed HTTP request")

    def _feed_past_head_budget(self, data: bytes, left: int) -> None:
        self.head_left = 0
        if left:
            self._feed(data[:left])
        if self.discard:
            return
        if self.in_head and self.head_left == 0:  # no head ended within the budget
            self._reject(431, b"request head too large")
        else:  # the head ended inside the budget: the rest is its body or the next request
            self.data_received(data[left:])

    def connection_lost(self, exc) -> None:
        self.lost = True
        if self.refused:
            return
        self.server.conns.discard(self)
        self._forget_peer()
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
        self.write_paused_since = self.server.now

    def resume_writing(self) -> None:
        self.write_paused = False
        w = self.drain_waiter
        if w is not None:
            self.drain_waiter = None
            if not w.done():
                w.set_result(None)
        if self.task is None and self.queue:
            self._start_next()  # pipelined requests wait while the client does not read

    # ---- httptools callbacks ----------------------------------------------------------

    def on_message_begin(self) -> None:
        self.req = Request(self)
        self.url = b""
        self.raw_headers = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        r = self.req
        p = self.parser
        self.in_head = False
        r.method = p.get_method().decode("ascii")
        r.version = p.get_http_version()
        r.keep_alive = p.should_keep_alive()
        h = r.headers = Headers.from_raw(self.raw_headers)
        self.raw_headers = []
        cl = h.get("content-length")
        if cl is not None:
            r.content_length = int(cl)  # llhttp has validated it
            self.body_since = self.last_active
        elif "chunked" in h.get("transfer-encoding", "").lower():
            r._chunked = True
            self.body_since = self.last_active
            self.framing = 0
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
        if self.task is None and not self.queue:
            self._start(r)
        elif self.discard:
            pass  # refused below already: queue no more
        elif len(self.queue) < _MAX_PIPELINED:
            self.queue.append(r)
        else:
            self._reject(429, b"too many pipelined requests")

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
        self.in_head = True
        self.head_left = _MAX_HEAD
        self.head_since = 0.0
        if r is not None:
            r._done = True
            r._wake()

    # ---- handling -----------------------------------------------------------------------

    def _start(self, r: Request) -> None:
        self.running = r
        self.responding = False
        self.task = self.loop.create_task(self._handle(r))

    async def _handle(self, r: Request) -> None:
        server = self.server
        try:
            resp = await server.handler(r)
        except asyncio.CancelledError:
            return  # the client is gone or its request was refused (_reject): nothing to answer
        except Exception:
            log.exception("unhandled error in HTTP handler")
            resp = Response(b'{"error":{"message":"internal error","type":"internal_error"}}', 500,
                            content_type="application/json")
        if self.lost or self.running is not r:  # gone, or refused by _reject (which answered for it)
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
        # only a request whose body is still arriving can be at fault later (_reject); holding
        # no other keeps an idle connection from pinning its last body in memory
        self.answered = r if not r._done else None
        self._next(r)

    def _body_skippable(self, r: Request) -> bool:
        """Can the connection carry on after this request although its body was not read?"""
        if r._done:
            return True
        if r.content_length is not None and r.content_length - len(r._buf) <= _KEEP_DISCARDING:
            r._too_large = True  # drop the rest as it arrives
            r._buf.clear()
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
        if self.queue or self.read_paused:  # usually neither: no call
            self._start_next()

    def _start_next(self) -> None:
        if self.write_paused:
            return  # resume_writing() comes back here once the client reads again
        if self.queue:
            self._start(self.queue.popleft())
        if self.read_paused and not self.queue:
            self.read_paused = False
            # the clocks of a request we stopped reading start again now
            if self.in_head:
                if self.head_since:
                    self.head_since = self.server.now
            else:
                self.body_since = self.server.now
            self.transport.resume_reading()

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

    def _reject(self, status: int, message: bytes, r: Request | None = None) -> None:
        """Bad or late input: answer `status` and close. A handler still waiting for the body
        of the request at fault is cancelled (it would wait forever); a request running ahead
        of it in a pipeline is answered first."""
        if self.closing or self.lost:
            return
        self.discard = True
        self.queue.clear()
        r = r or self.req  # the request at fault
        if self.task is not None and r is not None and r is self.running:
            self.task.cancel()
            self.task = self.running = None
            if self.responding:  # a streamed answer has begun: it cannot become an error now
                return self.close()
        if self.task is None:
            if r is None or r is not self.answered:
                self.transport.write(self.server.head(status, {"content-type": "text/plain"}, len(message),
                                                      False) + message)
            self.linger()
        else:
            self.running.keep_alive = False  # answer what is running, then close

    def timed_out(self, what: bytes) -> None:
        self.server.timed_out += 1
        self._reject(408, b"request " + what + b" not received in time")

    def linger(self) -> None:
        """Stop sending, keep reading (and dropping) briefly, then close: closing with unread
        input would reset the connection and could destroy the answer in flight."""
        if self.closing:
            return
        self.closing = True
        self.closing_since = self.server.now
        self.flush()
        self.discard = True
        t = self.transport
        if self.read_paused:
            self.read_paused = False
            t.resume_reading()
        if t.can_write_eof():
            t.write_eof()
            self.loop.call_later(_LINGER_S, self._close_transport)
        else:
            self._close_transport()

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            self.closing_since = self.server.now
        self._close_transport()

    def _close_transport(self) -> None:
        if not self.closed and self.transport is not None:
            self.closed = True
            self.flush()
            self.transport.close()

    @property
    def idle(self) -> bool:
        return self.task is None and not self.queue


class Server:
    """Protocol factory plus the shared parts: handler, limits, cached Date, shutdown."""

    def __init__(self, handler: Handler, *, max_body: int = 1 << 20, keepalive_s: float = 75.0,
                 head_timeout_s: float = 10.0, body_idle_timeout_s: float = 15.0, body_timeout_s: float = 60.0,
                 send_timeout_s: float = 60.0, max_connections: int | None = None,
                 max_connections_per_client: int = 512, server_header: str = "seawall") -> None:
        self.handler = handler
        self.max_body = max_body
        self.keepalive_s = keepalive_s
        self.head_timeout_s = head_timeout_s
        self.body_idle_timeout_s = body_idle_timeout_s
        self.body_timeout_s = body_timeout_s
        self.send_timeout_s = send_timeout_s
        self.max_connections = max_connections or default_max_connections()
        self.max_per_client = max_connections_per_client
        self.per_client: dict[str, int] = {}
        self.refused = 0  # connections turned away by the caps
        self.timed_out = 0  # requests closed by the head or body timeouts
        self._refused_logged = 0.0
        # the sweep's period: a quarter of the shortest timeout, at most a second
        self._tick = max(0.05, min(1.0, min(keepalive_s, head_timeout_s, body_idle_timeout_s, body_timeout_s,
                                            send_timeout_s) / 4))
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
            self._sweeper = self.loop.call_later(self._tick, self._sweep)
        return _Conn(self)

    def note_refused(self) -> None:
        self.refused += 1
        if self.now - self._refused_logged > 10.0:
            self._refused_logged = self.now
            log.warning("connection refused: at the cap (%d open, at most %d; %d per address); %d refused so far",
                        len(self.conns), self.max_connections, self.max_per_client, self.refused)

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
        """Every tick: refresh the clock, close idle connections and time out slow clients."""
        self.now = now = time.monotonic()
        for c in list(self.conns):
            if c.closing:
                if c.closing_since and now - c.closing_since > _ABORT_AFTER_S and c.transport is not None:
                    c.transport.abort()  # it does not take our last bytes
            elif c.write_paused:
                if now - c.write_paused_since > self.send_timeout_s:
                    c.transport.abort()  # it does not read what we send
            elif c.in_head:
                if c.head_since:
                    if c.task is None and now - c.head_since > self.head_timeout_s:
                        c.timed_out(b"head")
                elif c.idle and now - c.last_active > self.keepalive_s:
                    c.close()
            elif c.req is not None and not c.read_paused:
                if now - c.last_active > self.body_idle_timeout_s or now - c.body_since > self.body_timeout_s:
                    c.timed_out(b"body")
        if not (self.stopping and not self.conns):
            self._sweeper = self.loop.call_later(self._tick, self._sweep)

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
