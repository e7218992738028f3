"""The resilience policies one by one: breaker, budgets, balancer, bulkhead, degraded answers,
and (in process, against in-process simulators) hedging, coalescing, batching, cascade."""
from __future__ import annotations

import asyncio
import time

import pytest

from seawall.resilience.config import BreakerPolicy
from seawall.core.errors import GatewayError
from seawall.gateway import Gateway
from seawall.providers.degraded import extractive_summary, keyword_sentiment
from seawall.resilience.balance import Balancer
from seawall.resilience.breaker import Breaker, MemoryBreakerStore
from seawall.resilience.bulkhead import Bulkhead
from seawall.resilience.events import Events
from seawall.resilience.retry import HedgeBudget, RetryBudget, backoff
from seawall.sim import Simulator

HI = [{"role": "user", "content": "Hello there"}]


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make_breaker(**kw):
    clock = Clock()
    events = Events(None)
    b = Breaker("d", BreakerPolicy(**kw), events, MemoryBreakerStore(), clock=clock)
    return b, clock, events


def test_breaker_trips_on_consecutive_failures_and_backs_off_on_repeated_trips():
    b, clock, events = make_breaker(consecutive_failures=3, open_s=2, open_max_s=5, min_calls=100)
    for _ in range(2):
        b.failure("server_error")
    assert b.state == "closed"
    b.failure("server_error")
    assert b.state == "open" and not b.available(clock.t)
    clock.t += 2.01
    assert b.available(clock.t)
    b.acquire(clock.t)
    assert b.state == "half_open"
    assert not b.available(clock.t)  # one probe at a time
    b.failure("server_error")  # the probe fails: open again, for twice as long
    assert b.state == "open"
    clock.t += 2.5
    assert not b.available(clock.t)
    clock.t += 1.6
    assert b.available(clock.t)
    b.acquire(clock.t)
    b.success(0.01)
    assert b.state == "closed"
    assert [e["event"] for e in events.recent] == ["breaker_open", "breaker_half_open", "breaker_open",
                                                   "breaker_half_open", "breaker_closed"]


def test_breaker_failure_rate_needs_min_calls_and_forgets_old_calls():
    b, clock, _ = make_breaker(min_calls=10, failure_rate=0.5, consecutive_failures=100, window_s=10)
    for _ in range(9):
        b.failure("x")
    assert b.state == "closed"  # 9 calls: below min_calls whatever the rate
    clock.t += 11  # the window slides past them
    for _ in range(5):
        b.success(0.01)
    for _ in range(4):
        b.failure("x")
    assert b.state == "closed"  # 4/9
    b.failure("x")
    assert b.state == "open"  # 5/10


def test_breaker_trips_on_slow_calls():
    b, _, _ = make_breaker(min_calls=4, slow_call_s=0.5, slow_rate=0.75)
    b.success(0.1)
    for _ in range(3):
        b.success(0.9)
    assert b.state == "open"


def test_retry_budget_caps_retries_to_a_share_of_requests_plus_a_floor():
    budget = RetryBudget(ratio=0.1, min_per_s=0.5, window_s=10)
    now = 500.0
    allowed = 0
    for _ in range(100):
        budget.on_request(now)
        allowed += sum(budget.try_retry(now) for _ in range(5))
    assert allowed == 10 + 5
    assert not budget.try_retry(now + 5)
    assert budget.try_retry(now + 11)  # the window moved on


def test_backoff_is_full_jitter_and_capped():
    assert backoff(0, 0.1, 5, rand=lambda: 1.0) == pytest.approx(0.1)
    assert backoff(3, 0.1, 5, rand=lambda: 1.0) == pytest.approx(0.8)
    assert backoff(30, 0.1, 5, rand=lambda: 1.0) == 5
    assert backoff(3, 0.1, 5, rand=lambda: 0.0) == 0


def test_hedge_budget():
    h = HedgeBudget(0.05)
    spent = 0
    for _ in range(1000):
        h.deposit()
        spent += h.try_spend()
    assert spent == 50


class _Dep:
    def __init__(self, id, priority=0, weight=1.0, region=None):
        self.id, self.priority, self.weight, self.region = id, priority, weight, region


def states(*deps):
    from seawall.resilience.state import DepState

    out = []
    for d in deps:
        b = Breaker(d.id, BreakerPolicy(consecutive_failures=1), Events(None), MemoryBreakerStore())
        out.append(DepState(d, b, Bulkhead(None)))
    return out


def test_weighted_round_robin_priorities_and_spill_over():
    a, b, c = states(_Dep("a", weight=3), _Dep("b", weight=1), _Dep("c", priority=1))
    bal = Balancer([a, b, c])
    picks = [bal.pick(0.0).dep.id for _ in range(8)]
    assert picks.count("a") == 6 and picks.count("b") == 2  # c is spill-over only
    a.breaker.failure("x")
    b.cooldown_until = 10.0
    assert bal.pick(0.0).dep.id == "c"  # a open, b in Retry-After: spill to the next priority
    assert bal.pick(11.0).dep.id == "b"
    assert bal.pick(0.0, exclude={"c"}) is None


def test_home_region_first_and_saturation_spills_over():
    a, b = states(_Dep("far", region="eu"), _Dep("home", region="us"))
    a.bulkhead = Bulkhead(1)
    b.bulkhead = Bulkhead(1)
    bal = Balancer([a, b], home_region="us")
    assert bal.pick(0.0).dep.id == "home"
    b.bulkhead.enter()
    assert bal.pick(0.0).dep.id == "far"
    a.bulkhead.enter()
    assert bal.pick(0.0).dep.id == "home"  # all full: the caller queues on the preferred one


def test_least_in_flight_and_latency_strategies():
    a, b = states(_Dep("a"), _Dep("b"))
    bal = Balancer([a, b], strategy="least_in_flight")
    a.bulkhead.enter()
    assert all(bal.pick(0.0).dep.id == "b" for _ in range(10))
    a.bulkhead.leave()
    lat = Balancer([a, b], strategy="latency")
    a.ewma_s, b.ewma_s = 0.5, 0.05
    assert all(lat.pick(0.0).dep.id == "b" for _ in range(10))


async def test_bulkhead_queue_bounds_and_hand_over():
    bh = Bulkhead(1, max_queue=1, timeout=1.0)
    bh.enter()
    waiter = asyncio.ensure_future(bh.wait("d", None))
    await asyncio.sleep(0)
    with pytest.raises(GatewayError) as e:
        await bh.wait("d", None)  # the queue (1) is full
    assert e.value.status == 503 and e.value.retry_after
    bh.leave()
    await asyncio.wait_for(waiter, 1)
    assert bh.active == 1
    with pytest.raises(GatewayError):
        await bh.wait("d", 0.05)  # the slot is never freed: refused within the deadline


def test_degraded_rules():
    text = ("Our order arrived late. The box was damaged and the blender does not work. "
            "I want a refund for the broken blender. The weather was nice.")
    s = extractive_summary(text, 2)
    assert "blender" in s and "weather" not in s
    assert keyword_sentiment("I love it, great and fast")[0] == "positive"
    assert keyword_sentiment("terrible, broken, I want a refund")[0] == "negative"
    assert keyword_sentiment("this is not good")[0] == "negative"
    assert keyword_sentiment("the sky is blue")[0] == "neutral"


# ---- in process, against in-process simulators -------------------------------------------


@pytest.fixture
async def sims():
    out = []

    async def make(**faults):
        s = Simulator(seed=len(out) + 1)
        await s.start()
        if faults:
            s.set_faults(**faults)
        out.append(s)
        return s

    yield make
    for s in out:
        await s.stop()


def gateway(sims_, models, **top) -> Gateway:
    providers = [{"name": f"s{i}", "base_url": s.url + "/v1"} for i, s in enumerate(sims_)]
    return Gateway.from_config({"server": {"access_log": False}, "providers": providers, "models": models, **top})


async def test_hedge_backup_wins_and_the_slow_call_is_cancelled(sims):
    slow = await sims(latency_ms=1500)
    fast = await sims(latency_ms=10)
    gw = gateway([slow, fast], [{"name": "m", "hedge": {"enabled": True, "delay_s": 0.1},
                                 "targets": [{"provider": "s0", "model": "x"},
                                             {"provider": "s1", "model": "x", "priority": 1}]}],
                 resilience={"hedge_budget": 1.0})
    t0 = time.monotonic()
    r = await gw.chat(model="m", messages=HI)
    assert time.monotonic() - t0 < 1.0
    assert r.meta.deployment == "s1/x" and r.meta.extra["x-seawall-hedged"] == "won"
    await asyncio.sleep(0.05)
    assert slow.stats["in_flight"] == 0  # the loser's connection was closed
    # a fast primary: the timer is cancelled, no backup is sent
    slow.set_faults(latency_ms=0)
    before = fast.stats["received"]
    r = await gw.chat(model="m", messages=HI)
    assert r.meta.deployment == "s0/x" and "x-seawall-hedged" not in r.meta.extra
    await asyncio.sleep(0.15)
    assert fast.stats["received"] == before
    await gw.aclose()


async def test_hedge_respects_its_budget(sims):
    slow = await sims(latency_ms=200)
    other = await sims(latency_ms=200)
    gw = gateway([slow, other], [{"name": "m", "hedge": {"enabled": True, "delay_s": 0.01},
                                  "targets": [{"provider": "s0", "model": "x"},
                                              {"provider": "s1", "model": "x", "priority": 1}]}],
                 resilience={"hedge_budget": 0.1})
    await asyncio.gather(*(gw.chat(model="m", messages=HI) for _ in range(40)))
    extra = slow.stats["received"] + other.stats["received"] - 40
    assert extra <= 4
    await gw.aclose()


async def test_coalescing_identical_deterministic_requests(sims):
    s = await sims(latency_ms=200)
    gw = gateway([s], [{"name": "m", "targets": [{"provider": "s0", "model": "x"}]}])
    rs = await asyncio.gather(*(gw.chat(model="m", messages=HI, temperature=0) for _ in range(5)))
    assert s.stats["received"] == 1
    assert len({r.meta.request_id for r in rs}) == 5 and len({r.text for r in rs}) == 1
    await asyncio.gather(*(gw.chat(model="m", messages=HI, temperature=0.7) for _ in range(3)))
    assert s.stats["received"] == 4  # not deterministic: each its own call
    await gw.aclose()


async def test_embedding_micro_batching_gives_each_caller_its_slice(sims):
    s = await sims()
    gw = gateway([s], [{"name": "e", "kind": "embeddings", "batch": {"enabled": True, "max_wait_ms": 20},
                        "coalesce": {"enabled": False},
                        "targets": [{"provider": "s0", "model": "text-embedding-3-small"}]}])
    inputs = [["alpha"], ["beta", "gamma"], ["delta"]]
    rs = await asyncio.gather(*(gw.embed(model="e", input=i) for i in inputs))
    assert s.stats["received"] == 1
    solo = [await gw.embed(model="e", input=i) for i in inputs]
    for r, alone, i in zip(rs, solo, inputs):
        assert len(r.vectors) == len(i)
        assert r.vectors == alone.vectors  # the same vectors as unbatched calls
        assert [d["index"] for d in r.data["data"]] == list(range(len(i)))
    await gw.aclose()


async def test_cascade_degraded_answer_then_escalation(sims):
    down = await sims(error_rate=1.0, error_status=503)
    gw = gateway([down], [
        {"name": "sent", "targets": [{"provider": "s0", "model": "x"}], "retry": {"max_attempts": 1},
         "degraded": {"mode": "keyword_sentiment"}},
        {"name": "esc", "targets": [{"provider": "s0", "model": "x"}], "retry": {"max_attempts": 1},
         "escalate": True},
    ])
    r = await gw.chat(model="sent", messages=[{"role": "user", "content": "awful service, broken again"}])
    assert r.text == "negative" and r.meta.fallback_level == "degraded"
    with pytest.raises(GatewayError) as e:
        await gw.chat(model="esc", messages=HI)
    ticket = e.value.headers["x-seawall-ticket"]
    assert e.value.status == 503 and e.value.retry_after and ticket in e.value.message
    assert gw.resilience.snapshot()["tickets"][0]["id"] == ticket
    got = []
    gw.resilience.cascade.stale = lambda req: _stale(req, got)
    await gw.chat(model="esc", messages=HI)
    assert got
    await gw.aclose()


async def _stale(req, got):
    from seawall.core.types import Completion

    got.append(req.request_id)
    return Completion(req.meta, {"choices": [{"message": {"role": "assistant", "content": "cached"}}]})


async def test_active_health_checks_eject_and_readmit_a_deployment(sims):
    a = await sims()
    b = await sims()
    gw = gateway([a, b], [{"name": "m", "balance": {"health_check": {"interval_s": 0.05, "unhealthy_after": 2}},
                           "targets": [{"provider": "s0", "model": "x"},
                                       {"provider": "s1", "model": "x", "priority": 1}]}])
    assert (await gw.chat(model="m", messages=HI)).meta.deployment == "s0/x"  # starts the checks
    a.set_faults(error_rate=1.0, error_status=503)
    st = gw.resilience.states["s0/x"]
    t_end = time.monotonic() + 3
    while st.healthy and time.monotonic() < t_end:
        await asyncio.sleep(0.02)
    assert not st.healthy
    chats = a.stats["by_path"].get("/v1/chat/completions", 0)
    r = await gw.chat(model="m", messages=HI)
    assert r.meta.deployment == "s1/x" and r.meta.attempts == 1
    assert a.stats["by_path"].get("/v1/chat/completions", 0) == chats  # no request was risked on it
    a.set_faults(error_rate=0.0)
    t_end = time.monotonic() + 3
    while not st.healthy and time.monotonic() < t_end:
        await asyncio.sleep(0.02)
    assert st.healthy
    assert any(e["event"] == "health_failed" for e in gw.resilience.snapshot()["events"])
    await gw.aclose()
