"""Circuit breaker per deployment: CLOSED -> OPEN -> HALF_OPEN -> CLOSED.

Trips on a failure rate over a sliding time window (with a minimum number of calls), on
consecutive failures, and on a slow-call rate (total latency or time to first token above
a threshold). Stays open for `open_s`, doubling on every re-trip up to `open_max_s`; then
admits `half_open_probes` probe calls: all succeed -> closed, one fails -> open again.

State lives in a `BreakerRecord` obtained from a `BreakerStore`. The in-memory store keeps
it in this process; a shared store (Redis, from the store issue) would hold the same small
record per deployment so every instance sees one breaker: state, open-until, trip count.
The window counters stay local (each instance judges what it sees and publishes the
transitions), which keeps the success path free of any I/O.
"""
from __future__ import annotations

import time
from typing import Protocol

from .events import Events

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class BreakerRecord:
    """The shared part of a breaker's state."""

    __slots__ = ("state", "open_until", "trips", "opened_at")

    def __init__(self) -> None:
        self.state = CLOSED
        self.open_until = 0.0
        self.trips = 0
        self.opened_at: float | None = None


class BreakerStore(Protocol):
    def record(self, deployment: str) -> BreakerRecord: ...

    def publish(self, deployment: str, record: BreakerRecord) -> None: ...

    def forget(self, deployment: str) -> None: ...


class MemoryBreakerStore:
    def __init__(self) -> None:
        self._records: dict[str, BreakerRecord] = {}

    def record(self, deployment: str) -> BreakerRecord:
        r = self._records.get(deployment)
        if r is None:
            r = self._records[deployment] = BreakerRecord()
        return r

    def publish(self, deployment: str, record: BreakerRecord) -> None:
        pass  # the record is shared by reference in one process

    def forget(self, deployment: str) -> None:
        self._records.pop(deployment, None)


_BUCKETS = 10


class Breaker:
    __slots__ = ("dep_id", "p", "events", "store", "rec", "_width", "_stamp", "_calls", "_fails", "_slow",
                 "consecutive", "probes", "probe_ok", "clock")

    def __init__(self, dep_id: str, policy, events: Events, store: BreakerStore, clock=time.monotonic) -> None:
        self.dep_id, self.p, self.events, self.store = dep_id, policy, events, store
        self.rec = store.record(dep_id)
        self.clock = clock
        self._width = policy.window_s / _BUCKETS
        self._stamp = [-1] * _BUCKETS
        self._calls = [0] * _BUCKETS
        self._fails = [0] * _BUCKETS
        self._slow = [0] * _BUCKETS
        self.consecutive = 0
        self.probes = 0  # half-open probe calls admitted and not yet finished
        self.probe_ok = 0

    @property
    def state(self) -> str:
        return self.rec.state

    # ---- admission --------------------------------------------------------------------------

    def available(self, now: float) -> bool:
        """May a call go to this deployment now? (No side effects; see `acquire`.)"""
        rec = self.rec
        if rec.state == CLOSED:
            return True
        if rec.state == OPEN:
            return now >= rec.open_until
        return self.probes < self.p.half_open_probes

    def acquire(self, now: float) -> None:
        """A call is being sent: turns an expired OPEN into HALF_OPEN and counts probes."""
        rec = self.rec
        if rec.state == CLOSED:
            return
        if rec.state == OPEN:
            self._move(HALF_OPEN, "open period over")
            self.probes = self.probe_ok = 0
        self.probes += 1

    def release(self) -> None:
        """A call ended without a verdict (cancelled: hedge loser, client gone)."""
        if self.rec.state == HALF_OPEN and self.probes > 0:
            self.probes -= 1

    def retry_in(self, now: float) -> float:
        return max(0.0, self.rec.open_until - now) if self.rec.state == OPEN else 0.0

    # ---- outcomes ---------------------------------------------------------------------------

    def _bucket(self, now: float) -> int:
        tick = int(now / self._width)
        i = tick % _BUCKETS
        if self._stamp[i] != tick:
            self._stamp[i] = tick
            self._calls[i] = self._fails[i] = self._slow[i] = 0
        return i

    def success(self, latency_s: float, ttft_s: float | None = None) -> None:
        rec = self.rec
        if rec.state == CLOSED:
            now = self.clock()
            i = self._bucket(now)
            self._calls[i] += 1
            self.consecutive = 0
            p = self.p
            if (p.slow_call_s is not None and latency_s > p.slow_call_s) or (
                    p.slow_ttft_s is not None and ttft_s is not None and ttft_s > p.slow_ttft_s):
                self._slow[i] += 1
                calls, _, slow = self._totals(now)
                if calls >= p.min_calls and slow >= p.slow_rate * calls:
                    self._trip(now, f"slow calls {slow}/{calls} in {p.window_s:g}s")
        elif rec.state == HALF_OPEN:
            if self.probes > 0:
                self.probes -= 1
            self.probe_ok += 1
            if self.probe_ok >= self.p.half_open_probes:
                self._close()

    def failure(self, error_class: str = "") -> None:
        rec = self.rec
        now = self.clock()
        if rec.state == CLOSED:
            i = self._bucket(now)
            self._calls[i] += 1
            self._fails[i] += 1
            self.consecutive += 1
            p = self.p
            if self.consecutive >= p.consecutive_failures:
                self._trip(now, f"{self.consecutive} consecutive failures (last: {error_class})")
                return
            calls, fails, _ = self._totals(now)
            if calls >= p.min_calls and fails >= p.failure_rate * calls:
                self._trip(now, f"failure rate {fails}/{calls} in {p.window_s:g}s (last: {error_class})")
        elif rec.state == HALF_OPEN:
            if self.probes > 0:
                self.probes -= 1
            self._trip(now, f"half-open probe failed ({error_class})")

    def _totals(self, now: float) -> tuple[int, int, int]:
        oldest = int(now / self._width) - _BUCKETS
        calls = fails = slow = 0
        for j in range(_BUCKETS):
            if self._stamp[j] > oldest:
                calls += self._calls[j]
                fails += self._fails[j]
                slow += self._slow[j]
        return calls, fails, slow

    # ---- transitions ------------------------------------------------------------------------

    def _trip(self, now: float, reason: str) -> None:
        rec = self.rec
        rec.trips += 1
        duration = min(self.p.open_max_s, self.p.open_s * (2 ** min(rec.trips - 1, 20)))
        rec.open_until = now + duration
        rec.opened_at = time.time()
        self._move(OPEN, reason, open_s=round(duration, 3))
        self._reset_window()

    def _close(self) -> None:
        rec = self.rec
        rec.trips = 0
        rec.opened_at = None
        self._move(CLOSED, f"{self.probe_ok} probe(s) succeeded")
        self._reset_window()

    def _reset_window(self) -> None:
        self.consecutive = 0
        self.probes = self.probe_ok = 0
        for j in range(_BUCKETS):
            self._stamp[j] = -1

    def _move(self, new: str, reason: str, **fields) -> None:
        old = self.rec.state
        self.rec.state = new
        self.store.publish(self.dep_id, self.rec)
        self.events.breaker(self.dep_id, old, new, reason, **fields)

    def snapshot(self, now: float) -> dict:
        calls, fails, slow = self._totals(now)
        rec = self.rec
        return {"state": rec.state, "trips": rec.trips, "retry_in_s": round(self.retry_in(now), 3),
                "window": {"calls": calls, "failures": fails, "slow": slow}, "consecutive_failures": self.consecutive}
