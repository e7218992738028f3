"""Governance for one process: the stores, the directory, and the hot-path decisions.

`identify` reads only memory. `admit` is one state-store script (memory: a function call;
Redis: one round trip) covering every rate window and budget that applies. Settlement and
the audit record leave the request path as background work.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass, replace
from typing import Callable

import sqlalchemy as sa

from ..core.credentials import key_hint, presented_key
from ..core.errors import GatewayError
from ..core.types import Principal
from ..store import sql
from ..store.breaker import StoreUnavailable
from ..store.stores import Stores
from . import audit as audit_mod
from . import scripts
from .audit import AuditWriter
from .keys import ANONYMOUS, LIBRARY, Directory, hash_key, load_directory

log = logging.getLogger("seawall.govern")

CHANGES = "changes"  # pub/sub channel: an admin change happened, reload the directory
MICRO = 1_000_000


def estimate_prompt_tokens(body: dict, raw: bytes | None) -> int:
    """An upper-bound guess (about three characters a token over the whole body)."""
    if raw is not None:
        return len(raw) // 3 + 8
    msgs = body.get("messages") or ()
    chars = sum(len(m.get("content") or "") if isinstance(m.get("content"), str) else 200 for m in msgs
                if isinstance(m, dict))
    inp = body.get("input")
    if isinstance(inp, str):
        chars += len(inp)
    elif isinstance(inp, list):
        chars += sum(len(x) if isinstance(x, str) else 64 for x in inp)
    return chars // 3 + 4 * len(msgs) + 8


def period_tag(period: str, now: float) -> tuple[str, int]:
    """The budget's current period and how long its counter lives (the scheduled reset)."""
    g = time.gmtime(now)
    if period == "daily":
        return time.strftime("d%Y%m%d", g), 2 * 86400
    if period == "monthly":
        return time.strftime("m%Y%m", g), 32 * 86400
    return "total", 0


@dataclass(slots=True)
class Admission:
    """What admit counted, so settle can correct it (or release it on failure)."""

    bucket: int
    token_keys: list[str]
    token_charged: int
    budget_keys: list[str]
    estimate_micro: int
    degraded: bool


class Governance:
    """The governance service. Given the gateway's stores by the assembly; standalone (the CLI,
    benchmarks) it opens and closes its own."""

    def __init__(self, config, stores: Stores | None = None) -> None:
        self.config = config
        g = config.governance
        s = config.store
        self.enabled = g.enabled
        self.gcfg = g
        pepper = g.key_pepper.get() if g.key_pepper else None
        self.pepper = pepper.encode() if pepper else None
        self.static_keys = [k.get() for k in config.server.api_keys if k.get()]
        self._static: dict[str, Principal] = {}  # one principal per static key (its own tenant)
        self._own_stores = stores is None
        self.stores = stores = stores or Stores(config)
        self.state, self.engine, self.sql_breaker = stores.state, stores.sql, stores.sql_breaker
        a = g.audit
        self.audit = AuditWriter(self.engine, queue_size=a.queue_size, batch_size=a.batch_size,
                                 flush_interval_s=a.flush_interval_s, spool_dir=a.spool_dir,
                                 sql_timeout_s=s.sql_timeout_s, breaker=self.sql_breaker) if a.enabled else None
        self.audit_content = a.content
        self.directory = Directory()
        self._started = False
        self._start_lock: asyncio.Lock | None = None
        self._tasks: set[asyncio.Task] = set()
        self._refresher: asyncio.Task | None = None
        self._reload_lock: asyncio.Lock | None = None

    # ---- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        if self._started:
            return
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self._started:
                return
            await self.stores.start()
            await self.reload()
            self.state.store.subscribe(CHANGES, self._on_change)
            if self.audit is not None:
                self.audit.start()
            self._refresher = asyncio.get_running_loop().create_task(self._refresh_loop())
            self._started = True

    async def aclose(self) -> None:
        if self._refresher is not None:
            # Wait for it to end before the stores close: a refresher cancelled mid-query and
            # left pending would finish its connection's clean-up against a disposed engine,
            # where the driver's future never resolves (the loop's close then hangs on it).
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)
            self._refresher = None
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self.audit is not None:
            await self.audit.aclose()
        if self._own_stores:
            await self.stores.aclose()
        self._started = False

    async def reload(self) -> None:
        if self._reload_lock is None:
            self._reload_lock = asyncio.Lock()
        async with self._reload_lock:
            try:
                async with asyncio.timeout(self.config.store.sql_timeout_s):
                    self.directory = await load_directory(self.engine)
            except Exception as e:  # noqa: BLE001 - keep serving with the directory we have
                if not self.directory.loaded_at:
                    raise
                log.warning("directory reload failed (%s); keeping the previous one", type(e).__name__)

    async def _on_change(self, message: str) -> None:
        await self.reload()

    async def changed(self) -> None:
        """After an admin change: count it in SQL (every instance polls the counter, which is
        how a change the CLI made reaches gateways on a memory state store), reload here, and
        tell every other instance at once by pub/sub."""
        try:
            async with self.engine.begin() as c:
                await c.execute(sa.update(sql.governance_version).where(sql.governance_version.c.id == 1)
                                .values(version=sql.governance_version.c.version + 1))
        except Exception as e:  # noqa: BLE001 - the change is written; others see it on refresh
            log.warning("could not count a directory change (%s)", type(e).__name__)
        await self.reload()
        try:
            await self.state.call("publish", CHANGES, "reload")
        except StoreUnavailable:
            log.warning("could not publish a directory change; other instances pick it up on refresh")

    async def _version(self) -> int | None:
        try:
            async with asyncio.timeout(self.config.store.sql_timeout_s):
                async with self.engine.connect() as c:
                    return (await c.execute(sa.select(sql.governance_version.c.version))).scalar()
        except Exception:  # noqa: BLE001 - the full refresh still runs
            return None

    async def _refresh_loop(self) -> None:
        """A cheap poll of the change counter every poll_s, a full reload every refresh_s."""
        seen = await self._version()
        last = time.monotonic()
        while True:
            await asyncio.sleep(min(self.gcfg.poll_s, self.gcfg.refresh_s))
            version = await self._version()
            if (version is not None and version != seen) or time.monotonic() - last >= self.gcfg.refresh_s:
                seen = version if version is not None else seen
                last = time.monotonic()
                await self.reload()

    # ---- the audit log other features write to (core.types.AuditLog) ------------------------

    def record(self, kind: str, outcome: str, status: int = 200, **fields) -> None:
        """An audit record for something other than a model request (an action decision, a
        sandbox run, a refused HTTP call)."""
        if self.audit is not None:
            self.audit.submit(audit_mod.make_record(kind, outcome, status, **fields))

    def draft(self, kind: str, **fields) -> Callable[[str, int], None]:
        draft = audit_mod.RecordDraft(kind, **fields)

        def finish(outcome: str, status: int) -> None:
            if self.audit is not None:
                self.audit.submit(draft.finish(outcome, status))
        return finish

    def background(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- identify ---------------------------------------------------------------------

    @property
    def key_required(self) -> bool:
        if self.gcfg.require_key is not None:
            return self.gcfg.require_key
        return bool(self.static_keys) or self.directory.virtual_keys > 0

    def identify(self, headers, alias: str | None) -> Principal:
        if headers is None:
            return LIBRARY  # an in-process caller
        key = presented_key(headers)
        if not key:
            if self.key_required:
                raise GatewayError("invalid_api_key", "missing API key")
            return ANONYMOUS
        entry = self.directory.keys.get(hash_key(key, self.pepper))
        if entry is None:
            ok = False
            for k in self.static_keys:  # compare against every key: no timing hint
                ok |= hmac.compare_digest(key.encode(), k.encode())
            if ok:
                return self._static_principal(key)
            if not self.key_required:
                # Open mode (no keys configured yet): clients that send their provider key
                # or a placeholder, as most SDKs and benchmark tools do, are not turned away.
                return ANONYMOUS
            raise GatewayError("invalid_api_key", "invalid API key")
        if entry.revoked:
            raise GatewayError("invalid_api_key", "this API key has been revoked")
        if entry.expires_at is not None and entry.expires_at <= time.time():
            raise GatewayError("invalid_api_key", "this API key has expired")
        p = entry.principal
        if alias is not None:
            self.permit(p, alias)
        dept = headers.get("x-seawall-department")
        if dept and dept != p.department_id:
            # budgets, limits and cache entries follow the department: only a listed one will do
            if not p.allow_department_header or dept not in p.allowed_departments:
                raise GatewayError("permission_denied", "this key may not act for the department named in "
                                   "x-seawall-department", param="x-seawall-department")
            p = replace(p, department_id=dept)
        return p

    def current(self, p: Principal | None) -> Principal | None:
        """A stored principal (an async job's submitter) as the directory knows it now: the
        key's current permissions, or 401 when its virtual key was revoked, expired or deleted
        since. Static keys, the library and an open gateway pass as they are."""
        if p is None or p.key_id is None or not self.enabled:
            return p
        for entry in self.directory.keys.values():
            if entry.principal.key_id != p.key_id:
                continue
            if entry.revoked or (entry.expires_at is not None and entry.expires_at <= time.time()):
                break
            now = entry.principal
            if p.department_id != now.department_id and p.department_id in now.allowed_departments:
                now = replace(now, department_id=p.department_id)  # the department the submitter named
            return now
        raise GatewayError("invalid_api_key", "the API key that submitted this job is no longer valid")

    def _static_principal(self, key: str) -> Principal:
        p = self._static.get(key)
        if p is None:
            digest = hashlib.blake2b(key.encode(), digest_size=8).hexdigest()
            p = self._static[key] = Principal(kind="static", key_hash=digest, hint=key_hint(key))
        return p

    def permit(self, p: Principal, alias: str) -> None:
        """May this principal use this alias? (identify checks it too when given the alias)"""
        if p.allowed_models is not None and alias not in p.allowed_models:
            raise GatewayError("permission_denied", f"this key may not use the model {alias!r}", param="model")

    # ---- admit and settle -------------------------------------------------------------

    def _scopes(self, p: Principal, alias: str):
        d = self.directory
        for scope, sid in (("key", p.key_id), ("team", p.team_id), ("department", p.department_id),
                           ("model", alias)):
            if sid is not None:
                yield scope, sid, d

    async def admit(self, req, p: Principal, max_price) -> tuple[Admission | None, dict[str, str]]:
        """Count the request against every limit and reserve its estimate against every
        budget that applies, atomically. Raises 429 (limits, budget) or 503 (store down,
        fail-closed)."""
        alias = req.alias
        keys: list[str] = []
        args: list = [0, 0]
        names: list[tuple[str, int, str]] = []  # (what, limit, kind) per limit key
        token_keys: list[str] = []
        tokens_est = 0
        budgets = []
        store = self.state.store
        for scope, sid, d in self._scopes(p, alias):
            for lim in d.limits.get((scope, sid), ()):
                if lim.model != "*" and lim.model != alias:
                    continue
                base = store.key("rl", lim.id)
                if lim.rpm:
                    keys.append(base + ":r")
                    args += [lim.rpm, 1]
                    names.append((f"{scope} {sid}", lim.rpm, "requests"))
                if lim.tpm:
                    if not tokens_est:
                        mt = req.body.get("max_completion_tokens") or req.body.get("max_tokens") or 0
                        tokens_est = estimate_prompt_tokens(req.body, req.raw) + int(mt)
                    keys.append(base + ":t")
                    token_keys.append(base + ":t")
                    args += [lim.tpm, tokens_est]
                    names.append((f"{scope} {sid}", lim.tpm, "tokens"))
            if scope != "model":
                budgets.extend(d.budgets.get((scope, sid), ()))
        n = len(keys)
        if not n and not budgets:
            return None, {}
        estimate = 0
        if budgets:
            mt = req.body.get("max_completion_tokens") or req.body.get("max_tokens") or self.gcfg.default_max_tokens
            prompt = estimate_prompt_tokens(req.body, req.raw)
            estimate = int(((prompt * max_price.input + int(mt) * max_price.output) / 1e6) * MICRO) + 1 \
                if max_price is not None else 0
            now = time.time()
            for b in budgets:
                tag, ttl = period_tag(b.period, now)
                keys.append(store.key("bg", b.id, tag))
                args += [int(b.amount_usd * MICRO) if b.hard else -1, estimate, ttl]
        args[0], args[1] = n, len(budgets)
        fail_open = (self.gcfg.budgets_fail if budgets else self.gcfg.limits_fail) == "open"
        if budgets and n and self.gcfg.limits_fail == "closed":
            fail_open = False
        try:
            out, degraded = await self.state.run(scripts.ADMIT, keys, args, fail_open)
        except StoreUnavailable:
            raise GatewayError("overloaded", "rate limit and budget store unavailable; try again shortly",
                               status=503, retry_after=1.0) from None
        ok, failed, retry_ms, bucket = int(out[0]), int(out[1]), int(out[2]), int(out[3])
        headers = _ratelimit_headers(names, out)
        if degraded:
            headers["x-seawall-limits"] = "local"  # the shared store is down: this instance's counts only
        if not ok:
            if failed < n:
                what, limit, kind = names[failed]
                raise GatewayError("rate_limited", f"rate limit of {limit} {kind} per minute reached for {what}",
                                   retry_after=max(retry_ms, 1) / 1000.0, headers=headers)
            b = budgets[failed - n]
            raise GatewayError("budget_exceeded", _budget_refusal(b, int(out[4 + 2 * n + failed - n]), estimate),
                               headers=headers)
        return Admission(bucket, token_keys, tokens_est, keys[n:], estimate, degraded), headers

    def settle(self, adm: Admission | None, usage: dict | None, cost: float | None) -> None:
        """Correct the counts with what really happened (or release everything: cost None)."""
        if adm is None:
            return
        if cost is None:
            tdelta, bdelta = -adm.token_charged, -adm.estimate_micro
        else:
            used = int((usage or {}).get("total_tokens") or 0)
            tdelta = used - adm.token_charged if usage else 0
            bdelta = int(round(cost * MICRO)) - adm.estimate_micro
        if not tdelta and not bdelta:
            return
        keys = adm.token_keys + adm.budget_keys
        args = [len(adm.token_keys), len(adm.budget_keys), adm.bucket] + [tdelta] * len(adm.token_keys) \
            + [bdelta] * len(adm.budget_keys)
        if not self.state.remote:
            self.state.store.run_now(scripts.SETTLE, keys, args)
            return
        self.background(self._settle_remote(keys, args, adm.degraded))

    async def _settle_remote(self, keys, args, degraded: bool) -> None:
        try:
            if degraded:
                self.state.local.run_now(scripts.SETTLE, keys, args)
            else:
                await self.state.run(scripts.SETTLE, keys, args, fail_open=True)
        except Exception:  # noqa: BLE001
            log.warning("budget settlement failed; the reservation stays counted")


def _budget_refusal(b, used_micro: int, estimate_micro: int) -> str:
    """Say which it is, with the numbers: the budget is spent, or it has room but not for what
    this request might cost (its reservation: prompt tokens and max_tokens at the highest price
    of the alias's deployments)."""
    what = f"the {b.period} budget of ${b.amount_usd:.2f} for {b.scope} {b.scope_id}"
    used, est = used_micro / MICRO, estimate_micro / MICRO
    left = max(b.amount_usd - used, 0.0)
    if left <= 0:
        return f"{what} is spent (${used:.4f} spent or reserved)"
    return (f"this request may cost up to ${est:.4f} (its prompt and max_tokens at the alias's highest price), "
            f"more than the ${left:.4f} left of {what} (${used:.4f} spent or reserved); "
            f"lower max_tokens or raise the budget")


def _ratelimit_headers(names, out) -> dict[str, str]:
    h: dict[str, str] = {}
    for i, (_, limit, kind) in enumerate(names):
        remaining, reset_ms = int(out[4 + 2 * i]), int(out[5 + 2 * i])
        key_l = f"x-ratelimit-limit-{kind}"
        prev = h.get(f"x-ratelimit-remaining-{kind}")
        if prev is None or remaining < int(prev):  # the tightest limit of each kind
            h[key_l] = str(limit)
            h[f"x-ratelimit-remaining-{kind}"] = str(max(remaining, 0))
            h[f"x-ratelimit-reset-{kind}"] = f"{max(reset_ms, 0) / 1000:.3f}s"
    return h
