"""Upstream HTTP/1.1 client: pooled keep-alive connections, httptools parsing, TLS via asyncio.

    client = Client(limit=100)
    resp = await client.request("POST", "https://api.example.com/v1/chat/completions",
                                body=payload, headers={"content-type": "application/json"},
                                connect_timeout=5.0)
    resp.status, resp.headers["content-type"]
    data = await resp.read()            # whole body; the connection goes back to the pool
    line = await resp.readline()        # or line by line (SSE); b"" at the end of the body
    resp.close()                        # give up mid-body: the socket is closed, not reused

Design choices:
- One pool per origin (scheme, host, port), bounded by `limit` open connections; callers
  past the limit wait for a connection. Idle connections are reused last-in first-out (the
  warmest one) and dropped after `keepalive_s` idle or when the upstream closes them.
- A connection goes back to the pool only after its response was read to the end and the
  upstream allowed keep-alive. A partial body, a parse error or a close of any kind closes
  the socket, so the upstream sees a client that gives up at once.
- A request is written with one transport.write (head and body together).
- If a reused idle connection turns out to have been closed by the upstream before it sent
  a single byte of the response, the request is sent once more on a fresh connection (the
  upstream never saw it, or at least never answered it); any other failure is raised.
- https uses asyncio's TLS (`ssl.create_default_context()`, which honours SSL_CERT_FILE /
  SSL_CERT_DIR) with SNI and hostname checks; pass `ssl=` to use another context.
- `request(..., address=IP)` connects to that address instead of resolving the URL's host,
  while the Host header, SNI and the certificate check still use the URL's host name: a caller
  that vetted a resolved address (webhooks, net/webhooks.py) connects to exactly that one.
- Timeouts: `connect_timeout` bounds opening the connection (TimeoutError); everything else
  is bounded by the caller with asyncio.timeout(), which is safe: a cancelled wait for the
  head closes the connection, and a cancelled readline() loses no buffered data.
- No Accept-Encoding is sent, so upstreams answer uncompressed; a gzip/deflate body that
  arrives anyway is inflated as it arrives (read() and readline() see the plain bytes).
- Responses are bounded: more than `max_response_bytes` of (inflated) body, or a line longer
  than _MAX_LINE in a stream, fails with ResponseTooLarge (a ProtocolError) and closes the
  connection. The bound is checked while inflating, so a small gzip bomb costs no more memory
  than the limit.
"""
from __future__ import annotations

import asyncio
import ssl as _ssl
import time
import zlib
from collections import deque
from urllib.parse import urlsplit

import httptools

from .errors import ConnectError, ConnectionClosed, HTTPClientError, ProtocolError, ResponseTooLarge
from .headers import Headers

_PAUSE_AT = 1 << 20  # stop reading from the socket when this much body is buffered (streaming)
_RESUME_AT = 1 << 16
_MAX_LINE = _PAUSE_AT  # one line of a stream (an SSE event's data); a longer one could never complete
DEFAULT_MAX_RESPONSE = 64 << 20


class Response:
    """One upstream response: status and headers at once, the body as it arrives."""

    __slots__ = ("status", "headers", "_conn", "_buf", "_done", "_exc", "_waiter", "_streaming", "_framed",
                 "_finished", "_limit", "_total", "_inflate")

    def __init__(self, conn: "_Conn", limit: int = DEFAULT_MAX_RESPONSE) -> None:
        self.status = 0
        self.headers: Headers = Headers()
        self._conn: _Conn | None = conn
        self._buf = bytearray()
        self._done = False  # the whole body has arrived
        self._exc: BaseException | None = None
        self._waiter: asyncio.Future | None = None
        self._streaming = False
        self._framed = True  # Content-Length or chunked; otherwise the body ends at close
        self._finished = False  # released or closed by the caller
        self._limit = limit  # body bytes (after inflating) this response may have
        self._total = 0
        self._inflate = None  # a zlib decompressobj for gzip/deflate bodies

    # ---- fed by the connection --------------------------------------------------------

    def _feed(self, data: bytes) -> None:
        d = self._inflate
        if d is not None:
            if self._exc is not None:
                return
            try:  # never more than one byte past the limit, however well the input compresses
                data = d.decompress(data, self._limit - self._total + 1)
            except zlib.error as e:
                return self._conn._fail(ProtocolError(f"body is not valid {self.headers.get('content-encoding')}: {e}"))
        total = self._total = self._total + len(data)
        if total > self._limit:  # also every later piece of a read that failed: it stays past the limit
            return self._too_large() if self._exc is None else None
        self._buf += data
        if self._streaming and len(self._buf) > _PAUSE_AT and self._conn is not None:
            self._conn.pause()
        self._wake()

    def _end(self) -> None:
        if self._exc is not None:
            return
        d = self._inflate
        if d is not None and not d.eof and self._total:
            return self._conn._fail(ProtocolError(f"{self.headers.get('content-encoding')} body is truncated"))
        self._done = True
        self._wake()

    def _too_large(self, what: str = "body") -> ResponseTooLarge:
        exc = ResponseTooLarge(f"upstream response {what} larger than {self._limit if what == 'body' else _MAX_LINE}"
                               " bytes")
        self._done = False  # a complete body too: the caller gets the error, not the bytes
        self._fail(exc)
        if self._conn is not None:
            self._conn._fail(exc)  # closes the connection: the rest is not read
        return exc

    def _fail(self, exc: BaseException) -> None:
        if not self._done and self._exc is None:
            self._exc = exc
            self._wake()

    def _wake(self) -> None:
        w = self._waiter
        if w is not None:
            self._waiter = None
            if not w.done():
                w.set_result(None)

    async def _more(self) -> None:
        if self._exc is not None:
            raise self._exc
        w = self._waiter = asyncio.get_running_loop().create_future()
        await w

    # ---- the caller's side ------------------------------------------------------------

    @property
    def complete(self) -> bool:
        """The whole body has arrived (read() will not wait)."""
        return self._done

    async def read(self) -> bytes:
        """The whole body; then the connection is released."""
        try:
            while not self._done:
                await self._more()
        except BaseException:
            self.close()
            raise
        data = bytes(self._buf)
        self._buf.clear()
        self.release()
        return data

    async def read_some(self, limit: int) -> bytes:
        """Up to `limit` bytes of the body (for error bodies that may be large)."""
        while not self._done and len(self._buf) < limit:
            await self._more()
        data = bytes(self._buf[:limit])
        del self._buf[:limit]
        return data

    async def readline(self) -> bytes:
        """The next line including its b"\\n" (the last one may lack it); b"" at the end.

        Cancelling a readline() (a timeout) loses nothing: buffered bytes stay buffered."""
        self._streaming = True
        buf = self._buf
        while True:
            i = buf.find(b"\n")
            if i >= _MAX_LINE:
                raise self._too_large("line")
            elif i >= 0:
                line = bytes(buf[:i + 1])
                del buf[:i + 1]
                self._resume_if_drained()
                return line
            if self._done:
                line = bytes(buf)
                buf.clear()
                if not line:
                    self.release()
                return line
            if len(buf) > _MAX_LINE:
                raise self._too_large("line")
            await self._more()

    def readline_nowait(self) -> bytes | None:
        """A buffered line (as readline() would return it) or None when one has not arrived
        yet: lets a reader skip arming a timeout for lines that are already here."""
        buf = self._buf
        i = buf.find(b"\n")
        if i < 0 or i >= _MAX_LINE or self._exc is not None:
            return None
        line = bytes(buf[:i + 1])
        del buf[:i + 1]
        self._resume_if_drained()
        return line

    def _resume_if_drained(self) -> None:
        c = self._conn
        if c is not None and c.paused and len(self._buf) < _RESUME_AT:
            c.resume()

    def release(self) -> None:
        """Done with this response: a fully read keep-alive connection goes back to the pool,
        anything else is closed."""
        if self._finished:
            return
        self._finished = True
        self._buf.clear()
        conn, self._conn = self._conn, None
        if conn is not None:
            if self._done and self._exc is None and conn.keep_alive:  # unread bytes of a complete body are dropped
                conn.pool.put(conn)
            else:
                conn.close()

    def close(self) -> None:
        """Give up on this response; the socket is closed so the upstream sees it at once."""
        self._finished = True
        self._fail(ConnectionClosed("response closed by the caller"))
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __del__(self) -> None:  # a response dropped without release() must not leak its socket
        conn = self._conn
        if conn is not None and not self._finished:
            conn.close()


class _Conn(asyncio.Protocol):
    """One upstream connection; it carries one request at a time."""

    def __init__(self, pool: "_Pool") -> None:
        self.pool = pool
        self.max_response = pool.client.max_response_bytes
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.resp: Response | None = None
        self.head: asyncio.Future | None = None
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.lost = False
        self.closing = False
        self.keep_alive = False
        self.got_bytes = False
        self.reused = False
        self.paused = False
        self.idle_since = 0.0

    # ---- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.resp is None:  # bytes nobody asked for: this connection is not usable
            self.close()
            return
        self.got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(ProtocolError("upstream switched protocols"))
        except httptools.HttpParserError as e:
            self._fail(ProtocolError(f"invalid HTTP from upstream: {e}"))

    def connection_lost(self, exc) -> None:
        self.lost = True
        r = self.resp
        if r is not None and not r._done:
            if r.status and not r._framed and exc is None:
                r._end()  # a body delimited by the end of the connection
            else:
                self._fail(ConnectionClosed("upstream closed the connection" +
                                            (" mid-body" if r.status else " before answering")))
        elif self.head is not None and not self.head.done():
            self.head.set_exception(ConnectionClosed("upstream closed the connection before answering"))
        self.pool.lost(self)

    def pause_writing(self) -> None:  # request bodies are written whole; the transport buffers them
        pass

    def resume_writing(self) -> None:
        pass

    # ---- httptools callbacks ----------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        r = self.resp
        status = self.parser.get_status_code()
        if status < 200:  # 1xx interim answer: wait for the real one
            self.raw_headers = []
            return
        r.status = status
        h = r.headers = Headers.from_raw(self.raw_headers)
        self.raw_headers = []
        r._framed = "content-length" in h or "chunked" in h.get("transfer-encoding", "").lower()
        self.keep_alive = self.parser.should_keep_alive()
        enc = dict.get(h, "content-encoding")  # names are lower-cased already
        if enc:
            enc = enc.strip().lower()
            if enc == "gzip":
                r._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            elif enc == "deflate":
                r._inflate = zlib.decompressobj()
        head = self.head
        if head is not None and not head.done():
            head.set_result(r)

    def on_body(self, body: bytes) -> None:
        self.resp._feed(body)

    def on_message_complete(self) -> None:
        r = self.resp
        if r is None or not r.status:
            return
        r._end()

    # ---- the client's side ------------------------------------------------------------

    def send(self, data: bytes) -> Response:
        self.resp = r = Response(self, self.max_response)
        self.head = asyncio.get_running_loop().create_future()
        self.got_bytes = False
        self.keep_alive = False
        self.transport.write(data)
        return r

    def _fail(self, exc: BaseException) -> None:
        head = self.head
        if head is not None and not head.done():
            head.set_exception(exc)
        if self.resp is not None:
            self.resp._fail(exc)
        self.close()

    def pause(self) -> None:
        if not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            if self.transport is not None:
                self.transport.close()
            self.pool.forget(self)


class _Pool:
    """Connections to one origin: at most `limit` open, idle ones reused last-in first-out."""

    def __init__(self, client: "Client", host: str, port: int, ssl_ctx, server_hostname: str | None) -> None:
        self.client = client
        self.host = host
        self.port = port
        self.ssl = ssl_ctx
        self.server_hostname = server_hostname
        self.idle: list[_Conn] = []
        self.open = 0
        self.conns: set[_Conn] = set()
        self.waiters: deque[asyncio.Future] = deque()

    async def acquire(self, connect_timeout: float | None) -> _Conn:
        keepalive = self.client.keepalive_s
        while True:
            idle = self.idle
            while idle:
                c = idle.pop()
                if c.lost or c.closing or time.monotonic() - c.idle_since > keepalive:
                    c.close()
                    continue
                c.reused = True
                return c
            if self.open < self.client.limit:
                return await self._connect(connect_timeout)
            w = asyncio.get_running_loop().create_future()
            self.waiters.append(w)
            try:
                await w
            except BaseException:
                if w in self.waiters:
                    self.waiters.remove(w)
                elif w.done() and not w.cancelled():
                    self._wake_one()  # pass the turn on
                raise

    async def _connect(self, timeout: float | None) -> _Conn:
        self.open += 1
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, conn = await loop.create_connection(lambda: _Conn(self), self.host, self.port, ssl=self.ssl,
                                                       server_hostname=self.server_hostname)
        except TimeoutError:
            self._slot_freed()
            raise TimeoutError(f"connecting to {self.host}:{self.port} timed out") from None
        except BaseException as e:
            self._slot_freed()
            if isinstance(e, (OSError, _ssl.SSLError)):
                raise ConnectError(f"cannot connect to {self.host}:{self.port}: {e}") from e
            raise
        self.conns.add(conn)
        return conn

    def put(self, conn: _Conn) -> None:
        conn.resp = None
        conn.head = None
        if conn.lost or conn.closing:
            conn.close()
            return
        now = time.monotonic()
        conn.idle_since = now
        idle = self.idle
        idle.append(conn)
        keepalive = self.client.keepalive_s
        while idle and now - idle[0].idle_since > keepalive:  # the coldest ones expire
            idle.pop(0).close()
        self._wake_one()

    def forget(self, conn: _Conn) -> None:
        """A connection closes: free its slot (once)."""
        if conn in self.conns:
            self.conns.discard(conn)
            if conn in self.idle:
                self.idle.remove(conn)
            self._slot_freed()

    def lost(self, conn: _Conn) -> None:
        conn.closing = True
        self.forget(conn)

    def _slot_freed(self) -> None:
        self.open -= 1
        self._wake_one()

    def _wake_one(self) -> None:
        while self.waiters:
            w = self.waiters.popleft()
            if not w.done():
                w.set_result(None)
                return

    def close(self) -> None:
        for c in list(self.conns):
            c.close()


class Client:
    """Pools per origin; see the module docstring."""

    def __init__(self, *, limit: int = 100, keepalive_s: float = 30.0, ssl: _ssl.SSLContext | None = None,
                 max_response_bytes: int = DEFAULT_MAX_RESPONSE) -> None:
        self.limit = max(1, limit)
        self.max_response_bytes = max_response_bytes
        self.keepalive_s = keepalive_s
        self._ssl = ssl
        self._pools: dict[tuple[str, str, int], _Pool] = {}
        self._targets: dict[str | tuple[str, str], tuple[_Pool, str]] = {}
        self.closed = False

    def _ssl_context(self) -> _ssl.SSLContext:
        if self._ssl is None:
            self._ssl = _ssl.create_default_context()
        return self._ssl

    def _target(self, url: str, address: str | None = None) -> tuple[_Pool, str]:
        """(pool, " PATH?QUERY HTTP/1.1\\r\\nhost: HOST\\r\\n"), cached per URL string (and address)."""
        cache_key = url if address is None else (url, address)
        t = self._targets.get(cache_key)
        if t is not None:
            return t
        u = urlsplit(url)
        scheme = u.scheme.lower()
        if scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"unsupported URL {url!r}: http:// or https:// with a host")
        tls = scheme == "https"
        port = u.port or (443 if tls else 80)
        key = (scheme, u.hostname, port, address)  # a pinned address gets its own pool
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(self, address or u.hostname, port, self._ssl_context() if tls else None,
                                            u.hostname if tls else None)
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        default_port = port == (443 if tls else 80)
        hostname = f"[{u.hostname}]" if ":" in u.hostname else u.hostname
        host = hostname if default_port else f"{hostname}:{port}"
        t = (pool, f" {path} HTTP/1.1\r\nhost: {host}\r\n")
        if len(self._targets) > 1024:
            self._targets.clear()
        self._targets[cache_key] = t
        return t

    async def request(self, method: str, url: str, *, body: bytes = b"", headers: dict[str, str] | None = None,
                      connect_timeout: float | None = None, address: str | None = None) -> Response:
        """Send one request and return once the response head has arrived; `address` (an IP)
        is connected to instead of the URL's resolved host (see the module docstring)."""
        if self.closed:
            raise ConnectionClosed("client is closed")
        pool, target = self._target(url, address)
        lines = [method, target]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"content-length: {len(body)}\r\n")
        if headers:
            for k, v in headers.items():
                lines.append(f"{k}: {v}\r\n")
        lines.append("\r\n")
        data = "".join(lines).encode("utf-8") + body
        for attempt in (0, 1):
            conn = await pool.acquire(connect_timeout)
            resp = conn.send(data)
            try:
                return await conn.head
            except ConnectionClosed:
                conn.close()
                if attempt == 0 and conn.reused and not conn.got_bytes:
                    continue  # a stale keep-alive connection: once more on a fresh one
                raise
            except BaseException:
                resp._finished = True
                conn.close()
                raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        self.closed = True
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        self._targets.clear()
        await asyncio.sleep(0)  # let the transports run their close callbacks


__all__ = ["Client", "Response", "HTTPClientError", "ConnectError", "ConnectionClosed", "ProtocolError",
           "ResponseTooLarge"]
