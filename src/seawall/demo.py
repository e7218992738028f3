"""`seawall demo`: the gateway on the embedded default in front of two simulated providers,
a realistic mixed workload, live progress, and a short report. No API keys, under a minute.

Provider "fast" is quick but flaky (heavy-tailed latency, errors, an outage window);
provider "steady" is slower and healthy. The workload mixes chat, streamed chat and
embeddings from a pool of prompts with repeats, as real applications send them. The same
workload runs twice against fresh simulators: once with resilience switched off (one
attempt, no breaker, no fallback), once with Seawall's defaults plus hedging and a fallback
alias, so the difference is Seawall's doing. A third part shows async jobs (demo_jobs.py): a
chat job whose result arrives as a signed webhook, and a small batch.
"""
from __future__ import annotations

import asyncio
import logging
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

from .config import parse
from .demo_jobs import BATCH_LINES, JobsReport, run_jobs_phase
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
# Asked now and then in place of PROMPTS: the same questions in other words, which the
# semantic cache serves, and look-alikes asking something else, which its verifier refuses.
PARAPHRASES = [
    "What's our refund policy for damaged goods?",
    "Summarize the attached invoice dispute for the account manager.",
    "Classify this support ticket: my password reset link has expired.",
    "Draft a polite reply to a customer who asks about a late delivery.",
]
LOOKALIKES = [
    "What is our refund policy for undamaged goods?",
    "Translate to French: the shipment leaves our warehouse tomorrow.",
    "Extract the order number and amount from: order 88413, total 129.90 EUR.",
]

PRICE = {"input": 0.15, "output": 0.60}
# With resilience off: one attempt, no circuit breaker, nothing to fall back to.
BARE = {"retry": {"max_attempts": 1}, "breaker": {"enabled": False}, "coalesce": {"enabled": False}}
RESILIENT = {"breaker": {"open_s": 1.5, "min_calls": 8}, "hedge": {"enabled": True, "quantile": 0.9},
             "fallbacks": ["claude-haiku"], "degraded": {"mode": "template"}}


def demo_config(fast_url: str, steady_url: str, sql_path: str, resilient: bool = True) -> dict:
    policy = RESILIENT if resilient else BARE
    chat_targets = [{"provider": "fast", "model": "gpt-4o-mini", "weight": 3, "price": PRICE},
                    {"provider": "steady", "model": "gpt-4o-mini", "weight": 1, "price": PRICE}]
    models = [  # the chat alias caches answers to deterministic requests (temperature <= 0.3), also by meaning
        {"name": "gpt-4o-mini", "targets": chat_targets, **policy,
         "cache": {"category": "short", "semantic": {"enabled": True}}},
        {"name": "text-embedding-3-small", "kind": "embeddings", **{k: v for k, v in policy.items() if k in BARE},
         "cache": {"category": "long"},
         "targets": [{"provider": "fast", "model": "text-embedding-3-small"},
                     {"provider": "steady", "model": "text-embedding-3-small"}]},
    ]
    if resilient:  # another provider in the same region, reached through the Anthropic adapter
        models.append({"name": "claude-haiku", "targets": [
            {"provider": "steady-anthropic", "model": "claude-3-5-haiku", "price": {"input": 0.8, "output": 4.0}}]})
    return {
        "server": {"access_log": False, "log_level": "warning"},
        "store": {"state": "memory", "sql": f"sqlite:///{sql_path}"},
        "timeouts": {"first_token": 5, "total": 20},
        "providers": [
            {"name": "fast", "kind": "openai", "base_url": fast_url + "/v1", "region": "eu"},
            {"name": "steady", "kind": "openai", "base_url": steady_url + "/v1", "region": "eu"},
            {"name": "steady-anthropic", "kind": "anthropic", "base_url": steady_url, "region": "eu"},
        ],
        "models": models,
    }


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    by_deployment: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    levels: Counter = field(default_factory=Counter)  # which fallback level answered
    cache: Counter = field(default_factory=Counter)  # x-seawall-cache of chat and embeddings answers
    cache_stats: dict = field(default_factory=dict)  # the gateway's cache counters at the end
    hedged: int = 0
    seconds: float = 0.0

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
    other = rng.random()
    prompt = rng.choice(PARAPHRASES if other < 0.2 else LOOKALIKES if other < 0.25 else PROMPTS)
    if roll < 0.1:
        path, body = "/v1/embeddings", {"model": "text-embedding-3-small", "input": prompt}
    else:
        path = "/v1/chat/completions"
        # a third of chat requests are deterministic (temperature 0): those the cache may answer
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}],
                "temperature": 0 if rng.random() < 0.33 else 0.7, "stream": roll < 0.3}
    t0 = time.perf_counter()
    outcome, deployment = "error", "-"
    try:
        async with http.post(base + path, data=orjson.dumps(body),
                             headers={"content-type": "application/json"}) as r:
            deployment = r.headers.get("x-seawall-deployment") or (
                "(cache)" if r.headers.get("x-seawall-cache", "").startswith("hit") else "-")
            payload = await r.read()
            if r.status == 200 and (b"[DONE]" in payload or not body.get("stream")):
                outcome = "ok"
                tally.levels[r.headers.get("x-seawall-fallback-level", "primary")] += 1
                tally.hedged += r.headers.get("x-seawall-hedged") == "won"
                tally.cache[(r.headers.get("x-seawall-cache") or "not cacheable").split(";")[0]] += 1
            else:
                code = r.headers.get("x-seawall-error-code") or str(r.status)
                tally.errors["stream cut" if r.status == 200 else code] += 1
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


async def drive(base: str, total: int, concurrency: int, seed: int, live: bool, events=None) -> Tally:
    """Send `total` requests from `concurrency` clients; print progress and breaker events."""
    tally = Tally()
    rng = random.Random(seed)
    queue = iter(range(total))
    started = time.perf_counter()
    seen = 0

    async def worker(http: aiohttp.ClientSession) -> None:
        for _ in queue:
            await one_request(http, base, rng, tally)

    def show_events() -> None:
        nonlocal seen
        recent = list(events.recent) if events is not None else []
        for e in recent[seen:]:
            if e["event"].startswith("breaker_"):
                sys.stdout.write(f"\r  {time.perf_counter() - started:5.1f}s  breaker {e['deployment']}: "
                                 f"{e.get('from_state')} -> {e['event'][8:]} ({e.get('reason', '')})".ljust(100) + "\n")
        seen = len(recent)

    async def ticker() -> None:
        while True:
            await asyncio.sleep(0.25)
            show_events()
            if live:
                sys.stdout.write(progress_line(tally, total, started))
                sys.stdout.flush()

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        tick = asyncio.create_task(ticker())
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        tick.cancel()
    show_events()
    tally.seconds = time.perf_counter() - started
    sys.stdout.write(progress_line(tally, total, started) + "\n")
    return tally


def report(tally: Tally, title: str) -> str:
    lines = [
        f"  {title}",
        f"    requests      {tally.done} in {tally.seconds:.1f} s ({tally.done / max(tally.seconds, 1e-9):.1f} req/s)",
        f"    success rate  {tally.success_rate() * 100:.2f} %",
        f"    latency       p50 {pct(tally.latencies, 50):.1f} ms   p95 {pct(tally.latencies, 95):.1f} ms   "
        f"p99 {pct(tally.latencies, 99):.1f} ms",
        "    by deployment (successful requests)",
    ]
    for dep, values in sorted(tally.by_deployment.items()):
        lines.append(f"      {dep:32s} {len(values):5d}   p50 {pct(values, 50):7.1f} ms   "
                     f"p99 {pct(values, 99):7.1f} ms")
    if tally.cache:
        hits = sum(n for k, n in tally.cache.items() if k.startswith("hit"))
        looked = hits + tally.cache["miss"]
        st = tally.cache_stats.get("totals", {})
        lines.append(f"    cache         {', '.join(f'{k} {n}' for k, n in tally.cache.most_common())}; "
                     f"hit rate {hits / max(looked, 1) * 100:.1f} % of cacheable; saved "
                     f"${st.get('saved_usd', 0.0):.6f} and {st.get('saved_tokens', 0)} tokens")
        refused = (tally.cache_stats.get("semantic") or {}).get("refusals") or {}
        if refused:
            lines.append(f"    verifier      refused look-alikes a cached answer resembled: "
                         f"{', '.join(f'{k} {n}' for k, n in sorted(refused.items()))}")
    answered = ", ".join(f"{level} {n}" for level, n in tally.levels.most_common())
    lines.append(f"    answered by   {answered}; hedges won {tally.hedged}")
    if tally.errors:
        failures = ", ".join(f"{code} {n}" for code, n in tally.errors.most_common())
        lines.append(f"    failures      {failures}")
    return "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run_phase(total: int, concurrency: int, seed: int, resilient: bool, live: bool) -> Tally:
    """Fresh simulators (so the outage comes at the same moment), a gateway, the workload."""
    from .api.server import start_in_process
    from .gateway import Gateway

    fast = Simulator(seed=seed, faults=Faults(latency_ms=40, latency_p99_ms=2500, error_rate=0.08,
                                              error_status=503, outage=[[3.0, 6.0]], chunk_ms=2))
    steady = Simulator(seed=seed + 1, faults=Faults(latency_ms=120, chunk_ms=4))
    await fast.start(port=0)
    await steady.start(port=0)
    workdir = tempfile.mkdtemp(prefix="seawall-demo-")
    gw = Gateway(parse(demo_config(fast.url, steady.url, os.path.join(workdir, "seawall.db"), resilient), "demo"))
    port = _free_port()
    stop = await start_in_process(gw, "127.0.0.1", port)
    try:
        events = gw.resilience.events if resilient else None
        tally = await drive(f"http://127.0.0.1:{port}", total, concurrency, seed, live, events)
        tally.cache_stats = gw.cache.snapshot()
        return tally
    finally:
        await stop()
        await fast.stop()
        await steady.stop()


async def main_async(total: int, concurrency: int, seed: int, live: bool = True) -> tuple[Tally, Tally, JobsReport]:
    print("Seawall demo: the gateway on the embedded default (one process, in-memory state, SQLite)")
    print("  provider fast    40 ms p50, 2.5 s p99, 8 % errors (503), down from 3 s to 6 s")
    print("  provider steady  120 ms, healthy (also reachable through the Anthropic adapter)")
    print(f"  workload         {total} requests from {concurrency} clients: chat, streamed chat, embeddings\n")
    print("1) resilience off: one attempt, no breaker, no fallback")
    bare = await run_phase(total, concurrency, seed, resilient=False, live=live)
    print("\n2) Seawall: retries with budget, breakers, hedging, fallback alias, degraded answer")
    resilient = await run_phase(total, concurrency, seed, resilient=True, live=live)
    print(f"\n3) async jobs: a chat job answered by a signed webhook, a batch of {BATCH_LINES} lines")
    jobs = await run_jobs_phase(seed)
    print("\nReport")
    print(report(bare, "resilience off"))
    print(report(resilient, "Seawall"))
    print("\n".join(jobs.lines()))
    failed = bare.done - bare.outcomes["ok"], resilient.done - resilient.outcomes["ok"]
    print(f"\n  success {bare.success_rate() * 100:.2f} % -> {resilient.success_rate() * 100:.2f} %; "
          f"requests failed {failed[0]} -> {failed[1]} (a failover costs the retried requests some latency)")
    return bare, resilient, jobs


def run(args) -> int:
    logging.basicConfig(level=logging.ERROR)  # the demo shows breaker events itself
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    asyncio.run(main_async(args.requests, args.concurrency, args.seed, live=sys.stdout.isatty()))
    return 0
