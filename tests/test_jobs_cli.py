"""`seawall jobs list|show|cancel|retry` as separate processes against the SQL store of a real
`seawall serve` (in front of real simulators): the running gateway sees a CLI cancel and runs a
CLI retry; every change is audited; bad ids are a clear error with exit code 2. Then the same
commands on PostgreSQL, in-process."""
import base64
import json
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from procs import _env, http, start_gateway, start_simulator
from services import backend  # noqa: F401  (fixture)

ADMIN = "adm-jobs-cli-test-71c2"
ADMIN_H = {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"}
SECRET = "whsec_" + base64.b64encode(b"seawall-jobs-cli-test-secret-01").decode()
ENV = {"WEBHOOK_SECRET": SECRET}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "quarterly numbers please"}]}


class Receiver(BaseHTTPRequestHandler):
    got: list = []

    def do_POST(self):
        Receiver.got.append(self.rfile.read(int(self.headers["content-length"])))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture(scope="module")
def stack():
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    sim = start_simulator(seed=21)
    slow = start_simulator("--hang", seed=22)  # healed by the test that needs it to answer
    down = start_simulator("--error-rate", "1", "--error-status", "503", seed=23)
    gw = start_gateway({
        "admin_key": ADMIN, "server": {"access_log": False},
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}, {"name": "slow", "base_url": slow.url + "/v1"},
                      {"name": "down", "base_url": down.url + "/v1"}],
        "models": [{"name": "gpt-4o-mini", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]},
                   {"name": "slow", "targets": [{"provider": "slow", "model": "gpt-4o-mini"}]},
                   {"name": "down", "targets": [{"provider": "down", "model": "m"}], "retry": {"max_attempts": 1}}],
        "governance": {"audit": {"flush_interval_s": 0.05}},
        "jobs": {"enabled": True, "workers": 2, "poll_s": 0.1, "lease_s": 1.5,
                 "retry": {"max_attempts": 2, "backoff_s": 0.1},
                 "webhooks": {"secret": "${WEBHOOK_SECRET}", "backoff_s": 0.1,
                              "allow_private_targets": True}},  # the receiver is on 127.0.0.1
    }, env=ENV)
    gw.config = gw.proc.args[gw.proc.args.index("--config") + 1]
    gw.slow = slow
    gw.hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    keys = []
    for user in ("ann", "bob"):
        _, _, raw = http("POST", gw.url + "/admin/keys", json.dumps({"user": user}).encode(), ADMIN_H)
        keys.append(json.loads(raw))
    gw.key, gw.other = keys
    yield gw
    for p in (gw, sim, slow, down):
        p.stop()
    receiver.shutdown()


def cli(stack, *argv):
    r = subprocess.run([sys.executable, "-m", "seawall.cli", "jobs", *argv, "-c", stack.config],
                       capture_output=True, text=True, env=_env(ENV), timeout=60)
    return r.returncode, r.stdout, r.stderr


def submit(stack, body, key=None, **headers):
    status, _, raw = http("POST", stack.url + "/v1/chat/completions", json.dumps(body).encode(),
                          {"authorization": f"Bearer {(key or stack.key)['key']}", "content-type": "application/json",
                           "prefer": "respond-async", **headers})
    assert status == 202, raw
    return json.loads(raw)["id"]


def job(stack, job_id, key=None):
    status, _, raw = http("GET", f"{stack.url}/v1/jobs/{job_id}",
                          headers={"authorization": f"Bearer {(key or stack.key)['key']}"})
    assert status == 200, raw
    return json.loads(raw)


def until(fn, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        out = fn()
        if out or time.monotonic() > deadline:
            return out
        time.sleep(0.05)


def finished(stack, job_id, key=None):
    out = until(lambda: (j := job(stack, job_id, key))["status"] not in ("queued", "running") and j)
    assert out, f"{job_id} did not finish"
    return out


def admin_queues(stack):
    status, _, raw = http("GET", stack.url + "/admin/jobs/queues", headers=ADMIN_H)
    assert status == 200, raw
    out = json.loads(raw)
    assert out["window_s"] == 300
    return out["data"]


def audit_rows(stack):
    db = yaml.safe_load(open(stack.config))["store"]["sql"].split("sqlite:///", 1)[1]
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT outcome, status, user_id, key_id, detail FROM audit_log WHERE kind = 'job_admin'")
        return [(o, s, u, k, json.loads(d)) for o, s, u, k, d in rows.fetchall()]
    finally:
        con.close()


def test_list_filters_newest_first_and_show_hides_what_it_should(stack):
    a = submit(stack, CHAT, **{"x-seawall-webhook": stack.hook + "?token=hook-secret-123"})
    b = submit(stack, {**CHAT, "model": "down"})
    c = submit(stack, CHAT, key=stack.other)
    for j in (a, b):
        finished(stack, j)
    finished(stack, c, stack.other)
    code, out, err = cli(stack, "list", "--json")
    assert code == 0, err
    rows = json.loads(out)
    ids = [r["id"] for r in rows]
    assert ids.index(c) < ids.index(b) < ids.index(a)  # newest first
    assert [r["created_at"] for r in rows] == sorted((r["created_at"] for r in rows), reverse=True)
    code, out, _ = cli(stack, "list", "--json", "--state", "failed", "--alias", "down")
    failed = json.loads(out)
    assert b in [r["id"] for r in failed] and {r["status"] for r in failed} == {"failed"}
    assert failed[0]["error_code"] and failed[0]["attempts"] == 2
    mine = json.loads(cli(stack, "list", "--json", "--key", stack.key["id"])[1])
    assert a in [r["id"] for r in mine] and c not in [r["id"] for r in mine]
    assert {r["tenant"] for r in mine} == {"key:" + stack.key["id"]}
    assert len(json.loads(cli(stack, "list", "--json", "--limit", "1")[1])) == 1
    code, table, _ = cli(stack, "list", "--key", stack.other["id"])
    assert code == 0 and table.splitlines()[0].split()[:3] == ["ID", "STATUS", "KIND"] and c in table

    queues = {q["alias"]: q for q in admin_queues(stack)}
    assert queues["gpt-4o-mini"]["completed"] >= 2 and queues["down"]["failed"] >= 1
    assert queues["gpt-4o-mini"]["completed_per_min"] == round(queues["gpt-4o-mini"]["completed"] / 5, 2)

    code, out, err = cli(stack, "show", a)
    assert code == 0, err
    view = json.loads(out)
    assert view["status"] == "completed" and view["submitted_by"]["key_id"] == stack.key["id"]
    assert "result" not in view and view["result_bytes"] > 0
    hook = until(lambda: (v := json.loads(cli(stack, "show", a)[1]))["webhook"]["state"] == "delivered" and v)
    assert hook and hook["webhook"]["deliveries"][0]["status"] == 204
    assert hook["webhook"]["url"].endswith("/hook?[redacted]")
    for secret in (stack.key["key"], "hook-secret-123", "quarterly numbers"):  # key, URL token, request body
        assert secret not in out
    full = json.loads(cli(stack, "show", a, "--result")[1])
    assert full["result"]["object"] == "chat.completion"
    dead = json.loads(cli(stack, "show", b)[1])
    assert dead["status"] == "failed" and dead["error"]["status"] == 503 and dead["attempts"] == 2


def test_a_cli_cancel_reaches_the_running_gateway_and_a_retry_runs_the_job_again(stack):
    j = submit(stack, {**CHAT, "model": "slow"})
    sim_stats = lambda: json.loads(http("GET", stack.slow.url + "/_sim/stats")[2])  # noqa: E731
    assert until(lambda: job(stack, j)["status"] == "running" and sim_stats()["in_flight"] == 1)
    slow = [q for q in admin_queues(stack) if q["alias"] == "slow"]
    assert slow[0]["running"] == 1 and slow[0]["queued"] == 0
    code, out, err = cli(stack, "cancel", j, "--reason", "customer withdrew", "--operator", "olga")
    assert code == 0, err
    assert out.strip() == f"job {j}: running -> cancelled (its worker stops at its next lease renewal)"
    assert job(stack, j)["status"] == "cancelled"
    assert until(lambda: sim_stats()["in_flight"] == 0)  # the gateway's worker noticed and dropped the call
    after = job(stack, j)
    assert after["status"] == "cancelled" and "result" not in after
    http("POST", stack.slow.url + "/_sim/faults", b'{"hang": false}')

    code, _, err = cli(stack, "cancel", j, "--operator", "olga")
    assert code == 1 and "cancelled" in err and "only queued or running" in err

    code, out, err = cli(stack, "retry", j, "--reason", "try again", "--operator", "olga", "--json")
    assert code == 0, err
    assert json.loads(out)["status"] in ("queued", "running")
    done = finished(stack, j)
    assert done["status"] == "completed" and done["attempts"] == 1 and done["result"]["choices"]

    rows = [r for r in audit_rows(stack) if r[4]["job_id"] == j]  # each CLI run flushed its audit on exit
    got = sorted((o, s, u, d["action"], d["from"]) for o, s, u, _, d in rows)
    assert got == [("cancelled", 200, "olga", "cancel", "running"), ("refused", 409, "olga", "cancel", "cancelled"),
                   ("retried", 200, "olga", "retry", "cancelled")]
    assert all(k == stack.key["id"] and d["via"] == "cli" for _, _, _, k, d in rows)
    assert "customer withdrew" in [d["reason"] for *_, d in rows]


def test_a_failed_job_retried_gets_its_attempts_back_and_a_finished_one_is_refused(stack):
    j = submit(stack, {**CHAT, "model": "down"})
    first = finished(stack, j)
    assert first["status"] == "failed" and first["attempts"] == 2
    assert cli(stack, "retry", j)[0] == 0
    again = until(lambda: (x := job(stack, j))["status"] == "failed" and x["finished_at"] > first["finished_at"] and x)
    assert again and again["attempts"] == 2  # reset to 0, then both attempts ran again

    ok = submit(stack, CHAT)
    finished(stack, ok)
    code, _, err = cli(stack, "retry", ok)
    assert code == 1 and "completed" in err


@pytest.mark.parametrize("verb", ["show", "cancel", "retry"])
def test_a_bad_or_unknown_id_is_a_clear_error_with_exit_code_2(stack, verb):
    code, out, err = cli(stack, verb, "not-a-job")
    assert code == 2 and out == "" and "'not-a-job' is not a job id" in err and "Traceback" not in err
    code, out, err = cli(stack, verb, "job_" + "0" * 24)
    assert code == 2 and f"no job job_{'0' * 24}" in err and "Traceback" not in err


async def test_the_commands_on_postgresql(backend, tmp_path, capsys):  # noqa: F811
    """In-process against both stores (SQLite, PostgreSQL): list, cancel, retry, audit, and the
    queue activity the admin route reports."""
    import asyncio

    import sqlalchemy as sa

    from seawall.cli import main
    from seawall.jobs.queue import Queue
    from seawall.jobs.service import new_job_id
    from seawall.store.sql import make_engine, migrate

    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({
        "providers": [{"name": "p", "base_url": "http://127.0.0.1:9"}],
        "models": [{"name": "m", "targets": [{"provider": "p", "model": "m"}]}],
        "store": {"sql": backend["sql"]}, "governance": {"audit": {"spool_dir": backend["spool"]}},
    }))
    engine = make_engine(backend["sql"])
    await migrate(engine)
    q = Queue(engine)
    now = time.time()
    ids = [new_job_id() for _ in range(3)]
    for i, (jid, status) in enumerate(zip(ids, ("queued", "failed", "expired"))):
        await q.insert(dict(id=jid, tenant="key:k1", principal='{"key_id": "k1"}', kind="chat", alias="m",
                            body="{}", status=status, priority=0, attempts=3 if status == "failed" else 0,
                            max_attempts=3, run_after=now, created_at=now + i, expires_at=now + 60))

    def run(*argv):  # the CLI runs its own event loop: off this test's loop
        return asyncio.to_thread(main, ["jobs", *argv, "-c", str(cfg)])

    assert await run("list", "--json", "--key", "k1") == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == ids[::-1]
    assert await run("cancel", ids[0], "--operator", "pat") == 0
    assert await run("retry", ids[1], "--operator", "pat") == 0
    assert await run("retry", ids[2], "--operator", "pat") == 0
    delivering, line = new_job_id(), new_job_id()  # a webhook in flight; a line of a finished batch
    for jid, extra in ((delivering, {"webhook_url": "https://hooks.example/x", "webhook_state": "pending"}),
                       (line, {"batch_id": "batch_gone", "line": 1, "custom_id": "c1"})):
        await q.insert(dict(id=jid, tenant="key:k1", principal=None, kind="chat", alias="m", body="{}",
                            status="failed", priority=0, attempts=3, max_attempts=3, run_after=now, created_at=now,
                            expires_at=now + 60, finished_at=now, **extra))
    capsys.readouterr()
    assert await run("retry", delivering) == 1
    assert "still being delivered" in capsys.readouterr().err
    assert await run("retry", line) == 1
    assert "line of batch batch_gone" in capsys.readouterr().err
    assert (await q.get(delivering)).status == (await q.get(line)).status == "failed"
    states = {j: (await q.get(j)) for j in ids}
    assert states[ids[0]].status == "cancelled"
    assert [(states[j].status, states[j].attempts) for j in ids[1:]] == [("queued", 0), ("queued", 0)]
    from seawall.jobs import ops

    for status, finished in (("running", None), ("completed", now), ("completed", now - 600)):  # the last: too old
        await q.insert(dict(id=new_job_id(), tenant="key:k1", principal=None, kind="chat", alias="m", body="{}",
                            status=status, priority=0, attempts=1, max_attempts=3, run_after=now, created_at=now,
                            expires_at=now + 60, finished_at=finished))
    busy = await ops.activity(engine, 300)
    assert busy == {"m": {"running": 1, "completed": 1, "failed": 2}}  # the two refused retries above
    view = ops.queue_view([{"alias": "m", "queued": 2, "oldest_age_s": 1.0}], busy, 300)
    assert view == [{"alias": "m", "queued": 2, "oldest_age_s": 1.0, "running": 1, "completed": 1, "failed": 2,
                     "completed_per_min": 0.2}]
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT outcome, user_id FROM audit_log WHERE kind = 'job_admin' ORDER BY seq"))).all()
    await engine.dispose()
    assert [r[0] for r in rows] == ["cancelled", "retried", "retried", "refused", "refused"]


def test_the_clis_states_and_list_cap_are_the_queues():
    """The CLI names them without importing the store; they must not drift from it."""
    from seawall.jobs import cli, ops, queue
    assert cli.STATES == queue.STATES and cli.MAX_LIST == ops.MAX_LIST
