"""The HTTP stack alone (seawall.net server + upstream client), without wrk: a bare proxy in
front of a trivial upstream, loaded by keep-alive asyncio clients in another process, and the
proxy's CPU per request from /proc (the figure that holds on a shared, noisy machine).

    python scripts/bench_wire.py cpu [--conns 32] [--seconds 6]       # CPU/request of the proxy
    python scripts/bench_wire.py drip [--drips 1000] [--seconds 10]    # p50/p99 of one normal
        client while --drips connections send one header byte a second
    python scripts/bench_wire.py micro [--requests 200000]            # server CPU per keep-alive
        request in-process (protocol callbacks + handler task + write; no sockets): the
        steadiest figure for before/after comparisons of net/server.py
    python scripts/bench_wire.py micro-client [--requests 200000]     # the same for net/client.py:
        send a request, feed the 690-byte answer, read() it, back to the pool

Each mode starts its own processes on free loopback ports and prints one line.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import subprocess
import sys
import time

BODY = b'{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"' + \
       b"a" * 560 + b'"},"finish_reason":"stop"}]}'
REQ = b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 60\r\n\r\n" + \
      b'{"model":"m","messages":[{"role":"user","content":"hello!!"}]}'[:60]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _upstream(port: int) -> None:
    from seawall.net.server import Response, Server

    async def handler(request):
        await request.read()
        return Response(BODY, content_type="application/json")

    await asyncio.get_running_loop().create_server(Server(handler), "127.0.0.1", port, backlog=2048)
    await asyncio.Event().wait()


async def _proxy(port: int, upstream: int) -> None:
    from seawall.net.client import Client
    from seawall.net.server import Response, Server

    client = Client(limit=100)
    url = f"http://127.0.0.1:{upstream}/v1/chat/completions"
    headers = {"content-type": "application/json"}

    async def handler(request):
        body = await request.read(1 << 20)
        r = await client.request("POST", url, body=body, headers=headers)
        return Response(await r.read(), content_type="application/json")

    await asyncio.get_running_loop().create_server(Server(handler), "127.0.0.1", port, backlog=2048)
    await asyncio.Event().wait()


async def _one_conn(port: int, until: float, lat: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            t = time.perf_counter()
            writer.write(REQ)
            head = await reader.readuntil(b"\r\n\r\n")
            n = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(n)
            lat.append(time.perf_counter() - t)
    finally:
        writer.close()


async def _drip(port: int, n: int, until: float) -> int:
    """n connections that send a request head one byte a second; returns how many the server
    closed before `until`."""
    head = b"GET / HTTP/1.1\r\nhost: x\r\nx-pad: " + b"a" * 200 + b"\r\n\r\n"
    closed = 0

    async def one(i: int) -> None:
        nonlocal closed
        try:  # from four other loopback addresses: the per-address cap is not what is measured
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(f"127.0.0.{2 + i % 4}", 0))
        except OSError:
            closed += 1
            return
        try:
            for b in head:
                if time.perf_counter() > until:
                    return
                writer.write(bytes([b]))
                try:
                    if await asyncio.wait_for(reader.read(1024), 1.0) == b"":
                        closed += 1
                        return
                except TimeoutError:
                    pass
        except OSError:
            closed += 1
        finally:
            writer.close()

    await asyncio.gather(*(one(i) for i in range(n)))
    return closed


def _cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(lat: list[float], p: float) -> float:
    lat = sorted(lat)
    return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000


def _spawn(*args: str) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, __file__, *args])
    port = int(args[1])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            return p
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{args} did not start")


async def _load(port: int, conns: int, seconds: float) -> list[float]:
    lat: list[float] = []
    until = time.perf_counter() + seconds
    await asyncio.gather(*(_one_conn(port, until, lat) for _ in range(conns)))
    return lat


class _FakeTransport:
    def __init__(self) -> None:
        self.out = 0

    def write(self, data: bytes) -> None:
        self.out += 1

    def get_extra_info(self, name, default=None):
        return ("127.0.0.1", 40000) if name == "peername" else default

    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def can_write_eof(self) -> bool: return True
    def write_eof(self) -> None: ...
    def close(self) -> None: ...


async def _micro(n: int) -> None:
    from seawall.net.server import Response, Server

    async def handler(request):
        await request.read()
        return Response(BODY, content_type="application/json")

    server = Server(handler)
    conn = server()
    t = _FakeTransport()
    conn.connection_made(t)
    for _ in range(2000):  # warm-up
        conn.data_received(REQ)
        await asyncio.sleep(0)
    t0 = time.process_time()
    for _ in range(n):
        conn.data_received(REQ)
        while conn.task is not None:
            await asyncio.sleep(0)
    cpu = time.process_time() - t0
    assert t.out == n + 2000
    print(f"requests={n} server_cpu_us/req={cpu * 1e6 / n:.2f} load={os.getloadavg()[0]:.1f}")


async def _micro_client(n: int) -> None:
    from seawall.net.client import Client, _Conn

    client = Client()
    pool, target = client._target("http://127.0.0.1:9/v1/chat/completions")
    conn = _Conn(pool)
    conn.connection_made(_FakeTransport())
    pool.conns.add(conn)
    pool.open = 1
    conn.idle_since = time.monotonic()
    pool.idle.append(conn)  # acquire() takes it; read() puts it back
    answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%b" % (len(BODY), BODY)
    data = b"POST" + target.encode() + b"content-length: 60\r\n\r\n" + REQ[-60:]

    async def one() -> None:
        c = await pool.acquire(None)
        resp = c.send(data)
        c.data_received(answer)
        await c.head
        await resp.read()

    for _ in range(2000):
        await one()
    t0 = time.process_time()
    for _ in range(n):
        await one()
    cpu = time.process_time() - t0
    print(f"requests={n} client_cpu_us/req={cpu * 1e6 / n:.2f} load={os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["cpu", "drip", "micro", "micro-client", "_upstream", "_proxy"])
    ap.add_argument("port", nargs="?", type=int)
    ap.add_argument("upstream", nargs="?", type=int)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--drips", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=200_000)
    a = ap.parse_args()
    import uvloop
    uvloop.install()
    if a.mode == "_upstream":
        return asyncio.run(_upstream(a.port))
    if a.mode == "_proxy":
        return asyncio.run(_proxy(a.port, a.upstream))
    if a.mode == "micro":
        return asyncio.run(_micro(a.requests))
    if a.mode == "micro-client":
        return asyncio.run(_micro_client(a.requests))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * a.drips + 256)), hard))
    up, px = _free_port(), _free_port()
    procs = [_spawn("_upstream", str(up))]
    procs.append(_spawn("_proxy", str(px), str(up)))
    try:
        if a.mode == "cpu":
            asyncio.run(_load(px, a.conns, 1.0))  # warm-up
            c0 = _cpu(procs[1].pid)
            lat = asyncio.run(_load(px, a.conns, a.seconds))
            cpu = _cpu(procs[1].pid) - c0
            print(f"conns={a.conns} rps={len(lat) / a.seconds:.0f} p50={_pct(lat, .5):.2f}ms "
                  f"p99={_pct(lat, .99):.2f}ms proxy_cpu_ms/req={cpu * 1000 / len(lat):.4f} "
                  f"load={os.getloadavg()[0]:.1f}")
        else:
            async def run() -> None:
                until = time.perf_counter() + a.seconds
                drips = asyncio.create_task(_drip(px, a.drips, until))
                await asyncio.sleep(min(3.0, a.seconds / 3))  # let the drips connect
                lat = await _load(px, 1, until - time.perf_counter())
                closed = await drips
                print(f"drips={a.drips} served={len(lat)} p50={_pct(lat, .5):.2f}ms p99={_pct(lat, .99):.2f}ms "
                      f"max={max(lat) * 1000:.1f}ms drips_closed_by_server={closed} load={os.getloadavg()[0]:.1f}")
            asyncio.run(run())
    finally:
        for p in procs:
            p.terminate()
            p.wait()


if __name__ == "__main__":
    main()
