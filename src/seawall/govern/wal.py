"""The audit write-ahead log: every record is on local disk before its response completes.

Each process appends records (one JSON line, one write(2) each) to its own segment file in a
directory that belongs to one database: the directory and every file name carry the
database's id (a hash of its URL without the password), and each file's first line records
it too, so a spool left for database A is never replayed into database B.

    audit-<db id>-<ns timestamp>-<pid>-<rand>.wal            a segment, locked (flock) by its writer
    audit-<db id>-<ns timestamp>-<pid>-<rand>.wal.claimed-P  taken over by process P for replay
    audit-<...>.wal.foreign                                  its header names another database: kept

A process holds an exclusive flock on every segment it still owns. The kernel drops the lock
when the process dies, however it dies, so a segment (or a claim) whose lock can be taken
belongs to nobody and is replayed by whoever finds it. Replay reads a file a batch at a time;
records already in the database (same id) are skipped, so a replay after a crash writes
each record exactly once.
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Iterator

import orjson

log = logging.getLogger("seawall.audit")

SEGMENT_BYTES = 4 << 20  # a segment rotates at this size even if not yet shipped
SEGMENT_AGE_S = 1.0  # a fully shipped segment is replaced (and deleted) after this long


def database_id(url: str) -> str:
    """A stable id for a database URL: no password, SQLite paths made absolute."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    backend, db = u.get_backend_name(), u.database
    if backend == "sqlite" and db and db != ":memory:":
        db = os.path.abspath(db)
    who = orjson.dumps([backend, u.username, u.host, u.port, db])  # never the password
    return hashlib.sha256(who).hexdigest()[:16]


def default_directory(url: str) -> Path:
    """Where the WAL lives when the configuration names no directory: next to a SQLite file
    (it is that database's), else under .seawall/spool."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        p = Path(os.path.abspath(u.database))
        return p.parent / f"{p.name}-audit"
    return Path(".seawall/spool")


class Segment:
    __slots__ = ("path", "fd", "written", "acked", "dirty", "opened", "size", "closed")

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd
        self.written = 0  # records appended
        self.acked = 0  # of those, committed from memory
        self.dirty = False  # some records must come from the file (a failed write, a full queue)
        self.opened = time.monotonic()
        self.size = 0
        self.closed = False  # no longer appended to

    @property
    def shipped(self) -> bool:
        return not self.dirty and self.acked >= self.written


class Wal:
    def __init__(self, directory: str | Path, db_id: str) -> None:
        self.dir = Path(directory)
        self.db_id = db_id
        self.header = orjson.dumps({"seawall_audit_wal": 1, "db": db_id}) + b"\n"
        self.current: Segment | None = None
        self.closed: list[Segment] = []  # ours, rotated out, not yet shipped or replayed
        self._warned_legacy = False
        self.failed = False  # the disk refused a write: records go on in memory only

    # -- appending (the request path) --
    def _open(self) -> Segment:
        self.dir.mkdir(parents=True, exist_ok=True)
        # the random part keeps two writers in one process (tests, a library user) apart
        path = self.dir / f"audit-{self.db_id}-{time.time_ns():020d}-{os.getpid()}-{os.urandom(3).hex()}.wal"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: nobody else has it
        os.write(fd, self.header)
        seg = Segment(path, fd)
        seg.size = len(self.header)
        return seg

    def append(self, line: bytes) -> Segment | None:
        """One write(2): after it returns the record survives this process being killed."""
        try:
            seg = self.current
            if seg is None:
                seg = self.current = self._open()
            os.write(seg.fd, line)
        except OSError as e:
            if not self.failed:
                log.error("audit WAL write failed (%s); records are kept in memory only until it recovers", e)
            self.failed = True
            return None
        self.failed = False
        seg.written += 1
        seg.size += len(line)
        if seg.size >= SEGMENT_BYTES:
            self.rotate()
        return seg

    def rotate(self) -> None:
        seg = self.current
        if seg is None:
            return
        self.current = None
        seg.closed = True
        if seg.shipped:
            self.release(seg, delete=True)
        else:
            self.closed.append(seg)

    def tidy(self) -> None:
        """Delete closed segments whose records are all committed; replace the current one
        when it is shipped and old enough (so the files stay small)."""
        for seg in [s for s in self.closed if s.shipped]:
            self.closed.remove(seg)
            self.release(seg, delete=True)
        cur = self.current
        if cur is not None and cur.shipped and (time.monotonic() - cur.opened >= SEGMENT_AGE_S or cur.size >= SEGMENT_BYTES):
            self.rotate()

    def release(self, seg: Segment, delete: bool) -> None:
        if delete:
            try:
                seg.path.unlink()
            except FileNotFoundError:
                pass
        else:
            os.fsync(seg.fd)
        os.close(seg.fd)  # closing drops the lock

    def set_aside(self, seg: Segment) -> Path:
        """A file that is not this database's: renamed out of every scan, never deleted."""
        kept = seg.path.with_name(seg.path.name.split(".wal")[0] + ".wal.foreign")
        os.rename(seg.path, kept)
        os.close(seg.fd)
        return kept

    def pending(self) -> bool:
        return bool(self.current is not None and self.current.dirty) or any(s.dirty for s in self.closed)

    # -- replay --
    def orphans(self) -> list[Path]:
        """This database's files that no live process holds, oldest first."""
        if not self.dir.exists():
            return []
        mine = {s.path for s in self.closed}
        if self.current is not None:
            mine.add(self.current.path)
        if not self._warned_legacy and any(self.dir.glob("audit-*.jsonl")):
            self._warned_legacy = True  # the spool before the WAL named no database: never guess
            log.warning("%s holds audit-*.jsonl spool files of an older Seawall that do not say which "
                        "database they belong to; they are not replayed", self.dir)
        found = []
        for p in self.dir.glob(f"audit-{self.db_id}-*.wal*"):
            if p not in mine and (p.suffix == ".wal" or ".wal.claimed-" in p.name):
                found.append(p)
        return sorted(found, key=lambda p: p.name.split(".wal")[0])

    def claim(self, path: Path) -> Segment | None:
        """Take an orphaned file: lock it (fails while its owner lives), check it is still the
        file under that name, then rename it to show who replays it."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_ino != os.stat(path).st_ino:
                raise FileNotFoundError  # replayed and deleted (or renamed) while we looked
        except OSError:
            os.close(fd)
            return None
        base = path.name.split(".wal")[0] + ".wal"
        claimed = path.with_name(f"{base}.claimed-{os.getpid()}")
        if claimed != path:
            os.rename(path, claimed)
        seg = Segment(claimed, fd)
        seg.dirty = seg.closed = True
        return seg

    def read(self, seg: Segment, batch_size: int) -> Iterator[list[dict]]:
        """The file's records, a batch at a time (memory stays bounded whatever its size)."""
        with open(seg.path, "rb") as f:
            first = f.readline()
            if not first:
                return  # its owner died before writing the header: nothing in it
            try:
                head = orjson.loads(first)
            except orjson.JSONDecodeError:
                head = None
            if not isinstance(head, dict) or head.get("db") != self.db_id:
                raise ForeignSpool(f"{seg.path.name} does not belong to this database")
            batch: list[dict] = []
            for line in f:
                try:
                    batch.append(orjson.loads(line))
                except orjson.JSONDecodeError:
                    log.warning("audit WAL %s: skipped a torn line at the end", seg.path.name)
                    continue
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
            if batch:
                yield batch


class ForeignSpool(Exception):
    pass
