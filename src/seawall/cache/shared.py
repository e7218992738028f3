"""Shared cache levels on the state store (memory or Redis), so every instance serves what
another one wrote.

Exact entries: ``<state prefix>cache:x:<exact key>`` = ``Entry.to_bytes()`` with a PX TTL
that ends at the entry's ``stale_until``. Invalidation by prefix walks the keys with SCAN
MATCH (never KEYS) and deletes in batches.

Semantic entries: ``<state prefix>cache:s:<namespace id>:e:<entry id>`` holds the vector (fp32)
and the entry (query, history, response, instants, meta), with the same PX TTL; the sorted set
``<state prefix>cache:s:<namespace id>:z`` lists the entry ids by write time. An instance
loads a namespace lazily: on a lookup, if it last read that namespace more than
``refresh_s`` ago, it reads the ids written since (ZRANGEBYSCORE) and MGETs their entries
into its local index. Entries whose key expired are skipped; an id in the set whose entry is
gone is dropped from the set by the next invalidation. Limits: a newly written entry reaches
the other instances within ``refresh_s``; a deletion by invalidation reaches them when their
own invalidation runs (the admin route invalidates the process it reaches and the shared
store; other processes keep their local copies until their TTL or a restart).

Every call goes through the state store's timeout and breaker (``GuardedState``): a store that
is down is a miss, never a hang.

The same two levels in SQL (SQLite, PostgreSQL) are in ``sqlshared.py``; ``open_shared_levels``
picks one pair from ``cache.shared``.
"""
from __future__ import annotations

import asyncio
import base64
import time
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:  # numpy only for the semantic level's vectors: the core install has none
    import numpy as np

from ..store.state import GuardedState, MemoryState
from .exact import Entry
from .keys import _escape, namespace as key_namespace

ADMIN_TIMEOUT_S = 10.0


def glob_escape(s: str) -> str:
    """Escape Redis MATCH glob characters so a prefix matches only itself."""
    out = []
    for ch in s:
        if ch in "*?[]\\":
            out.append("\\")
        out.append(ch)
    return "".join(out)


async def scan_delete(state: GuardedState, prefix: str, alias: str | None = None) -> int:
    """Delete every state key starting with ``prefix`` (full key) and, if ``alias`` is given,
    whose next parts are ``<scope>|<alias>|``: SCAN MATCH, never KEYS."""
    store = state.store
    mid = ("|" + _escape(alias) + "|") if alias is not None else None
    if isinstance(store, MemoryState):
        doomed = [k for k in store.data if k.startswith(prefix) and (mid is None or mid in k[len(prefix):])]
        for k in doomed:
            store.data.pop(k, None)
            store.expiry.pop(k, None)
        return len(doomed)
    client = store.client  # type: ignore[attr-defined]
    n = 0
    async with asyncio.timeout(ADMIN_TIMEOUT_S):
        batch: list[str] = []
        pattern = glob_escape(prefix) + ("*" + glob_escape(mid) + "*" if mid is not None else "*")
        async for k in client.scan_iter(match=pattern, count=500):
            batch.append(k)
            if len(batch) >= 500:
                n += await client.unlink(*batch)
                batch.clear()
        if batch:
            n += await client.unlink(*batch)
    return n


class WritesThrough:
    """The write-behind surface of a level whose writes are awaited when made (the state store):
    nothing is ever queued, dropped or left to flush; failures raise to the caller."""

    errors = 0
    dropped = 0

    async def flush(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


class StateSharedLevel(WritesThrough):
    """``SharedLevel`` for the exact cache on a (guarded) state store."""

    def __init__(self, state: GuardedState, namespace: str = "cache:x:") -> None:
        self.state = state
        self.base = state.store.prefix + namespace
        self.backend = state.store.kind

    async def get(self, key: str) -> Entry | None:
        raw = await self.state.call("get", self.base + key)
        if raw is None:
            return None
        e = Entry.from_bytes(raw.encode() if isinstance(raw, str) else raw)
        return e if time.time() < e.stale_until else None

    async def set(self, entry: Entry) -> None:
        ttl = entry.stale_until - time.time()
        if ttl <= 0:
            return
        await self.state.call("set", self.base + entry.key, entry.to_bytes().decode(), ttl)

    async def delete(self, key: str) -> bool:
        await self.state.call("delete", self.base + key)
        return True

    async def delete_prefix(self, prefix: str) -> int:
        return await scan_delete(self.state, self.base + prefix)

    async def delete_alias(self, alias: str, scope: str | None = None) -> int:
        """Entries of an alias in one scope or in every scope."""
        if scope is not None:
            return await scan_delete(self.state, self.base + key_namespace(scope, alias))
        return await scan_delete(self.state, self.base, alias)


def _ns_id(ns: tuple[str, str, str]) -> str:
    """``<scope>|<alias>|<context fingerprint>``: deletable by scope or alias like exact keys."""
    return key_namespace(ns[0], ns[1]) + ns[2]


class PullBook:
    """What an instance has read of each semantic namespace on a shared level: when it last
    pulled it, the newest write it saw, where a full page stopped, and the entry ids it holds."""

    def __init__(self, refresh_s: float) -> None:
        self.refresh_s = refresh_s
        self._read_at: dict[tuple[str, str, str], float] = {}  # ns -> monotonic time of the last pull
        self._since: dict[tuple[str, str, str], float] = {}  # ns -> newest write time seen
        self._cursor: dict[tuple[str, str, str], Any] = {}  # ns -> where a full page stopped (SQL)
        self._seen: dict[tuple[str, str, str], set[str]] = {}

    def due(self, ns: tuple[str, str, str], now: float | None = None) -> bool:
        """A pull of this namespace would read the store (refresh_s has passed, or a page is left)."""
        return (time.monotonic() if now is None else now) - self._read_at.get(ns, -1e9) >= self.refresh_s

    def loaded(self, ns: tuple[str, str, str]) -> bool:
        """This namespace has been read (completely) since the start or the last forget."""
        return ns in self._read_at

    def mark_seen(self, ns: tuple[str, str, str], uid: str) -> None:
        self._seen.setdefault(ns, set()).add(uid)

    def forget(self, scope: str | None = None, alias: str | None = None) -> None:
        """Read the namespaces of a scope, an alias, both or all from the start again (after
        their local copies were dropped)."""
        for book in (self._read_at, self._since, self._cursor, self._seen):
            for ns in [n for n in book if (scope is None or n[0] == scope) and (alias is None or n[1] == alias)]:
                del book[ns]


class SharedSemantic(PullBook, WritesThrough):
    """Semantic entries (vector + entry) on the state store; see the module doc."""

    def __init__(self, state: GuardedState, refresh_s: float = 1.0, namespace: str = "cache:s:") -> None:
        super().__init__(refresh_s)
        self.state = state
        self.base = state.store.prefix + namespace
        self.backend = state.store.kind
        self._lock = asyncio.Lock()

    def _keys(self, ns: tuple[str, str, str]) -> tuple[str, str]:
        nid = _ns_id(ns)
        return self.base + nid + ":z", self.base + nid + ":e:"

    async def put(self, ns: tuple[str, str, str], uid: str, vec: np.ndarray, record: dict[str, Any],
                  ttl_s: float) -> None:
        import numpy as np

        zkey, ekey = self._keys(ns)
        blob = dict(record, v=base64.b64encode(np.asarray(vec, np.float32).tobytes()).decode(), ns=list(ns))
        store = self.state.store
        if isinstance(store, MemoryState):
            store.data[ekey + uid] = orjson.dumps(blob).decode()
            store.expire(ekey + uid, ttl_s)
            z = store.data.setdefault(zkey, {})
            z[uid] = record["created_at"]
            return

        async def write():
            async with store.client.pipeline(transaction=False) as p:  # type: ignore[attr-defined]
                p.set(ekey + uid, orjson.dumps(blob).decode(), px=max(1, int(ttl_s * 1000)))
                p.zadd(zkey, {uid: record["created_at"]})
                p.expire(zkey, int(ttl_s) + 60)
                await p.execute()

        await self._guarded(write)

    async def _guarded(self, fn) -> Any:
        # Vectors and entries are larger than counters: allow at least 200 ms.
        return await self.state.guarded(fn, max(self.state.timeout_s, 0.2))

    async def pull(self, ns: tuple[str, str, str], force: bool = False) -> list[tuple[str, np.ndarray, dict]]:
        """New entries of a namespace written by any instance since this one last looked."""
        import numpy as np

        now = time.monotonic()
        if not force and not self.due(ns, now):
            return []
        async with self._lock:
            if not force and not self.due(ns, now):
                return []
            self._read_at[ns] = now
            zkey, ekey = self._keys(ns)
            since = self._since.get(ns, 0.0)
            store = self.state.store
            if isinstance(store, MemoryState):
                z = store.live(zkey) or {}
                uids = [u for u, t in z.items() if t >= since]
                raws = [store.live(ekey + u) for u in uids]
            else:
                async def read():
                    c = store.client  # type: ignore[attr-defined]
                    ids = await c.zrangebyscore(zkey, since, "+inf")
                    return ids, (await c.mget([ekey + u for u in ids]) if ids else [])

                uids, raws = await self._guarded(read)
            seen = self._seen.setdefault(ns, set())
            out = []
            wall = time.time()
            for uid, raw in zip(uids, raws):
                if raw is None or uid in seen:
                    continue
                rec = orjson.loads(raw)
                if tuple(rec.get("ns") or ()) != ns or wall >= rec["stale_until"]:
                    continue  # never load an entry into another namespace's index
                seen.add(uid)
                self._since[ns] = max(self._since.get(ns, 0.0), rec["created_at"])
                vec = np.frombuffer(base64.b64decode(rec.pop("v")), np.float32)
                out.append((uid, vec, rec))
            return out

    async def delete(self, scope: str | None = None, alias: str | None = None) -> int:
        """Entries of a scope, an alias, both, or all (the sorted sets go with them)."""
        self.forget(scope, alias)
        if scope is not None:
            return await scan_delete(self.state, self.base + key_namespace(scope, alias))
        return await scan_delete(self.state, self.base, alias)


def open_shared_levels(mode: str, state: GuardedState | None, engine=None, *, refresh_s: float = 1.0,
                       sql_timeout_s: float = 5.0) -> tuple[Any, Any]:
    """(exact level, semantic level) for ``cache.shared``, either or both None.

    ``auto``: the state store when it is remote (Redis), else SQL (the governance engine: SQLite
    in the embedded default, so the cache survives a restart). ``state``: the state store if it is
    remote, else none (a memory state store would only duplicate the local levels). ``sql``: the
    governance database. ``none``: local levels only.
    """
    remote = state is not None and state.remote
    if mode == "auto":
        mode = "state" if remote else "sql"
    if mode == "state":
        if not remote:
            return None, None
        return StateSharedLevel(state), SharedSemantic(state, refresh_s)
    if mode == "sql":
        if engine is None:
            return None, None
        from ..store.breaker import Breaker
        from .sqlshared import READ_TIMEOUT_S, SqlSharedLevel, SqlSharedSemantic

        kw = {"read_timeout_s": min(READ_TIMEOUT_S, sql_timeout_s), "write_timeout_s": sql_timeout_s,
              "breaker": Breaker(f"sql-cache:{engine.dialect.name}")}  # one database: one breaker for both
        return SqlSharedLevel(engine, **kw), SqlSharedSemantic(engine, refresh_s, **kw)
    if mode == "none":
        return None, None
    raise ValueError(f"cache.shared: unknown mode {mode!r} (auto, state, sql or none)")
