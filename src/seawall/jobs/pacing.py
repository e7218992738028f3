"""Per-alias pacing: a worker waits for its alias's next slot before it starts a job, so a burst
of queued work reaches the provider at a sustainable rate instead of as a 429 storm.

Two sources set the pace, and the slower wins:
- `jobs.pacing`: a configured rate per alias, per worker process (the bucket is local);
- the provider's own limit, as its answers report it (`Meta.upstream_limits`, parsed by the
  provider layer from OpenAI's x-ratelimit-*-requests headers): queued work takes
  `1 - jobs.live_share` of the reported requests per minute, leaving the rest for interactive
  traffic. The reported remaining count is shared by every process that calls the provider, so
  when it runs low (other processes, live traffic) the alias is held until it has recovered; a
  429 holds it for the provider's Retry-After.
"""
from __future__ import annotations

import asyncio
import time

from ..core.types import UpstreamLimits

LOW = 2  # remaining requests at which queued work stops and lets the limit recover


class Pacer:
    def __init__(self, per_minute: dict[str, float], live_share: float = 0.2, by_headers: bool = True) -> None:
        self.interval = {alias: 60.0 / rpm for alias, rpm in per_minute.items() if rpm > 0}
        self.learned: dict[str, float] = {}  # alias -> interval from the provider's reported limit
        self.hold: dict[str, float] = {}  # alias -> monotonic time before which nothing starts
        self.next_at: dict[str, float] = {}
        self.share = 1.0 - live_share
        self.by_headers = by_headers

    def step(self, alias: str) -> float | None:
        steps = [s for s in (self.interval.get(alias), self.learned.get(alias)) if s is not None]
        return max(steps) if steps else None

    async def wait(self, alias: str) -> None:
        now = time.monotonic()
        held = self.hold.get(alias, 0.0)
        step = self.step(alias)
        if step is None and held <= now:
            return
        at = max(self.next_at.get(alias, now), now, held)
        self.next_at[alias] = at + (step or 0.0)  # reserve the slot before sleeping: concurrent workers queue up
        if at > now:
            await asyncio.sleep(at - now)

    def observe(self, alias: str, limits: UpstreamLimits | None) -> None:
        """Learn the pace from what the provider said on an answer for this alias."""
        if not self.by_headers or limits is None or not limits.limit:
            return
        per_request = 60.0 / limits.limit
        self.learned[alias] = per_request / self.share
        if limits.remaining is not None and limits.remaining < LOW:
            # running dry (someone else is using the limit too): wait until LOW requests are back
            until = limits.at + (LOW - limits.remaining) * per_request
            self.hold[alias] = max(self.hold.get(alias, 0.0), until)

    def back_off(self, alias: str, seconds: float | None) -> None:
        """The provider refused (429): hold the alias for as long as it asked."""
        if self.by_headers and seconds:
            self.hold[alias] = max(self.hold.get(alias, 0.0), time.monotonic() + seconds)
