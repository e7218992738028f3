"""Per-alias pacing: each worker takes the alias's next free slot before it starts a job, so a
burst leaves at the configured rate. The clock and the sleep are replaced: no timing here."""
import asyncio

from seawall.jobs import pacing
from seawall.core.types import UpstreamLimits
from seawall.jobs.pacing import Pacer
from seawall.providers.classify import upstream_limits


async def test_a_burst_is_spread_at_the_configured_rate(monkeypatch):
    now = [1000.0]
    slept: list[float] = []

    async def fake_sleep(s):
        slept.append(round(s, 6))

    monkeypatch.setattr(pacing.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(pacing.asyncio, "sleep", fake_sleep)
    p = Pacer({"paced": 120})  # one every 0.5 s
    await asyncio.gather(*(p.wait("paced") for _ in range(5)))
    assert sorted(slept) == [0.5, 1.0, 1.5, 2.0]  # the first goes at once, each next 0.5 s later
    slept.clear()
    await p.wait("other")  # an alias without a pace is not held
    assert slept == []
    now[0] += 10  # idle for a while: no debt carried over, the next one goes at once
    await p.wait("paced")
    assert slept == []


async def test_the_providers_reported_limit_sets_the_pace_and_a_dry_limit_holds(monkeypatch):
    now = [1000.0]
    slept: list[float] = []

    async def fake_sleep(s):
        slept.append(round(s, 6))

    monkeypatch.setattr(pacing.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(pacing.asyncio, "sleep", fake_sleep)
    p = Pacer({}, live_share=0.25)
    await p.wait("a")  # nothing known yet: not held
    assert slept == []
    p.observe("a", UpstreamLimits(limit=600, remaining=300, reset_s=30.0, at=now[0]))
    await asyncio.gather(*(p.wait("a") for _ in range(3)))
    assert sorted(slept) == [0.133333, 0.266667]  # 600/min reported, 75% of it for queued work: every 0.133 s
    slept.clear()
    now[0] += 5
    p.observe("a", UpstreamLimits(limit=600, remaining=0, reset_s=60.0, at=now[0]))  # someone else drained it
    await p.wait("a")
    assert slept == [0.2]  # held until two requests are back (0.1 s each)
    slept.clear()
    now[0] += 10
    p.back_off("a", 3.0)  # a 429 with Retry-After: 3
    await p.wait("a")
    assert slept == [3.0]
    off = Pacer({"b": 60}, by_headers=False)  # headers ignored: only the configured pace
    off.observe("b", UpstreamLimits(limit=6, remaining=0, at=now[0]))
    slept.clear()
    await asyncio.gather(off.wait("b"), off.wait("b"))
    assert slept == [1.0]


def test_the_provider_layer_parses_openais_request_limit_headers():
    h = {"x-ratelimit-limit-requests": "5000", "x-ratelimit-remaining-requests": "4999",
         "x-ratelimit-reset-requests": "1m0.5s"}
    got = upstream_limits(h)
    assert (got.limit, got.remaining, got.reset_s) == (5000, 4999, 60.5)
    assert upstream_limits({"content-type": "application/json"}) is None
    bad = upstream_limits({"x-ratelimit-limit-requests": "lots", "x-ratelimit-remaining-requests": "-3",
                           "x-ratelimit-reset-requests": "12ms"})
    assert (bad.limit, bad.remaining, bad.reset_s) == (None, None, 0.012)  # garbage left out, not guessed
