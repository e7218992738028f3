"""The exact cache: an in-process LRU + TTL level in front of an optional shared level.

Every entry carries three instants: ``created_at``; ``expires_at`` (after it, the entry is
no longer served as a hit); ``stale_until`` (until then, it is kept and served only to the
fallback cascade's stale level, with its age). A lookup answers ``hit``, ``stale`` or
``miss``; the caller decides whether a stale answer is acceptable.

The local level is an ``OrderedDict``: get, set and eviction are O(1); the size is bounded
by ``max_entries``. Invalidation by tenant, alias or key prefix scans the keys (an admin
operation, not on the request path).

``SharedLevel`` is the small async interface a distributed or persistent backend implements
(Redis with SCAN, never KEYS; SQLite/PostgreSQL with ``LIKE 'prefix%'``). ``MemorySharedLevel``
is the in-memory reference implementation used by the embedded mode and the tests.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Protocol, runtime_checkable

import orjson

from .keys import KEY_SEP, split_key

Clock = Callable[[], float]


class Status(str, Enum):
    HIT = "hit"
    STALE = "stale"
    MISS = "miss"


@dataclass(slots=True)
class Entry:
    """A cached response. ``value`` is JSON-serialisable or raw ``bytes``."""

    key: str
    value: Any
    created_at: float
    expires_at: float
    stale_until: float
    meta: dict[str, Any] = field(default_factory=dict)  # tokens, cost, model: for "saved" metrics
    hits: int = 0  # served by this process (refresh-ahead picks hot entries); not shared

    @classmethod
    def new(cls, key: str, value: Any, ttl_s: float, stale_for_s: float = 0.0,
            now: float | None = None, meta: dict[str, Any] | None = None) -> "Entry":
        t = time.time() if now is None else now
        return cls(key, value, t, t + ttl_s, t + ttl_s + stale_for_s, dict(meta or {}))

    def status(self, now: float) -> Status:
        if now < self.expires_at:
            return Status.HIT
        if now < self.stale_until:
            return Status.STALE
        return Status.MISS

    def to_bytes(self) -> bytes:
        """Serialised form for a shared level: a JSON header line, then the payload."""
        raw = isinstance(self.value, (bytes, bytearray))
        head = {
            "k": self.key, "c": self.created_at, "e": self.expires_at,
            "s": self.stale_until, "m": self.meta, "raw": raw,
        }
        payload = bytes(self.value) if raw else orjson.dumps(self.value)
        return orjson.dumps(head) + b"\n" + payload

    @classmethod
    def from_bytes(cls, data: bytes) -> "Entry":
        head_b, _, payload = data.partition(b"\n")
        head = orjson.loads(head_b)
        value = payload if head["raw"] else orjson.loads(payload)
        return cls(head["k"], value, head["c"], head["e"], head["s"], head.get("m") or {})


@dataclass(frozen=True, slots=True)
class Lookup:
    status: Status
    entry: Entry | None = None
    age_s: float = 0.0

    @property
    def hit(self) -> bool:
        return self.status is Status.HIT


MISS = Lookup(Status.MISS)


def _matches(key: str, scope: str | None, alias: str | None, prefix: str | None) -> bool:
    if prefix is not None and not key.startswith(prefix):
        return False
    if scope is None and alias is None:
        return True
    try:
        k_scope, k_alias, _ = split_key(key)
    except ValueError:
        return False
    return (scope is None or k_scope == scope) and (alias is None or k_alias == alias)


class LocalLRU:
    """Bounded in-process LRU with TTL and stale retention. Not thread-safe (one event loop)."""

    def __init__(self, max_entries: int = 50_000, clock: Clock = time.time) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self.max_entries = max_entries
        self._clock = clock
        self._d: OrderedDict[str, Entry] = OrderedDict()
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._d)

    def __contains__(self, key: str) -> bool:
        return key in self._d

    def get(self, key: str) -> Lookup:
        e = self._d.get(key)
        if e is None:
            return MISS
        now = self._clock()
        st = e.status(now)
        if st is Status.MISS:
            del self._d[key]
            return MISS
        self._d.move_to_end(key)
        return Lookup(st, e, now - e.created_at)

    def set(self, entry: Entry) -> None:
        d = self._d
        if entry.key in d:
            d.move_to_end(entry.key)
        d[entry.key] = entry
        while len(d) > self.max_entries:
            d.popitem(last=False)
            self.evictions += 1

    def put(self, key: str, value: Any, ttl_s: float, stale_for_s: float = 0.0,
            meta: dict[str, Any] | None = None) -> Entry:
        e = Entry.new(key, value, ttl_s, stale_for_s, now=self._clock(), meta=meta)
        self.set(e)
        return e

    def delete(self, key: str) -> bool:
        return self._d.pop(key, None) is not None

    def invalidate(self, *, scope: str | None = None, alias: str | None = None,
                   prefix: str | None = None) -> int:
        """Delete entries of a tenant scope, an alias (in any scope), a key prefix, or a mix."""
        doomed = [k for k in self._d if _matches(k, scope, alias, prefix)]
        for k in doomed:
            del self._d[k]
        return len(doomed)

    def purge_dead(self) -> int:
        """Drop entries past their stale window (housekeeping; lookups also drop them)."""
        now = self._clock()
        doomed = [k for k, e in self._d.items() if now >= e.stale_until]
        for k in doomed:
            del self._d[k]
        return len(doomed)

    def keys(self) -> list[str]:
        return list(self._d)


@runtime_checkable
class SharedLevel(Protocol):
    """A cache level every gateway instance sees (Redis, SQLite, PostgreSQL).

    Backends store ``Entry.to_bytes()`` and expire rows at ``stale_until`` (Redis: PXAT).
    ``delete_prefix`` iterates with a cursor (Redis SCAN MATCH prefix*, COUNT n; never KEYS)
    and returns how many entries it deleted. All calls have short timeouts in the backend;
    a shared level that fails is treated as a miss by :class:`TieredExactCache`.
    """

    async def get(self, key: str) -> Entry | None: ...

    async def set(self, entry: Entry) -> None: ...

    async def delete(self, key: str) -> bool: ...

    async def delete_prefix(self, prefix: str) -> int: ...


class MemorySharedLevel:
    """In-memory SharedLevel (the embedded mode, and the reference for backend tests)."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._d: dict[str, bytes] = {}
        self._clock = clock

    async def get(self, key: str) -> Entry | None:
        raw = self._d.get(key)
        if raw is None:
            return None
        e = Entry.from_bytes(raw)
        if self._clock() >= e.stale_until:
            self._d.pop(key, None)
            return None
        return e

    async def set(self, entry: Entry) -> None:
        self._d[entry.key] = entry.to_bytes()

    async def delete(self, key: str) -> bool:
        return self._d.pop(key, None) is not None

    async def delete_prefix(self, prefix: str) -> int:
        doomed = [k for k in self._d if k.startswith(prefix)]
        for k in doomed:
            del self._d[k]
        return len(doomed)


class TieredExactCache:
    """Local LRU first, then the shared level; a shared hit is copied into the local level."""

    def __init__(self, local: LocalLRU, shared: SharedLevel | None = None,
                 on_shared_error: Callable[[BaseException], None] | None = None) -> None:
        self.local = local
        self.shared = shared
        self._on_error = on_shared_error

    async def get(self, key: str) -> Lookup:
        return await self.get_shared(key, self.local.get(key))

    async def get_shared(self, key: str, res: Lookup) -> Lookup:
        """The shared level's answer after the local level answered ``res``."""
        if res.status is Status.HIT or self.shared is None:
            return res
        try:
            e = await self.shared.get(key)
        except Exception as exc:  # a shared level that is down is a miss, never a hang
            if self._on_error:
                self._on_error(exc)
            return res
        if e is None:
            return res
        self.local.set(e)
        now = self.local._clock()
        st = e.status(now)
        if st is Status.MISS:
            return res
        return Lookup(st, e, now - e.created_at)

    async def set(self, entry: Entry) -> None:
        self.local.set(entry)
        if self.shared is not None:
            try:
                await self.shared.set(entry)
            except Exception as exc:
                if self._on_error:
                    self._on_error(exc)

    async def invalidate_prefix(self, prefix: str) -> int:
        n = self.local.invalidate(prefix=prefix)
        if self.shared is not None:
            n = max(n, await self.shared.delete_prefix(prefix))
        return n


__all__ = [
    "Entry", "Lookup", "Status", "LocalLRU", "SharedLevel", "MemorySharedLevel",
    "TieredExactCache", "KEY_SEP",
]
