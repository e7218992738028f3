"""The audit WAL/spool on a real SQLite database (issue 13, item 14): replay streams a large
file in bounded memory, a file whose owner died (an orphaned claim) is taken over while a
live owner's is not, a spool left for another database is never replayed into this one, and
`seawall audit verify` explains a database without an audit head."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import tracemalloc

import sqlalchemy as sa

from seawall.govern import audit, wal
from seawall.store import sql


def records(n: int, tag: str = "r") -> list[dict]:
    pad = "sha256:" + "ab" * 32
    return [audit.make_record("request", "ok", 200, request_id=f"{tag}{i}", alias="m", prompt=pad, response=pad,
                              detail={"attempts": 1, "stream": False}) for i in range(n)]


async def engine_at(path) -> sa.ext.asyncio.AsyncEngine:
    e = sql.make_engine(f"sqlite:///{path}")
    await sql.migrate(e)
    return e


def left_behind(directory, url: str, recs: list[dict]) -> os.PathLike:
    """A WAL segment as a process that died would leave it: written, unlocked, not shipped."""
    w = wal.Wal(directory, wal.database_id(url))
    for r in recs:
        w.append(audit.orjson.dumps(r) + b"\n")
    seg = w.current
    os.close(seg.fd)  # what the kernel does when the owner dies: the lock is gone
    return seg.path


async def count(engine) -> int:
    async with engine.connect() as c:
        return (await c.execute(sa.select(sa.func.count()).select_from(sql.audit_log))).scalar()


async def test_replay_of_a_large_wal_keeps_memory_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(wal, "SEGMENT_BYTES", 1 << 40)  # one big file, as the old spool grew
    url = f"sqlite:///{tmp_path}/a.db"
    path = left_behind(tmp_path / "wal", url, records(50000))
    size = path.stat().st_size
    assert size > 15 << 20
    e = await engine_at(tmp_path / "a.db")
    w = audit.AuditWriter(e, spool_dir=str(tmp_path / "wal"))
    tracemalloc.start()
    try:
        await w.flush()  # finds the orphan and replays it
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    await w.aclose()
    assert await count(e) == 50000
    assert (await audit.verify(e)).ok
    assert peak < size / 4, f"replay held {peak >> 20} MiB for a {size >> 20} MiB file"
    assert not path.exists()
    await e.dispose()


async def test_an_orphaned_claim_is_taken_over_but_a_live_owners_file_is_not(tmp_path):
    url = f"sqlite:///{tmp_path}/a.db"
    directory = tmp_path / "wal"
    # A claim by a process that died mid-replay (its pid and its lock are gone).
    orphan = left_behind(directory, url, records(300, "orphan"))
    claimed = orphan.with_name(orphan.name + ".claimed-999999999")
    os.rename(orphan, claimed)
    # A file whose owner is alive and holds its lock.
    live = left_behind(directory, url, records(200, "live"))
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, os, sys, time
        fd = os.open({str(live)!r}, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("locked", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        e = await engine_at(tmp_path / "a.db")
        w = audit.AuditWriter(e, spool_dir=str(directory))
        await w.flush()
        assert await count(e) == 300  # the orphaned claim, and not the live owner's file
        assert not claimed.exists() and live.exists()
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        await w.flush()  # its owner died: now it is an orphan too
        assert await count(e) == 500
        assert not live.exists()
        assert (await audit.verify(e)).ok
        await w.aclose()
        await e.dispose()
    finally:
        holder.kill()
        holder.wait()


async def test_a_spool_of_another_database_is_not_replayed(tmp_path):
    shared = tmp_path / "wal"  # both gateways configured with the same spool_dir
    url_a, url_b = f"sqlite:///{tmp_path}/a.db", f"sqlite:///{tmp_path}/b.db"
    path = left_behind(shared, url_a, records(50, "a"))
    # Even under a name of B's, a file whose header names A is refused.
    disguised = path.with_name(path.name.replace(wal.database_id(url_a), wal.database_id(url_b)))
    left_behind(shared, url_a, records(5, "a2")).rename(disguised)
    b = await engine_at(tmp_path / "b.db")
    wb = audit.AuditWriter(b, spool_dir=str(shared))
    await wb.flush()
    assert await count(b) == 0
    assert path.exists() and disguised.with_name(disguised.name + ".foreign").exists()  # kept, set aside
    await wb.aclose()
    await b.dispose()
    a = await engine_at(tmp_path / "a.db")
    wa = audit.AuditWriter(a, spool_dir=str(shared))
    await wa.flush()
    assert await count(a) == 50  # its own database takes it
    assert not path.exists()
    await wa.aclose()
    await a.dispose()


def test_database_id_is_the_database_not_the_spelling(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert wal.database_id("sqlite:///x.db") == wal.database_id(f"sqlite+aiosqlite:///{tmp_path}/x.db")
    assert wal.database_id("postgresql://u:secret@h/db") == wal.database_id("postgresql+asyncpg://u:other@h/db")
    assert wal.database_id("postgresql://u@h/db1") != wal.database_id("postgresql://u@h/db2")


def test_audit_verify_without_an_audit_head_is_a_clean_error(tmp_path, capsys):
    from seawall.cli import main

    db = tmp_path / "a.db"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"providers: [{{name: p, base_url: 'http://127.0.0.1:9'}}]\n"
                   f"models: [{{name: m, targets: [{{provider: p, model: m}}]}}]\n"
                   f"store: {{sql: 'sqlite:///{db}', migrate: false}}\n")
    import sqlite3

    sqlite3.connect(db).close()  # an empty database: no schema at all
    assert main(["audit", "verify", "-c", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "audit_head" in err and "seawall db upgrade" in err and "Traceback" not in err


async def test_a_burst_past_the_queue_is_replayed_from_the_wal_once_and_in_order(tmp_path):
    e = await engine_at(tmp_path / "a.db")
    w = audit.AuditWriter(e, spool_dir=str(tmp_path / "wal"), queue_size=10, batch_size=50)
    w.start()
    for r in records(500, "burst"):  # the queue holds 10: the rest is only in the WAL
        w.submit(r)
    assert w.spooled > 0
    await w.flush()
    await w.aclose()
    async with e.connect() as c:
        ids = (await c.execute(sa.select(sql.audit_log.c.request_id).order_by(sql.audit_log.c.seq))).scalars().all()
    assert ids == [f"burst{i}" for i in range(500)]
    assert (await audit.verify(e)).ok
    assert not list((tmp_path / "wal").iterdir())
    await e.dispose()


async def test_an_empty_orphan_is_removed_not_set_aside(tmp_path):
    url = f"sqlite:///{tmp_path}/a.db"
    (tmp_path / "wal").mkdir()
    empty = tmp_path / "wal" / f"audit-{wal.database_id(url)}-{0:020d}-1-abcdef.wal"
    empty.write_bytes(b"")  # its owner died between creating it and writing the header
    e = await engine_at(tmp_path / "a.db")
    w = audit.AuditWriter(e, spool_dir=str(tmp_path / "wal"))
    await w.flush()
    await w.aclose()
    assert not list((tmp_path / "wal").iterdir())
    await e.dispose()
