"""Per-alias pacing: each worker takes the alias's next free slot before it starts a job, so a
burst leaves at the configured rate. The clock and the sleep are replaced: no timing here."""
import asyncio

from seawall.jobs import pacing
from seawall.jobs.pacing import Pacer


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
