"""The audit log: one record per request (and per admin change), hash-chained, written behind.

Records go into a bounded queue; one writer task takes them in batches and appends each batch
in one transaction that first locks the single `audit_head` row. The head holds the last
sequence number and hash, so writers on any number of instances append one after another and
the chain cannot fork. While the database is down (or its breaker is open) batches go to a
local spool file, replayed in order when it returns; a full queue spills to the spool too,
and closing the writer flushes everything. Nothing waits for this on the request path.

    hash = sha256(prev_hash + canonical JSON of the record's columns, seq included)

`verify` walks the chain by sequence number and reports the first changed, removed or
reordered record.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson
import sqlalchemy as sa

from ..store import sql
from ..store.breaker import Breaker

log = logging.getLogger("seawall.audit")

CHAINED = ("seq", "id", "ts", "day", "kind", "request_id", "key_id", "user_id", "team_id", "department_id",
           "alias", "deployment", "outcome", "status", "prompt_tokens", "completion_tokens", "cost_usd",
           "latency_ms", "detail", "prompt", "response")


def chain_hash(prev: str, rec: dict) -> str:
    body = orjson.dumps({k: rec.get(k) for k in CHAINED}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(prev.encode() + body).hexdigest()


def day_of(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def make_record(kind: str, outcome: str, status: int, **fields) -> dict:
    ts = round(fields.pop("ts", None) or time.time(), 6)
    rec = {"id": uuid.uuid4().hex, "ts": ts, "day": day_of(ts), "kind": kind, "outcome": outcome,
           "status": int(status), "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0, "latency_ms": 0.0}
    for k, v in fields.items():
        if v is not None:
            rec[k] = v
    if isinstance(rec.get("detail"), (dict, list)):
        rec["detail"] = orjson.dumps(rec["detail"], option=orjson.OPT_SORT_KEYS).decode()
    for k in ("request_id", "key_id", "user_id", "team_id", "department_id", "alias", "deployment",
              "detail", "prompt", "response"):
        rec.setdefault(k, None)
    return rec


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
    already present are skipped; fresh records from the queue skip that query. Returns how
    many were written."""
    if not records:
        return 0
    head = sql.audit_head
    async with engine.begin() as conn:
        # Lock the head first: UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite).
        await conn.execute(sa.update(head).where(head.c.id == 1).values(seq=head.c.seq))
        seq, prev = (await conn.execute(sa.select(head.c.seq, head.c.hash).where(head.c.id == 1))).one()
        ids = [r["id"] for r in records]
        present: set[str] = set()
        for i in range(0, len(ids) if replay else 0, 500):
            present.update((await conn.execute(
                sa.select(sql.audit_log.c.id).where(sql.audit_log.c.id.in_(ids[i:i + 500])))).scalars())
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
    elif dialect == "postgresql":
        marks = ", ".join(f"${i}" for i in range(1, len(_COLUMNS) + 1))
        await driver.executemany(f"INSERT INTO audit_log ({names}) VALUES ({marks})", values)
    else:  # any other database SQLAlchemy speaks
        await conn.execute(sa.insert(sql.audit_log), rows)


class AuditWriter:
    def __init__(self, engine, *, queue_size: int = 10000, batch_size: int = 500, flush_interval_s: float = 0.2,
                 spool_dir: str = ".seawall/spool", sql_timeout_s: float = 5.0,
                 breaker: Breaker | None = None) -> None:
        self.engine = engine
        self.queue: asyncio.Queue[dict] = asyncio.Queue(queue_size)
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.sql_timeout_s = sql_timeout_s
        self.breaker = breaker or Breaker("sql", 3, 1.0)
        self.spool_dir = Path(spool_dir)
        self._spool_file = None
        self._spool_n = 0
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self.written = 0
        self.spooled = 0
        self._holding = False
        self._pending_on_cancel: list[dict] = []

    # -- the request side: never blocks --
    def submit(self, record: dict) -> None:
        try:
            self.queue.put_nowait(record)
        except asyncio.QueueFull:
            self._spool([record])

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
        while batch:
            await self._write(batch)
            batch = self._drain(None)
        await self.replay()
        self._close_spool()

    async def flush(self) -> None:
        """Write everything queued so far, including a batch the writer holds (tests, admin)."""
        async with self._lock:
            batch = self._drain(None)
            if batch:
                await self._write(batch)
        while self._holding:
            await asyncio.sleep(0.005)
        async with self._lock:
            await self.replay()

    def _drain(self, limit: int | None) -> list[dict]:
        out = []
        while not self.queue.empty() and (limit is None or len(out) < limit):
            out.append(self.queue.get_nowait())
        return out

    async def _run(self) -> None:
        next_replay = 0.0
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
                    if batch:
                        await self._write(batch)
                        batch = []
                    if time.monotonic() >= next_replay:
                        next_replay = time.monotonic() + 1.0
                        await self.replay()
            except asyncio.CancelledError:
                if batch:
                    self._pending_on_cancel = batch
                raise
            finally:
                self._holding = False

    async def _write(self, batch: list[dict]) -> None:
        if self._spool_pending() or not self.breaker.allow():
            self._spool(batch)  # keep order: while anything waits in the spool, new records queue behind it
            return
        try:
            async with asyncio.timeout(self.sql_timeout_s):
                self.written += await append(self.engine, batch, replay=False)
            self.breaker.success()
        except asyncio.CancelledError:
            self._spool(batch)
            raise
        except Exception as e:  # noqa: BLE001 - the database is down or failing: spool
            self.breaker.failure()
            log.warning("audit database write failed (%s); spooling %d records", type(e).__name__, len(batch))
            self._spool(batch)

    # -- the spool: JSON lines, one file per process at a time, claimed by rename to replay --
    def _spool_pending(self) -> bool:
        return self._spool_file is not None or any(self.spool_dir.glob("audit-*.jsonl")) \
            if self.spool_dir.exists() else False

    def _spool(self, records: list[dict]) -> None:
        if self._spool_file is None:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
            self._spool_n += 1
            name = f"audit-{time.time_ns():020d}-{os.getpid()}-{self._spool_n}.jsonl"
            self._spool_file = open(self.spool_dir / name, "ab")
        self._spool_file.write(b"".join(orjson.dumps(r) + b"\n" for r in records))
        self._spool_file.flush()
        self.spooled += len(records)

    def _close_spool(self) -> None:
        if self._spool_file is not None:
            os.fsync(self._spool_file.fileno())
            self._spool_file.close()
            self._spool_file = None

    async def replay(self) -> int:
        """Move spooled records into the database, oldest file first. Stops at the first failure."""
        if not self.spool_dir.exists() or not self.breaker.allow():
            return 0
        self._close_spool()
        done = 0
        for path in sorted(self.spool_dir.glob("audit-*.jsonl")):
            claimed = path.with_suffix(f".claimed-{os.getpid()}")
            try:
                path.rename(claimed)  # another instance sharing the directory may take it first
            except OSError:
                continue
            lines = [orjson.loads(x) for x in claimed.read_bytes().splitlines() if x.strip()]
            try:
                for i in range(0, len(lines), self.batch_size):
                    async with asyncio.timeout(self.sql_timeout_s):
                        done += await append(self.engine, lines[i:i + self.batch_size])
                self.breaker.success()
                claimed.unlink()
            except Exception as e:  # noqa: BLE001
                self.breaker.failure()
                log.warning("audit spool replay stopped (%s); will retry", type(e).__name__)
                claimed.rename(path)  # already-written records are skipped on the next try (ids)
                break
        self.written += done
        return done


# ---- verification and retention -----------------------------------------------------------

@dataclass
class VerifyResult:
    ok: bool
    checked: int
    problem: str | None = None
    seq: int | None = None


async def verify(engine, page: int = 5000) -> VerifyResult:
    t, head = sql.audit_log, sql.audit_head
    async with engine.connect() as conn:
        h = (await conn.execute(sa.select(head).where(head.c.id == 1))).one()
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
