"""cache: the exact and semantic caches on the request path (between guard and coalesce).

For a chat or embeddings request whose alias may be cached (`cache:` config,
`models[].cache`), the stage resolves the policy and the `x-seawall-cache` header (`decide`),
derives the tenant scope from the principal (key, team, department, or global where the alias
opts in), and then (embeddings: the exact levels only, and no temperature rule, since a vector
is a function of its input):

1. exact lookup in the local LRU;
2. semantic lookup (aliases that opt in): the conversation's embedding in the
   (scope, alias, context) namespace, verified (a repeated text needs no embedding);
3. exact lookup in the shared level (Redis, or the SQL database);
4. on a miss, calls on, then stores the answer unless it errored, was truncated, or fails the
   output guard (and, if configured, only on the second sighting of the key). A stream is
   stored once it has completed, from its accumulated chunks.

A hit on a streaming request is replayed as chat.completion.chunk dicts (the SSE writer adds
`[DONE]`). The outcome goes to `x-seawall-cache` (miss | hit-exact | hit-semantic;score=0.93 |
stale;age=12 | refresh), Prometheus counters, and /admin/cache/stats. A hit costs the tenant
nothing (no deployment, no usage to settle); the tokens and dollars it saved are counted.

`CacheService.stale` is the fallback cascade's stale level (the assembly wires it in): when
every upstream has failed, an entry past its TTL (within `stale_for_s`) answers, with its age.
Before it keeps an answer the cache asks the guard's public verdict (`answer_passes`), and a
refresh-ahead goes back through the whole pipeline by the handler the assembly gives it.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import replace
from typing import Any, Callable

import orjson
from prometheus_client import Counter

from ..core.cost import cost_usd
from ..core.stage import Handler
from ..core.streams import tap
from ..core.types import Completion, Meta, Request, Result, Stream
from ..observe.logging import request_id as request_id_var
from .broadcast import RESYNC, SqlBroadcast, StateBroadcast
from .config import KINDS, RESTART_KEYS, reachable_aliases
from .exact import Entry, LocalLRU, Status, TieredExactCache
from .keys import exact_key, namespace
from .policy import (AliasCachePolicy, CacheConfig, SecondSighting, SemanticSettings, decide,
                     response_cacheable)
from .replay import Accumulator, replay
from .shared import open_shared_levels

log = logging.getLogger("seawall.cache")

AnswerCheck = Callable[[Request, dict], bool]  # the guard's verdict: may this answer be kept as it stands?

HEADER = "x-seawall-cache"  # the client's per-request override (long, short, none, refresh)

def scope_of(req: Request, policy: AliasCachePolicy) -> tuple[str, str]:
    """(tenant scope string, tenant kind) for the cache key."""
    if policy.scope == "global":
        return "global", "global"
    p = req.principal
    if p is None:
        return "open", "open"
    if p.kind == "virtual" and p.key_id:
        if policy.scope == "department" and p.department_id:
            return "dept:" + p.department_id, "department"
        if policy.scope in ("team", "department") and p.team_id:
            return "team:" + p.team_id, "team"
    return p.tenant, p.kind  # the key's own (each static key too), library, anonymous


# ---- metrics ----------------------------------------------------------------------------------


class CacheMetrics:
    def __init__(self, registry) -> None:
        reg = {"registry": registry} if registry is not None else {}
        self.lookups = Counter("seawall_cache_lookups_total", "Cache outcomes by alias, tenant kind and result",
                               ["alias", "tenant", "result"], **reg)
        self.saved_tokens = Counter("seawall_cache_saved_tokens_total", "Tokens not sent upstream thanks to the cache",
                                    ["alias", "tenant"], **reg)
        self.saved_usd = Counter("seawall_cache_saved_usd_total", "Upstream cost avoided by cache hits (USD)",
                                 ["alias", "tenant"], **reg)
        self._children: dict[tuple, Any] = {}

    def inc(self, metric, *labels, n: float = 1) -> None:
        key = (id(metric), labels)
        c = self._children.get(key)
        if c is None:
            c = self._children[key] = metric.labels(*labels)
        c.inc(n)


# ---- the cache of one gateway --------------------------------------------------------------------


class CacheService:
    """The gateway's caches, the per-alias policies, stats, invalidation and the stale hook."""

    def __init__(self, cfg, router, metrics, stores, answer_passes: AnswerCheck | None = None) -> None:
        self.settings = cfg
        self.policies: dict[str, AliasCachePolicy] = {}
        self.config: CacheConfig = cfg.cache
        self.reachable: frozenset[str] = frozenset()
        self.prices: dict = {}
        self.wants_semantic = False
        self.__dict__.update(self._per_config(cfg, router, running=False))
        self.answer_passes = answer_passes or (lambda req, body: True)
        self.resubmit: Handler | None = None  # the whole pipeline, for refresh-ahead (set by the assembly)
        self.metrics = CacheMetrics(metrics.registry)
        self.requests = metrics  # how many requests this process has in flight
        self.local = LocalLRU(cfg.cache.local_max_entries)
        self.state = stores.state
        self.engine = stores.sql
        self.shared, self.shared_sem = open_shared_levels(  # Redis, the SQL database, or none
            cfg.cache.shared, self.state, stores.sql, refresh_s=cfg.cache.semantic_refresh_s,
            sql_timeout_s=cfg.store.sql_timeout_s)
        self.shared_errors = 0
        self.instance = os.urandom(6).hex()  # tells our own invalidation broadcasts apart
        self.exact = TieredExactCache(self.local, self.shared, self._shared_error)
        self.semantic = None  # SemanticCache, loaded at start when an alias uses it
        self.sighting = SecondSighting()
        self.stats: dict[str, dict[str, float]] = {}
        self._tasks: set[asyncio.Task] = set()
        self.broadcast: StateBroadcast | SqlBroadcast | None = None  # tells the other instances of invalidations
        self._refreshing: set[str] = set()  # keys with a refresh in flight

    def _per_config(self, cfg, router, running: bool = True) -> dict:
        """What one configuration decides: the aliases' policies, which aliases the stage looks
        at, the prices of cache savings. The storage (levels, sizes, the embedder) is the
        running one's: a reload keeps it (RESTART_KEYS)."""
        policies = {a: p.cache for a, p in cfg.profiles.items()}
        keep = {k: getattr(self.config, k) for k in RESTART_KEYS} if running else {}
        reachable = reachable_aliases(cfg, policies)
        return {"policies": policies, "config": cfg.cache.model_copy(update={"aliases": policies, **keep}),
                "reachable": reachable, "prices": {d.id: d.price for d in router.deployments.values()},
                "wants_semantic": any(p.semantic.enabled for a, p in policies.items() if a in reachable)}

    async def prepare(self, cfg, router) -> Callable[[], None]:
        """A reload: load the embedder if an alias now caches semantically; the returned commit
        swaps the policies in, in the same step as the new pipeline. Entries stay."""
        parts = self._per_config(cfg, router)
        if parts["wants_semantic"] and self.semantic is None:
            await self._load_semantic()

        def commit() -> None:
            self.__dict__.update(parts)

        return commit

    async def start(self) -> None:
        if self.broadcast is None and self.reachable:
            if self.state.remote:  # Redis pub/sub
                self.broadcast = StateBroadcast(self.state, self._on_invalidate)
            elif self.config.invalidation_poll_s > 0:  # only a SQL database in common: a polled log
                self.broadcast = SqlBroadcast(self.engine, self._on_invalidate, poll_s=self.config.invalidation_poll_s,
                                              timeout_s=self.settings.store.sql_timeout_s)
                self.broadcast.start()
        if self.wants_semantic and self.semantic is None:
            await self._load_semantic()

    async def _load_semantic(self) -> None:
        from ..vector.embedder import default_aligned, default_threshold, load_embedder
        from ..vector.judge import judge_for
        from .semantic import SemanticCache

        cc = self.config
        emb = await asyncio.to_thread(load_embedder, cc.embedder, cache_entries=cc.embedding_cache_entries,
                                      cache_ttl_s=cc.embedding_cache_ttl_s)
        await asyncio.to_thread(emb.embed, ["warm up"])
        judge = await asyncio.to_thread(judge_for, cc.embedder)
        self.semantic = SemanticCache(emb, threshold=default_threshold(cc.embedder), judge=judge,
                                      aligned=default_aligned(cc.embedder))

    async def aclose(self) -> None:
        """Finish background writes (within a time limit) before the stores close."""
        await self.drain(timeout_s=5.0, close=True)

    def _shared_error(self, exc: BaseException) -> None:
        self.shared_errors += 1
        log.debug("shared cache level failed: %s", exc)

    def spawn(self, coro) -> asyncio.Task:
        t = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(t)
        t.add_done_callback(self._done)
        return t

    def _done(self, t: asyncio.Task) -> None:
        self._tasks.discard(t)
        if not t.cancelled() and t.exception() is not None:
            self._shared_error(t.exception())

    async def drain(self, timeout_s: float | None = None, close: bool = False) -> None:
        """Wait for background stores and refreshes, then the shared levels' queued writes
        (tests; shutdown with close=True, within a time limit)."""
        try:
            async with asyncio.timeout(timeout_s):
                while self._tasks:
                    await asyncio.gather(*list(self._tasks), return_exceptions=True)
                for level in self._levels():  # the SQL levels write behind
                    await (level.aclose() if close else level.flush())
            if close and self.broadcast is not None:
                await self.broadcast.aclose()
                self.broadcast = None
        except TimeoutError:
            log.warning("shutdown: %d cache writes not finished", len(self._tasks))

    # -- counting
    def count(self, alias: str, tenant: str, result: str, meta: dict | None = None) -> None:
        m = self.metrics
        m.inc(m.lookups, alias, tenant, result)
        s = self.stats.get(alias)
        if s is None:
            s = self.stats[alias] = {"hit_exact": 0, "hit_semantic": 0, "miss": 0, "stale": 0, "stored": 0,
                                     "refreshed": 0, "saved_tokens": 0, "saved_usd": 0.0}
        s[result] = s.get(result, 0) + 1
        if meta and result != "stored":
            tokens, usd = int(meta.get("tokens") or 0), float(meta.get("cost_usd") or 0.0)
            if tokens:
                m.inc(m.saved_tokens, alias, tenant, n=tokens)
                s["saved_tokens"] += tokens
            if usd:
                m.inc(m.saved_usd, alias, tenant, n=usd)
                s["saved_usd"] += usd

    # -- answers from the cache
    def answer(self, req: Request, value: Any, status: str) -> Result:
        req.meta.cache = status
        raw = bytes(value) if isinstance(value, (bytes, bytearray)) else orjson.dumps(value)
        if req.stream:
            include = bool((req.body.get("stream_options") or {}).get("include_usage"))
            return Stream(replay(orjson.loads(raw), include), req.meta)
        return Completion(req.meta, raw=raw)

    # -- stores
    def store(self, req: Request, key: str, scope: str, tenant: str, d, policy: AliasCachePolicy,
              body: dict, raw: bytes | None) -> bool:
        if not response_cacheable(body) or not self.answer_passes(req, body):
            return False
        if policy.admit_on_second_sighting and not self.sighting.admit(key):
            return False
        usage = body.get("usage") or req.meta.usage or {}
        tokens = int(usage.get("total_tokens") or 0) or int(usage.get("prompt_tokens") or 0) + int(
            usage.get("completion_tokens") or 0)
        meta = {"tokens": tokens, "cost_usd": cost_usd(self.prices.get(req.meta.deployment), usage),
                "deployment": req.meta.deployment}
        value = raw if raw is not None else orjson.dumps(body)
        entry = Entry.new(key, value, d.ttl_s, d.stale_for_s, meta=meta)
        self.local.set(entry)
        self.count(req.alias, tenant, "stored")
        if self.shared is not None:
            self.spawn(self.shared.set(entry))
        if policy.semantic.enabled and self.semantic is not None and req.original_digest is None:
            self.spawn(self._semantic_store(scope, req.alias, req.body, value, entry))
        return True

    async def _semantic_store(self, scope: str, alias: str, body: dict, value: bytes, entry: Entry) -> None:
        sem = self.semantic
        view = sem.view(body)
        if view is None:
            return
        ns = (scope, alias, view.fingerprint)
        meta = {**entry.meta, "key": entry.key}  # a later request with this exact key is an exact hit

        def embed_and_add():  # off the event loop: embedding, and an index add that may switch tiers
            vec = sem._vector(view)
            sem.add_entry(ns, vec, view.query, view.history, value, entry.created_at, entry.expires_at,
                          entry.stale_until, meta)
            return vec

        vec = await asyncio.to_thread(embed_and_add)
        if self.shared_sem is not None:
            uid = os.urandom(8).hex()
            self.shared_sem.mark_seen(ns, uid)
            rec = {"query": view.query, "history": view.history, "response": value.decode(),
                   "created_at": entry.created_at, "expires_at": entry.expires_at,
                   "stale_until": entry.stale_until, "meta": meta}
            await self.shared_sem.put(ns, uid, vec, rec, entry.stale_until - time.time())

    async def semantic_lookup(self, scope: str, alias: str, body: dict, settings: SemanticSettings,
                              allow_stale: bool = False):
        sem = self.semantic
        view = sem.view(body) if sem is not None else None
        if view is None:  # no semantic cache, or no user turn last to compare
            return None
        if self.shared_sem is not None:
            await self._pull((scope, alias, view.fingerprint))
        kw = {"threshold": settings.threshold, "candidates": settings.candidates, "allow_stale": allow_stale,
              "verify": settings.verify,
              "judge": settings.judge, "judge_threshold": settings.judge_threshold,
              "align": settings.align, "align_threshold": settings.align_threshold}
        if self.requests.active <= 1:
            # Alone on this event loop: nothing to hold up, so embed right here and save the two
            # thread wake-ups of a hop (~0.5 ms on a small VM). Otherwise in a worker thread.
            return sem.lookup(scope, alias, view, **kw)
        return await sem.alookup(scope, alias, view, **kw)

    async def _pull(self, ns: tuple[str, str, str]) -> None:
        if not self.shared_sem.due(ns):
            return
        if self.shared_sem.loaded(ns):  # a refresh: what others wrote lately need not hold up this lookup
            self.spawn(self._load(ns))
        else:  # first look at this namespace (a restart, an invalidation): load before answering
            await self._load(ns)

    async def _load(self, ns: tuple[str, str, str]) -> None:
        try:
            new = await self.shared_sem.pull(ns)
        except Exception as exc:  # noqa: BLE001 - a store that is down: serve what we have
            self._shared_error(exc)
            return
        if new:
            await asyncio.to_thread(self._add_pulled, ns, new)

    def _add_pulled(self, ns: tuple[str, str, str], new: list) -> None:
        for _, vec, rec in new:
            self.semantic.add_entry(ns, vec, rec["query"], rec["history"], rec["response"].encode(),
                                    rec["created_at"], rec["expires_at"], rec["stale_until"], rec.get("meta"))

    def record_stream(self, req: Request, key: str, scope: str, tenant: str, d, policy, stream: Stream) -> None:
        """Store a streamed answer once it has completed, from its accumulated chunks."""
        acc = Accumulator()

        def on_end(outcome) -> None:
            if not outcome.ok:
                return
            try:
                self.store(req, key, scope, tenant, d, policy, acc.body(req.meta.usage), None)
            except Exception:  # noqa: BLE001 - caching is best effort; the client has its answer
                log.exception("storing a streamed answer failed")

        tap(stream, on_chunk=acc.feed, on_end=on_end)

    # -- refresh-ahead
    def maybe_refresh(self, req: Request, entry: Entry, policy: AliasCachePolicy, tenant: str) -> None:
        """After an exact hit: refresh the entry in the background if it is hot and close to
        its expiry (at most one refresh per key in flight in this process)."""
        entry.hits += 1
        ra = policy.refresh_ahead
        if not ra.enabled or entry.hits < ra.min_hits or entry.key in self._refreshing:
            return
        if entry.expires_at - time.time() > ra.window * (entry.expires_at - entry.created_at):
            return
        self._refreshing.add(entry.key)
        self.spawn(self._refresh(req, entry.key, tenant))

    async def _refresh(self, req: Request, key: str, tenant: str) -> None:
        body = {k: v for k, v in req.body.items() if k not in ("stream", "stream_options")}
        try:
            clone = Request(kind=req.kind, alias=req.alias, body=body, stream=False,
                            meta=Meta(req.request_id + "-refresh"), headers=req.headers,
                            principal=req.principal, background=True, original_digest=req.original_digest)
            request_id_var.set(clone.request_id)  # this task's own context
            await self.resubmit(clone)
            self.count(req.alias, tenant, "refreshed")
        except Exception as exc:  # noqa: BLE001 - rate limit, budget, upstream down: the entry just expires
            log.info("refresh-ahead of a cache entry failed: %s", getattr(exc, "code", type(exc).__name__))
        finally:
            self._refreshing.discard(key)

    # -- the fallback cascade's stale level
    async def stale(self, req: Request) -> Result | None:
        if req.kind not in KINDS or req.alias not in self.reachable:
            return None
        d = decide(self.config, req.alias, req.body, None, req.kind)
        if not d.write:
            return None
        policy = self.policies[req.alias]
        scope, tenant = scope_of(req, policy)
        res = await self.exact.get(exact_key(scope, req.alias, req.body, req.original_digest))
        if res.entry is not None and res.status in (Status.STALE, Status.HIT):
            self.count(req.alias, tenant, "stale", res.entry.meta)
            return self.answer(req, res.entry.value, f"stale;age={int(res.age_s)}")
        if policy.semantic.enabled and req.original_digest is None:
            hit = await self.semantic_lookup(scope, req.alias, req.body, policy.semantic, allow_stale=True)
            if hit is not None:
                self.count(req.alias, tenant, "stale", hit.entry.meta)
                return self.answer(req, hit.response, f"stale;age={int(hit.age_s)};score={hit.score:.2f}")
        return None

    # -- admin
    async def invalidate(self, *, alias: str | None = None, tenant: str | None = None,
                         prefix: str | None = None) -> dict[str, int]:
        """Delete from this process's levels and the shared store, and tell the other instances
        to drop their local copies (broadcast.py: Redis pub/sub, else the SQL log)."""
        out = self._invalidate_local(alias, tenant, prefix)
        if self.shared is not None:
            if prefix is not None:
                out["shared"] = await self.shared.delete_prefix(prefix)
            elif tenant is not None:
                out["shared"] = await self.shared.delete_prefix(namespace(tenant, alias))
            elif alias is not None:
                out["shared"] = await self.shared.delete_alias(alias)
            else:
                out["shared"] = await self.shared.delete_prefix("")
        if self.shared_sem is not None and _touches_semantic(alias, tenant, prefix):
            out["semantic"] += await self.shared_sem.delete(tenant, alias)
        if self.broadcast is not None:
            msg = {"from": self.instance, "alias": alias, "tenant": tenant, "prefix": prefix}
            try:
                await self.broadcast.publish(orjson.dumps(msg).decode())
            except Exception as exc:  # noqa: BLE001 - the others keep their copies until TTL
                self._shared_error(exc)
                out["broadcast"] = 0
            else:
                out["broadcast"] = 1
        return out

    def _invalidate_local(self, alias: str | None, tenant: str | None, prefix: str | None) -> dict[str, int]:
        out = {"local": self.local.invalidate(scope=tenant, alias=alias, prefix=prefix), "shared": 0, "semantic": 0}
        if _touches_semantic(alias, tenant, prefix):
            if self.semantic is not None:
                out["semantic"] = self.semantic.invalidate(scope=tenant, alias=alias)
            if self.shared_sem is not None:
                self.shared_sem.forget(tenant, alias)  # those namespaces: read again from the shared level
        return out

    async def _on_invalidate(self, message: str) -> None:
        """Another instance invalidated (or a resync: we may have missed some, so drop every
        local copy; the shared level still has what is valid)."""
        if message == RESYNC:
            self._invalidate_local(None, None, "")
            return
        msg = orjson.loads(message)
        if msg.get("from") != self.instance:
            self._invalidate_local(msg.get("alias"), msg.get("tenant"), msg.get("prefix"))

    def _levels(self) -> list:
        return [lv for lv in (self.shared, self.shared_sem) if lv is not None]

    def snapshot(self) -> dict:
        total = {k: 0 for k in ("hit_exact", "hit_semantic", "miss", "stale", "stored", "refreshed", "saved_tokens")}
        total["saved_usd"] = 0.0
        for s in self.stats.values():
            for k in total:
                total[k] += s.get(k, 0)
        looked = total["hit_exact"] + total["hit_semantic"] + total["miss"]
        return {
            "enabled": self.config.enabled,
            "aliases": {a: {"category": p.category.value, "scope": p.scope, "semantic": p.semantic.enabled}
                        for a, p in self.policies.items() if a in self.reachable},
            "hit_rate": round((total["hit_exact"] + total["hit_semantic"]) / looked, 4) if looked else 0.0,
            "totals": total,
            "by_alias": self.stats,
            "local": {"entries": len(self.local), "max_entries": self.local.max_entries,
                      "evictions": self.local.evictions},
            "shared": {"backend": self.shared.backend if self.shared is not None else None,
                       "errors": self.shared_errors + sum(lv.errors for lv in self._levels()),
                       "dropped_writes": sum(lv.dropped for lv in self._levels())},
            "semantic": self.semantic.stats() if self.semantic is not None else None,
            "invalidation_broadcast": {"via": {StateBroadcast: "pubsub", SqlBroadcast: "sql-log"}.get(
                type(self.broadcast)), "errors": getattr(self.broadcast, "errors", 0)},
        }


# fallback levels whose answer did not come from an upstream model
_NOT_AN_ANSWER = frozenset({"stale", "degraded", "escalated"})


def _touches_semantic(alias: str | None, tenant: str | None, prefix: str | None) -> bool:
    """Semantic entries have no exact-key prefix: a prefix invalidation reaches them only when
    it means everything."""
    return prefix is None or (alias is None and tenant is None and prefix == "")


class CacheStage:
    """cache: exact -> semantic -> call on and store (see the module doc)."""

    def __init__(self, svc: CacheService) -> None:
        self.svc = svc

    async def __call__(self, req: Request, call_next) -> Result:
        svc = self.svc
        if req.alias not in svc.reachable or req.kind not in KINDS:
            return await call_next(req)
        override = req.cache
        if override is None and req.headers is not None:
            override = req.headers.get(HEADER)
        background = req.background  # the cache's own refresh: set only in process, never by a client
        if background:
            d = replace(decide(svc.config, req.alias, req.body, None, req.kind), read=False)
        else:
            d = decide(svc.config, req.alias, req.body, override, req.kind)
        if not d.active:
            req.meta.cache = d.skipped  # "skip;reason=temperature": why a cached alias did not cache this
            return await call_next(req)
        alias = req.alias
        policy = req.profile.cache
        scope, tenant = scope_of(req, policy)
        key = exact_key(scope, alias, req.body, req.original_digest)
        # A rewritten request's placeholders say nothing about what they stand for: only its
        # exact repeat (same original content) may share an answer, never a look-alike.
        semantic = policy.semantic.enabled and req.original_digest is None
        if d.read:
            res = svc.exact.local.get(key)
            if res.status is not Status.HIT and semantic:
                # Before the shared exact level: the semantic index holds what this alias stored (here
                # or, pulled, by other instances) and finds a repeated text without an embedding, all in
                # process, so only a semantic miss pays the shared read (~1 ms on SQLite).
                hit = await svc.semantic_lookup(scope, alias, req.body, policy.semantic)
                if hit is not None and hit.entry.meta.get("key") == key:  # the very same request
                    svc.count(alias, tenant, "hit_exact", hit.entry.meta)
                    return svc.answer(req, hit.response, "hit-exact")
                if hit is not None:
                    svc.count(alias, tenant, "hit_semantic", hit.entry.meta)
                    return svc.answer(req, hit.response, f"hit-semantic;score={hit.score:.2f}")
            if res.status is not Status.HIT and svc.exact.shared is not None:
                res = await svc.exact.get_shared(key, res)
            if res.status is Status.HIT:
                svc.count(alias, tenant, "hit_exact", res.entry.meta)
                svc.maybe_refresh(req, res.entry, policy, tenant)
                return svc.answer(req, res.entry.value, "hit-exact")
        if not background:  # the hit that triggered it was counted
            svc.count(alias, tenant, "miss")
        req.meta.cache = "miss" if d.read else "refresh"
        result = await call_next(req)
        if req.meta.fallback_level in _NOT_AN_ANSWER:
            return result  # stale, degraded or escalated by the cascade: not an upstream answer to keep
        if isinstance(result, Stream):
            svc.record_stream(req, key, scope, tenant, d, policy, result)
        else:
            try:
                svc.store(req, key, scope, tenant, d, policy, result.body, result.raw)
            except Exception:  # noqa: BLE001 - caching is best effort
                log.exception("storing an answer failed")
        return result
