"""Retries: capped exponential backoff with full jitter, and a fleet-wide retry budget."""
from __future__ import annotations

import random


def backoff(attempt: int, base: float, cap: float, rand=random.random) -> float:
    """Full jitter: uniform(0, min(cap, base * 2**attempt)); attempt 0 is the first retry."""
    return rand() * min(cap, base * (1 << min(attempt, 30)))


class RetryBudget:
    """Retries at most `ratio` of the requests seen over a sliding window, plus `min_per_s`.

    The window is a ring of one-second buckets of (requests, retries). Counting a request is
    an integer add; the sum over the ring is taken only when a retry is asked for. Every
    extra upstream call a request makes after its first (a retry, another deployment, a
    fallback alias) is a retry here: an outage cannot multiply the load on the upstreams.
    """

    __slots__ = ("ratio", "min_per_s", "n", "_stamp", "_requests", "_retries")

    def __init__(self, ratio: float, min_per_s: float, window_s: float) -> None:
        self.ratio, self.min_per_s = ratio, min_per_s
        self.n = max(1, int(round(window_s)))
        self._stamp = [-1] * self.n
        self._requests = [0] * self.n
        self._retries = [0] * self.n

    def _slot(self, now: float) -> int:
        sec = int(now)
        i = sec % self.n
        if self._stamp[i] != sec:
            self._stamp[i] = sec
            self._requests[i] = 0
            self._retries[i] = 0
        return i

    def on_request(self, now: float) -> None:
        self._requests[self._slot(now)] += 1

    def try_retry(self, now: float) -> bool:
        i = self._slot(now)
        oldest = int(now) - self.n
        requests = retries = 0
        for j in range(self.n):
            if self._stamp[j] > oldest:
                requests += self._requests[j]
                retries += self._retries[j]
        if retries + 1 > self.ratio * requests + self.min_per_s * self.n:
            return False
        self._retries[i] += 1
        return True

    def snapshot(self, now: float) -> dict:
        oldest = int(now) - self.n
        live = [j for j in range(self.n) if self._stamp[j] > oldest]
        return {"requests": sum(self._requests[j] for j in live), "retries": sum(self._retries[j] for j in live),
                "ratio": self.ratio, "min_per_s": self.min_per_s, "window_s": self.n}


class HedgeBudget:
    """Hedged calls at most `ratio` of requests: each request deposits `ratio` tokens, a hedge
    spends one. The bucket holds at most `burst` tokens, so a quiet period cannot save up a storm."""

    __slots__ = ("ratio", "burst", "tokens")

    def __init__(self, ratio: float, burst: float = 10.0) -> None:
        self.ratio, self.burst, self.tokens = ratio, burst, 0.0

    def deposit(self) -> None:
        t = self.tokens + self.ratio
        self.tokens = t if t < self.burst else self.burst

    def try_spend(self) -> bool:
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
