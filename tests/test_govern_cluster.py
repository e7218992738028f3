"""Three real Seawall processes sharing Redis and PostgreSQL: exact limits, budgets that
hold under concurrency, and no plaintext key anywhere (DB, Redis, logs, errors, audit)."""
from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from procs import http, start_gateway, start_simulator
from services import REDIS, PG_HOST, PG_PORT, psql, redis_cleanup, require_services

ADMIN = "admin-secret-for-tests-0001"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    require_services()
    name = "sw_cluster_" + str(int(time.time() * 1000))[-9:]
    prefix = f"swt:{name}:"
    psql(f"CREATE DATABASE {name}")
    sim = start_simulator()
    spool = tmp_path_factory.mktemp("spool")
    cfg = {
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "m", "targets": [{"provider": "sim", "model": "m",
                                              "price": {"input": 100.0, "output": 10000.0}}]}],
        "admin_key": ADMIN,
        "server": {"log_level": "debug"},
        "store": {"state": REDIS, "sql": f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}", "prefix": prefix,
                  "state_timeout_s": 0.5},  # a busy 2-core test box must not trip the fail-open path
        "governance": {"audit": {"spool_dir": str(spool), "content": "full", "flush_interval_s": 0.05}},
    }
    gws = []
    try:
        gws.append(start_gateway(cfg))  # the first one migrates; the others find the schema ready
        gws += [start_gateway(cfg) for _ in range(2)]
        # Until an instance knows of a key it runs open (unknown keys pass as anonymous): create
        # one and wait until every instance turns a wrong key away.
        admin(gws[0], "POST", "/admin/keys", {"user": "first"})
        deadline = time.monotonic() + 5
        for g in gws:
            while http("GET", g.url + "/v1/models", headers={"authorization": "Bearer sw-wrong"})[0] != 401:
                assert time.monotonic() < deadline
                time.sleep(0.02)
        yield {"gws": gws, "db": name, "prefix": prefix, "spool": spool}
    finally:
        for g in gws:
            g.stop()
        sim.stop()
        redis_cleanup(REDIS, prefix)
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def admin(gw, method, path, body=None):
    status, _, raw = http(method, gw.url + path, json.dumps(body).encode() if body is not None else None,
                          {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"})
    assert status < 300, raw
    return json.loads(raw)


def chat(gw, key, max_tokens=20):
    body = json.dumps({"model": "m", "max_tokens": max_tokens,
                       "messages": [{"role": "user", "content": "count the waves"}]}).encode()
    return http("POST", gw.url + "/v1/chat/completions", body,
                {"authorization": f"Bearer {key}", "content-type": "application/json"})


def wait_known(gws, key):
    """New keys reach the other instances by pub/sub; wait until all three accept it."""
    deadline = time.monotonic() + 5
    for g in gws:
        while http("GET", g.url + "/v1/models", headers={"authorization": f"Bearer {key}"})[0] != 200:
            assert time.monotonic() < deadline, "key did not reach every instance"
            time.sleep(0.02)


def spread(gws, key, n, workers=24, max_tokens=20):
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda i: chat(gws[i % 3], key, max_tokens), range(n)))


def audit_rows(db, key_id):
    out = subprocess.run(["psql", "-h", PG_HOST, "-U", "postgres", "-d", db, "-tAc",
                          f"select outcome, cost_usd from audit_log where key_id='{key_id}'"],
                         capture_output=True, text=True, check=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


def test_rpm_limit_is_exact_across_three_instances(cluster):
    gws = cluster["gws"]
    # Limit first, key after: an instance that knows the key has loaded the limit too.
    admin(gws[0], "POST", "/admin/teams", {"id": "rpm-team"})
    admin(gws[1], "POST", "/admin/limits", {"scope": "team", "scope_id": "rpm-team", "rpm": 100})
    k = admin(gws[2], "POST", "/admin/keys", {"user": "rpm-user", "team": "rpm-team"})
    wait_known(gws, k["key"])
    results = spread(gws, k["key"], 240)
    statuses = [s for s, _, _ in results]
    ok = statuses.count(200)
    local = sum("x-seawall-limits" in h for _, h, _ in results)
    assert 99 <= ok <= 101, (ok, local)
    assert statuses.count(429) == 240 - ok
    assert not any("x-seawall-limits" in h for _, h, _ in results)  # counted in Redis, not locally
    limited = next(h for s, h, _ in results if s == 429)
    assert int(limited["retry-after"]) >= 1 and limited["x-ratelimit-limit-requests"] == "100"
    served = {h.get("x-seawall-request-id") for s, h, _ in results if s == 200}
    assert len(served) == ok


def test_budget_holds_under_50_concurrent_requests(cluster):
    gws = cluster["gws"]
    admin(gws[2], "POST", "/admin/teams", {"id": "budget-team"})
    admin(gws[0], "POST", "/admin/budgets", {"scope": "team", "scope_id": "budget-team", "amount_usd": 1.0,
                                             "period": "total"})
    k = admin(gws[1], "POST", "/admin/keys", {"user": "budget-user", "team": "budget-team"})
    wait_known(gws, k["key"])
    results = spread(gws, k["key"], 50, workers=50)
    statuses = [s for s, _, _ in results]
    assert statuses.count(200) >= 1 and statuses.count(429) >= 1
    costs = [float(h["x-seawall-cost-usd"]) for s, h, _ in results if s == 200]
    estimate = (200 * 100.0 + 20 * 10000.0) / 1e6  # the body stays under 600 bytes: <= 200 prompt tokens
    assert sum(costs) <= 1.0 + estimate
    deadline = time.monotonic() + 10
    while len(rows := audit_rows(cluster["db"], k["id"])) < 50:
        assert time.monotonic() < deadline, len(rows)
        time.sleep(0.1)
    assert sum(float(c) for _, c in rows) <= 1.0 + estimate
    assert sorted(o for o, _ in rows).count("budget_exceeded") == statuses.count(429)
    budgets = admin(gws[1], "GET", "/admin/budgets")["data"]
    spent = next(b["spent_usd"] for b in budgets if b["scope_id"] == "budget-team")
    assert spent == pytest.approx(sum(costs), abs=1e-5)


def test_no_plaintext_key_anywhere(cluster):
    gws = cluster["gws"]
    k = admin(gws[0], "POST", "/admin/keys", {"user": "scan-user", "allowed_models": ["m"]})
    key = k["key"]
    wait_known(gws, key)
    seen = [chat(g, key) for g in gws]
    seen.append(http("POST", gws[1].url + "/v1/chat/completions", b'{"model": "nope", "messages": []}',
                     {"authorization": f"Bearer {key}"}))
    seen.append(chat(gws[2], key + "x"))  # a wrong key near a real one
    rotated = admin(gws[1], "POST", f"/admin/keys/{k['id']}/rotate", {"grace_s": 60})
    seen.append(chat(gws[0], rotated["key"]))
    admin(gws[2], "POST", f"/admin/keys/{k['id']}/revoke")
    time.sleep(0.5)
    seen += [chat(g, key) for g in gws]  # revoked on every instance
    assert [s for s, _, _ in seen[-3:]] == [401, 401, 401]
    time.sleep(0.5)  # let the audit writers flush
    secrets = [key, rotated["key"], key + "x"]
    dump = subprocess.run(["pg_dump", "-h", PG_HOST, "-U", "postgres", "--data-only", cluster["db"]],
                          capture_output=True, text=True, check=True).stdout
    assert "scan-user" in dump  # the dump holds the key's row...
    import redis

    r = redis.Redis.from_url(REDIS)
    redis_text = " ".join(f"{k!r}{r.dump(k)!r}" for k in r.scan_iter(match=cluster["prefix"] + "*"))
    r.close()
    logs = "".join(g.output() for g in gws)
    assert "request" in logs
    responses = "".join(f"{h}{b!r}" for _, h, b in seen)
    spool = ""
    for p in cluster["spool"].glob("*"):  # WAL segments come and go (deleted once shipped)
        try:
            spool += p.read_text()
        except FileNotFoundError:
            pass
    for secret in secrets:
        for where, text in (("database", dump), ("redis", redis_text), ("logs", logs),
                            ("responses", responses), ("spool", spool)):
            assert secret not in text, f"plaintext key found in {where}"
            assert secret[3:20] not in text, f"part of a key found in {where}"
