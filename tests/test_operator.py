"""The operator's view through a real gateway process (issue 13, items 12, 18, 20): why a request
was not cached, a budget refusal that says what happened, the gateway's own request ids, refusals
before identification in the access log and the audit log (the key's hint, never the key),
access-log fields, bounded metric labels and spend per team, and a /metrics token.
"""
from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from pathlib import Path

import openai
import pytest

from procs import http, start_gateway, start_simulator

ADMIN = "adm-operator-test-4b1e"
METRICS_TOKEN = "metrics-token-77a0c3"
HI = [{"role": "user", "content": "what is the boiling point of water at sea level?"}]


@pytest.fixture(scope="module")
def stack():
    sim = start_simulator(seed=43)
    work = Path(tempfile.mkdtemp(prefix="seawall-operator-"))
    config = {
        "admin_key": ADMIN,
        "server": {"metrics_token": METRICS_TOKEN},  # the access log is on (the default)
        "store": {"sql": f"sqlite:///{work}/g.db"},
        "governance": {"refresh_s": 0.2, "audit": {"spool_dir": str(work / "spool"), "flush_interval_s": 0.05}},
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [
            {"name": "cached", "targets": [{"provider": "sim", "model": "m", "price": {"input": 1.0, "output": 2.0}}],
             "cache": {"category": "long"}},
            # its own upstream model: two aliases on one provider+model share one deployment (and price)
            {"name": "pricey", "targets": [{"provider": "sim", "model": "m2",
                                            "price": {"input": 1000.0, "output": 1000.0}}]},
        ],
    }
    gw = start_gateway(config)
    gw.db = work / "g.db"
    yield gw, sim
    gw.stop()
    sim.stop()


def admin(gw, path: str, body: dict) -> dict:
    status, _, raw = http("POST", gw.url + "/admin/" + path, json.dumps(body).encode(),
                          {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"})
    assert status in (200, 201), raw
    return json.loads(raw)


def chat(gw, key: str, model: str = "cached", headers: dict | None = None, **extra):
    h = {"authorization": f"Bearer {key}", "content-type": "application/json", **(headers or {})}
    return http("POST", gw.url + "/v1/chat/completions",
                json.dumps({"model": model, "messages": HI, **extra}).encode(), h)


@pytest.fixture(scope="module")
def key(stack):
    gw, _ = stack
    admin(gw, "departments", {"id": "ops"})
    admin(gw, "teams", {"id": "sre", "department": "ops"})
    k = admin(gw, "keys", {"team": "sre"})
    deadline = time.monotonic() + 10  # the gateway reloads its key directory behind the request path
    while chat(gw, k["key"])[0] == 401 and time.monotonic() < deadline:
        time.sleep(0.05)
    return k


def audit_rows(gw, where: str, args: tuple = (), want: int = 1) -> list[sqlite3.Row]:
    deadline = time.monotonic() + 10  # the audit writer flushes behind the request path
    while True:
        with sqlite3.connect(gw.db) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(f"SELECT * FROM audit_log WHERE {where}", args).fetchall()
        if len(rows) >= want or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def log_lines(gw) -> list[dict]:
    out = []
    for line in gw.output().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def test_sdk_default_temperature_is_cached_and_a_skip_says_why(stack, key):
    """Item 18: the OpenAI SDK sends no temperature; an alias the operator caches caches it."""
    gw, sim = stack
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key=key["key"], max_retries=0)
    q = [{"role": "user", "content": "define photosynthesis in one line"}]
    first = client.chat.completions.with_raw_response.create(model="cached", messages=q)
    second = client.chat.completions.with_raw_response.create(model="cached", messages=q)
    assert first.headers["x-seawall-cache"] == "miss"
    assert second.headers["x-seawall-cache"] == "hit-exact"
    hot = client.chat.completions.with_raw_response.create(model="cached", messages=q, temperature=1.2)
    assert hot.headers["x-seawall-cache"] == "skip;reason=temperature"
    # an alias the operator did not cache stays silent
    plain = client.chat.completions.with_raw_response.create(model="pricey", messages=q, max_tokens=1)
    assert "x-seawall-cache" not in plain.headers


def test_a_reservation_beyond_the_budget_is_not_called_spent(stack, key):
    gw, _ = stack
    admin(gw, "teams", {"id": "tight", "department": "ops"})
    admin(gw, "budgets", {"scope": "team", "scope_id": "tight", "period": "daily", "amount_usd": 1.0,
                          "hard": True})
    k = admin(gw, "keys", {"team": "tight"})
    deadline = time.monotonic() + 10
    while (st := chat(gw, k["key"], "pricey", max_tokens=5000))[0] == 401 and time.monotonic() < deadline:
        time.sleep(0.05)
    status, _, raw = st
    assert status == 429, raw
    err = json.loads(raw)["error"]
    assert status == 429 and err["code"] == "budget_exceeded"
    msg = err["message"]
    assert "is spent" not in msg and "$1.00" in msg and "max_tokens" in msg, msg
    assert "$0.0000 spent or reserved" in msg and "$1.0000 left" in msg, msg


def test_the_gateway_makes_its_own_request_id(stack, key):
    gw, _ = stack
    status, headers, _ = chat(gw, key["key"], headers={"x-request-id": "dup-id-1"})
    status2, headers2, _ = chat(gw, key["key"], headers={"x-request-id": "dup-id-1"})
    assert status == status2 == 200
    ours = headers["x-request-id"]
    assert ours != "dup-id-1" and ours != headers2["x-request-id"]  # a reused client id collides with nothing
    assert headers["x-client-request-id"] == "dup-id-1"
    rows = audit_rows(gw, "request_id = ?", (ours,))
    assert len(rows) == 1 and json.loads(rows[0]["detail"])["client_request_id"] == "dup-id-1"
    assert not audit_rows(gw, "request_id = ?", ("dup-id-1",), want=0)


def test_refusals_before_identification_leave_a_trace_without_the_key(stack, key):
    gw, _ = stack
    bad = "sw-zzzz-this-is-not-a-real-key-0042"
    status, headers, _ = chat(gw, bad)
    assert status == 401
    rid = headers["x-request-id"]
    rows = audit_rows(gw, "request_id = ?", (rid,))
    assert len(rows) == 1 and rows[0]["outcome"] == "invalid_api_key" and rows[0]["status"] == 401
    detail = json.loads(rows[0]["detail"])
    assert detail["key"] == "sw-zz…" and detail["path"] == "/v1/chat/completions"
    lines = [x for x in log_lines(gw) if x.get("request_id") == rid and x.get("msg") == "request"]
    assert lines and lines[0]["status"] == 401 and lines[0]["key"] == "sw-zz…"
    # a body refused after identification (never reached the pipeline) is recorded with the key
    status, headers, _ = chat(gw, key["key"], messages="not a list")
    assert status == 400
    rows = audit_rows(gw, "request_id = ?", (headers["x-request-id"],))
    assert len(rows) == 1 and rows[0]["key_id"] == key["id"]
    with sqlite3.connect(gw.db) as db:
        dump = "\n".join(str(r) for r in db.execute("SELECT * FROM audit_log").fetchall())
    assert bad not in dump and key["key"] not in dump and bad not in gw.output()


def test_access_log_lines_say_who_and_what_happened(stack, key):
    gw, _ = stack
    status, headers, _ = chat(gw, key["key"], max_tokens=5)
    assert status == 200
    line = next(x for x in log_lines(gw) if x.get("request_id") == headers["x-request-id"] and x.get("msg") == "request")
    assert line["key"] == key["hint"] and line["team"] == "sre" and line["department"] == "ops"
    assert line["cache"] in ("miss", "hit-exact") and line["guard"] is not None
    assert "cost_usd" in line
    assert key["key"] not in gw.output()


def test_metrics_need_the_token_and_labels_stay_bounded(stack, key):
    gw, _ = stack
    assert http("GET", gw.url + "/metrics")[0] == 401
    assert http("GET", gw.url + "/metrics", headers={"authorization": "Bearer wrong"})[0] == 401
    for i in range(5):  # client-chosen model names never become labels
        assert chat(gw, key["key"], model=f"made-up-model-{i}")[0] == 404
    chat(gw, key["key"], "pricey", max_tokens=3)
    status, _, body = http("GET", gw.url + "/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert status == 200
    text = body.decode()
    assert "made-up-model" not in text
    assert 'alias="other"' in text
    spend = [x for x in text.splitlines() if x.startswith("seawall_spend_usd_total{")]
    assert any('team="sre"' in x and 'department="ops"' in x and float(x.rsplit(" ", 1)[1]) > 0 for x in spend)
