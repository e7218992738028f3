"""seawall.net.server on real sockets: keep-alive, pipelining, bodies, limits, streaming,
disconnects and shutdown."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest

from seawall.net.server import BodyTooLarge, Request, Response, StreamResponse, start


async def echo(request: Request):
    if request.path == "/slow":
        await asyncio.sleep(float(request.query.get("s", "0.05")))
    if request.path == "/stream":
        resp = StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        for i in range(3):
            await resp.write(b"data: %d\n\n" % i)
        return resp
    try:
        body = await request.read(limit=100)
    except BodyTooLarge:
        return Response(b"too large", 413)
    return Response(b"%s %s %s|%s" % (request.method.encode(), request.path.encode(),
                                      request.query_string.encode(), body),
                    headers={"x-auth": request.headers.get("Authorization", "-")}, content_type="text/plain")


@pytest.fixture
async def running():
    r = await start(echo, max_body=1000)
    yield r
    await r.close()


async def raw(running, data: bytes, wait: float = 0.3) -> bytes:
    reader, writer = await asyncio.open_connection(running.host, running.port)
    writer.write(data)
    out = b""
    try:
        async with asyncio.timeout(wait):
            while chunk := await reader.read(65536):
                out += chunk
    except TimeoutError:
        pass
    writer.close()
    return out


async def test_keep_alive_bodies_and_headers(running):
    conns = 0

    async def on_conn(*_):
        nonlocal conns
        conns += 1

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(on_conn)
    async with aiohttp.ClientSession(trace_configs=[trace]) as s:
        for i in range(3):
            async with s.post(running.url + "/echo?x=1", data=b"body%d" % i, headers={"authorization": "k"}) as r:
                assert r.status == 200
                assert await r.read() == b"POST /echo x=1|body%d" % i
                assert r.headers["x-auth"] == "k" and r.headers["content-type"] == "text/plain"
                assert r.headers["server"] == "seawall" and "GMT" in r.headers["date"]

        async def chunks():
            for part in (b"ab", b"cd", b"ef"):
                yield part

        async with s.post(running.url + "/chunked", data=chunks()) as r:  # chunked request body
            assert await r.read() == b"POST /chunked |abcdef"
    assert conns == 1


async def test_pipelined_requests_are_answered_in_order(running):
    data = (b"GET /slow?s=0.1 HTTP/1.1\r\nhost: x\r\n\r\n"
            b"POST /b HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nhi"
            b"GET /c HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
    out = await raw(running, data, wait=2)
    assert out.count(b"HTTP/1.1 200 OK") == 3
    assert out.index(b"GET /slow s=0.1|") < out.index(b"POST /b |hi") < out.index(b"GET /c |")
    assert out.endswith(b"GET /c |")  # and then the server closed the connection


async def test_body_limit_answers_413(running):
    out = await raw(running, b"POST /x HTTP/1.1\r\nhost: x\r\ncontent-length: 500\r\n\r\n" + b"a" * 500
                    + b"GET /after HTTP/1.1\r\nhost: x\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 413 ")
    assert b"GET /after |" in out  # a small unread body is skipped and the connection kept
    chunk = b"%x\r\n%s\r\n" % (600, b"b" * 600)
    # a chunked body still arriving: answer, then close (after a short linger)
    out = await raw(running, b"POST /x HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n" + chunk * 2)
    assert out.startswith(b"HTTP/1.1 413 ") and b"connection: close" in out


async def test_malformed_request_and_expect_continue(running):
    assert (await raw(running, b"NOT HTTP\r\n\r\n")).startswith(b"HTTP/1.1 400 ")
    out = await raw(running, b"POST /e HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 2\r\n\r\nok")
    assert out.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK") and out.endswith(b"POST /e |ok")
    # garbage behind a request still running: that one is answered, then the connection closes
    out = await raw(running, b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\nGARBAGE\x00\r\n\r\n", wait=5)
    assert out.startswith(b"HTTP/1.1 200 OK") and out.endswith(b"GET /slow |")


async def test_streaming_response_is_chunked(running):
    async with aiohttp.ClientSession() as s:
        async with s.get(running.url + "/stream") as r:
            assert r.headers["transfer-encoding"] == "chunked"
            assert await r.read() == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"
    out = await raw(running, b"GET /stream HTTP/1.0\r\n\r\n")  # HTTP/1.0: no chunking, ends at close
    assert out.endswith(b"\r\n\r\ndata: 0\n\ndata: 1\n\ndata: 2\n\n")


async def test_client_disconnect_cancels_the_handler():
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def handler(request):
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return Response(b"late")

    r = await start(handler)
    reader, writer = await asyncio.open_connection(r.host, r.port)
    writer.write(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
    await started.wait()
    writer.transport.abort()
    async with asyncio.timeout(0.1):
        await cancelled.wait()
    await r.close()


async def test_shutdown_lets_in_flight_requests_finish():
    async def handler(request):
        await asyncio.sleep(0.2)
        return Response(b"done")

    r = await start(handler)
    async with aiohttp.ClientSession() as s:
        pending = asyncio.ensure_future(s.get(r.url + "/"))
        await asyncio.sleep(0.05)
        closing = asyncio.ensure_future(r.close(timeout=5))
        resp = await pending
        assert resp.status == 200 and await resp.read() == b"done"
        await closing
        with pytest.raises(aiohttp.ClientConnectionError):
            await s.get(r.url + "/")


async def test_a_first_client_long_after_start_keeps_its_connection():
    """The idle sweep measures against a clock that only ticks once the first client arrives.
    A server that waited longer than keepalive_s for it used to stamp the client's activity
    with the stale start-up time, and its first sweep closed the live keep-alive connection
    between two requests (the client's next request met a closed socket)."""
    r = await start(echo, keepalive_s=1.5)
    try:
        await asyncio.sleep(2.0)  # no client yet, for longer than keepalive_s
        reader, writer = await asyncio.open_connection(r.host, r.port)
        answered = 0
        loop = asyncio.get_running_loop()
        until = loop.time() + 1.6  # past the first sweep, one second after the connection
        while loop.time() < until:
            writer.write(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2.0)
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            answered += 1
            await asyncio.sleep(0.05)  # idle between requests, well inside keepalive_s
        assert answered >= 20
        writer.close()
    finally:
        await r.close()


# ---- slow clients, connection caps, bad chunking, pipelining bounds (issue 13, items 4-5) ----

async def read_until_closed(reader: asyncio.StreamReader, limit: float = 10.0) -> bytes | None:
    """What the server sent before closing, or None if it kept the connection past `limit`."""
    out = b""
    try:
        async with asyncio.timeout(limit):
            while chunk := await reader.read(65536):
                out += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return out


FAST = dict(head_timeout_s=0.5, body_idle_timeout_s=0.5, body_timeout_s=1.5, keepalive_s=5.0)


async def test_a_head_dripped_byte_by_byte_is_timed_out():
    r = await start(echo, **FAST)
    try:
        reader, writer = await asyncio.open_connection(r.host, r.port)

        async def drip():
            for b in b"GET / HTTP/1.1\r\nhost: x\r\nx-pad: " + b"a" * 100:
                writer.write(bytes([b]))
                await asyncio.sleep(0.1)

        dripping = asyncio.ensure_future(drip())
        out = await read_until_closed(reader)
        dripping.cancel()
        assert out is not None and out.startswith(b"HTTP/1.1 408 "), out
        silent_reader, _ = await asyncio.open_connection(r.host, r.port)  # connects, says nothing
        assert await read_until_closed(silent_reader) is not None
        assert r.server.timed_out == 2
    finally:
        await r.close()


async def test_an_announced_body_that_never_comes_is_timed_out_and_its_handler_cancelled():
    cancelled = asyncio.Event()

    async def handler(request):
        try:
            return Response(await request.read())
        except asyncio.CancelledError:
            cancelled.set()
            raise

    r = await start(handler, **FAST)
    try:
        reader, writer = await asyncio.open_connection(r.host, r.port)
        writer.write(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\nx")
        out = await read_until_closed(reader)
        assert out is not None and out.startswith(b"HTTP/1.1 408 "), out
        assert cancelled.is_set()
        # a body that keeps dripping is bounded by the total body timeout
        reader, writer = await asyncio.open_connection(r.host, r.port)
        writer.write(b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n")

        async def drip():
            while True:
                writer.write(b"1\r\na\r\n")
                await asyncio.sleep(0.2)

        dripping = asyncio.ensure_future(drip())
        out = await read_until_closed(reader)
        dripping.cancel()
        assert out is not None and out.startswith(b"HTTP/1.1 408 ")
    finally:
        await r.close()


async def test_connections_past_the_caps_are_refused_at_once():
    r = await start(echo, max_connections=4, max_connections_per_client=2)
    try:
        held = [await asyncio.open_connection(r.host, r.port) for _ in range(2)]
        reader, _ = await asyncio.open_connection(r.host, r.port)  # a third from 127.0.0.1
        out = await read_until_closed(reader, 5.0)
        assert out is not None and (out == b"" or out.startswith(b"HTTP/1.1 503 "))
        # another address still gets in, up to the total cap
        others = [await asyncio.open_connection(r.host, r.port, local_addr=("127.0.0.2", 0)) for _ in range(2)]
        assert len(r.server.conns) == 4
        reader, _ = await asyncio.open_connection(r.host, r.port, local_addr=("127.0.0.3", 0))
        assert await read_until_closed(reader, 5.0) is not None
        assert r.server.refused == 2
        for _, w in held + others:
            w.close()
        await asyncio.sleep(0.1)
        assert (await raw(r, b"GET /ok HTTP/1.1\r\nhost: x\r\n\r\n")).startswith(b"HTTP/1.1 200 ")
        await asyncio.sleep(0.1)
        assert r.server.per_client == {}  # every closed connection gave its count back
    finally:
        await r.close()


@pytest.mark.parametrize("body", [b"zz\r\n", b"-5\r\nhello\r\n0\r\n\r\n", b"5\nhello\n0\n\n",
                                  b"5\r\nhelloXX0\r\n\r\n", b"1" * 40 + b"\r\n",
                                  b"5;" + b"e" * 100_000 + b"\r\nhello\r\n0\r\n\r\n"])
async def test_malformed_chunked_bodies_get_400_and_close(running, body):
    reader, writer = await asyncio.open_connection(running.host, running.port)
    writer.write(b"POST /x HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n")
    await asyncio.sleep(0.05)  # framing is counted from the reads after the head's (one read is bounded)
    writer.write(body)
    out = await read_until_closed(reader, 5.0)  # the default timeouts are 10 s and more: no timeout at work
    assert out is not None and out.startswith(b"HTTP/1.1 400 ") and b"connection: close" in out, out


async def test_pipelined_bodies_behind_a_running_request_are_not_read_ahead():
    release = asyncio.Event()

    async def handler(request):
        if request.path == "/wait":
            await release.wait()
        return Response(b"%d" % len(await request.read()))

    r = await start(handler, max_body=1 << 20)
    try:
        reader, writer = await asyncio.open_connection(r.host, r.port)
        body = b"b" * 500_000
        writer.write(b"GET /wait HTTP/1.1\r\nhost: x\r\n\r\n" +
                     b"POST /b HTTP/1.1\r\nhost: x\r\ncontent-length: 500000\r\n\r\n" + body * 1)
        for _ in range(40):  # 20 MB more: only what the socket buffers hold may wait in the kernel
            writer.write(b"POST /b HTTP/1.1\r\nhost: x\r\ncontent-length: 500000\r\n\r\n" + body)
        await asyncio.sleep(0.5)
        (conn,) = r.server.conns
        buffered = sum(len(q._buf) for q in conn.queue) + (len(conn.req._buf) if conn.req else 0)
        assert buffered <= 512 * 1024, buffered
        release.set()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 200 ")
        writer.transport.abort()
    finally:
        await r.close()


async def test_too_deep_a_pipeline_is_refused_after_the_first_answers(running):
    data = b"GET /slow?s=0.3 HTTP/1.1\r\nhost: x\r\n\r\n" + b"GET /p HTTP/1.1\r\nhost: x\r\n\r\n" * 200
    out = await raw(running, data, wait=5)
    answered = out.count(b"HTTP/1.1 200 OK")
    assert 1 <= answered <= 33 and out.count(b"HTTP/1.1 ") == answered  # no queue of 200, no hang


async def test_a_client_that_does_not_read_is_served_no_more_and_dropped():
    handled = 0

    async def big(request):
        nonlocal handled
        handled += 1
        return Response(b"x" * (4 << 20))

    r = await start(big, send_timeout_s=0.5)
    try:
        reader, writer = await asyncio.open_connection(r.host, r.port)
        writer.write(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n" * 30)  # 120 MB of answers, none of them read
        for _ in range(100):
            await asyncio.sleep(0.1)
            if not r.server.conns:
                break
        assert not r.server.conns  # aborted by the send timeout
        assert handled <= 3  # the pipeline stopped while our answers sat unread
        writer.transport.abort()
    finally:
        await r.close()


async def test_a_burst_of_pipelined_requests_larger_than_a_head_is_not_a_large_head(running):
    one = b"GET /p HTTP/1.1\r\nhost: x\r\nx-pad: " + b"a" * 3000 + b"\r\n\r\n"  # 25 of them: ~75 KiB in one read
    out = await raw(running, one * 24 + b"GET /last HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n", wait=5)
    assert out.count(b"HTTP/1.1 200 OK") == 25 and b"431" not in out
