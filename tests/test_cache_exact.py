"""Exact cache levels: LRU bound, TTL, stale retention, invalidation, shared level."""
import pytest

from seawall.cache.exact import Entry, LocalLRU, MemorySharedLevel, Status, TieredExactCache
from seawall.cache.keys import exact_key, namespace


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def k(scope, alias, text):
    return exact_key(scope, alias, {"messages": [{"role": "user", "content": text}]})


def test_lru_is_bounded_and_evicts_least_recent():
    c = LocalLRU(max_entries=3, clock=Clock())
    for i in range(3):
        c.put(f"s|a|{i}", i, ttl_s=60)
    assert c.get("s|a|0").hit  # 0 becomes most recent
    c.put("s|a|3", 3, ttl_s=60)
    assert len(c) == 3
    assert c.get("s|a|1").status is Status.MISS  # the least recently used went
    assert c.get("s|a|0").hit and c.get("s|a|3").hit
    assert c.evictions == 1


def test_ttl_then_stale_then_gone_with_age():
    clock = Clock()
    c = LocalLRU(10, clock=clock)
    c.put("s|a|x", {"v": 1}, ttl_s=10, stale_for_s=100)
    clock.t += 5
    r = c.get("s|a|x")
    assert r.status is Status.HIT and r.age_s == pytest.approx(5)
    clock.t += 10
    r = c.get("s|a|x")
    assert r.status is Status.STALE and r.age_s == pytest.approx(15) and r.entry.value == {"v": 1}
    clock.t += 100
    assert c.get("s|a|x").status is Status.MISS
    assert "s|a|x" not in c


def test_invalidation_by_tenant_alias_and_prefix():
    c = LocalLRU(100, clock=Clock())
    keys = {(s, a): k(s, a, "hello") for s in ("team:a", "team:b") for a in ("chat", "code")}
    for key in keys.values():
        c.put(key, 1, ttl_s=60)
    assert c.invalidate(scope="team:a") == 2
    assert not c.get(keys[("team:a", "chat")]).hit and c.get(keys[("team:b", "chat")]).hit
    assert c.invalidate(alias="code") == 1
    assert c.get(keys[("team:b", "chat")]).hit and not c.get(keys[("team:b", "code")]).hit
    assert c.invalidate(prefix=namespace("team:b", "chat")) == 1
    assert len(c) == 0


def test_entry_roundtrip_bytes_and_json():
    for value in ({"choices": [{"message": {"content": "hi"}}]}, b"data: {}\n\n"):
        e = Entry.new("s|a|d", value, 10, 5, now=1.0, meta={"tokens": 3})
        back = Entry.from_bytes(e.to_bytes())
        assert (back.key, back.value, back.expires_at, back.stale_until, back.meta) == (
            e.key, e.value, 11.0, 16.0, {"tokens": 3})


async def test_tiered_cache_fills_local_from_shared_and_deletes_by_prefix():
    clock = Clock()
    shared = MemorySharedLevel(clock=clock)
    writer = TieredExactCache(LocalLRU(10, clock=clock), shared)
    reader = TieredExactCache(LocalLRU(10, clock=clock), shared)  # another instance
    key = k("team:a", "chat", "q")
    await writer.set(Entry.new(key, {"a": 1}, 60, 0, now=clock()))
    r = await reader.get(key)
    assert r.hit and r.entry.value == {"a": 1}
    assert key in reader.local
    assert (await reader.get(k("team:b", "chat", "q"))).status is Status.MISS
    assert await writer.invalidate_prefix(namespace("team:a")) == 1
    assert await shared.get(key) is None


async def test_shared_level_failure_is_a_miss():
    class Down:
        async def get(self, key):
            raise ConnectionError("down")

        async def set(self, entry):
            raise ConnectionError("down")

        async def delete(self, key):
            return False

        async def delete_prefix(self, prefix):
            return 0

    errors = []
    c = TieredExactCache(LocalLRU(10), Down(), on_shared_error=errors.append)
    await c.set(Entry.new("s|a|d", 1, 60))
    assert (await c.get("s|a|d")).hit  # the local level still serves
    assert (await c.get("s|a|other")).status is Status.MISS
    assert len(errors) == 2
