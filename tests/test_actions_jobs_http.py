"""POST /v1/actions as an async job, through real processes: a gateway (and, for the kill test,
a `seawall worker`) acts on a test HTTP system that counts the calls it receives.

An escalated action with `Prefer: respond-async` answers 202 with a job that waits, holding no
worker, for its approval; after approve the job runs the action exactly once and completes with
the system's answer (GET /v1/jobs/{id}, and the job's webhook); a deny fails it action_denied
and the system never sees the call; a second verdict, a request replaying the job's approval and
an expired approval are refused. A worker killed (-9) while the system holds the call is not
followed by a second call: the job that is taken over fails action_outcome_unknown."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from procs import WorkerProc, http, start_gateway

ADMIN = "adm-actions-jobs-3c8a"
ADMIN_H = {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"}
CREDENTIAL = "sys-cred-91d2e6b04f7c"
SECRET = "whsec_" + base64.b64encode(b"seawall-actions-jobs-webhook-7").decode()

POLICIES = """
@id("reads") permit (principal, action, resource) when { context.effect == "read" };
@id("deletes-need-approval") @escalate("approval")
permit (principal, action, resource) when { context.effect == "delete" && context.operation != "purge" };
@id("purges-need-approval-soon") @escalate("approval") @ttl("1")
permit (principal, action, resource) when { context.operation == "purge" };
@id("no-admin-paths") forbid (principal, action, resource) when { context.operation like "*admin*" };
"""


class System(BaseHTTPRequestHandler):
    """An internal system that counts what reaches it; `/slow/*` holds the call until released."""

    calls: list = []
    release = threading.Event()

    def _answer(self):
        n = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(n)) if n else None
        System.calls.append((self.command, self.path, body, self.headers.get("authorization")))
        if self.path.startswith("/slow/"):
            System.release.wait(60)
        out = json.dumps({"method": self.command, "path": self.path, "received": body}).encode()
        try:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        except OSError:  # the caller was killed meanwhile
            pass

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *a):
        pass


class Receiver(BaseHTTPRequestHandler):
    got: list = []

    def do_POST(self):  # noqa: N802
        Receiver.got.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def _serve(handler) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _config(system_url: str, workers: int, db: str) -> dict:
    return {
        "admin_key": ADMIN, "server": {"access_log": False}, "store": {"sql": db},
        "providers": [{"name": "sim", "base_url": "http://127.0.0.1:9/v1"}],
        "models": [{"name": "chat", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}],
        "governance": {"audit": {"flush_interval_s": 0.05}},
        "actions": {"enabled": True, "policy_text": POLICIES, "approvals_sweep_s": 0.2,
                    "connectors": {"billing": {"base_url": system_url, "credential_env": "BILLING_TOKEN",
                                               "methods": ["GET", "POST", "DELETE"],
                                               "paths": ["/orders/*", "/slow/*", "/admin/*"]}}},
        "jobs": {"enabled": True, "workers": workers, "poll_s": 0.1, "lease_s": 1,
                 "webhooks": {"secret": "${WEBHOOK_SECRET}", "backoff_s": 0.1, "allow_private_targets": True}},
    }


ENV = {"BILLING_TOKEN": CREDENTIAL, "WEBHOOK_SECRET": SECRET}


@pytest.fixture(scope="module")
def system():
    server, url = _serve(System)
    yield url
    System.release.set()
    server.shutdown()


@pytest.fixture(scope="module")
def receiver():
    server, url = _serve(Receiver)
    yield url
    server.shutdown()


@pytest.fixture(scope="module")
def stack(system):
    workdir = tempfile.mkdtemp(prefix="seawall-actjobs-")
    gw = start_gateway(_config(system, 2, f"sqlite:///{workdir}/g.db"), env=ENV)
    gw.key = _key(gw, "agent-1")
    gw.config_file = f"{workdir}/g.yaml"  # the same configuration, for the operator's CLI
    with open(gw.config_file, "w") as f:
        yaml.safe_dump(_config(system, 2, f"sqlite:///{workdir}/g.db"), f)
    yield gw
    gw.stop()


def _key(gw, user: str) -> str:
    status, _, raw = http("POST", gw.url + "/admin/keys", json.dumps({"user": user}).encode(), ADMIN_H)
    assert status == 201, raw
    return json.loads(raw)["key"]


def act(gw, body, *, key=None, async_=True, **headers):
    h = {"authorization": f"Bearer {key or gw.key}", "content-type": "application/json", **headers}
    if async_:
        h["prefer"] = "respond-async"
    status, rh, raw = http("POST", gw.url + "/v1/actions", json.dumps(body).encode(), h)
    return status, rh, json.loads(raw)


def job(gw, job_id, key=None) -> dict:
    status, _, raw = http("GET", gw.url + f"/v1/jobs/{job_id}", None, {"authorization": f"Bearer {key or gw.key}"})
    assert status == 200, raw
    return json.loads(raw)


def finished(gw, job_id, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = job(gw, job_id)
        if got["status"] not in ("queued", "running"):
            return got
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {got['status']}")


def decide(gw, aid, verb):
    status, _, raw = http("POST", gw.url + f"/admin/approvals/{aid}/{verb}",
                          json.dumps({"reason": "ticket 77", "approver": "carol"}).encode(), ADMIN_H)
    return status, json.loads(raw)


def approval(gw, aid) -> dict:
    status, _, raw = http("GET", gw.url + f"/admin/approvals/{aid}", None, ADMIN_H)
    assert status == 200, raw
    return json.loads(raw)


def calls_to(path: str) -> list:
    return [c for c in System.calls if c[1] == path]


def webhook_for(job_id, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for msg in list(Receiver.got):
            if msg["data"]["id"] == job_id:
                return msg
        time.sleep(0.05)
    raise AssertionError(f"no webhook for {job_id}")


def test_an_escalated_async_action_waits_then_runs_exactly_once_and_its_job_carries_the_result(stack, receiver):
    action = {"connector": "billing", "method": "DELETE", "path": "/orders/5", "body": {"ids": [5]}}
    status, headers, out = act(stack, action, **{"x-seawall-webhook": receiver + "/hook"})
    assert status == 202, out
    assert headers["location"] == f"/v1/jobs/{out['id']}"
    assert out["object"] == "job" and out["kind"] == "actions.perform" and out["status"] == "queued"
    aid = out["approval"]["id"]
    assert "deletes-need-approval" in out["approval"]["decision"]["policies"]

    row = approval(stack, aid)
    assert row["status"] == "pending" and row["job_id"] == out["id"]
    time.sleep(0.5)  # workers poll every 0.1 s: the waiting job is not run without a verdict
    assert job(stack, out["id"])["status"] == "queued" and calls_to("/orders/5") == []

    assert decide(stack, aid, "approve")[0] == 200
    done = finished(stack, out["id"])
    assert done["status"] == "completed" and done["http_status"] == 200, done
    result = done["result"]
    assert result["status"] == "done" and result["result"]["status"] == 200
    assert result["result"]["body"] == {"method": "DELETE", "path": "/orders/5", "received": {"ids": [5]}}
    assert calls_to("/orders/5") == [("DELETE", "/orders/5", {"ids": [5]}, "Bearer " + CREDENTIAL)]
    assert CREDENTIAL not in json.dumps(done)

    # single use: a second verdict, and a request presenting the job's approval, are refused
    assert decide(stack, aid, "approve")[0] == 409 and decide(stack, aid, "deny")[0] == 409
    status, _, refused = act(stack, {**action, "approval_id": aid}, async_=False)
    assert status == 409 and refused["error"]["code"] == "approval_refused", refused
    status, _, refused = act(stack, {**action, "approval_id": aid})  # an approval id with respond-async
    assert status == 400 and refused["error"]["param"] == "approval_id"
    assert len(calls_to("/orders/5")) == 1

    row = approval(stack, aid)  # the approvers see that it ran, not the system's answer
    assert row["status"] == "executed" and row["result"] == {"ok": True, "job": True}

    hook = webhook_for(out["id"])  # the job's webhook tells the caller
    assert hook["type"] == "job.completed" and hook["data"]["result"] == result


def test_a_denied_approval_fails_the_job_and_the_system_sees_nothing(stack):
    action = {"connector": "billing", "method": "DELETE", "path": "/orders/6", "body": {"ids": [6]}}
    status, _, out = act(stack, action, **{"x-seawall-async": "1"})
    assert status == 202, out
    aid = out["approval"]["id"]
    assert decide(stack, aid, "deny")[0] == 200
    done = finished(stack, out["id"])
    assert done["status"] == "failed" and done["error"]["code"] == "action_denied", done
    assert decide(stack, aid, "approve")[0] == 409
    assert calls_to("/orders/6") == []
    assert approval(stack, aid)["status"] == "denied"


def test_a_verdict_from_the_cli_wakes_the_waiting_job_through_a_gateways_sweep(stack):
    # the CLI has no queue to release: a gateway's approvals sweep (0.2 s here) wakes the job,
    # long before its approval's expiry (900 s), when it would otherwise run
    action = {"connector": "billing", "method": "DELETE", "path": "/orders/18", "body": {"ids": [18]}}
    status, _, out = act(stack, action)
    assert status == 202, out
    aid = out["approval"]["id"]
    assert approval(stack, aid)["expires_at"] - time.time() > 600
    cli = subprocess.run([sys.executable, "-m", "seawall.cli", "approvals", "approve", aid, "--reason", "ticket 78",
                          "--approver", "dave", "--config", stack.config_file],
                         capture_output=True, text=True, env={**os.environ, **ENV}, timeout=60)
    assert cli.returncode == 0, cli.stderr
    done = finished(stack, out["id"], timeout=20)
    assert done["status"] == "completed" and done["result"]["result"]["status"] == 200, done
    assert len(calls_to("/orders/18")) == 1
    assert approval(stack, aid)["status"] == "executed"


def test_policy_decides_at_submission_and_an_allowed_action_runs_as_a_job(stack):
    before = len(System.calls)
    status, headers, out = act(stack, {"connector": "billing", "method": "POST", "path": "/admin/wipe",
                                       "operation": "admin_wipe"})
    assert status == 403 and out["error"]["code"] == "action_denied" and "location" not in headers
    assert len(System.calls) == before  # denied at once: nothing queued, nothing sent

    status, _, out = act(stack, {"connector": "billing", "method": "GET", "path": "/orders/7"})
    assert status == 202 and "approval" not in out, out
    done = finished(stack, out["id"])
    assert done["status"] == "completed", done
    assert done["result"]["result"]["body"]["path"] == "/orders/7"
    assert calls_to("/orders/7") == [("GET", "/orders/7", None, "Bearer " + CREDENTIAL)]

    other = _key(stack, "agent-2")  # another tenant's job does not exist for them
    status, _, _ = http("GET", stack.url + f"/v1/jobs/{out['id']}", None, {"authorization": f"Bearer {other}"})
    assert status == 404


def test_an_approval_nobody_gives_in_time_fails_the_job_approval_expired(stack):
    action = {"connector": "billing", "method": "DELETE", "path": "/orders/8", "operation": "purge"}
    status, _, out = act(stack, action)
    assert status == 202, out
    aid = out["approval"]["id"]
    done = finished(stack, out["id"])  # @ttl 1 s: the sweep closes it and wakes the job
    assert done["status"] == "failed" and done["error"]["code"] == "approval_expired", done
    assert decide(stack, aid, "approve")[0] == 409
    assert calls_to("/orders/8") == []




@pytest.mark.timeout(120)
def test_a_worker_killed_mid_action_is_not_followed_by_a_second_call(system, tmp_path):
    """The gateway runs no jobs (jobs.workers 0): a `seawall worker` on the same database takes
    the approved job, and is SIGKILLed while the system holds its call; the worker that takes
    the job over finds the approval used with no answer stored and does not call again."""
    cfg = _config(system, 0, f"sqlite:///{tmp_path}/k.db")
    gw = start_gateway(cfg, env=ENV)
    path = tmp_path / "worker.yaml"
    path.write_text(yaml.safe_dump({**cfg, "jobs": {**cfg["jobs"], "workers": 1}}))
    workers = []
    try:
        key = _key(gw, "agent-k")
        workers.append(WorkerProc(str(path), ENV))
        status, _, out = act(gw, {"connector": "billing", "method": "DELETE", "path": "/slow/9"}, key=key)
        assert status == 202, out
        assert decide(gw, out["approval"]["id"], "approve")[0] == 200
        deadline = time.monotonic() + 30
        while not calls_to("/slow/9"):  # the worker has claimed the approval and called the system
            assert time.monotonic() < deadline, workers[0].log.name
            time.sleep(0.05)
        workers[0].kill()
        workers.append(WorkerProc(str(path), ENV))  # takes the job over once the dead worker's lease lapses
        gw.key = key
        done = finished(gw, out["id"])
        assert done["status"] == "failed" and done["error"]["code"] == "action_outcome_unknown", done
        assert done["attempts"] == 2
        System.release.set()  # the held call (whose caller is dead) may end now
        assert len(calls_to("/slow/9")) == 1
        row = approval(gw, out["approval"]["id"])
        assert row["status"] == "executed" and row["result"] is None
    finally:
        System.release.set()
        for w in workers:
            w.stop()
        gw.stop()
