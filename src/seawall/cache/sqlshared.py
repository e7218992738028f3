"""Shared cache levels in SQL (SQLite in the embedded default, PostgreSQL when scaled out):
cached answers survive a restart, and every instance on the same database serves what another
one wrote, without Redis. Same methods and semantics as the state-store levels in ``shared.py``.

Exact entries: one row of ``cache_entries`` per key (``<scope>|<alias>|<hash>``), holding
``Entry.to_bytes()`` and its instants. A read ignores a row past ``stale_until``; a purge
(``DELETE`` of at most ``purge_batch`` dead rows) piggybacks on writes at most every
``purge_every_s``. Invalidation by key prefix is ``key LIKE 'prefix%' ESCAPE '\\'`` (``%``,
``_`` and ``\\`` escaped) together with the range ``prefix <= key < prefix + U+10FFFF``: the
range lets the primary key's index do the work (keys compare byte by byte: SQLite's binary
collation, ``COLLATE "C"`` on PostgreSQL) and LIKE keeps the match exact. By alias it is an
equality on the ``(alias, scope)`` index. Deletions run in batches, each its own short
transaction, so a large invalidation does not hold SQLite's write lock for long.

Semantic entries: one row of ``cache_semantic`` per entry (namespace id, entry id, vector,
record). An instance pulls a namespace lazily (on a lookup, at most every ``refresh_s``): the
rows of that namespace (``WHERE ns_id = ?``, so an entry can only land in its own namespace's
index) created since the newest one it has seen, minus ``lag_s`` so that a write committed a
little after its ``created_at`` stamp is not missed (the overlap is skipped by id). At most
``page`` rows per pull; a full page continues at the next lookup from where it stopped.

Writes are behind: ``set`` / ``put`` queue a row (one per primary key, a later write of the
same key replacing the queued one) and return at once; a flusher task writes what is queued in
one upsert transaction when ``batch`` rows wait or ``delay_s`` after the first, so a burst of
misses costs a few transactions, not one each. A cache write is best effort: when ``max_queue``
rows wait (the database is slow or down), a new row is dropped and counted (``dropped``), and a
batch that fails is counted in ``errors`` and not retried. ``flush()`` returns once everything
queued before it is written (or failed); ``aclose()`` flushes and stops the flusher (shutdown). An
invalidation flushes first, so a row queued before it cannot land after it.

Every call runs under ``asyncio.timeout`` (reads on the request path: ``read_timeout_s``, 0.25 s
by default; writes: the store's ``sql_timeout_s``; admin deletes: 10 s) and a breaker, and
raises ``StoreUnavailable`` on failure (a queued write's batch: counted in ``errors``), so the
caller's error counting applies and a database that is down is a miss, never a hang. Writes are limited to a few at a time so they never take
every pooled connection from the reads.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:  # numpy only for the semantic level's vectors: the core install has none
    import numpy as np

from ..store.breaker import Breaker, StoreUnavailable
from ..store.sql import cache_entries, cache_semantic
from .exact import Entry
from .keys import namespace as key_namespace, split_key
from .shared import PullBook

log = logging.getLogger("seawall.cache")

READ_TIMEOUT_S = 0.25
ADMIN_TIMEOUT_S = 10.0
DELETE_BATCH = 5000
TOP = "\U0010ffff"  # above every character: prefix + TOP bounds the keys that start with prefix


def like_prefix(prefix: str) -> str:
    """A LIKE pattern (ESCAPE '\\') matching exactly the strings that start with ``prefix``."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _insert(engine: AsyncEngine):
    name = engine.dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        raise ValueError(f"SQL cache level: unsupported database {name!r} (SQLite or PostgreSQL)")
    return insert


def _ns_id(ns: tuple[str, str, str]) -> str:
    return key_namespace(ns[0], ns[1]) + ns[2]


class WriteBehind:
    """Rows queued for one table (one per key: the last write wins), written in batches by a
    flusher task that starts on the first ``put``; ``write(rows)`` must not raise for a failed
    batch (the level counts it), anything else it raises is logged and the flusher goes on."""

    def __init__(self, write: Callable[[list[dict[str, Any]]], Awaitable[None]], *, max_queue: int = 2048,
                 batch: int = 64, delay_s: float = 0.05, chunk: int = 500) -> None:
        self._write = write
        self.max_queue, self.batch, self.delay_s, self.chunk = max_queue, batch, delay_s, chunk
        self._rows: dict[Hashable, dict[str, Any]] = {}
        self._lock = asyncio.Lock()  # one batch at a time; flush() waits for the one in flight
        self._wake = asyncio.Event()  # rows are queued
        self._full = asyncio.Event()  # at least `batch` rows are queued
        self._task: asyncio.Task | None = None
        self.dropped = 0
        self.batches = 0

    def __len__(self) -> int:
        return len(self._rows)

    def put(self, key: Hashable, row: dict[str, Any]) -> bool:
        """Queue a row (never waits); False when the queue is full and the row is dropped."""
        if key not in self._rows and len(self._rows) >= self.max_queue:
            self.dropped += 1
            return False
        self._rows[key] = row
        self._wake.set()
        if len(self._rows) >= self.batch:
            self._full.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="seawall-cache-write-behind")
        return True

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if len(self._rows) < self.batch:
                try:
                    async with asyncio.timeout(self.delay_s):
                        await self._full.wait()
                except TimeoutError:
                    pass
            await self.flush()

    async def flush(self) -> None:
        """Write every queued row, after the batch in flight if there is one."""
        async with self._lock:
            while self._rows:
                if len(self._rows) <= self.chunk:
                    rows, self._rows = list(self._rows.values()), {}
                else:
                    rows = [self._rows.pop(k) for k in list(self._rows)[:self.chunk]]
                if not self._rows:
                    self._wake.clear()
                if len(self._rows) < self.batch:
                    self._full.clear()
                self.batches += 1
                try:
                    await self._write(rows)
                except Exception as e:  # noqa: BLE001 - a bug must not stop the cache's writes
                    log.debug("cache write-behind: a batch of %d rows failed: %s", len(rows), type(e).__name__)

    async def aclose(self) -> None:
        """Write what is queued, then stop the flusher (a later put starts it again)."""
        await self.flush()
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass


class _SqlLevel:
    """Timeouts, breaker, bounded writers, batched deletes and the piggybacked purge."""

    table: sa.Table
    pk: tuple[str, ...]
    updated: tuple[str, ...]  # columns an upsert replaces

    def __init__(self, engine: AsyncEngine, *, read_timeout_s: float = READ_TIMEOUT_S,
                 write_timeout_s: float = 5.0, admin_timeout_s: float = ADMIN_TIMEOUT_S,
                 breaker: Breaker | None = None, purge_every_s: float = 60.0, purge_batch: int = 1000,
                 max_writers: int | None = None, max_queue: int = 2048, batch: int = 64,
                 delay_s: float = 0.05) -> None:
        self.engine = engine
        self.insert = _insert(engine)
        self.backend = engine.dialect.name
        self.read_timeout_s = read_timeout_s
        self.write_timeout_s = write_timeout_s
        self.admin_timeout_s = admin_timeout_s
        self.breaker = breaker or Breaker(f"sql-cache:{self.backend}")
        self.purge_every_s = purge_every_s
        self.purge_batch = purge_batch
        self._purge_at = 0.0  # monotonic; 0: purge on the first write
        self._writers = asyncio.Semaphore(max_writers or (2 if self.backend == "sqlite" else 4))
        self.errors = 0
        ins = self.insert(self.table)
        self._upsert = ins.on_conflict_do_update(index_elements=list(self.pk),
                                                 set_={c: ins.excluded[c] for c in self.updated})
        self.writes = WriteBehind(self._write_batch, max_queue=max_queue, batch=batch, delay_s=delay_s)

    @property
    def dropped(self) -> int:
        """Writes dropped because the queue was full."""
        return self.writes.dropped

    async def flush(self) -> None:
        """Return once every write queued before is in the database (or its batch failed)."""
        await self.writes.flush()

    async def aclose(self) -> None:
        """Flush and stop the flusher (shutdown)."""
        await self.writes.aclose()

    async def _guarded(self, fn, timeout_s: float) -> Any:
        """Await ``fn()`` within the timeout and the breaker; StoreUnavailable otherwise."""
        if not self.breaker.allow():
            raise StoreUnavailable(f"SQL cache level ({self.backend}) unavailable (breaker open)")
        try:
            async with asyncio.timeout(timeout_s):
                res = await fn()
        except asyncio.CancelledError:
            if self.breaker.state != "closed":  # a cancelled probe must not leave the breaker stuck open
                self.breaker.failure()
            raise
        except Exception as e:  # noqa: BLE001 - the message could quote cached data: name the type only
            self.breaker.failure()
            raise StoreUnavailable(f"SQL cache level ({self.backend}) failed: {type(e).__name__}") from None
        self.breaker.success()
        return res

    async def _write_batch(self, rows: list[dict[str, Any]]) -> None:
        """Upsert ``rows`` in one transaction; a failure is counted, never raised."""
        async def go():
            async with self._writers:
                async with self.engine.begin() as conn:
                    await conn.execute(self._upsert, rows)

        try:
            await self._guarded(go, self.write_timeout_s)
        except StoreUnavailable as e:
            self.errors += 1
            log.debug("cache write of %d rows failed: %s", len(rows), e)
            return
        if time.monotonic() >= self._purge_at:
            self._purge_at = time.monotonic() + self.purge_every_s
            try:
                if await self.purge() >= self.purge_batch:
                    self._purge_at = 0.0  # more to do: again at the next write
            except StoreUnavailable as e:
                log.debug("cache purge failed: %s", e)

    async def purge(self, now: float | None = None) -> int:
        """Delete at most ``purge_batch`` rows past their stale window; how many went."""
        t = self.table
        keys = sa.tuple_(*(t.c[k] for k in self.pk)) if len(self.pk) > 1 else t.c[self.pk[0]]
        doomed = sa.select(*(t.c[k] for k in self.pk)).where(
            t.c.stale_until < (time.time() if now is None else now)).limit(self.purge_batch)
        stmt = sa.delete(t).where(keys.in_(doomed))

        async def go():
            async with self._writers:
                async with self.engine.begin() as conn:
                    return (await conn.execute(stmt)).rowcount or 0

        return await self._guarded(go, self.write_timeout_s)

    async def _delete_where(self, cond) -> int:
        """Delete every row matching ``cond``, in batches (admin: no breaker, a longer timeout)."""
        t = self.table
        keys = sa.tuple_(*(t.c[k] for k in self.pk)) if len(self.pk) > 1 else t.c[self.pk[0]]
        stmt = sa.delete(t).where(keys.in_(sa.select(*(t.c[k] for k in self.pk)).where(cond).limit(DELETE_BATCH)))
        total = 0
        try:
            async with asyncio.timeout(self.admin_timeout_s):
                while True:
                    async with self.engine.begin() as conn:
                        n = (await conn.execute(stmt)).rowcount or 0
                    total += n
                    if n < DELETE_BATCH:
                        return total
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001
            raise StoreUnavailable(f"SQL cache level ({self.backend}) delete failed after {total} rows: "
                                   f"{type(e).__name__}") from None


class SqlSharedLevel(_SqlLevel):
    """``SharedLevel`` for the exact cache in SQL; see the module doc."""

    table = cache_entries
    pk = ("key",)
    updated = ("value", "created_at", "expires_at", "stale_until")

    def __init__(self, engine: AsyncEngine, **kw: Any) -> None:
        super().__init__(engine, **kw)
        t = self.table
        self._get = sa.select(t.c.value).where(t.c.key == sa.bindparam("k"), t.c.stale_until > sa.bindparam("now"))

    async def get(self, key: str) -> Entry | None:
        params = {"k": key, "now": time.time()}

        async def go():
            async with self.engine.connect() as conn:
                return (await conn.execute(self._get, params)).scalar()

        raw = await self._guarded(go, self.read_timeout_s)
        if raw is None:
            return None
        e = Entry.from_bytes(bytes(raw))
        return e if time.time() < e.stale_until else None

    async def set(self, entry: Entry) -> None:
        if entry.stale_until <= time.time():
            return
        try:
            scope, alias, _ = split_key(entry.key)
        except ValueError:  # not an exact_key(): reachable by prefix and key only
            scope = alias = ""
        self.writes.put(entry.key, {"key": entry.key, "scope": scope, "alias": alias, "value": entry.to_bytes(),
                                    "created_at": entry.created_at, "expires_at": entry.expires_at,
                                    "stale_until": entry.stale_until})

    async def delete(self, key: str) -> bool:
        await self.flush()  # a queued write of this key must not land after the delete
        stmt = sa.delete(self.table).where(self.table.c.key == key)

        async def go():
            async with self.engine.begin() as conn:
                return (await conn.execute(stmt)).rowcount or 0

        return bool(await self._guarded(go, self.write_timeout_s))

    async def delete_prefix(self, prefix: str) -> int:
        await self.flush()
        k = self.table.c.key
        if not prefix:
            return await self._delete_where(sa.true())
        return await self._delete_where(sa.and_(k >= prefix, k < prefix + TOP,
                                                k.like(like_prefix(prefix), escape="\\")))

    async def delete_alias(self, alias: str, scope: str | None = None) -> int:
        """Entries of an alias in one scope or in every scope."""
        await self.flush()
        c = self.table.c
        if scope is not None:
            return await self._delete_where(sa.and_(c.alias == alias, c.scope == scope))
        return await self._delete_where(c.alias == alias)


class SqlSharedSemantic(_SqlLevel, PullBook):
    """Semantic entries (vector + record) in SQL; see the module doc."""

    table = cache_semantic
    pk = ("ns_id", "uid")
    updated = ("created_at", "stale_until", "vector", "record")

    def __init__(self, engine: AsyncEngine, refresh_s: float = 1.0, *, page: int = 1000, lag_s: float = 2.0,
                 pull_timeout_s: float | None = None, **kw: Any) -> None:
        _SqlLevel.__init__(self, engine, **kw)
        PullBook.__init__(self, refresh_s)
        self.page = page
        self.lag_s = lag_s
        self.pull_timeout_s = pull_timeout_s or max(2 * self.read_timeout_s, 0.5)  # vectors: more bytes
        self._locks: dict[tuple[str, str, str], asyncio.Lock] = {}

    async def put(self, ns: tuple[str, str, str], uid: str, vec: np.ndarray, record: dict[str, Any],
                  ttl_s: float) -> None:
        import numpy as np

        now = time.time()
        stale_until = min(float(record.get("stale_until") or float("inf")), now + ttl_s)
        if stale_until <= now:
            return
        nid = _ns_id(ns)
        self.writes.put((nid, uid), {
            "ns_id": nid, "uid": uid, "scope": ns[0], "alias": ns[1], "created_at": float(record["created_at"]),
            "stale_until": stale_until, "vector": np.asarray(vec, np.float32).tobytes(),
            "record": orjson.dumps(record).decode()})

    async def pull(self, ns: tuple[str, str, str], force: bool = False) -> list[tuple[str, np.ndarray, dict]]:
        """New entries of a namespace written by any instance since this one last looked."""
        import numpy as np

        now = time.monotonic()
        if not force and not self.due(ns, now):
            return []
        lock = self._locks.get(ns)
        if lock is None:
            lock = self._locks[ns] = asyncio.Lock()
        async with lock:
            if not force and not self.due(ns, now):
                return []
            self._read_at[ns] = now  # a failing database is asked again only after refresh_s
            nid = _ns_id(ns)
            c = self.table.c
            cur = self._cursor.get(ns)
            if cur is not None:
                after = sa.or_(c.created_at > cur[0], sa.and_(c.created_at == cur[0], c.uid > cur[1]))
            else:
                after = c.created_at >= self._since.get(ns, 0.0) - self.lag_s
            stmt = (sa.select(c.ns_id, c.uid, c.created_at, c.stale_until, c.vector, c.record)
                    .where(c.ns_id == nid, after, c.stale_until > time.time())
                    .order_by(c.created_at, c.uid).limit(self.page))

            async def go():
                async with self.engine.connect() as conn:
                    return (await conn.execute(stmt)).all()

            rows = await self._guarded(go, self.pull_timeout_s)
            if len(rows) >= self.page:
                self._cursor[ns] = (rows[-1].created_at, rows[-1].uid)
                self._read_at.pop(ns, None)  # more to read: the next lookup continues
            else:
                self._cursor.pop(ns, None)
            seen = self._seen.setdefault(ns, set())
            out = []
            for row in rows:
                if row.created_at > self._since.get(ns, 0.0):
                    self._since[ns] = row.created_at
                if row.uid in seen or row.ns_id != nid:
                    continue  # never load an entry into another namespace's index
                seen.add(row.uid)
                rec = orjson.loads(row.record)
                rec["stale_until"] = min(float(rec.get("stale_until") or row.stale_until), row.stale_until)
                out.append((row.uid, np.frombuffer(bytes(row.vector), np.float32), rec))
            return out

    async def delete(self, scope: str | None = None, alias: str | None = None) -> int:
        """Entries of a scope, an alias, both, or all."""
        await self.flush()
        self.forget(scope, alias)
        c = self.table.c
        if scope is not None:
            cond = c.scope == scope if alias is None else sa.and_(c.alias == alias, c.scope == scope)
        elif alias is not None:
            cond = c.alias == alias
        else:
            cond = sa.true()
        return await self._delete_where(cond)
