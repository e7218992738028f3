"""The audit log: one record per request (and per admin change), hash-chained, written behind.

Each record is first appended to this process's write-ahead file (one write(2), wal.py), so
it survives the process being killed once its response is out; then it goes into a bounded
queue. One writer task takes the queue in batches and appends each batch in one transaction
that first locks the single `audit_head` row. The head holds the last sequence number and
hash, so writers on any number of instances append one after another and the chain cannot
fork. While the database is down (or its breaker is open), or the queue is full, records wait
in the WAL and are replayed from it, in order, when it returns; so are the files of a process
that died. Nothing waits for the database on the request path.

    hash = sha256(prev_hash + canonical JSON of the record's columns, seq included)

`verify` walks the chain by sequence number and reports the first changed, removed or
reordered record.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import time
from dataclasses import dataclass

import orjson
import sqlalchemy as sa

from ..store import sql
from ..store.breaker import Breaker
from . import wal as wal_mod

log = logging.getLogger("seawall.audit")

CHAINED = ("seq", "id", "ts", "day", "kind", "request_id", "key_id", "user_id", "team_id", "department_id",
           "alias", "deployment", "outcome", "status", "prompt_tokens", "completion_tokens", "cost_usd",
           "latency_ms", "detail", "prompt", "response")


def chain_hash(prev: str, rec: dict) -> str:
    body = orjson.dumps({k: rec.get(k) for k in CHAINED}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(prev.encode() + body).hexdigest()


_day = (-1, "")  # the last UTC day asked for: (day number, "YYYY-MM-DD")


def day_of(ts: float) -> str:
    global _day
    n = int(ts // 86400)  # POSIX days are 86,400 s long
    if n != _day[0]:
        _day = (n, time.strftime("%Y-%m-%d", time.gmtime(ts)))
    return _day[1]


def detail_text(detail: dict | list) -> str:
    """A record's detail as it is stored: canonical JSON (sorted keys)."""
    return orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode()


_OPTIONAL = ("request_id", "key_id", "user_id", "team_id", "department_id", "alias", "deployment",
             "detail", "prompt", "response")


class RecordDraft:
    """A record made in two steps: its fields (the detail as stored, the id's random half)
    now, and its outcome, status and time at `finish`, which gives what make_record would
    give at that moment. A caller that waits on something (an upstream working on an MCP
    call) drafts the record meanwhile and finishes it once it knows how the call ended."""

    __slots__ = ("fields", "kind", "nonce")

    def __init__(self, kind: str, **fields) -> None:
        self.kind = kind
        self.nonce = secrets.token_hex(9)
        out = {k: v for k, v in fields.items() if v is not None}
        if isinstance(out.get("detail"), (dict, list)):
            out["detail"] = detail_text(out["detail"])
        for k in _OPTIONAL:
            out.setdefault(k, None)
        self.fields = out

    def finish(self, outcome: str, status: int, ts: float | None = None) -> dict:
        ts = round(ts or time.time(), 6)
        # the id: 32 hex digits like a UUID's, led by the time in microseconds, so the log's
        # unique index on ids grows at its right edge. A random id lands on a random page of
        # that index: at a million records each insert cost the writer about 30 µs more CPU.
        rec = {"id": f"{int(ts * 1_000_000):014x}{self.nonce}", "ts": ts, "day": day_of(ts), "kind": self.kind,
               "outcome": outcome, "status": int(status), "prompt_tokens": 0, "completion_tokens": 0,
               "cost_usd": 0.0, "latency_ms": 0.0}
        rec.update(self.fields)
        return rec


def make_record(kind: str, outcome: str, status: int, **fields) -> dict:
    ts = fields.pop("ts", None)
    return RecordDraft(kind, **fields).finish(outcome, status, ts)


# ---- content: none | hashed | redacted | full ------------------------------------------------

_REDACT = [
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[EMAIL]"),
    (re.compile(r"\b(?:sk|sw|pk|rk|ghp|xox[abp])[-_][A-Za-z0-9_\-]{12,}"), "[SECRET]"),
    (re.compile(r"\+?\d[\d\s().-]{7,}\d"), "[NUMBER]"),
]
# "password: x", "my pwd is x", "api_key=x": the value after a credential word, whatever it is
_CREDENTIAL = re.compile(
    r"(?i)\b(pass(?:word|wd|phrase|code)?|pwd|secret(?:[_ -]?key)?|token|api[_ -]?key|access[_ -]?key|"
    r"credentials?|private[_ -]?key)\b([\"']?\s*(?:is|was|=|:|=>|->)\s*)(\"[^\"]*\"|'[^']*'|\S+)")
_TOKEN = re.compile(r"[A-Za-z0-9/+_=\-]{20,}")  # long unbroken tokens: redacted when they look random
_detectors = None


def _random_looking(token: str) -> bool:
    from ..guard.secrets import shannon_entropy

    classes = sum((any(c.islower() for c in token), any(c.isupper() for c in token), any(c.isdigit() for c in token)))
    return classes >= 2 and shannon_entropy(token) >= 3.5


def redact(text: str) -> str:
    """What `audit.content: redacted` keeps: the text with every span the guard's secret scanner
    and PII patterns find replaced by its kind, then credential assignments, random-looking
    tokens, emails and long numbers. Errs on removing too much: an audit row must not hold
    a secret, whether the request was blocked or not."""
    global _detectors
    if _detectors is None:
        from ..guard.pii import FastPII, merge_spans
        from ..guard.secrets import FastSecrets

        _detectors = (FastSecrets(), FastPII(), merge_spans)
    secrets, pii, merge = _detectors
    spans = merge(secrets.analyze(text), pii.analyze(text))
    for sp in sorted(spans, key=lambda x: x.start, reverse=True):
        text = f"{text[:sp.start]}[{sp.kind}]{text[sp.end:]}"
    text = _CREDENTIAL.sub(lambda m: m.group(1) + m.group(2) + "[SECRET]", text)
    text = _TOKEN.sub(lambda m: "[SECRET]" if _random_looking(m.group(0)) else m.group(0), text)
    for pattern, repl in _REDACT:
        text = pattern.sub(repl, text)
    return text


def content(mode: str, text: str | None) -> str | None:
    if text is None or mode == "none":
        return None
    if mode == "hashed":
        return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    if mode == "redacted":
        return redact(text)
    return text


def prompt_text(body: dict) -> str:
    if "messages" in body:
        parts = []
        for m in body.get("messages") or ():
            c = m.get("content") if isinstance(m, dict) else None
            if isinstance(c, str):
                parts.append(f"{m.get('role')}: {c}")
            elif isinstance(c, list):
                parts.append(f"{m.get('role')}: " + " ".join(
                    p.get("text", "") for p in c if isinstance(p, dict) and isinstance(p.get("text"), str)))
        return "\n".join(parts)
    inp = body.get("input")
    return inp if isinstance(inp, str) else orjson.dumps(inp).decode()


# ---- writing ---------------------------------------------------------------------------------

async def append(engine, records: list[dict], replay: bool = True) -> int:
    """Append records to the chain in one transaction. With `replay` (a spool being replayed,
    whose records may already be in: a write that timed out can still have committed) records
    already present are skipped; fresh records from the queue skip that query, except those
    marked `once` (a job's charge, which its job's settling may have written already: the
    check under the head lock makes the two writers' order not matter). Returns how many were
    written."""
    if not records:
        return 0
    head = sql.audit_head
    async with engine.begin() as conn:
        # Lock the head first: UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite).
        await conn.execute(sa.update(head).where(head.c.id == 1).values(seq=head.c.seq))
        seq, prev = (await conn.execute(sa.select(head.c.seq, head.c.hash).where(head.c.id == 1))).one()
        check = [r["id"] for r in records if replay or r.get("once")]
        present = await _present(conn, check) if check else set()
        rows = []
        for r in records:
            if r["id"] in present:
                continue
            present.add(r["id"])
            seq += 1
            row = {k: r.get(k) for k in CHAINED}
            row["seq"] = seq
            row["prev_hash"] = prev
            row["hash"] = prev = chain_hash(prev, row)
            rows.append(row)
        if rows:
            await _insert(conn, rows)
            await conn.execute(sa.update(head).where(head.c.id == 1).values(seq=seq, hash=prev))
    return len(rows)


_COLUMNS = CHAINED + ("prev_hash", "hash")


async def _present(conn, ids: list[str]) -> set[str]:
    """Which of these ids are already in the log. On PostgreSQL one array parameter: a
    500-value IN list gets a generic plan after five runs that scans the table (a replay
    slowed from 20 to 500 ms a batch as the log grew)."""
    if conn.dialect.name == "postgresql":
        driver = (await conn.get_raw_connection()).driver_connection
        return {r[0] for r in await driver.fetch("SELECT id FROM audit_log WHERE id = ANY($1::varchar[])", ids)}
    present: set[str] = set()
    for i in range(0, len(ids), 500):
        present.update((await conn.execute(
            sa.select(sql.audit_log.c.id).where(sql.audit_log.c.id.in_(ids[i:i + 500])))).scalars())
    return present


async def _insert(conn, rows: list[dict]) -> None:
    """Insert through the driver's own executemany, inside the caller's transaction:
    SQLAlchemy's per-row parameter processing cost more CPU than the database write (and
    this runs next to the request path, sharing the interpreter)."""
    values = [tuple(r[c] for c in _COLUMNS) for r in rows]
    names = ", ".join(_COLUMNS)
    driver = (await conn.get_raw_connection()).driver_connection
    dialect = conn.dialect.name
    if dialect == "sqlite":
        await driver.executemany(f"INSERT INTO audit_log ({names}) VALUES ({', '.join('?' * len(_COLUMNS))})", values)
    elif dialect == "postgresql":  # COPY: about twice the rows/s of a pipelined executemany
        await driver.copy_records_to_table("audit_log", records=values, columns=list(_COLUMNS))
    else:  # any other database SQLAlchemy speaks
        await conn.execute(sa.insert(sql.audit_log), rows)


class AuditWriter:
    """The queue, the WAL and the writer task. `submit` appends the record to this process's
    WAL segment (one write(2)) and queues it; the writer commits batches from the queue and
    deletes a segment once all its records are in. A segment whose records cannot all come
    from memory (a failed write, a full queue) is replayed from its file instead, before any
    newer record is written, as are the segments of processes that died."""

    def __init__(self, engine, *, queue_size: int = 10000, batch_size: int = 500, flush_interval_s: float = 0.2,
                 spool_dir: str | None = None, sql_timeout_s: float = 5.0,
                 breaker: Breaker | None = None) -> None:
        url = engine.url.render_as_string(hide_password=False)
        self.engine = engine
        self.queue: asyncio.Queue[tuple] = asyncio.Queue(queue_size)
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.sql_timeout_s = sql_timeout_s
        self.breaker = breaker or Breaker("sql", 3, 1.0)
        self.wal = wal_mod.Wal(spool_dir or wal_mod.default_directory(url), wal_mod.database_id(url))
        self.spool_dir = self.wal.dir
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self.written = 0
        self.spooled = 0  # records that went (or go) to the database from a file, not memory
        self._holding = False
        self._pending_on_cancel: list[tuple] = []
        self._next_scan = 0.0
        self._orphans: list = []

    # -- the request side: one write(2), never waits --
    def submit(self, record: dict) -> None:
        seg = self.wal.append(orjson.dumps(record) + b"\n")
        if seg is not None and seg.dirty:
            self.spooled += 1
            return  # this segment is replayed from its file, in order
        try:
            self.queue.put_nowait((seg, record))
        except asyncio.QueueFull:
            if seg is None:
                log.error("audit queue full and the WAL unwritable: a record is lost")
                return
            seg.dirty = True
            self.spooled += 1

    # -- lifecycle --
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        batch = self._pending_on_cancel + self._drain(None)
        self._pending_on_cancel = []
        self._next_scan = 0.0
        await self._ship(batch + self._drain(None))
        w = self.wal
        if w.current is not None:
            w.rotate()
        for seg in list(w.closed):  # still unshipped (database down): the next start replays them
            w.closed.remove(seg)
            w.release(seg, delete=seg.shipped)

    async def flush(self) -> None:
        """Write everything queued so far, including a batch the writer holds (tests, admin)."""
        async with self._lock:
            self._next_scan = 0.0
            await self._ship(self._drain(None))
        while self._holding:
            await asyncio.sleep(0.005)
        async with self._lock:
            await self._ship([])

    def _drain(self, limit: int | None) -> list[tuple]:
        out = []
        while not self.queue.empty() and (limit is None or len(out) < limit):
            out.append(self.queue.get_nowait())
        return out

    async def _run(self) -> None:
        while True:
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that
                # arrives as the queue hands over an item, and aclose() then waits forever.
                async with asyncio.timeout(1.0):
                    batch = [await self.queue.get()]
            except TimeoutError:
                batch = []
            self._holding = bool(batch)
            try:
                if batch:
                    await asyncio.sleep(self.flush_interval_s if self.queue.qsize() < self.batch_size else 0)
                    batch += self._drain(self.batch_size - 1)
                async with self._lock:
                    await self._ship(batch)
                    batch = []
            except asyncio.CancelledError:
                if batch:
                    self._pending_on_cancel = batch
                raise
            finally:
                self._holding = False

    async def _ship(self, batch: list[tuple]) -> None:
        """Replay what waits in files (ours, then dead processes'), then commit the batch."""
        batch = [(s, r) for s, r in batch if s is None or not s.dirty]  # dirty: comes from its file
        if not await self.replay():
            self._spill(batch)
            return
        # A segment can turn dirty while the replay awaited (a full queue) and even be replayed
        # already: its records come from the file, never twice.
        batch = [(s, r) for s, r in batch if s is None or not s.dirty]
        if batch:
            try:
                async with asyncio.timeout(self.sql_timeout_s):
                    self.written += await append(self.engine, [r for _, r in batch], replay=False)
                self.breaker.success()
            except asyncio.CancelledError:
                self._spill(batch)
                raise
            except Exception as e:  # noqa: BLE001 - the database is down or failing: the WAL keeps them
                self.breaker.failure()
                log.warning("audit database write failed (%s); %d records wait in the WAL", type(e).__name__, len(batch))
                self._spill(batch)
                return
            for seg, _ in batch:
                if seg is not None:
                    seg.acked += 1
        self.wal.tidy()

    def _spill(self, batch: list[tuple]) -> None:
        for seg, rec in batch:
            if seg is None:  # the WAL could not take it either: keep it in memory while there is room
                try:
                    self.queue.put_nowait((None, rec))
                except asyncio.QueueFull:
                    log.error("audit database and WAL both failing and the queue is full: a record is lost")
            else:
                self.spooled += 1
                seg.dirty = True

    async def replay(self) -> bool:
        """Ship every file that waits: our own dirty segments, then orphans (found by a scan
        at most once a second). Returns False if the database refused (they stay)."""
        w = self.wal
        if time.monotonic() >= self._next_scan:
            self._next_scan = time.monotonic() + 1.0
            self._orphans = w.orphans()
        if not w.pending() and not self._orphans:
            return True
        if not self.breaker.allow():
            return False
        if w.current is not None and w.current.dirty:
            w.rotate()  # new records go to a fresh segment, shipped from memory after this one
        while True:
            seg = next((s for s in w.closed if s.dirty), None)
            if seg is None:
                while self._orphans and seg is None:
                    seg = w.claim(self._orphans.pop(0))
                if seg is None:
                    return True
                w.closed.append(seg)
            try:
                for records in w.read(seg, self.batch_size):
                    async with asyncio.timeout(self.sql_timeout_s):
                        self.written += await append(self.engine, records)
                self.breaker.success()
            except wal_mod.ForeignSpool as e:
                w.closed.remove(seg)
                kept = w.set_aside(seg)
                log.error("audit WAL: %s; kept as %s, never replayed here", e, kept.name)
                continue
            except Exception as e:  # noqa: BLE001
                self.breaker.failure()
                log.warning("audit WAL replay stopped (%s); will retry", type(e).__name__)
                return False  # records already in are skipped on the next try (ids)
            w.closed.remove(seg)
            w.release(seg, delete=True)


# ---- verification and retention -----------------------------------------------------------

@dataclass
class VerifyResult:
    ok: bool
    checked: int
    problem: str | None = None
    seq: int | None = None


class NoAuditHead(Exception):
    """The database has no audit chain to verify (not migrated, or its head row deleted)."""


async def verify(engine, page: int = 5000) -> VerifyResult:
    t, head = sql.audit_log, sql.audit_head
    async with engine.connect() as conn:
        try:
            h = (await conn.execute(sa.select(head).where(head.c.id == 1))).one_or_none()
        except sa.exc.DBAPIError as e:  # no such table: the schema was never migrated
            raise NoAuditHead("the database has no audit_head table") from e
        if h is None:
            raise NoAuditHead("the audit_head row is missing")
        last_seq, last_hash = h.base_seq, h.base_hash
        checked = 0
        while True:
            rows = (await conn.execute(
                sa.select(t).where(t.c.seq > last_seq).order_by(t.c.seq).limit(page))).mappings().all()
            for r in rows:
                if r["seq"] != last_seq + 1:
                    return VerifyResult(False, checked, f"records {last_seq + 1}..{r['seq'] - 1} are missing", r["seq"])
                if r["prev_hash"] != last_hash:
                    return VerifyResult(False, checked, "the chain is broken (removed or reordered record)", r["seq"])
                if chain_hash(last_hash, r) != r["hash"]:
                    return VerifyResult(False, checked, "the record was changed after it was written", r["seq"])
                last_seq, last_hash = r["seq"], r["hash"]
                checked += 1
            if len(rows) < page:
                break
    if (last_seq, last_hash) != (h.seq, h.hash):
        return VerifyResult(False, checked, f"the log ends at {last_seq} but its head says {h.seq}", last_seq)
    return VerifyResult(True, checked)


async def retain(engine, older_than_ts: float, batch: int = 5000, max_batches: int | None = None) -> int:
    """Delete records older than a time from the start of the chain, a batch at a time (each
    batch a short transaction over the primary key), moving the chain's verified start."""
    t, head = sql.audit_log, sql.audit_head
    deleted = 0
    n = 0
    while max_batches is None or n < max_batches:
        n += 1
        async with engine.begin() as conn:
            base = (await conn.execute(sa.select(head.c.base_seq).where(head.c.id == 1))).scalar_one()
            rows = (await conn.execute(sa.select(t.c.seq, t.c.hash, t.c.ts).where(t.c.seq > base)
                                       .order_by(t.c.seq).limit(batch))).all()
            cut = None
            for r in rows:
                if r.ts >= older_than_ts:
                    break
                cut = r
            if cut is None:
                break
            res = await conn.execute(sa.delete(t).where(t.c.seq > base, t.c.seq <= cut.seq))
            await conn.execute(sa.update(head).where(head.c.id == 1).values(base_seq=cut.seq, base_hash=cut.hash))
            deleted += res.rowcount or 0
        await asyncio.sleep(0)
    return deleted
