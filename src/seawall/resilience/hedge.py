"""Hedged requests (The Tail at Scale): when the first attempt is slower than the alias's
usual (a fixed delay or an observed latency quantile), send one backup attempt to another
deployment; the first good answer wins and the other is cancelled, its connection closed.

The happy path only arms a timer (`loop.call_later`): the first attempt runs in the
request's own task. Only when the timer fires is a task created for the backup; if the
backup wins it cancels the request's task, which is waiting inside the first attempt, and
the request takes the backup's answer (telling its own cancellation apart from a client's
by counting cancellations). A budget caps hedges at a share of requests.
"""
from __future__ import annotations

import asyncio
import time


class Quantiles:
    """Recent samples in a ring; a quantile is recomputed every `every` samples."""

    __slots__ = ("buf", "size", "i", "n", "every", "_cache")

    def __init__(self, size: int = 512, every: int = 32) -> None:
        self.buf = [0.0] * size
        self.size, self.every = size, every
        self.i = self.n = 0
        self._cache: dict[float, float] = {}

    def add(self, x: float) -> None:
        self.buf[self.i] = x
        self.i = (self.i + 1) % self.size
        self.n += 1
        if self.n % self.every == 0:
            self._cache.clear()

    def quantile(self, q: float, min_samples: int = 50) -> float | None:
        if self.n < min_samples:
            return None
        v = self._cache.get(q)
        if v is None:
            data = sorted(self.buf[: min(self.n, self.size)])
            v = self._cache[q] = data[min(len(data) - 1, int(q * len(data)))]
        return v


class Hedge:
    """One request's hedge: armed before the first attempt, settled after it."""

    __slots__ = ("run_attempt", "req", "pol", "primary", "owner", "timer", "task", "result", "done", "started",
                 "budget", "metrics")

    def __init__(self, run_attempt, req, pol, primary, budget, metrics) -> None:
        self.run_attempt, self.req, self.pol, self.primary = run_attempt, req, pol, primary
        self.budget, self.metrics = budget, metrics
        self.owner = asyncio.current_task()
        self.task: asyncio.Task | None = None
        self.result = None
        self.done = False
        self.started = time.perf_counter()
        self.timer = None

    def arm(self, delay: float) -> None:
        self.timer = asyncio.get_running_loop().call_later(delay, self._fire)

    def _fire(self) -> None:
        if self.done:
            return
        pol = self.pol
        st = pol.balancer.pick(time.monotonic(), {self.primary.dep.id}, self.req.required_tags)
        if st is None or st.bulkhead.full():
            self.metrics.inc(self.metrics.hedges, pol.alias, "no_target")
            return
        if not self.budget.try_spend():
            self.metrics.inc(self.metrics.hedges, pol.alias, "no_budget")
            return
        self.task = asyncio.get_running_loop().create_task(self._run(st))
        self.task.add_done_callback(_retrieve)

    async def _run(self, st):
        res = await self.run_attempt(self.req, self.pol, st)
        if not self.done:
            self.result = res
            self.owner.cancel()  # wake the request: its first attempt lost
        return res

    def settle(self) -> None:
        """The first attempt finished (any way): stop the timer."""
        self.done = True
        if self.timer is not None:
            self.timer.cancel()


def _retrieve(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()  # a failed backup nobody waited for is not an unhandled error
