"""Bulkhead: a per-deployment concurrency limit with a bounded wait queue.

The balancer skips a full deployment (spill-over); only when every candidate is full does
a request queue here. Counting is a plain integer (one event loop, no lock). Overflow is a
503 with Retry-After.
"""
from __future__ import annotations

import asyncio
from collections import deque

from ..core.errors import GatewayError


class Bulkhead:
    __slots__ = ("limit", "max_queue", "timeout", "active", "_waiters")

    def __init__(self, limit: int | None, max_queue: int = 0, timeout: float = 1.0) -> None:
        self.limit, self.max_queue, self.timeout = limit, max_queue, timeout
        self.active = 0
        self._waiters: deque[asyncio.Future] = deque()

    def full(self) -> bool:
        return self.limit is not None and self.active >= self.limit

    def enter(self) -> None:
        self.active += 1

    def leave(self) -> None:
        self.active -= 1
        while self._waiters and self.limit is not None and self.active < self.limit:
            w = self._waiters.popleft()
            if not w.done():
                self.active += 1  # the slot is handed over to the waiter
                w.set_result(None)

    async def wait(self, deployment: str, deadline_left: float | None) -> None:
        """Wait for a slot (the slot is held on return); GatewayError when the queue is full
        or the wait is too long."""
        if len(self._waiters) >= self.max_queue:
            raise GatewayError("overloaded", f"deployment {deployment} is at its concurrency limit", retry_after=1.0)
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        wait = self.timeout if deadline_left is None else max(0.0, min(self.timeout, deadline_left))
        try:
            async with asyncio.timeout(wait):
                await fut
        except TimeoutError:
            raise GatewayError("overloaded", f"deployment {deployment} stayed at its concurrency limit for {wait:g}s",
                               retry_after=1.0) from None
        except BaseException:
            if fut.done() and not fut.cancelled():
                self.leave()  # we were handed a slot just as we gave up
            raise
        finally:
            if not fut.done():
                fut.cancel()
            try:
                self._waiters.remove(fut)
            except ValueError:
                pass
