"""Resilience benchmarks: real Seawall and simulator processes on 127.0.0.1.

    .venv/bin/python scripts/bench_resilience.py [hedge|flap|overhead|all] [--requests N]

hedge     heavy-tailed primary (p50 50 ms, p99 2 s): client latency with and without hedging,
          and the extra upstream calls hedging costs. Two tails: the simulator's lognormal
          fitted to (p50, p99), and a bimodal one (most calls fast, ~1.5 % stuck for 2-3 s),
          the shape The Tail at Scale describes.
flap      a primary that is down half the time in windows of seconds, a healthy secondary:
          success rate, and the upstream calls spent on the primary while its breaker was open.
overhead  in process, no network: the cost per request of the execute stage (balancer,
          breaker, budgets, counters) against a bare call of the same provider.
Figures go to stdout; docs/benchmarks.md (## Resilience) records a run.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson
import yaml

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
HI = [{"role": "user", "content": "Hello there"}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    def __init__(self, args: list[str], port: int) -> None:
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        self.p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                  start_new_session=True)
        import urllib.request

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{args} did not start")

    def stop(self) -> None:
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)


def simulator(*flags: str, seed: int) -> Proc:
    port = free_port()
    return Proc([PY, "-m", "seawall.sim", "--port", str(port), "--seed", str(seed), *flags], port)


def gateway(config: dict) -> Proc:
    port = free_port()
    fd, path = tempfile.mkstemp(prefix="bench-res-", suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(config, f)
    return Proc([PY, "-m", "seawall.cli", "serve", "--config", path, "--port", str(port)], port)


async def load(url: str, model: str, n: int, concurrency: int) -> tuple[list[float], int, list[str]]:
    """n chat requests; (latencies of successes, failures, deployments that answered)."""
    lat: list[float] = []
    deps: list[str] = []
    failures = 0
    left = n
    body = {"model": model, "messages": HI}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency),
                                     timeout=aiohttp.ClientTimeout(total=60)) as http:
        async def worker():
            nonlocal left, failures
            while left > 0:
                left -= 1
                t0 = time.perf_counter()
                try:
                    async with http.post(url + "/v1/chat/completions", json=body) as r:
                        await r.read()
                        ok = r.status == 200
                        deps.append(r.headers.get("x-seawall-deployment", "?"))
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    ok = False
                if ok:
                    lat.append(time.perf_counter() - t0)
                else:
                    failures += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return lat, failures, deps


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000.0


async def sim_received(url: str) -> int:
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/_sim/stats") as r:
            return (await r.json())["received"]


# ---- a bimodal upstream (kept here: the simulator's tail is lognormal) --------------------


async def bimodal_upstream(port: int, seed: int, counter: list[int]):
    from aiohttp import web

    rng = random.Random(seed)
    answer = orjson.dumps({"id": "chatcmpl-bimodal", "object": "chat.completion", "created": 0, "model": "m",
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                        "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}})

    async def handle(request: web.BaseRequest):
        if request.path == "/healthz":
            return web.Response(text="ok")
        await request.read()
        counter[0] += 1
        u = rng.random()
        # 98.5 %: lognormal around 50 ms (sigma 0.25); 1.5 %: stuck for 2-3 s
        delay = rng.uniform(2.0, 3.0) if u < 0.015 else 0.05 * pow(2.718281828, rng.gauss(0, 0.25))
        await asyncio.sleep(delay)
        return web.Response(body=answer, content_type="application/json")

    server = web.Server(handle, handler_cancellation=True, access_log=None)
    runner = web.ServerRunner(server)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def run_bimodal_upstreams(ports: list[int]) -> subprocess.Popen:
    """The bimodal upstreams in a child process (so the client's loop does not slow them)."""
    code = (
        "import asyncio,sys; sys.path.insert(0, %r); import bench_resilience as b\n"
        "async def main():\n"
        "    counters=[[0] for _ in %r]\n"
        "    rs=[await b.bimodal_upstream(p, i+1, c) for i,(p,c) in enumerate(zip(%r, counters))]\n"
        "    from aiohttp import web\n"
        "    async def stats(req): return web.json_response({'received': sum(c[0] for c in counters)})\n"
        "    srv=web.Server(stats); r=web.ServerRunner(srv); await r.setup()\n"
        "    await web.TCPSite(r,'127.0.0.1',%d).start()\n"
        "    await asyncio.Event().wait()\n"
        "asyncio.run(main())\n"
    ) % (str(Path(__file__).parent), ports, ports, ports[0] + 1000 if ports[0] < 64000 else ports[0] - 1000)
    return subprocess.Popen([PY, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                            start_new_session=True)


# ---- scenarios ------------------------------------------------------------------------------


def hedge_config(primary_url: str, secondary_url: str) -> dict:
    targets = [{"provider": "primary", "model": "gpt-4o-mini"},
               {"provider": "secondary", "model": "gpt-4o-mini", "priority": 1}]
    return {
        "server": {"access_log": False},
        "resilience": {"hedge_budget": 0.05},
        "providers": [{"name": "primary", "base_url": primary_url}, {"name": "secondary", "base_url": secondary_url}],
        "models": [
            {"name": "plain", "targets": targets[:1], "coalesce": {"enabled": False}},
            {"name": "hedged", "targets": targets, "coalesce": {"enabled": False},
             "hedge": {"enabled": True, "quantile": 0.95}},
        ],
    }


async def measure_hedge(gw: Proc, n: int, conc: int, received) -> dict:
    out = {}
    for model in ("plain", "hedged"):
        await load(gw.url, model, 100, conc)  # warm-up; lets the hedged alias learn its p95
        before = await received()
        lat, fail, _ = await load(gw.url, model, n, conc)
        calls = await received() - before
        out[model] = {"p50": pct(lat, 0.5), "p95": pct(lat, 0.95), "p99": pct(lat, 0.99), "failed": fail,
                      "extra_calls_pct": 100.0 * (calls - n) / n}
    return out


def report_hedge(title: str, r: dict) -> None:
    p, h = r["plain"], r["hedged"]
    print(f"\n{title}")
    print(f"  {'':8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'extra calls':>12} failed")
    for name, x in (("plain", p), ("hedged", h)):
        print(f"  {name:8} {x['p50']:8.1f} {x['p95']:8.1f} {x['p99']:8.1f} {x['extra_calls_pct']:11.2f}% {x['failed']}")
    print(f"  p99 cut: {p['p99'] / h['p99']:.1f}x for {h['extra_calls_pct']:.2f} % extra upstream calls")


async def bench_hedge(n: int, conc: int) -> None:
    a = simulator("--latency-ms", "50", "--latency-p99-ms", "2000", seed=31)
    b = simulator("--latency-ms", "50", "--latency-p99-ms", "2000", seed=32)
    gw = gateway(hedge_config(a.url + "/v1", b.url + "/v1"))
    try:
        async def received():
            return await sim_received(a.url) + await sim_received(b.url)

        report_hedge(f"hedge, lognormal tail (simulator p50 50 ms, p99 2 s), {n} requests x {conc} concurrent",
                     await measure_hedge(gw, n, conc, received))
    finally:
        for p in (gw, a, b):
            p.stop()

    ports = [free_port(), free_port()]
    stats_port = ports[0] + 1000 if ports[0] < 64000 else ports[0] - 1000
    up = run_bimodal_upstreams(ports)
    try:
        await asyncio.sleep(1.5)
        gw = gateway(hedge_config(f"http://127.0.0.1:{ports[0]}/v1", f"http://127.0.0.1:{ports[1]}/v1"))
        try:
            async def received():
                async with aiohttp.ClientSession() as http:
                    async with http.get(f"http://127.0.0.1:{stats_port}/") as r:
                        return (await r.json())["received"]

            report_hedge(f"hedge, bimodal tail (98.5 % ~50 ms, 1.5 % 2-3 s), {n} requests x {conc} concurrent",
                         await measure_hedge(gw, n, conc, received))
        finally:
            gw.stop()
    finally:
        os.killpg(up.pid, signal.SIGTERM)
        up.wait(5)


async def bench_flap(n: int, conc: int) -> None:
    primary = simulator("--latency-ms", "5", "--flap-period-s", "2", "--flap-down-s", "1", seed=41)
    secondary = simulator("--latency-ms", "5", seed=42)
    config = {
        "server": {"access_log": False},
        "providers": [{"name": "primary", "base_url": primary.url + "/v1"},
                      {"name": "secondary", "base_url": secondary.url + "/v1"}],
        "models": [{"name": "m", "coalesce": {"enabled": False},
                    "targets": [{"provider": "primary", "model": "gpt-4o-mini"},
                                {"provider": "secondary", "model": "gpt-4o-mini", "priority": 1}],
                    "breaker": {"open_s": 1.0, "open_max_s": 4.0, "consecutive_failures": 3}}],
    }
    gw = gateway(config)
    try:
        t0 = time.monotonic()
        lat, fail, deps = await load(gw.url, "m", n, conc)
        took = time.monotonic() - t0
        async with aiohttp.ClientSession() as http:
            async with http.get(primary.url + "/_sim/stats") as r:
                ps = await r.json()
            async with http.get(secondary.url + "/_sim/stats") as r:
                ss = await r.json()
            async with http.get(gw.url + "/metrics") as r:
                metrics = await r.text()
        probes = sum(float(v) for v in re.findall(
            r'seawall_breaker_transitions_total\{deployment="primary/gpt-4o-mini",from_state="open",'
            r'to_state="half_open"\} ([0-9.e+]+)', metrics))
        opened = sum(float(v) for v in re.findall(
            r'seawall_breaker_transitions_total\{deployment="primary/gpt-4o-mini",from_state="[a-z_]+",'
            r'to_state="open"\} ([0-9.e+]+)', metrics))
        calls = ps["received"] + ss["received"]
        failed_on_primary = sum(v for k, v in ps["by_status"].items() if k != "200")
        print(f"\nflap: primary down 1 s of every 2 s (503), healthy secondary; {n} requests x {conc} concurrent, "
              f"{took:.1f} s")
        print(f"  success: {100.0 * (n - fail) / n:.3f} % ({fail} failed); p50 {pct(lat, .5):.1f} ms, "
              f"p99 {pct(lat, .99):.1f} ms")
        print(f"  answered by primary: {deps.count('primary/gpt-4o-mini')}, secondary: "
              f"{deps.count('secondary/gpt-4o-mini')}")
        print(f"  upstream calls: {calls} (primary {ps['received']}, of which failed {failed_on_primary}); "
              f"breaker opened {opened:.0f} times")
        print(f"  calls on the primary while its breaker was open (half-open probes): {probes:.0f} = "
              f"{100.0 * probes / calls:.2f} % of upstream calls")
        print(f"  calls wasted on the primary while it was down: {failed_on_primary} = "
              f"{100.0 * failed_on_primary / calls:.2f} % of upstream calls")
    finally:
        for p in (gw, primary, secondary):
            p.stop()


async def bench_overhead(n: int) -> None:
    """Per-request CPU cost of the execute stage without network: a provider that answers at once."""
    sys.path.insert(0, str(ROOT / "src"))
    from seawall.core.types import Completion, Meta, Request
    from seawall.gateway import Gateway
    from seawall.providers.openai import OpenAIProvider

    answer = b'{"choices":[{"message":{"role":"assistant","content":"ok"}}]}'

    async def chat(self, dep, req):
        return Completion(req.meta, raw=answer)

    OpenAIProvider.chat = chat  # the adapters' own cost is not what is measured here
    gw = Gateway.from_config({"server": {"access_log": False},
                              "providers": [{"name": "p", "base_url": "http://127.0.0.1:9/v1"}],
                              "models": [{"name": "m", "targets": [{"provider": "p", "model": "x"}]}]})
    from seawall.resilience.execute import Execute

    ex = Execute(gw.metrics, gw.resilience)
    route = gw.router.routes["m"]
    dep = route.deployments[0]

    def req():
        r = Request(kind="chat", alias="m", body={"model": "m", "messages": HI}, stream=False, meta=Meta("r"))
        r.route = route
        return r

    async def bare(r):
        r.meta.attempts += 1
        return await dep.provider.chat(dep, r)

    for name, fn in (("bare provider call", bare), ("execute stage", ex)):
        for _ in range(2000):
            await fn(req())
        t0 = time.perf_counter()
        for _ in range(n):
            await fn(req())
        us = (time.perf_counter() - t0) / n * 1e6
        print(f"  {name:20} {us:6.2f} us/request")
    await gw.aclose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", nargs="?", default="all", choices=["hedge", "flap", "overhead", "all"])
    ap.add_argument("--requests", type=int, default=0)
    ap.add_argument("--concurrency", type=int, default=20)
    a = ap.parse_args()
    if a.what in ("hedge", "all"):
        asyncio.run(bench_hedge(a.requests or 3000, a.concurrency))
    if a.what in ("flap", "all"):
        asyncio.run(bench_flap(a.requests or 5000, a.concurrency))
    if a.what in ("overhead", "all"):
        print("\noverhead, in process (no network)")
        asyncio.run(bench_overhead(a.requests or 50000))


if __name__ == "__main__":
    main()
