"""Wire-level abuse of a real gateway process over raw sockets (issue 13): smuggling, bad
chunking, slow heads and bodies, pipelining, oversize input, connection floods, and an
upstream gzip bomb. Every case must end in a 4xx (or a refusal) within the configured
timeouts; never a 5xx from us, a hang, a crash, or memory that grows with the abuse.

Counts are bounded for CI (`make abuse`); the slow-client load figure (p99 of a normal
client during 1,000 drip connections) is in docs/benchmarks.md, not asserted here.
"""
from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import tempfile
import time
import zlib

import pytest
import yaml

from procs import Proc, free_port, start_gateway, start_simulator

LIMITS = {"head_timeout_s": 1.0, "body_idle_timeout_s": 1.0, "body_timeout_s": 3.0, "idle_timeout_s": 5.0,
          "max_connections_per_client": 300}
MARGIN = 3.0  # the sweep runs every 0.25 s here; a loaded machine gets some slack
CHAT = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}).encode()
SLOW = json.dumps({"model": "slow", "messages": [{"role": "user", "content": "hi"}]}).encode()


def _raise_fd_limit(want: int) -> int:
    """The soft descriptor limit up to `want` (children inherit it); what we got."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        soft = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


FD_LIMIT = _raise_fd_limit(4096)
DRIPS = max(50, min(1000, (FD_LIMIT - 300) // 2))  # this process and the gateway each hold one per drip


class Bomb:
    """An upstream that answers every chat call with 300 KB of gzip inflating to 300 MiB."""

    def __init__(self) -> None:
        z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        zero = bytes(1 << 20)
        self.body = b"".join(z.compress(zero) for _ in range(300)) + z.flush()

    async def start(self) -> str:
        async def on_conn(reader, writer):
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                n = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                await reader.readexactly(n)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n"
                             b"content-length: %d\r\n\r\n" % len(self.body) + self.body)
                await writer.drain()
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        self.server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1"


@pytest.fixture(scope="module")
def gw():
    sim = start_simulator(seed=3)
    slow = start_simulator("--latency-ms", "1500", seed=4)
    bomb = Bomb()
    loop = asyncio.new_event_loop()
    bomb_url = loop.run_until_complete(bomb.start())
    import threading

    threading.Thread(target=loop.run_forever, daemon=True).start()
    config = {
        "server": {"max_body_bytes": 64 * 1024, "access_log": False, "limits": LIMITS},
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"},
                      {"name": "slow", "base_url": slow.url + "/v1"},
                      {"name": "bomb", "base_url": bomb_url, "max_response_bytes": 2 << 20}],
        "models": [{"name": "gpt-4o-mini", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]},
                   {"name": "slow", "targets": [{"provider": "slow", "model": "gpt-4o-mini"}]},
                   {"name": "bomb", "targets": [{"provider": "bomb", "model": "m"}]}],
    }
    g = start_gateway(config)
    yield g
    alive = g.proc.poll() is None
    for p in (g, sim, slow):
        p.stop()
    loop.call_soon_threadsafe(loop.stop)
    assert alive, "the gateway died during the abuse suite"
    assert "Traceback" not in g.output(), g.output()[-3000:]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


async def exchange(gw, data: bytes | list[bytes], limit: float = 10.0, local: str | None = None,
                   gap: float = 0.0) -> tuple[bytes | None, float]:
    """Send `data` (pieces `gap` seconds apart), then read until the server closes.
    Returns (what came back, seconds to the close), or (None, limit) if it never closed."""
    t0 = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.port,
                                                   local_addr=(local, 0) if local else None)
    out = b""

    async def send():
        for piece in data if isinstance(data, list) else [data]:
            writer.write(piece)
            if gap:
                await asyncio.sleep(gap)

    sending = asyncio.ensure_future(send())
    try:
        async with asyncio.timeout(limit):
            while chunk := await reader.read(65536):
                out += chunk
    except TimeoutError:
        return None, limit
    except ConnectionResetError:
        pass
    finally:
        sending.cancel()
        writer.transport.abort()
    return out, time.monotonic() - t0


def statuses(out: bytes) -> list[int]:
    return [int(line.split()[1]) for line in out.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


def chat_head(extra: bytes, path: bytes = b"/v1/chat/completions") -> bytes:
    return b"POST " + path + b" HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" + extra + b"\r\n"


SMUGGLED = b"GET /admin/keys HTTP/1.1\r\nhost: x\r\n\r\n"


@pytest.mark.parametrize("head", [
    b"content-length: 4\r\ntransfer-encoding: chunked\r\n",  # CL.TE
    b"transfer-encoding: chunked\r\ncontent-length: 4\r\n",  # TE.CL
    b"content-length: 4\r\ncontent-length: 40\r\n",  # double CL
    b"content-length: 4, 40\r\n",
    b"content-length: +4\r\n",
    b"transfer-encoding: chunked, identity\r\n",
    b"transfer-encoding: xchunked\r\n",
    b"transfer-encoding : chunked\r\n",
    b" transfer-encoding: chunked\r\n",  # obs-fold
    b"transfer-encoding: chunked\r\ntransfer-encoding: identity\r\n",
    b"transfer-encoding: identity\r\n",
])
async def test_smuggling_attempts_get_400_and_nothing_behind_them_is_served(gw, head):
    out, _ = await exchange(gw, chat_head(head) + b"0\r\n\r\n" + SMUGGLED)
    assert out is not None and statuses(out) == [400], out[:300]


@pytest.mark.parametrize("body", [b"zz\r\n", b"-5\r\nhello\r\n0\r\n\r\n", b"5\nhello\n0\n\n",
                                  b"5\r\nhelloXX0\r\n\r\n", b"f" * 40 + b"\r\n",
                                  b"5;" + b"x" * 200_000 + b"\r\nhello\r\n0\r\n\r\n",
                                  b"5\r\nhello\r\n0\r\nx-trailer: " + b"t" * 200_000 + b"\r\n\r\n"])
async def test_bad_chunking_gets_400_and_close_before_any_timeout(gw, body):
    out, took = await exchange(gw, [chat_head(b"transfer-encoding: chunked\r\n"), body], gap=0.05)
    assert out is not None and statuses(out) == [400], out[:300]
    assert took < LIMITS["body_idle_timeout_s"] + MARGIN


async def test_slow_heads_are_closed_by_the_head_timeout(gw):
    head = chat_head(b"content-length: %d\r\n" % len(CHAT))
    addrs = ["127.0.0.2", "127.0.0.3"]  # 400 as in issue 13, under the per-address cap
    results = await asyncio.gather(*(exchange(gw, [bytes([b]) for b in head], limit=15, gap=0.3, local=addrs[i % 2])
                                     for i in range(min(400, DRIPS))))
    for out, took in results:
        assert out is not None and statuses(out) in ([408], []), out
        assert took < LIMITS["head_timeout_s"] + MARGIN


async def test_slow_bodies_are_closed_by_the_body_timeouts(gw):
    # 1 byte of an announced 1,000, then silence: the idle timeout
    announced = [chat_head(b"content-length: 1000\r\n") + b"{"]
    # a byte every 0.3 s forever: the total body timeout
    drip = [chat_head(b"transfer-encoding: chunked\r\n")] + [b"1\r\n \r\n"] * 100
    results = await asyncio.gather(*(exchange(gw, announced, limit=15) for _ in range(20)),
                                   *(exchange(gw, drip, limit=15, gap=0.3) for _ in range(20)))
    for i, (out, took) in enumerate(results):
        assert out is not None and statuses(out) == [408], out
        bound = LIMITS["body_idle_timeout_s"] if i < 20 else LIMITS["body_timeout_s"]
        assert took < bound + MARGIN


async def test_oversize_heads_and_bodies(gw):
    out, _ = await exchange(gw, [chat_head(b"x-big: ")] + [b"a" * 8192] * 16 + [b"\r\n\r\n"], gap=0.01)
    assert out is not None and statuses(out) == [431]
    out, _ = await exchange(gw, chat_head(b"content-length: 100000\r\nconnection: close\r\n") + b"{" * 100_000)
    assert out is not None and statuses(out) == [413]
    chunk = b"%x\r\n%s\r\n" % (30_000, b" " * 30_000)
    out, _ = await exchange(gw, [chat_head(b"transfer-encoding: chunked\r\nconnection: close\r\n")] + [chunk] * 4
                            + [b"0\r\n\r\n"])
    assert out is not None and statuses(out) == [413]


async def test_pipelined_bytes_behind_a_running_request_are_not_buffered(gw):
    """A slow request, then 40 MB of pipelined bodies: the gateway must not read them ahead
    (it used to buffer ~61 MiB per connection)."""
    # one request through the whole path first: what it loads on first use (~8 MiB of guard
    # tables and clients) is no buffering
    warm, _ = await exchange(gw, chat_head(b"content-length: %d\r\nconnection: close\r\n" % len(SLOW)) + SLOW)
    assert warm is not None and statuses(warm) == [200], warm
    before = rss_kib(gw.proc.pid)
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
    writer.write(chat_head(b"content-length: %d\r\n" % len(SLOW)) + SLOW)
    body = b" " * 60_000
    one = chat_head(b"content-length: %d\r\n" % len(body)) + body

    async def flood():
        for _ in range(700):
            writer.write(one)
            await writer.drain()  # blocks once the kernel buffers are full: the gateway reads no further

    flooding = asyncio.ensure_future(flood())
    await asyncio.sleep(1.0)
    grown = rss_kib(gw.proc.pid) - before
    flooding.cancel()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    writer.transport.abort()
    assert head.startswith(b"HTTP/1.1 200 ")
    assert grown < 8 * 1024, f"RSS grew by {grown} KiB"


async def test_a_deep_pipeline_is_cut_off_not_queued(gw):
    many = (chat_head(b"content-length: %d\r\n" % len(CHAT)) + CHAT) * 200
    out, _ = await exchange(gw, many, limit=20)
    codes = statuses(out)
    assert out is not None and 1 <= len(codes) <= 34 and set(codes) <= {200, 429}, codes[:40]


async def test_connections_past_the_per_client_cap_are_refused_at_once(gw):
    async def hold():  # a request that takes 1.5 s upstream keeps its connection past the head timeout
        r, w = await asyncio.open_connection("127.0.0.1", gw.port, local_addr=("127.0.0.7", 0))
        w.write(chat_head(b"content-length: %d\r\n" % len(SLOW)) + SLOW)
        return r, w

    held = await asyncio.gather(*(hold() for _ in range(LIMITS["max_connections_per_client"])))
    await asyncio.sleep(0.3)
    out, took = await exchange(gw, b"", limit=5, local="127.0.0.7")
    assert out is not None and statuses(out) in ([503], []) and took < 1.0, out
    for _, w in held:
        w.transport.abort()
    out, _ = await exchange(gw, chat_head(b"content-length: %d\r\nconnection: close\r\n" % len(CHAT)) + CHAT)
    assert statuses(out) == [200]  # other addresses are served meanwhile and after


async def test_an_upstream_gzip_bomb_fails_as_an_upstream_error_with_bounded_memory(gw):
    before = rss_kib(gw.proc.pid)
    body = json.dumps({"model": "bomb", "messages": [{"role": "user", "content": "hi"}]}).encode()
    out, _ = await exchange(gw, chat_head(b"content-length: %d\r\nconnection: close\r\n" % len(body)) + body)
    assert out is not None
    (code,) = statuses(out)
    assert 500 < code < 600 and code != 500, out[:400]  # an upstream error (502/503), not ours
    assert b"response body larger than 2097152 bytes" in out, out[-300:]
    assert rss_kib(gw.proc.pid) - before < 64 * 1024  # inflating stopped at the provider's 2 MiB


async def test_1000_drip_connections_do_not_stop_a_normal_client(gw):
    """DRIPS connections (1,000 where the descriptor limit allows) drip a header byte every
    0.5 s from four other addresses; a normal client keeps being served, and the drips are
    closed by the head timeout."""
    head = chat_head(b"x-pad: " + b"p" * 100 + b"\r\n")
    addrs = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
    drips = [asyncio.ensure_future(exchange(gw, [bytes([b]) for b in head], limit=20, gap=0.5,
                                            local=addrs[i % 4])) for i in range(DRIPS)]
    await asyncio.sleep(0.5)
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
    served, lat = 0, []
    until = time.monotonic() + LIMITS["head_timeout_s"] + 2
    while time.monotonic() < until:
        t = time.monotonic()
        writer.write(chat_head(b"content-length: %d\r\n" % len(CHAT)) + CHAT)
        resp = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        n = int(resp.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        await reader.readexactly(n)
        lat.append(time.monotonic() - t)
        served += resp.startswith(b"HTTP/1.1 200 ")
    writer.close()
    results = await asyncio.gather(*drips)
    assert served == len(lat) and served >= 5
    assert all(out is not None for out, _ in results), "a drip connection outlived the head timeout"
    lat.sort()
    print(f"drips={DRIPS} normal client: {served} served, p50 {lat[len(lat) // 2] * 1000:.1f} ms, "
          f"p99 {lat[int(len(lat) * 0.99)] * 1000:.1f} ms")


async def test_a_low_descriptor_limit_locks_new_clients_out_only_until_the_head_timeout():
    """With `ulimit -n 256` (so at most 192 client connections) and 300 drips from four
    addresses, the gateway refuses what is past the cap at once (never EMFILE in accept) and
    serves a normal client again as soon as the head timeout has cleared the drips (issue 13:
    281 such connections had locked every new client out for 40 s)."""
    sim = start_simulator(seed=5)
    workdir = tempfile.mkdtemp(prefix="seawall-gw-")
    config = {"server": {"access_log": False, "limits": LIMITS},
              "store": {"sql": f"sqlite:///{workdir}/seawall.db"},
              "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
              "models": [{"name": "gpt-4o-mini", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}]}
    path = os.path.join(workdir, "seawall.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(config, f)
    port = free_port()
    gw = Proc(["sh", "-c", 'ulimit -n 256 && exec "$@"', "sh", sys.executable, "-m", "seawall.cli", "serve",
               "--config", path, "--port", str(port)], port)
    try:
        head = chat_head(b"x-pad: " + b"p" * 100 + b"\r\n")
        addrs = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
        t0 = time.monotonic()
        drips = [asyncio.ensure_future(exchange(gw, [bytes([b]) for b in head], limit=20, gap=0.5,
                                                local=addrs[i % 4])) for i in range(300)]
        await asyncio.sleep(0.3)
        served_at = None
        while time.monotonic() - t0 < 15:
            out, took = await exchange(gw, chat_head(b"content-length: %d\r\nconnection: close\r\n" % len(CHAT))
                                       + CHAT, limit=5)
            assert out is not None and took < 5  # refused or served, never left hanging
            if statuses(out) == [200]:
                served_at = time.monotonic() - t0
                break
            assert statuses(out) in ([503], []), out[:200]
            await asyncio.sleep(0.1)
        results = await asyncio.gather(*drips)
        assert served_at is not None and served_at < LIMITS["head_timeout_s"] + MARGIN, served_at
        refused = sum(1 for out, took in results if out is not None and statuses(out) in ([503], []) and took < 1)
        assert refused > 0  # the cap did its part
        assert gw.proc.poll() is None and "Too many open files" not in gw.output()
    finally:
        gw.stop()
        sim.stop()
