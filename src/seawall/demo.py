"""`seawall demo`: the gateway on the embedded default in front of two simulated providers,
a realistic mixed workload, live progress, and a short report. No API keys, under a minute.

Provider "fast" is quick but flaky (heavy-tailed latency, errors, an outage window);
provider "steady" is slower and healthy. The workload mixes chat, streamed chat and
embeddings from a pool of prompts with repeats, as real applications send them.
"""
from __future__ import annotations

import asyncio
import os
import random
import socket
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import aiohttp
import orjson
from aiohttp import web

from .config import parse
from .sim import Faults, Simulator

PROMPTS = [
    "Summarise the attached invoice dispute for the account manager.",
    "Draft a polite reply to a customer asking about a late delivery.",
    "Classify this support ticket: my password reset link expired.",
    "Extract the order number and amount from: order 88412, total 129.90 EUR.",
    "Translate to German: the shipment leaves our warehouse tomorrow.",
    "What is our refund policy for damaged goods?",
    "Write a one-line status update for the ERP migration project.",
    "List three risks of migrating the CRM to a new vendor.",
]


def demo_config(fast_url: str, steady_url: str, sql_path: str) -> dict:
    return {
        "server": {"access_log": False, "log_level": "warning"},
        "store": {"state": "memory", "sql": f"sqlite:///{sql_path}"},
        "timeouts": {"first_token": 5, "total": 20},
        "providers": [
            {"name": "fast", "kind": "openai", "base_url": fast_url + "/v1", "region": "eu"},
            {"name": "steady", "kind": "openai", "base_url": steady_url + "/v1", "region": "eu"},
        ],
        "models": [
            {"name": "gpt-4o-mini", "targets": [
                {"provider": "fast", "model": "gpt-4o-mini", "weight": 3,
                 "price": {"input": 0.15, "output": 0.60}},
                {"provider": "steady", "model": "gpt-4o-mini", "weight": 1,
                 "price": {"input": 0.15, "output": 0.60}},
            ]},
            {"name": "text-embedding-3-small", "kind": "embeddings", "targets": [
                {"provider": "fast", "model": "text-embedding-3-small"},
                {"provider": "steady", "model": "text-embedding-3-small"},
            ]},
        ],
    }


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    by_deployment: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)

    @property
    def done(self) -> int:
        return sum(self.outcomes.values())

    def success_rate(self) -> float:
        return self.outcomes["ok"] / self.done if self.done else 0.0


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


async def one_request(http: aiohttp.ClientSession, base: str, rng: random.Random, tally: Tally) -> None:
    roll = rng.random()
    prompt = rng.choice(PROMPTS)
    if roll < 0.1:
        path, body = "/v1/embeddings", {"model": "text-embedding-3-small", "input": prompt}
    else:
        path = "/v1/chat/completions"
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}],
                "temperature": 0, "stream": roll < 0.3}
    t0 = time.perf_counter()
    outcome, deployment = "error", "-"
    try:
        async with http.post(base + path, data=orjson.dumps(body),
                             headers={"content-type": "application/json"}) as r:
            deployment = r.headers.get("x-seawall-deployment", "-")
            payload = await r.read()
            if r.status == 200 and (b"[DONE]" in payload or not body.get("stream")):
                outcome = "ok"
            else:
                code = r.headers.get("x-seawall-error-code") or str(r.status)
                if r.status == 200:
                    code = "stream_error"
                tally.errors[code] += 1
    except (aiohttp.ClientError, asyncio.TimeoutError) as e:
        tally.errors[type(e).__name__] += 1
    ms = (time.perf_counter() - t0) * 1000.0
    tally.outcomes[outcome] += 1
    if outcome == "ok":
        tally.latencies.append(ms)
        tally.by_deployment[deployment].append(ms)


def progress_line(tally: Tally, total: int, started: float) -> str:
    elapsed = time.perf_counter() - started
    return (f"\r  {tally.done:5d}/{total} requests  {tally.done / max(elapsed, 1e-9):6.1f} req/s  "
            f"success {tally.success_rate() * 100:5.1f}%  p50 {pct(tally.latencies, 50):6.1f} ms  "
            f"p99 {pct(tally.latencies, 99):7.1f} ms ")


async def drive(base: str, total: int, concurrency: int, seed: int, live: bool) -> Tally:
    tally = Tally()
    rng = random.Random(seed)
    queue = iter(range(total))
    started = time.perf_counter()

    async def worker(http: aiohttp.ClientSession) -> None:
        for _ in queue:
            await one_request(http, base, rng, tally)

    async def ticker() -> None:
        while True:
            await asyncio.sleep(0.25)
            if live:
                sys.stdout.write(progress_line(tally, total, started))
                sys.stdout.flush()

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        tick = asyncio.create_task(ticker())
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        tick.cancel()
    sys.stdout.write(progress_line(tally, total, started) + "\n")
    return tally


def report(tally: Tally, seconds: float) -> str:
    lines = [
        "",
        "Report",
        f"  requests      {tally.done} in {seconds:.1f} s ({tally.done / seconds:.1f} req/s)",
        f"  success rate  {tally.success_rate() * 100:.2f} %",
        f"  latency       p50 {pct(tally.latencies, 50):.1f} ms   p95 {pct(tally.latencies, 95):.1f} ms   "
        f"p99 {pct(tally.latencies, 99):.1f} ms",
        "  by deployment (successful requests)",
    ]
    for dep, values in sorted(tally.by_deployment.items()):
        lines.append(f"    {dep:28s} {len(values):5d}   p50 {pct(values, 50):7.1f} ms   p99 {pct(values, 99):7.1f} ms")
    if tally.errors:
        lines.append("  failures seen by clients")
        for code, n in tally.errors.most_common():
            lines.append(f"    {code:28s} {n:5d}")
    return "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main_async(total: int, concurrency: int, seed: int, live: bool = True) -> Tally:
    from .api.app import App
    from .gateway import Gateway

    fast = Simulator(seed=seed, faults=Faults(latency_ms=40, latency_p99_ms=1500, error_rate=0.08,
                                              error_status=503, outage=[[4.0, 7.0]], chunk_ms=2))
    steady = Simulator(seed=seed + 1, faults=Faults(latency_ms=180, chunk_ms=6))
    await fast.start(port=0)
    await steady.start(port=0)
    workdir = tempfile.mkdtemp(prefix="seawall-demo-")
    gw = Gateway(parse(demo_config(fast.url, steady.url, os.path.join(workdir, "seawall.db")), "demo"))
    app = App(gw)
    server = web.Server(app, handler_cancellation=True, access_log=None)
    port = _free_port()
    srv = await asyncio.get_running_loop().create_server(server, "127.0.0.1", port)
    app.ready = True
    print(f"Seawall demo: gateway on http://127.0.0.1:{port} (embedded default, in-memory state)")
    print(f"  provider fast   {fast.url}  40 ms p50, 1.5 s p99, 8 % errors (503), down from 4 s to 7 s")
    print(f"  provider steady {steady.url}  180 ms, healthy")
    print(f"  workload: {total} requests, {concurrency} concurrent clients: chat, streamed chat, embeddings\n")
    t0 = time.perf_counter()
    try:
        tally = await drive(f"http://127.0.0.1:{port}", total, concurrency, seed, live)
    finally:
        srv.close()
        await server.shutdown(2.0)
        await gw.aclose()
        await fast.stop()
        await steady.stop()
    print(report(tally, time.perf_counter() - t0))
    return tally


def run(args) -> int:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    asyncio.run(main_async(args.requests, args.concurrency, args.seed, live=sys.stdout.isatty()))
    return 0
