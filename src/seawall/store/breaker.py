"""A small circuit breaker for a store: after `failures` consecutive errors it opens and
fails fast for `reset_s`, then lets one probe through (half-open)."""
from __future__ import annotations

import time


class StoreUnavailable(Exception):
    """The store failed, timed out or its breaker is open. Carries no secrets."""


class Breaker:
    __slots__ = ("name", "failures", "reset_s", "_count", "_opened", "_probing")

    def __init__(self, name: str, failures: int = 3, reset_s: float = 1.0) -> None:
        self.name, self.failures, self.reset_s = name, failures, reset_s
        self._count = 0
        self._opened = 0.0
        self._probing = False

    @property
    def state(self) -> str:
        if self._count < self.failures:
            return "closed"
        return "half-open" if time.monotonic() - self._opened >= self.reset_s else "open"

    def allow(self) -> bool:
        if self._count < self.failures:
            return True
        if time.monotonic() - self._opened >= self.reset_s and not self._probing:
            self._probing = True
            return True
        return False

    def success(self) -> None:
        self._count = 0
        self._probing = False

    def failure(self) -> None:
        self._count += 1
        self._probing = False
        if self._count >= self.failures:
            self._opened = time.monotonic()
