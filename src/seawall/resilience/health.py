"""Active health checks: GET a cheap endpoint of each checked deployment on an interval.

A deployment that fails `unhealthy_after` checks in a row is skipped by the balancer until a
check succeeds again. Passive ejection (the breaker) works without this; active checks find
a dead upstream before a client request does, and a recovered one without risking a request.
"""
from __future__ import annotations

import asyncio
import logging

from ..net.errors import HTTPClientError


class HealthChecker:
    def __init__(self, targets: list, events) -> None:
        self.targets = targets  # [(DepState, HealthCheckPolicy)]
        self.events = events
        self._tasks: list[asyncio.Task] = []
        self.started = False

    def start(self) -> None:
        """Called from the event loop on first use (the gateway is built outside any loop)."""
        if self.started:
            return
        self.started = True
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._loop(st, pol)) for st, pol in self.targets]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks = []

    async def check(self, st, pol) -> bool:
        provider = st.dep.provider
        url = provider.cfg.base_url + pol.path
        try:
            async with asyncio.timeout(pol.timeout_s):
                r = await provider.session.request("GET", url, headers=_auth_headers(provider),
                                                   connect_timeout=pol.timeout_s)
                await r.read()
                return 200 <= r.status < 300
        except (asyncio.TimeoutError, HTTPClientError, OSError):
            return False

    async def _loop(self, st, pol) -> None:
        while True:
            await asyncio.sleep(pol.interval_s)
            ok = await self.check(st, pol)
            if ok:
                st.health_failures = 0
                if not st.healthy:
                    st.healthy = True
                    self.events.emit("health_recovered", st.dep.id)
            else:
                st.health_failures += 1
                if st.healthy and st.health_failures >= pol.unhealthy_after:
                    st.healthy = False
                    self.events.emit("health_failed", st.dep.id, logging.WARNING, checks_failed=st.health_failures)


def _auth_headers(provider) -> dict:
    h = getattr(provider, "_headers", None) or {}
    return {k: v for k, v in h.items() if k != "content-type"}
