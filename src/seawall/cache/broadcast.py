"""How an invalidation reaches the other instances' local copies.

Every instance keeps copies in process (the exact LRU, the semantic index). When one instance
invalidates, the shared level loses the entries at once, but the others would go on serving
their own copies until the TTL runs out (days, for long-term entries). So the invalidating
instance tells them, and they drop the same alias, tenant or prefix locally:

- ``StateBroadcast``: Redis pub/sub on the state store (channel ``cache:invalidate``),
  delivered at once. After a reconnect the listener gets ``"resync"``: messages may have been
  missed, so it drops every local copy (the shared level still holds what is valid).
- ``SqlBroadcast``: no Redis. The message is a row of ``cache_invalidations`` in the SQL
  database the instances share (one SQLite file for ``serve --workers N``, or PostgreSQL),
  and each instance polls for new rows every ``poll_s`` (1 s by default): a copy outlives
  its invalidation by at most that long.

The SQL log, in more detail: a poll reads the rows stamped since ``lag_s`` before the newest
it has applied and skips the ids it already applied, so a row that commits after a younger
one was read (PostgreSQL hands out ids at insert, not at commit), or that comes from an
instance whose clock is a little behind, is still found. Rows older than ``keep_s`` are
deleted (a piggyback on polls, once a minute). An instance that could not poll for so long
that rows it never read may have been deleted resyncs, like a Redis reconnect. Every call
runs under a timeout: a database that is down costs a failed publish (reported, the others
keep their copies until TTL) or a poll retried at the next tick, never a hang.

Both call ``listener(message)`` with the JSON text ``{"from", "alias", "tenant", "prefix"}``
(or ``"resync"``); the listener skips its own messages by ``from``.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..store.sql import cache_invalidations

log = logging.getLogger("seawall.cache")

CHANNEL = "cache:invalidate"
RESYNC = "resync"
Listener = Callable[[str], Awaitable[None]]


class StateBroadcast:
    """Invalidations over the state store's pub/sub (Redis)."""

    def __init__(self, state, listener: Listener) -> None:
        self.state = state
        state.store.subscribe(CHANNEL, listener)

    async def publish(self, message: str) -> None:
        await self.state.call("publish", CHANNEL, message)

    async def aclose(self) -> None:
        """The subscription ends with the state store."""


class SqlBroadcast:
    """Invalidations through a log table in the shared SQL database, polled (see the module doc)."""

    def __init__(self, engine: AsyncEngine, listener: Listener, *, poll_s: float = 1.0, lag_s: float = 5.0,
                 keep_s: float = 3600.0, timeout_s: float = 2.0, purge_every_s: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.listener = listener
        self.poll_s, self.lag_s, self.keep_s = poll_s, lag_s, keep_s
        self.timeout_s = timeout_s
        self.purge_every_s = purge_every_s
        self._clock = clock
        self._since = clock()  # copies older than this process cannot exist here: no need to read back
        self._applied: dict[int, float] = {}  # id -> at, for rows inside the overlap window
        self._polled_at = time.monotonic()  # the last successful poll
        self._purge_at = 0.0
        self._task: asyncio.Task | None = None
        self.errors = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="seawall-cache-invalidations")

    async def publish(self, message: str) -> None:
        stmt = sa.insert(cache_invalidations).values(at=self._clock(), message=message)

        async def go():
            async with self.engine.begin() as conn:
                await conn.execute(stmt)

        await self._timed(go)

    async def poll(self) -> int:
        """Apply the rows not applied yet; how many there were (tests call it directly)."""
        t = cache_invalidations.c
        stmt = (sa.select(t.id, t.at, t.message).where(t.at >= self._since - self.lag_s).order_by(t.at, t.id))

        async def go():
            async with self.engine.connect() as conn:
                return (await conn.execute(stmt)).all()

        rows = await self._timed(go)
        now = time.monotonic()
        if now - self._polled_at > self.keep_s - 2 * self.lag_s:
            await self.listener(RESYNC)  # rows this instance never read may be deleted by now
        self._polled_at = now
        fresh = [r for r in rows if r.id not in self._applied]
        for r in fresh:
            self._applied[r.id] = r.at
            self._since = max(self._since, r.at)
            await self.listener(r.message)
        floor = self._since - self.lag_s
        self._applied = {i: at for i, at in self._applied.items() if at >= floor}
        return len(fresh)

    async def purge(self) -> int:
        """Delete the rows older than ``keep_s``; how many went."""
        stmt = sa.delete(cache_invalidations).where(cache_invalidations.c.at < self._clock() - self.keep_s)

        async def go():
            async with self.engine.begin() as conn:
                return (await conn.execute(stmt)).rowcount or 0

        return await self._timed(go)

    async def _timed(self, fn):
        async with asyncio.timeout(self.timeout_s):
            return await fn()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self.poll()
                if time.monotonic() >= self._purge_at:
                    self._purge_at = time.monotonic() + self.purge_every_s
                    await self.purge()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - a database that is down: try again at the next tick
                self.errors += 1
                log.debug("cache invalidation poll failed: %s", type(e).__name__)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
