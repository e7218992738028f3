"""The cache on the request path, in process, on both backends (memory + SQLite, Redis +
PostgreSQL): tenant isolation for the exact and semantic caches, entries shared between
instances through Redis, what is never stored, the header override, a Redis that is down."""
from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from seawall.config import parse
from seawall.gateway import Gateway
from seawall.govern.admin import Admin
from seawall.sim import Simulator
from services import REDIS, backend, free_port, psql, redis_cleanup, require_services  # noqa: F401  (fixture)

PRICE = {"input": 1.0, "output": 2.0}
Q = "What is the capital of France?"
PARAPHRASE = "What's the capital of France?"


@pytest.fixture
async def sim():
    s = Simulator(seed=5)
    await s.start(host="127.0.0.1", port=0)
    yield s
    await s.stop()


def config(sim, store: dict, semantic: bool = False, **alias_cache) -> dict:
    cache = {"category": "short", **alias_cache}
    if semantic:
        cache["semantic"] = {"enabled": True}
    return {
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [
            {"name": "m", "targets": [{"provider": "sim", "model": "gpt-4o-mini", "price": PRICE}], "cache": cache},
            {"name": "t", "targets": [{"provider": "sim", "model": "gpt-4o-mini", "price": PRICE}],
             "cache": {"category": "short", "scope": "team"}},
            {"name": "echo", "targets": [{"provider": "sim", "model": "echo", "price": PRICE}],
             "cache": {"category": "short"},
             "guard": {"pii_actions": {"EMAIL_ADDRESS": "allow"}, "output_pii_actions": {"EMAIL_ADDRESS": "redact"}}},
            {"name": "plain", "targets": [{"provider": "sim", "model": "gpt-4o-mini", "price": PRICE}]},
        ],
        "server": {"access_log": False},
        "store": store,
    }


def store_of(backend) -> dict:
    return {"state": backend["state"], "sql": backend["sql"], "prefix": backend["prefix"]}


async def ask(gw, key: str | None, text: str, model: str = "m", **extra):
    headers = {"authorization": f"Bearer {key}"} if key else {}
    headers.update(extra.pop("headers", {}))
    req = gw.request("chat", {"model": model, "temperature": 0, "messages": [{"role": "user", "content": text}],
                              **extra}, headers=headers)
    res = await gw.handle(req)
    await gw.cache.drain()  # background writes (shared level, semantic index) are done
    return req.meta.cache, res


async def three_tenants(gw):
    admin = Admin(gw.governance)
    await admin.create_department("eng")
    await admin.create_team("core", department="eng")
    await admin.create_team("ops", department="eng")
    a = (await admin.create_key(user="ann", team="core"))["key"]
    b = (await admin.create_key(user="bob", team="core"))["key"]
    c = (await admin.create_key(user="cat", team="ops"))["key"]
    return a, b, c


async def test_no_cross_tenant_hits_exact_and_semantic(sim, backend):
    gw = Gateway(parse({**config(sim, store_of(backend), semantic=True),
                        "governance": {"audit": {"spool_dir": backend["spool"]}}}))
    await gw.start()
    try:
        a, b, c = await three_tenants(gw)
        assert (await ask(gw, a, Q))[0] == "miss"
        status, first = await ask(gw, a, Q)
        assert status == "hit-exact"
        # key scope: another key of the same team, and a key of another team, see nothing
        assert (await ask(gw, b, Q))[0] == "miss"
        assert (await ask(gw, c, PARAPHRASE))[0] == "miss"  # semantic: not across tenants either
        status, para = await ask(gw, a, PARAPHRASE)  # the same paraphrase is served inside tenant A
        assert status.startswith("hit-semantic;score=")
        assert para.body["choices"][0]["message"] == first.body["choices"][0]["message"]
        # team scope: same team shares, another team does not
        assert (await ask(gw, a, "team question", model="t"))[0] == "miss"
        assert (await ask(gw, b, "team question", model="t"))[0] == "hit-exact"
        assert (await ask(gw, c, "team question", model="t"))[0] == "miss"
        assert (await ask(gw, a, "written on one", model="t"))[0] == "miss"
        received = sim.stats["received"]

        # a second instance serves what the first wrote (Redis, or the same SQLite file), same isolation
        gw2 = Gateway(parse({**config(sim, store_of(backend), semantic=True),
                             "governance": {"audit": {"spool_dir": backend["spool"] + "2"}}}))
        await gw2.start()
        try:
            assert len(gw2.cache.local) == 0
            assert (await ask(gw2, a, Q))[0] == "hit-exact"
            assert (await ask(gw2, b, "written on one", model="t"))[0] == "hit-exact"
            assert (await ask(gw2, a, PARAPHRASE + " "))[0].startswith("hit-semantic")
            assert sim.stats["received"] == received  # none of these reached the upstream
            assert (await ask(gw2, c, "written on one", model="t"))[0] == "miss"
            stats = gw2.cache.snapshot()
            expected = "redis" if backend["kind"] == "redis" else "sqlite"
            assert stats["shared"]["backend"] == expected and stats["totals"]["hit_exact"] == 2
        finally:
            await gw2.aclose()
    finally:
        await gw.aclose()


async def test_semantic_index_is_asked_before_the_shared_exact_level(sim, tmp_path):
    """A semantic hit, or an exact repeat that the semantic index holds, never pays the shared
    level's read; a semantic miss still reads it (another instance may have written the key)."""
    gw = Gateway(parse({**config(sim, {"sql": f"sqlite:///{tmp_path}/c.db"}, semantic=True),
                        "governance": {"audit": {"spool_dir": str(tmp_path / "spool")}}}))
    await gw.start()
    try:
        shared = gw.cache.exact.shared
        reads = []
        real_get = shared.get

        async def counting_get(key):
            reads.append(key)
            return await real_get(key)

        shared.get = counting_get
        assert (await ask(gw, None, Q))[0] == "miss"
        assert len(reads) == 1
        gw.cache.local.invalidate()  # as after an eviction: only the index and the database hold it
        assert (await ask(gw, None, Q))[0] == "hit-exact"  # found by the index's same-text path
        assert (await ask(gw, None, PARAPHRASE))[0].startswith("hit-semantic")
        assert len(reads) == 1
        assert (await ask(gw, None, "How tall is the Eiffel Tower?"))[0] == "miss"
        assert len(reads) == 2
        assert gw.cache.snapshot()["totals"]["hit_exact"] == 1
    finally:
        await gw.aclose()


async def test_semantic_threshold_is_the_embedders_unless_the_alias_sets_one(sim, tmp_path):
    """The threshold an alias gets is the one calibrated for the configured embedder (they
    spread similarities differently); an alias's own threshold wins, from config or changed."""
    from seawall.vector.embedder import default_threshold

    cfg = config(sim, {"sql": f"sqlite:///{tmp_path}/c.db"}, semantic=True)
    cfg["models"][1]["cache"]["semantic"] = {"enabled": True, "threshold": 0.97}
    gw = Gateway(parse({**cfg, "governance": {"audit": {"spool_dir": str(tmp_path / "spool")}}}))
    await gw.start()
    try:
        svc = gw.cache
        assert svc.policies["m"].semantic.threshold is None
        assert svc.semantic.threshold == default_threshold(gw.config.cache.embedder)
        assert default_threshold("onnx-int8-l3") != default_threshold("onnx-int8")
        assert svc.policies["t"].semantic.threshold == 0.97
        assert (await ask(gw, None, Q))[0] == "miss"
        status, _ = await ask(gw, None, PARAPHRASE)
        score = float(status.split("score=")[1])
        assert svc.semantic.threshold <= score
        profile = gw.config.profile("m")  # the alias's compiled policy, which the stage reads
        p = profile.cache
        profile.cache = p.model_copy(update={"semantic": p.semantic.model_copy(
            update={"threshold": min(score + 0.02, 1.0)})})
        assert (await ask(gw, None, PARAPHRASE))[0] == "miss"  # the same pair, refused under the alias's own
    finally:
        await gw.aclose()


async def test_semantic_lookup_runs_inline_alone_and_in_a_thread_under_load(sim, tmp_path):
    """A lone request embeds on the event loop (no thread hop); with another request in flight
    the embedding moves to a worker thread (the loop stays free), and both ways serve hits."""
    gw = Gateway(parse({**config(sim, {"sql": f"sqlite:///{tmp_path}/c.db"}, semantic=True),
                        "governance": {"audit": {"spool_dir": str(tmp_path / "spool")}}}))
    await gw.start()
    try:
        subjects = ["France", "Japan", "Peru", "Kenya", "Norway", "Canada"]
        for s in subjects:
            assert (await ask(gw, None, f"What is the capital of {s}?"))[0] == "miss"
        sem = gw.cache.semantic
        threaded = []
        real_alookup = sem.alookup

        async def spy(*a, **kw):
            threaded.append(a[2].query)
            return await real_alookup(*a, **kw)

        sem.alookup = spy
        assert (await ask(gw, None, "What's the capital of France?"))[0].startswith("hit-semantic")
        assert threaded == []
        gw.metrics.enter()  # another request in flight on this loop (a slow upstream call, say)
        try:
            reqs = [gw.request("chat", {"model": "m", "temperature": 0, "messages": [
                {"role": "user", "content": f"What's the capital of {s}?"}]}, headers={}) for s in subjects[1:]]
            await asyncio.gather(*(gw.handle(r) for r in reqs))
        finally:
            gw.metrics.leave()
        assert [r.meta.cache.split(";")[0] for r in reqs] == ["hit-semantic"] * len(reqs)
        assert sorted(threaded) == sorted(f"What's the capital of {s}?" for s in subjects[1:])
    finally:
        await gw.aclose()


async def test_invalidate_by_tenant_and_alias_on_both_levels(sim, backend):
    gw = Gateway(parse({**config(sim, store_of(backend)), "governance": {"audit": {"spool_dir": backend["spool"]}}}))
    await gw.start()
    try:
        a, b, c = await three_tenants(gw)
        for key in (a, c):
            await ask(gw, key, "q1")
            await ask(gw, key, "q1", model="t")
        scope_a = "key:" + gw.governance.identify({"authorization": f"Bearer {a}"}, "m").key_id
        out = await gw.cache.invalidate(tenant=scope_a)
        assert out["local"] == 1 and (backend["kind"] == "memory" or out["shared"] == 1)
        assert (await ask(gw, a, "q1"))[0] == "miss"
        assert (await ask(gw, c, "q1"))[0] == "hit-exact"  # another tenant's entry untouched
        out = await gw.cache.invalidate(alias="t")
        assert out["local"] == 2 and (backend["kind"] == "memory" or out["shared"] == 2)
        assert (await ask(gw, c, "q1", model="t"))[0] == "miss"
    finally:
        await gw.aclose()


@pytest.mark.parametrize("via", ["redis", "sqlite-log", "postgres-log"])
async def test_invalidation_reaches_the_other_instances_local_copies(sim, tmp_path, via):
    """An instance that served an entry from its own LRU or semantic index drops it when another
    instance invalidates: told by Redis pub/sub, or without Redis by the invalidation log in the
    SQL database they share (one SQLite file, or PostgreSQL). Without it, it would keep serving."""
    name = "sw_t_" + uuid.uuid4().hex[:10]
    if via == "sqlite-log":
        store = {"sql": f"sqlite:///{tmp_path / 'shared.db'}"}
    else:
        require_services()
        psql(f"CREATE DATABASE {name}")
        store = {"sql": f"postgresql://postgres@127.0.0.1:5432/{name}"}
        if via == "redis":
            store.update(state=REDIS, prefix=f"swt:{name}:")
    gws = []
    try:
        for i in range(2):
            gw = Gateway(parse({**config(sim, store, semantic=True),
                                "cache": {"invalidation_poll_s": 0.1},
                                "governance": {"audit": {"spool_dir": str(tmp_path / f"spool{i}")}}}))
            await gw.start()
            gws.append(gw)
        one, two = gws
        stats = two.cache.snapshot()["invalidation_broadcast"]
        assert stats == {"via": "pubsub" if via == "redis" else "sql-log", "errors": 0}
        assert (await ask(one, None, Q))[0] == "miss"
        assert (await ask(two, None, Q))[0] == "hit-exact"  # read from the shared level, now in two's LRU
        assert (await ask(two, None, PARAPHRASE))[0].startswith("hit-semantic")  # now in two's index
        assert (await ask(one, None, "other alias", model="t"))[0] == "miss"
        assert (await ask(two, None, "other alias", model="t"))[0] == "hit-exact"
        await asyncio.sleep(0.5)  # both subscriptions are live (a late subscriber joins within 0.25 s)

        out = await one.cache.invalidate(alias="m")
        assert out["broadcast"] == 1
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (len(two.cache.semantic) or
                                               any("|m|" in k for k in two.cache.local.keys())):
            await asyncio.sleep(0.05)
        received = sim.stats["received"]
        # a local copy left behind would answer hit-exact (LRU) or hit-semantic (index)
        assert (await ask(two, None, Q))[0] == "miss"
        assert sim.stats["received"] == received + 1
        assert (await ask(two, None, "other alias", model="t"))[0] == "hit-exact"  # another alias: kept
        assert (await ask(one, None, Q))[0] == "hit-exact"  # what two stored since: not dropped by a replay
    finally:
        for gw in gws:
            await gw.aclose()
        if via == "redis":
            redis_cleanup(REDIS, store["prefix"])
        if via != "sqlite-log":
            psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def test_library_cache_override(sim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gw = Gateway(parse(config(sim, {"sql": f"sqlite:///{tmp_path}/s.db"}, allow_overrides=["none", "refresh"])))
    async with gw:
        msgs = [{"role": "user", "content": "library question"}]
        first = await gw.chat(model="m", messages=msgs, temperature=0)
        assert first.meta.cache == "miss"
        assert (await gw.chat(model="m", messages=msgs, temperature=0)).meta.cache == "hit-exact"
        n = sim.stats["received"]
        skipped = await gw.chat(model="m", messages=msgs, temperature=0, cache="none")
        assert "x-seawall-cache" not in skipped.meta.extra and sim.stats["received"] == n + 1
        refreshed = await gw.chat(model="m", messages=msgs, temperature=0, cache="refresh")
        assert refreshed.meta.cache == "refresh" and sim.stats["received"] == n + 2
        async with gw.stream(model="m", messages=msgs, temperature=0) as s:
            chunks = [c async for c in s]
        assert s.meta.cache == "hit-exact" and chunks


async def test_refresh_ahead_keeps_a_hot_entry_fresh_and_is_billed_and_audited(sim, tmp_path, monkeypatch):
    import orjson
    import sqlalchemy as sa

    from seawall.store import sql

    monkeypatch.chdir(tmp_path)
    cfg = config(sim, {"sql": f"sqlite:///{tmp_path}/s.db"},
                 refresh_ahead={"enabled": True, "window": 0.6, "min_hits": 2})
    cfg["cache"] = {"short_ttl_s": 2.0}
    gw = Gateway(parse(cfg))
    async with gw:
        assert (await ask(gw, None, Q))[0] == "miss"
        first = gw.cache.local.get(next(iter(gw.cache.local.keys()))).entry
        n = sim.stats["received"]
        assert [(await ask(gw, None, Q))[0] for _ in range(2)] == ["hit-exact", "hit-exact"]
        assert sim.stats["received"] == n  # hot, but not yet close to expiry
        await asyncio.sleep(max(0.0, first.expires_at - time.time() - 1.0))  # 1 s of the 2 s TTL left
        assert (await ask(gw, None, Q))[0] == "hit-exact"  # served at once; the refresh runs behind
        assert sim.stats["received"] == n + 1
        fresh = gw.cache.local.get(first.key).entry
        assert fresh.created_at > first.created_at and fresh.expires_at > first.expires_at
        await asyncio.sleep(max(0.0, first.expires_at - time.time() + 0.1))  # the first entry has expired
        assert (await ask(gw, None, Q))[0] == "hit-exact"  # readers never saw the expiry miss
        snap = gw.cache.snapshot()["by_alias"]["m"]
        assert snap["refreshed"] == 1 and snap["miss"] == 1

        await gw.governance.audit.flush()
        async with gw.governance.engine.connect() as c:
            rows = (await c.execute(sa.select(sql.audit_log.c.request_id, sql.audit_log.c.cost_usd,
                                              sql.audit_log.c.detail)
                                    .where(sql.audit_log.c.kind == "request"))).mappings().all()
        refresh = [r for r in rows if r["request_id"].endswith("-refresh")]
        assert len(refresh) == 1 and refresh[0]["cost_usd"] > 0  # the upstream call is paid and recorded
        assert orjson.loads(refresh[0]["detail"])["cache"] == "refresh"
        hits = [r for r in rows if orjson.loads(r["detail"]).get("cache") == "hit-exact"]
        assert len(hits) == 4 and all(r["cost_usd"] == 0 for r in hits)


async def test_what_is_never_stored_and_the_header_override(sim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gw = Gateway(parse(config(sim, {"sql": f"sqlite:///{tmp_path}/s.db"}, admit_on_second_sighting=False,
                              allow_overrides=["none", "refresh"])))
    async with gw:
        # truncated answers (finish_reason length) are not kept
        st, res = await ask(gw, None, "tell me a long story", max_tokens=3)
        assert res.body["choices"][0]["finish_reason"] == "length"
        assert (await ask(gw, None, "tell me a long story", max_tokens=3))[0] == "miss"
        # an answer the output guard would change (an e-mail address to redact) is not kept
        st, res = await ask(gw, None, "write to ann@example.com please", model="echo")
        assert "ann@example.com" not in res.body["choices"][0]["message"]["content"]
        assert (await ask(gw, None, "write to ann@example.com please", model="echo"))[0] == "miss"
        assert (await ask(gw, None, "no address here", model="echo"))[0] == "miss"
        assert (await ask(gw, None, "no address here", model="echo"))[0] == "hit-exact"
        # above the temperature threshold: not cached at all, and the header says why
        st, _ = await ask(gw, None, "warm", temperature=1.0)
        assert st == "skip;reason=temperature"
        # aliases without a cache policy are untouched
        assert (await ask(gw, None, "hello", model="plain"))[0] is None
        # x-seawall-cache: none skips the cache; refresh (allowed here) rewrites the entry
        await ask(gw, None, "q")
        n = sim.stats["received"]
        assert (await ask(gw, None, "q", headers={"x-seawall-cache": "none"}))[0] == "skip;reason=override"
        assert (await ask(gw, None, "q", headers={"x-seawall-cache": "refresh"}))[0] == "refresh"
        assert sim.stats["received"] == n + 2
        assert (await ask(gw, None, "q"))[0] == "hit-exact"
        # the refresh-ahead marker is internal: from a client it is an unknown value, ignored
        assert (await ask(gw, None, "q", headers={"x-seawall-cache": "refresh-ahead"}))[0] == "hit-exact"
        assert gw.cache.snapshot()["by_alias"]["m"]["saved_tokens"] > 0


async def test_embedded_cache_survives_a_restart(sim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = config(sim, {"sql": f"sqlite:///{tmp_path}/s.db"}, category="long", semantic=True)
    async with Gateway(parse(cfg)) as gw:
        assert (await ask(gw, None, Q))[0] == "miss"
    n = sim.stats["received"]
    async with Gateway(parse(cfg)) as gw:  # a new process on the same SQLite file
        assert (await ask(gw, None, Q))[0] == "hit-exact"
        assert (await ask(gw, None, PARAPHRASE))[0].startswith("hit-semantic")
        assert sim.stats["received"] == n
        assert gw.cache.snapshot()["shared"]["backend"] == "sqlite"


async def test_invalidating_one_alias_does_not_reload_the_others(sim, tmp_path, monkeypatch):
    """After an invalidation only the namespaces it touched are read again from the shared
    level: the others must not load their entries a second time into the local index."""
    monkeypatch.chdir(tmp_path)
    cfg = config(sim, {"sql": f"sqlite:///{tmp_path}/s.db"}, semantic=True)
    cfg["cache"] = {"semantic_refresh_s": 0.05}
    async with Gateway(parse(cfg)) as gw:
        for text in (Q, "How tall is the Eiffel tower?"):
            assert (await ask(gw, None, text))[0] == "miss"
        assert (await ask(gw, None, PARAPHRASE))[0].startswith("hit-semantic")
        before = len(gw.cache.semantic)
        await gw.cache.invalidate(alias="t")
        await asyncio.sleep(0.1)
        assert (await ask(gw, None, PARAPHRASE + " "))[0].startswith("hit-semantic")
        await asyncio.sleep(0.1)
        assert (await ask(gw, None, PARAPHRASE + "  "))[0].startswith("hit-semantic")
        await gw.cache.drain()
        assert len(gw.cache.semantic) == before == 2


async def test_second_sighting_admission(sim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gw = Gateway(parse(config(sim, {"sql": f"sqlite:///{tmp_path}/s.db"}, admit_on_second_sighting=True)))
    async with gw:
        assert [(await ask(gw, None, "once more"))[0] for _ in range(3)] == ["miss", "miss", "hit-exact"]


async def test_redis_down_is_a_miss_not_a_hang(sim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    gw = Gateway(parse(config(sim, {"state": dead, "sql": f"sqlite:///{tmp_path}/s.db", "prefix": "dead:"})))
    async with gw:
        t = time.perf_counter()
        assert (await ask(gw, None, "still answered"))[0] == "miss"
        assert (await ask(gw, None, "still answered"))[0] == "hit-exact"  # the local level still serves
        assert time.perf_counter() - t < 5.0
        assert gw.cache.snapshot()["shared"]["errors"] >= 1


async def test_embeddings_are_cached_exactly_per_tenant(sim, tmp_path):
    """An embeddings alias that opts in: the same input (however the default encoding is
    spelled) is served from the cache with the same vectors and billed nothing; another input,
    other dimensions or another tenant goes upstream. No temperature rule applies."""
    cfg = config(sim, {"sql": f"sqlite:///{tmp_path}/c.db"})
    cfg["models"].append({"name": "emb", "kind": "embeddings", "cache": {"category": "long"},
                          "targets": [{"provider": "sim", "model": "emb", "price": PRICE}]})
    gw = Gateway(parse({**cfg, "governance": {"audit": {"spool_dir": str(tmp_path / "spool")}}}))
    await gw.start()
    try:
        a, _, c = await three_tenants(gw)

        async def embed(key, **body):
            req = gw.request("embeddings", {"model": "emb", **body}, headers={"authorization": f"Bearer {key}"})
            res = await gw.handle(req)
            await gw.cache.drain()
            return req.meta.cache, res

        received = sim.stats["received"]
        status, first = await embed(a, input=["invoice 42", "refund policy"])
        assert status == "miss" and sim.stats["received"] == received + 1
        status, again = await embed(a, input=["invoice 42", "refund policy"], encoding_format="float")
        assert status == "hit-exact" and sim.stats["received"] == received + 1
        assert again.body["data"] == first.body["data"] and len(again.body["data"]) == 2
        assert again.meta.deployment is None  # nothing was sent upstream, nothing billed
        assert (await embed(a, input=["invoice 43", "refund policy"]))[0] == "miss"
        assert (await embed(a, input=["invoice 42", "refund policy"], dimensions=64))[0] == "miss"
        assert (await embed(c, input=["invoice 42", "refund policy"]))[0] == "miss"  # another tenant
        assert sim.stats["received"] == received + 4
        stats = gw.cache.snapshot()["by_alias"]["emb"]
        assert stats["hit_exact"] == 1 and stats["saved_tokens"] > 0 and stats["saved_usd"] > 0
    finally:
        await gw.aclose()
