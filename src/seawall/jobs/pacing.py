"""Per-alias pacing: a worker waits for its alias's next slot before it starts a job, so a burst
of queued work reaches the provider at a configured rate instead of as a 429 storm. The rate is
per worker process (the bucket is local); divide by the process count when scaling out."""
from __future__ import annotations

import asyncio
import time


class Pacer:
    def __init__(self, per_minute: dict[str, float]) -> None:
        self.interval = {alias: 60.0 / rpm for alias, rpm in per_minute.items() if rpm > 0}
        self.next_at: dict[str, float] = {}

    async def wait(self, alias: str) -> None:
        step = self.interval.get(alias)
        if step is None:
            return
        now = time.monotonic()
        at = max(self.next_at.get(alias, now), now)
        self.next_at[alias] = at + step  # reserve the slot before sleeping: concurrent workers queue up
        if at > now:
            await asyncio.sleep(at - now)
