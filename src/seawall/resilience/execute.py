"""execute: answer a request from its alias's deployments, keeping on when upstreams fail.

    first attempt   balancer picks a deployment (breaker, Retry-After, health, bulkhead)
                    [hedge: a timer; a backup to another deployment if the first is slow]
    on failure      classify -> never retried (400...) goes to the client as is
                    -> other deployments of the alias, then retries with backoff (budgeted)
                    -> fallback aliases (context_fallbacks for context-length errors)
                    -> stale cache -> degraded answer -> escalation   (fallback.py)

Everything respects the request's deadline. When nothing fails, a request costs a pick, a
few counter updates and the upstream call: no task, no lock, no extra allocation.
"""
from __future__ import annotations

import asyncio
import time
from ..core.errors import GatewayError
from ..core.streams import tap
from ..core.types import Request, Result, Stream
from ..providers.base import UpstreamError
from ..providers.classify import ErrorClass
from .hedge import Hedge
from .retry import backoff

_CONTEXT = ErrorClass.CONTEXT_LENGTH
_COOLDOWN = (ErrorClass.RATE_LIMITED, ErrorClass.OVERLOADED, ErrorClass.SERVER_ERROR, ErrorClass.QUOTA_EXCEEDED)
SHORT_WAIT_S = 1.0  # a longer wait for this alias's deployments goes to a ready fallback instead


class Execute:
    def __init__(self, metrics, engine) -> None:
        self.metrics = metrics  # the gateway's metrics (upstream errors by class)
        self.engine = engine
        self.rm = engine.metrics

    async def __call__(self, req: Request) -> Result:
        eng = self.engine
        pol = eng.policies[req.route.alias]
        now = time.monotonic()
        eng.retry_budget.on_request(now)
        st = pol.balancer.pick(now, None, req.required_tags)
        if st is None:
            return await self._recover(req, pol, None, set())
        try:
            if pol.hedge is not None:
                eng.hedge_budget.deposit()
                return await self._hedged(req, pol, st)
            return await self.attempt(req, pol, st)
        except UpstreamError as e:
            cls = e.error_class
            if not cls.falls_back:
                raise
            err = e
        return await self._recover(req, pol, err, {st.dep.id})

    # ---- one call to one deployment ---------------------------------------------------------

    async def attempt(self, req: Request, pol, st) -> Result:
        dep = st.dep
        bh = st.bulkhead
        if bh.full():
            try:
                await bh.wait(dep.id, req.remaining())  # returns holding a slot
            except GatewayError:
                self.rm.inc(self.rm.rejected, dep.id)
                raise
        else:
            bh.enter()
        st.breaker.acquire(time.monotonic())
        req.meta.attempts += 1
        t0 = time.perf_counter()
        try:
            if req.kind == "embeddings":
                if pol.batcher is not None:
                    result = await pol.batcher.embed(dep, req)
                else:
                    result = await dep.provider.embed(dep, req)
            elif req.stream:
                result = await dep.provider.stream(dep, req)
            else:
                result = await dep.provider.chat(dep, req)
        except UpstreamError as e:
            bh.leave()
            req.meta.deployment = dep.id
            self._failed(st, e)
            raise
        except BaseException:
            bh.leave()
            st.breaker.release()
            raise
        elapsed = time.perf_counter() - t0
        req.meta.deployment = dep.id
        if isinstance(result, Stream):
            st.observe(elapsed, elapsed)
            st.breaker.success(elapsed, elapsed)
            tap(result, on_end=lambda outcome: self._stream_ended(st, outcome))
        else:
            bh.leave()
            st.observe(elapsed, None)
            st.breaker.success(elapsed)
        return result

    def _stream_ended(self, st, outcome) -> None:
        """A started stream holds the deployment's in-flight slot until it ends; a failure
        mid-stream still counts against its breaker."""
        if isinstance(outcome.error, UpstreamError):
            self._failed(st, outcome.error)
        st.bulkhead.leave()

    def _failed(self, st, e: UpstreamError) -> None:
        cls = e.error_class
        st.failed(cls.label)
        self.metrics.upstream_error(st.dep.id, cls.label)
        if cls.counts_for_breaker:
            st.breaker.failure(cls.label)
        else:
            st.breaker.release()  # the deployment answered; the request was the problem
        if e.retry_after is not None and cls in _COOLDOWN:
            st.cooldown_until = max(st.cooldown_until, time.monotonic() + e.retry_after)

    # ---- hedging ----------------------------------------------------------------------------

    async def _hedged(self, req: Request, pol, st) -> Result:
        delay = pol.hedge_delay(req.stream)
        if delay is None:  # not enough history yet: learn from plain attempts
            return await self._timed(req, pol, st)
        left = req.remaining()
        if left is not None and delay >= left:
            return await self.attempt(req, pol, st)
        h = Hedge(self.attempt, req, pol, st, self.engine.hedge_budget, self.rm)
        h.arm(delay)
        try:
            result = await self.attempt(req, pol, st)
        except UpstreamError:
            h.settle()
            self._sample(pol, req, time.perf_counter() - h.started)
            if h.task is not None:  # the backup is still running: it may yet answer
                try:
                    result = await h.task
                except (UpstreamError, asyncio.CancelledError):
                    raise
                return self._hedge_won(pol, result)
            raise
        except asyncio.CancelledError:
            h.settle()
            task = h.owner
            if h.result is not None and task.uncancel() == 0:
                self._sample(pol, req, time.perf_counter() - h.started)
                return self._hedge_won(pol, h.result)
            if h.task is not None and not h.task.done():
                h.task.cancel()
            if isinstance(h.result, Stream):
                await h.result.aclose()
            raise
        h.settle()
        self._sample(pol, req, time.perf_counter() - h.started)
        if h.task is not None:
            if not h.task.done():
                h.task.cancel()  # the backup lost: close its connection
            self.rm.inc(self.rm.hedges, pol.alias, "lost")
        return result

    def _hedge_won(self, pol, result: Result) -> Result:
        self.rm.inc(self.rm.hedges, pol.alias, "won")
        result.meta.extra["x-seawall-hedged"] = "won"
        return result

    async def _timed(self, req, pol, st) -> Result:
        t0 = time.perf_counter()
        result = await self.attempt(req, pol, st)
        self._sample(pol, req, time.perf_counter() - t0)
        return result

    @staticmethod
    def _sample(pol, req, seconds: float) -> None:
        (pol.ttft if req.stream else pol.latency).add(seconds)

    # ---- after a failure --------------------------------------------------------------------

    async def _recover(self, req: Request, pol, err: UpstreamError | None, failed: set) -> Result:
        eng = self.engine
        first = next(iter(failed), None)
        result, err = await self._alias(req, pol, err, failed, tries=len(failed), then=pol.fallbacks)
        if result is not None:
            level = "retry" if req.meta.deployment == first else "deployment"
            return eng.cascade.mark(req, pol.alias, result, level)
        if err is not None and err.error_class is _CONTEXT:
            names = pol.context_fallbacks
        else:
            names = pol.fallbacks
        for i, name in enumerate(names):
            fpol = eng.policies[name]
            result, ferr = await self._alias(req, fpol, None, set(), tries=0, then=names[i + 1:])
            if result is not None:
                result.meta.extra["x-seawall-fallback-alias"] = name
                return eng.cascade.mark(req, pol.alias, result, "alias")
            if ferr is not None:
                if not ferr.error_class.falls_back:
                    raise ferr
                err = ferr
        if err is not None and err.error_class is _CONTEXT:
            raise err  # the client's prompt is too long: no degraded answer stands in for that
        final = err or GatewayError("upstream_unavailable", f"no deployment can serve {req.alias!r} now")
        if final.status in (429, 503) or final.retry_after is None:
            hint = pol.balancer.retry_hint(time.monotonic())
            final.retry_after = max(final.retry_after or 0.0, hint)
        return await eng.cascade.degrade(req, pol, final)

    def _ready_elsewhere(self, names, now: float, tags) -> bool:
        for name in names:
            for st in self.engine.policies[name].balancer.all:
                if st.usable(now) and (tags is None or tags <= st.dep.tags):
                    return True
        return False

    async def _alias(self, req: Request, pol, err: UpstreamError | None, failed: set, tries: int,
                     then: list[str] = ()) -> tuple[Result | None, UpstreamError | None]:
        """Further attempts within one alias: other deployments first, then retries of tried
        ones after backoff / Retry-After. Returns (result, None) or (None, last error).
        `then` names the fallback aliases tried after this one: when one of them is ready now,
        a wait longer than SHORT_WAIT_S is not worth it."""
        eng = self.engine
        retries = 0
        while True:
            if err is not None:
                cls = err.error_class
                if not cls.falls_back:
                    raise err
                if cls is _CONTEXT:
                    return None, err
            if tries >= pol.retry.max_attempts:
                return None, err
            left = req.remaining()
            if left is not None and left <= 0:
                return None, err
            now = time.monotonic()
            st = pol.balancer.pick(now, failed, req.required_tags)
            wait = 0.0
            kind = "failover" if tries else "fallback"
            if st is None:
                # A deployment that timed out has spent its time: move on rather than wait again.
                if err is not None and (not err.error_class.retryable or err.error_class is ErrorClass.TIMEOUT):
                    return None, err
                st, ready = pol.balancer.pick_retry(now, req.required_tags)
                if st is None:
                    return None, err
                wait = ready - now
                if err is not None:
                    wait = max(wait, backoff(retries, pol.retry.backoff_base_s, pol.retry.backoff_max_s))
                if wait > pol.retry.max_wait_s or (left is not None and wait >= left):
                    return None, err
                if wait > SHORT_WAIT_S and self._ready_elsewhere(then, now, req.required_tags):
                    return None, err
                kind = "retry"
            # every upstream call after a request's first spends retry budget; a fallback taken
            # because this alias is cooling down (no call made yet) is the request's first
            if req.meta.attempts:
                if not eng.retry_budget.try_retry(now):
                    self.rm.inc(self.rm.budget_denied, pol.alias)
                    return None, err
                self.rm.inc(self.rm.retries, pol.alias, kind)
            if wait > 0:
                await asyncio.sleep(wait)
            tries += 1
            try:
                return await self.attempt(req, pol, st), None
            except UpstreamError as e:
                err = e
                failed.add(st.dep.id)
                retries += 1
