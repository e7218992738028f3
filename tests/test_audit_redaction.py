"""`audit.content: redacted` keeps no secret (issue 13, item 8).

A real gateway process writes its audit log to SQLite; requests carrying an AWS key id, an AWS
secret and a password (blocked by the guard, or allowed where the guard lets them through) leave
rows that hold none of them. The redaction function is also checked on its own.
"""
from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from pathlib import Path

import pytest

from procs import http, start_gateway, start_simulator
from seawall.govern.audit import redact

KEY_ID = "AKIAZ7Q4M2X9P3L8N6VB"
SECRET = "Jx8fQ2mR7vK1pL9wZ3nB5tH6yC4dG0sE/aUq+Ti1"
PASSWORD = "Tr0ub4dor&3xyz"
LEAKS = (KEY_ID, SECRET, PASSWORD)
PROMPT = (f"Why does my script fail? It sets aws_access_key_id={KEY_ID} and "
          f"aws_secret_access_key={SECRET}, and the database password: {PASSWORD}")


@pytest.mark.parametrize("text", [
    PROMPT,
    f"key {KEY_ID}, secret {SECRET}, my password is {PASSWORD}",
    f'{{"password": "{PASSWORD}", "secret": "{SECRET}"}}',
    f"pwd={PASSWORD};",
])
def test_redact_removes_what_the_scanners_find(text):
    out = redact(text)
    assert not any(leak in out for leak in LEAKS), out
    assert "[" in out


def test_redact_keeps_ordinary_prose():
    text = "Summarise the meeting notes about the quarterly roadmap, please."
    assert redact(text) == text


@pytest.fixture(scope="module")
def stack():
    sim = start_simulator(seed=31)
    db = Path(tempfile.mkdtemp(prefix="seawall-audit-")) / "audit.db"
    config = {
        "server": {"access_log": False},
        "store": {"sql": f"sqlite:///{db}"},
        "governance": {"audit": {"content": "redacted", "flush_interval_s": 0.05,
                                 "spool_dir": str(db.parent / "spool")}},
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "strict", "targets": [{"provider": "sim", "model": "echo"}]},
                   # secrets let through to the upstream: the audit row must still not keep them
                   {"name": "lax", "targets": [{"provider": "sim", "model": "echo"}],
                    "guard": {"secrets_action": "allow", "output_secrets_action": "allow",
                              "injection_enabled": False}}],
    }
    gw = start_gateway(config)
    yield gw, db
    gw.stop()
    sim.stop()


def _rows(db: Path, n: int) -> list[dict]:
    deadline = time.monotonic() + 15  # the writer flushes behind the request path
    while True:
        try:
            with sqlite3.connect(db) as c:
                c.row_factory = sqlite3.Row
                rows = [dict(r) for r in c.execute("SELECT * FROM audit_log WHERE kind = 'request' ORDER BY seq")]
        except sqlite3.OperationalError:
            rows = []
        if len(rows) >= n or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_audit_rows_hold_no_secret_for_blocked_and_allowed_requests(stack):
    gw, db = stack
    outcomes = []
    for alias in ("strict", "lax"):
        body = {"model": alias, "messages": [{"role": "user", "content": PROMPT}]}
        status, _, raw = http("POST", gw.url + "/v1/chat/completions", json.dumps(body).encode(),
                              {"content-type": "application/json"})
        outcomes.append(status)
    assert outcomes == [400, 200]  # guard_blocked; echoed back by the upstream
    rows = _rows(db, 2)
    assert len(rows) == 2
    assert rows[0]["outcome"] == "guard_blocked" and rows[1]["outcome"] == "ok"
    for row in rows:
        stored = json.dumps(row)
        assert row["prompt"] and "[" in row["prompt"]
        for leak in LEAKS:
            assert leak not in stored, (row["outcome"], leak)
