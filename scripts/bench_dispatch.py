"""Time the HTTP edge's dispatch, in process, without sockets: the route lookup for the hot
path, and whole App calls: GET /healthz (no auth), GET /v1/models (client auth), and
POST /v1/chat/completions up to routing (auth, body, validation, the identify stage).

    PYTHONPATH=src python scripts/bench_dispatch.py [--n 200000]

Works against a tree before the router (a dict of routes) and after it, so one command
compares the two: run it with PYTHONPATH pointing at each tree's src/.
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time

from seawall.gateway import Gateway
from seawall.net.headers import Headers
from seawall.net.server import Request


def config(tmp: str) -> dict:
    return {"server": {"api_keys": ["bench-key"], "access_log": False},
            "store": {"sql": f"sqlite:///{tmp}/bench.db"}, "governance": {"audit": {"enabled": False}},
            "providers": [{"name": "p", "base_url": "http://127.0.0.1:9/v1"}],
            "models": [{"name": f"m{i}", "targets": [{"provider": "p", "model": "x"}]} for i in range(8)]}


def request(method: str, path: str, headers: dict) -> Request:
    r = Request(None)
    r.method, r.path, r._done = method, path, True
    r.headers = Headers({k.lower(): v for k, v in headers.items()})
    return r


def best(fn, n: int, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(n)
        times.append((time.perf_counter() - t) / n)
    return min(times) * 1e9


async def main(n: int) -> None:
    from seawall.api.app import App

    tmp = tempfile.mkdtemp(prefix="seawall-bench-")
    gw = Gateway.from_config(config(tmp))
    await gw.start()
    app = App(gw)
    app.ready = True
    if hasattr(app, "router"):
        get = app.router.exact.get  # what App.__call__ does first

        def lookup(k: int) -> None:
            for _ in range(k):
                get(("POST", "/v1/chat/completions"))
    else:
        get = app.routes.get

        def lookup(k: int) -> None:
            for _ in range(k):
                get(("POST", "/v1/chat/completions"))
    print(f"route lookup, POST /v1/chat/completions: {best(lookup, n):.0f} ns")
    loop = asyncio.get_running_loop()
    key = {"authorization": "Bearer bench-key"}
    chat = b'{"model": "nope", "messages": [{"role": "user", "content": "hi"}]}'
    for method, path, headers, body, status in (
            ("GET", "/healthz", {}, b"", 200), ("GET", "/v1/models", key, b"", 200),
            # the edge and the pipeline up to routing (auth, body, validation, identify): a
            # model that does not exist ends the request there, with no upstream
            ("POST", "/v1/chat/completions", {**key, "content-length": str(len(chat))}, chat, 404)):
        req = request(method, path, headers)
        req._buf += body
        req.content_length = len(body) or None

        async def calls(k: int, req=req, status=status) -> None:  # this turn's request
            for _ in range(k):
                resp = await app(req)
            assert resp.status == status, resp.status

        m = n // 10
        times = []
        for _ in range(5):
            t = time.perf_counter()
            await calls(m)
            times.append((time.perf_counter() - t) / m)
        print(f"App call, {method} {path}: {min(times) * 1e6:.2f} us")
    await gw.aclose()
    del loop


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000)
    asyncio.run(main(ap.parse_args().n))
