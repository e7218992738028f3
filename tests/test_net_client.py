"""seawall.net.client against scripted servers on real sockets."""
from __future__ import annotations

import asyncio
import datetime
import ssl
import tracemalloc
import zlib

import pytest

from seawall.net.client import Client, ConnectError, ConnectionClosed, ProtocolError, ResponseTooLarge
from seawall.providers.classify import ErrorClass, classify_exception

OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}"


class Scripted:
    """A TCP server whose connections run `handler(reader, writer)`; it counts connections."""

    def __init__(self, handler, ssl_ctx=None) -> None:
        self.handler = handler
        self.ssl = ssl_ctx
        self.connections = 0
        self.closed = asyncio.Event()
        self.handlers: set[asyncio.Task] = set()

    async def __aenter__(self):
        async def on_conn(reader, writer):
            self.connections += 1
            self.handlers.add(asyncio.current_task())
            try:
                await self.handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()
                self.closed.set()

        self.server = await asyncio.start_server(on_conn, "127.0.0.1", 0, ssl=self.ssl)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"{'https' if self.ssl else 'http'}://localhost:{port}/v1/x?a=1"
        return self

    async def __aexit__(self, *exc):
        self.server.close()
        # closing the server leaves its connections' handlers running (a handler that sleeps
        # outlived its test): end them here
        live = [t for t in self.handlers if not t.done()]
        for t in live:
            t.cancel()
        await asyncio.gather(*live, return_exceptions=True)


async def read_request(reader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    body = await reader.readexactly(length) if length else b""
    return head, body


async def keep_answering(reader, writer, answer=OK):
    while True:
        try:
            await read_request(reader)
        except asyncio.IncompleteReadError:
            return
        writer.write(answer)
        await writer.drain()


async def test_keep_alive_reuses_one_connection_and_writes_a_proper_request():
    seen = []

    async def handler(reader, writer):
        while True:
            try:
                seen.append(await read_request(reader))
            except asyncio.IncompleteReadError:
                return
            writer.write(OK)

    async with Scripted(handler) as srv:
        c = Client(limit=4)
        for _ in range(5):
            r = await c.request("POST", srv.url, body=b'{"q":1}', headers={"authorization": "Bearer k"})
            assert r.status == 200 and r.headers["Content-Type"] == "application/json"
            assert await r.read() == b'{"ok":true}'
        await c.close()
    assert srv.connections == 1
    head, body = seen[0]
    assert head.startswith(b"POST /v1/x?a=1 HTTP/1.1\r\n")
    assert b"\r\nhost: localhost:" in head and b"\r\ncontent-length: 7\r\n" in head
    assert b"\r\nauthorization: Bearer k\r\n" in head and body == b'{"q":1}'


async def test_chunked_body_split_across_many_segments():
    body = b"".join(f"data: {i}\n\n".encode() for i in range(50))
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 37]), body[i:i + 37]) for i in range(0, len(body), 37))
    answer = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunked + b"0\r\n\r\n"

    async def handler(reader, writer):
        await read_request(reader)
        for i in range(0, len(answer), 7):  # 7-byte TCP segments
            writer.write(answer[i:i + 7])
            await writer.drain()
            await asyncio.sleep(0)
        await keep_answering(reader, writer)

    async with Scripted(handler) as srv:
        c = Client()
        r = await c.request("GET", srv.url)
        lines = []
        while line := await r.readline():
            lines.append(line)
        assert b"".join(lines) == body and lines[0] == b"data: 0\n"
        r2 = await c.request("GET", srv.url)  # the connection went back to the pool
        assert await r2.read() == b'{"ok":true}'
        await c.close()
    assert srv.connections == 1


async def test_body_until_close_and_gzip():
    import gzip

    z = gzip.compress(b"hello world")

    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\nconnection: close\r\n\r\n" + z)
        await writer.drain()

    async with Scripted(handler) as srv:
        c = Client()
        r = await c.request("GET", srv.url)
        assert await r.read() == b"hello world"
        await c.close()


async def test_server_closing_mid_body_is_a_connection_error():
    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
        await writer.drain()

    async with Scripted(handler) as srv:
        c = Client()
        r = await c.request("POST", srv.url, body=b"{}")
        with pytest.raises(ConnectionClosed) as e:
            await r.read()
        assert classify_exception(e.value) is ErrorClass.CONNECTION
        await c.close()


async def test_garbage_is_a_protocol_error_and_refused_is_a_connect_error():
    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1)

    async with Scripted(handler) as srv:
        c = Client()
        with pytest.raises(ProtocolError) as e:
            await c.request("GET", srv.url)
        assert classify_exception(e.value) is ErrorClass.MALFORMED
        port = srv.server.sockets[0].getsockname()[1]
    await asyncio.sleep(0.05)
    with pytest.raises(ConnectError) as e:
        await c.request("GET", f"http://127.0.0.1:{port}/")
    assert classify_exception(e.value) is ErrorClass.CONNECTION
    await c.close()


async def test_readline_timeout_loses_no_data():
    go = asyncio.Event()

    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\ndata:\r\n")
        await writer.drain()
        await go.wait()
        writer.write(b"4\r\n a\n\n\r\n0\r\n\r\n")
        await writer.drain()

    async with Scripted(handler) as srv:
        c = Client()
        r = await c.request("GET", srv.url)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await r.readline()
        go.set()
        assert await r.readline() == b"data: a\n"
        assert await r.readline() == b"\n"
        assert await r.readline() == b""
        await c.close()


async def test_closing_mid_body_disconnects_the_upstream_at_once():
    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n6\r\ndata:\n\r\n")
        await writer.drain()
        await reader.read()  # returns at EOF, when the client closes

    async with Scripted(handler) as srv:
        c = Client()
        r = await c.request("GET", srv.url)
        assert await r.readline() == b"data:\n"
        r.close()
        async with asyncio.timeout(0.1):
            await srv.closed.wait()
        await c.close()


async def test_pool_is_bounded_and_stale_idle_connections_are_replaced():
    async def close_after_one(reader, writer):
        await read_request(reader)
        await asyncio.sleep(0.05)
        writer.write(OK)
        await writer.drain()  # then the server closes this keep-alive connection

    async with Scripted(close_after_one) as srv:
        c = Client(limit=1)
        r1, r2 = await asyncio.gather(c.request("GET", srv.url), c.request("GET", srv.url))
        # with one slot the second request waited for the first connection to finish
        assert await r1.read() == await r2.read() == b'{"ok":true}'
        r3 = await c.request("GET", srv.url)
        assert await r3.read() == b'{"ok":true}'
        await c.close()
    assert srv.connections == 3


async def test_cancelled_wait_for_the_head_closes_the_connection():
    async def hang(reader, writer):
        await read_request(reader)
        await reader.read()

    async with Scripted(hang) as srv:
        c = Client(limit=1)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await c.request("GET", srv.url)
        async with asyncio.timeout(0.1):
            await srv.closed.wait()
        with pytest.raises(TimeoutError):  # the slot was freed: a new connection is opened
            async with asyncio.timeout(0.05):
                await c.request("GET", srv.url)
        assert srv.connections == 2
        await c.close()


def _self_signed() -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


async def test_tls_with_hostname_check(tmp_path):
    cert, key = _self_signed()
    (tmp_path / "c.pem").write_bytes(cert)
    (tmp_path / "k.pem").write_bytes(key)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    async with Scripted(keep_answering, ssl_ctx=server_ctx) as srv:
        trusting = Client(ssl=ssl.create_default_context(cafile=str(tmp_path / "c.pem")))
        for _ in range(2):
            r = await trusting.request("POST", srv.url, body=b"{}")
            assert r.status == 200 and await r.read() == b'{"ok":true}'
        await trusting.close()
        assert srv.connections == 1
        with pytest.raises(ConnectError):  # the system trust store does not know this cert
            await Client().request("GET", srv.url, connect_timeout=2)


async def test_a_complete_body_left_partly_unread_still_returns_the_connection():
    sse = b"data: x\n\ndata: [DONE]\n\n"
    answer = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(sse), sse)

    async with Scripted(lambda r, w: keep_answering(r, w, answer)) as srv:
        c = Client()
        for _ in range(3):
            r = await c.request("GET", srv.url)
            await asyncio.sleep(0.01)
            assert r.readline_nowait() == b"data: x\n"
            assert r.readline_nowait() == b"\n" and await r.readline() == b"data: [DONE]\n"
            r.release()  # the final blank line is unread, but the body is complete
        assert r.readline_nowait() is None
        await c.close()
    assert srv.connections == 1


# ---- bounded responses (issue 13, item 11) ------------------------------------------------

def gzip_bomb(inflated: int) -> bytes:
    """A gzip body of about inflated/1000 bytes that inflates to `inflated` zero bytes."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    return b"".join(z.compress(block) for _ in range(inflated >> 20)) + z.flush()


def bomb_handler(body: bytes, extra: bytes = b""):
    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: %d\r\n%b\r\n" % (len(body), extra)
                     + body)
        await writer.drain()
        await reader.read()  # until the client closes
    return handler


async def test_a_gzip_bomb_fails_while_inflating_with_bounded_memory():
    bomb = gzip_bomb(300 << 20)
    assert len(bomb) < 400_000
    async with Scripted(bomb_handler(bomb)) as srv:
        c = Client(max_response_bytes=8 << 20)
        tracemalloc.start()
        try:
            r = await c.request("POST", srv.url, body=b"{}")
            with pytest.raises(ResponseTooLarge) as e:
                await r.read()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 32 << 20, peak  # the limit and a copy, not 300 MiB
        assert classify_exception(e.value) is ErrorClass.MALFORMED  # an upstream error, not ours
        await asyncio.wait_for(srv.closed.wait(), 5)  # and the connection is closed, not reused
        await c.close()
    async with Scripted(bomb_handler(gzip_bomb(100 << 20))) as srv:  # the default limit holds too
        c = Client()
        r = await c.request("POST", srv.url, body=b"{}")
        with pytest.raises(ResponseTooLarge):
            await r.read()
        await c.close()


async def test_a_plain_body_past_the_limit_fails_as_it_arrives():
    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 50000000\r\n\r\n")
        while True:  # 50 MB announced, sent for as long as the client takes it
            writer.write(b"x" * 65536)
            await writer.drain()

    async with Scripted(handler) as srv:
        c = Client(max_response_bytes=1 << 20)
        r = await c.request("GET", srv.url)
        with pytest.raises(ResponseTooLarge):
            await r.read()
        assert len(r._buf) <= 1 << 20
        await asyncio.wait_for(srv.closed.wait(), 5)
        await c.close()


async def test_streams_are_bounded_per_line_and_in_total():
    line_bomb = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    body = line_bomb.compress(b"data: " + b"a" * (4 << 20) + b"\n\n") + line_bomb.flush()  # one 4 MiB event

    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-encoding: gzip\r\n"
                     b"transfer-encoding: chunked\r\n\r\n%x\r\n%b\r\n0\r\n\r\n" % (len(body), body))
        await writer.drain()
        await reader.read()

    async with Scripted(handler) as srv:
        c = Client()
        r = await c.request("POST", srv.url, body=b"{}")
        with pytest.raises(ResponseTooLarge):
            while await r.readline():
                pass
        await c.close()

    events = b"data: %b\n\n" % (b"e" * 1000)

    async def many(reader, writer):  # small events, forever: the total bound ends the stream
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
        while True:
            writer.write(b"%x\r\n%b\r\n" % (len(events) * 64, events * 64))
            await writer.drain()

    async with Scripted(many) as srv:
        c = Client(max_response_bytes=1 << 20)
        r = await c.request("POST", srv.url, body=b"{}")
        got = 0
        with pytest.raises(ResponseTooLarge):
            while line := await r.readline():
                got += len(line)
        assert got <= 1 << 20
        await c.close()
