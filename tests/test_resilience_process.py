"""The resilience engine's promises, shown with real processes: a Seawall server in front of
simulator processes, faults injected over the simulator's control API."""
from __future__ import annotations

import asyncio
import math
import time

import aiohttp
import orjson
import pytest

from procs import start_gateway, start_simulator

ADMIN = "adm-test-key-5c1e"
HI = [{"role": "user", "content": "Hello there"}]


def target(name: str, **kw) -> dict:
    return {"provider": name, "model": "gpt-4o-mini", **kw}


@pytest.fixture(scope="module")
def stack():
    sims = {
        "primary": start_simulator("--error-rate", "1", "--error-status", "503", seed=11),
        "secondary": start_simulator(seed=12),
        "limited": start_simulator("--error-rate", "1", "--error-status", "429", "--retry-after-s", "2", seed=13),
        "bad": start_simulator("--error-rate", "1", "--error-status", "400", seed=14),
        "hang": start_simulator("--hang", seed=15),
        "steady": start_simulator("--latency-ms", "50", seed=16),
        "slow": start_simulator("--chunk-ms", "150", seed=17),
    }
    providers = [{"name": n, "base_url": s.url + "/v1"} for n, s in sims.items()]
    config = {
        "admin_key": ADMIN,
        "server": {"access_log": False},
        "providers": providers,
        "models": [
            {"name": "flaky", "targets": [target("primary"), target("secondary", priority=1)],
             "breaker": {"consecutive_failures": 3, "open_s": 1.5, "open_max_s": 3.0, "half_open_probes": 1}},
            {"name": "limited", "targets": [target("limited")]},
            {"name": "bad", "targets": [target("bad"), target("secondary", priority=1)], "fallbacks": ["steady"]},
            {"name": "hang", "targets": [target("hang", timeouts={"first_token": 1.0})], "fallbacks": ["steady"]},
            {"name": "steady", "targets": [target("steady")]},
            {"name": "slow", "targets": [target("slow")]},
        ],
    }
    gw = start_gateway(config)
    yield gw, sims
    for p in (gw, *sims.values()):
        p.stop()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as s:
        yield s


async def chat(http, gw, model: str, **extra):
    body = {"model": model, "messages": HI, **extra}
    async with http.post(gw.url + "/v1/chat/completions", json=body) as r:
        return r.status, r.headers, await r.read()


async def stats(http, sim) -> dict:
    async with http.get(sim.url + "/_sim/stats") as r:
        return await r.json()


async def admin(http, gw) -> dict:
    async with http.get(gw.url + "/admin/deployments", headers={"authorization": f"Bearer {ADMIN}"}) as r:
        assert r.status == 200
        return await r.json()


def breaker_of(view: dict, dep: str) -> str:
    return next(d["breaker"] for d in view["deployments"] if d["id"] == dep)


async def test_admin_requires_the_admin_key(stack, http):
    gw, _ = stack
    async with http.get(gw.url + "/admin/deployments") as r:
        assert r.status == 401
    async with http.get(gw.url + "/admin/deployments", headers={"authorization": "Bearer wrong"}) as r:
        assert r.status == 401
    view = await admin(http, gw)
    ids = {d["id"] for d in view["deployments"]}
    assert "primary/gpt-4o-mini" in ids and "secondary/gpt-4o-mini" in ids
    d = view["deployments"][0]
    for key in ("health", "breaker", "ewma_latency_ms", "in_flight", "recent_errors"):
        assert key in d


async def test_failing_primary_breaker_opens_stops_traffic_and_closes_after_healing(stack, http):
    gw, sims = stack
    primary = sims["primary"]
    dep = "primary/gpt-4o-mini"
    for _ in range(10):
        status, headers, _ = await chat(http, gw, "flaky")
        assert status == 200
        assert headers["x-seawall-deployment"] == "secondary/gpt-4o-mini"
    view = await admin(http, gw)
    assert breaker_of(view, dep) == "open"
    assert any(e["event"] == "breaker_open" and e["deployment"] == dep for e in view["events"])

    # While open, the primary gets nothing but half-open probes.
    before = (await stats(http, primary))["received"]
    t_end = time.monotonic() + 2.5
    sent = 0
    while time.monotonic() < t_end and sent < 500:
        status, _, _ = await chat(http, gw, "flaky")
        assert status == 200
        sent += 1
    grown = (await stats(http, primary))["received"] - before
    probes = sum(1 for e in (await admin(http, gw))["events"]
                 if e["event"] == "breaker_half_open" and e["deployment"] == dep)
    assert sent > 20
    assert grown <= probes <= 3

    # Healed: the next probe succeeds, the breaker closes and traffic returns.
    async with http.post(primary.url + "/_sim/faults", json={"error_rate": 0.0}) as r:
        assert r.status == 200
    closed = False
    t_end = time.monotonic() + 12
    while time.monotonic() < t_end:
        status, _, _ = await chat(http, gw, "flaky")
        assert status == 200
        if breaker_of(await admin(http, gw), dep) == "closed":
            closed = True
            break
        await asyncio.sleep(0.05)
    assert closed
    status, headers, _ = await chat(http, gw, "flaky")
    assert status == 200 and headers["x-seawall-deployment"] == dep


async def test_retry_after_is_honoured_before_the_next_attempt(stack, http):
    gw, sims = stack
    limited = sims["limited"]
    base = (await stats(http, limited))["received"]
    t0 = time.monotonic()
    call = asyncio.ensure_future(chat(http, gw, "limited"))
    first_seen = None
    try:
        while time.monotonic() - t0 < 1.0:  # the first attempt arrives...
            n = (await stats(http, limited))["received"] - base
            if n >= 1 and first_seen is None:
                first_seen = time.monotonic()
            await asyncio.sleep(0.02)
        assert first_seen is not None
        async with http.post(limited.url + "/_sim/faults", json={"error_rate": 0.0}) as r:  # heal: the retry succeeds
            assert r.status == 200
        while time.monotonic() - first_seen < 1.9:  # ...and no second one for 2 s
            assert (await stats(http, limited))["received"] - base == 1
            await asyncio.sleep(0.02)
        status, headers, _ = await asyncio.wait_for(call, 10)
    finally:
        call.cancel()
        async with http.post(limited.url + "/_sim/faults", json={"error_rate": 1.0}) as r:
            assert r.status == 200
    assert status == 200
    assert time.monotonic() - t0 >= 2.0
    assert headers["x-seawall-attempts"] == "2"
    assert headers["x-seawall-fallback-level"] == "retry"


async def test_invalid_request_is_never_retried_nor_fallen_back(stack, http):
    gw, sims = stack
    counts = {n: (await stats(http, sims[n]))["received"] for n in ("bad", "secondary", "steady")}
    status, headers, body = await chat(http, gw, "bad")
    assert status == 400
    assert orjson.loads(body)["error"]["code"] == "invalid_request"
    assert headers["x-seawall-attempts"] == "1"
    after = {n: (await stats(http, sims[n]))["received"] for n in counts}
    assert after["bad"] - counts["bad"] == 1
    assert after["secondary"] == counts["secondary"] and after["steady"] == counts["steady"]


@pytest.mark.parametrize("stream", [False, True])
async def test_hanging_upstream_times_out_and_the_fallback_answers(stack, http, stream):
    gw, _ = stack
    t0 = time.monotonic()
    status, headers, body = await chat(http, gw, "hang", stream=stream)
    elapsed = time.monotonic() - t0
    assert status == 200
    assert headers["x-seawall-fallback-level"] == "alias"
    assert headers["x-seawall-fallback-alias"] == "steady"
    assert headers["x-seawall-deployment"] == "steady/gpt-4o-mini"
    if stream:
        assert body.rstrip().endswith(b"data: [DONE]")
    # first-token timeout (1 s) + the fallback's latency (50 ms) + a margin for a busy machine
    assert 1.0 <= elapsed < 1.0 + 0.05 + 0.6


async def test_client_disconnect_mid_stream_cancels_the_upstream(stack, http):
    gw, sims = stack
    slow = sims["slow"]
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
    data = orjson.dumps({"model": "slow", "messages": HI, "stream": True})
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(data) + data)
    await writer.drain()
    got = b""
    t_end = time.monotonic() + 5
    while b"data: {" not in got and time.monotonic() < t_end:  # the first chunk has arrived
        got += await asyncio.wait_for(reader.read(4096), 5)
    assert b"data: {" in got
    assert (await stats(http, slow))["in_flight"] == 1
    writer.transport.abort()  # the client goes away mid-stream
    t_close = time.monotonic()
    dropped = None
    while time.monotonic() - t_close < 2:
        if (await stats(http, slow))["in_flight"] == 0:
            dropped = time.monotonic() - t_close
            break
        await asyncio.sleep(0.005)
    assert dropped is not None and dropped <= 0.1


def test_retry_budget_bounds_upstream_calls_when_everything_fails():
    a = start_simulator("--error-rate", "1", "--error-status", "500", seed=21)
    b = start_simulator("--error-rate", "1", "--error-status", "502", seed=22)
    ratio, min_per_s, window = 0.1, 0.5, 10
    config = {
        "server": {"access_log": False},
        "resilience": {"retry_budget": {"ratio": ratio, "min_per_s": min_per_s, "window_s": window}},
        "providers": [{"name": "a", "base_url": a.url + "/v1"}, {"name": "b", "base_url": b.url + "/v1"}],
        "models": [{"name": "doomed", "targets": [target("a"), target("b")],
                    "retry": {"max_attempts": 5, "backoff_base_s": 0.005, "backoff_max_s": 0.02},
                    "breaker": {"enabled": False}}],
    }
    gw = start_gateway(config)
    try:
        n = 60

        async def run():
            async with aiohttp.ClientSession() as http:
                sem = asyncio.Semaphore(6)

                async def one():
                    async with sem:
                        return await chat(http, gw, "doomed")

                results = await asyncio.gather(*(one() for _ in range(n)))
                return results, (await stats(http, a))["received"] + (await stats(http, b))["received"]

        results, calls = asyncio.run(run())
    finally:
        for p in (gw, a, b):
            p.stop()
    assert all(status == 503 for status, _, _ in results)
    assert all("retry-after" in headers for _, headers, _ in results)
    # Without a budget: n x 5 attempts = 300 calls. With it: n + ratio x n + min rate x window.
    assert n <= calls <= n + math.ceil(ratio * n) + min_per_s * window
