"""The sandbox through a real gateway: the routes exist only when the section enables them, an
execution answers with the result contract under the caller's key, a kept result is readable
by its tenant only, and each execution leaves a receipt in the audit log."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile

import pytest

from procs import http, start_gateway, start_simulator

ADMIN = "adm-sandbox-http-7d2e"


def _gateway(sim, work_root, enabled=True):
    return start_gateway({
        "admin_key": ADMIN,
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "chat", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}],
        "sandbox": {"enabled": enabled, "work_root": work_root, "workdir_mb": 16},
    })


def _post(gw, path, body, key=None):
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    status, _, raw = http("POST", gw.url + path, json.dumps(body).encode(), headers, timeout=30)
    return status, json.loads(raw)


@pytest.fixture(scope="module")
def sim():
    s = start_simulator(seed=31)
    yield s
    s.stop()


def test_sandbox_routes_serve_executions_per_tenant_with_receipts(sim):
    work_root = tempfile.mkdtemp(prefix="seawall-sbx-http-", dir="/tmp")
    gw = _gateway(sim, work_root)
    try:
        admin = {"authorization": f"Bearer {ADMIN}"}
        keys = []
        for user in ("alice", "bob"):
            status, k = _post(gw, "/admin/keys", {"user": user}, ADMIN)
            assert status == 201, k
            keys.append(k["key"])
        status, out = _post(gw, "/v1/sandbox/executions", {"language": "python", "code": "print('hi')"}, keys[0])
        if status == 503 and out["error"]["code"] == "sandbox_unavailable":
            if os.environ.get("SEAWALL_REQUIRE_SERVICES") == "1":  # CI installs bubblewrap
                pytest.fail(out["error"]["message"])
            pytest.skip(out["error"]["message"])
        assert status == 200, out
        assert out["stdout"] == "hi\n" and out["exit_code"] == 0 and out["limit"] is None
        status, _, raw = http("GET", gw.url + f"/v1/sandbox/executions/{out['id']}", None,
                              {"authorization": f"Bearer {keys[0]}"})
        assert status == 200 and json.loads(raw)["id"] == out["id"]
        status, _, raw = http("GET", gw.url + f"/v1/sandbox/executions/{out['id']}", None,
                              {"authorization": f"Bearer {keys[1]}"})
        assert status == 404  # another tenant: not found, not forbidden (no existence leak)
        status, bad = _post(gw, "/v1/sandbox/executions", {"language": "cobol", "code": "x"}, keys[0])
        assert status == 400 and bad["error"]["param"] == "language"
        assert _post(gw, "/v1/sandbox/executions", {"language": "python", "code": "print(1)"})[0] == 401
        status, _, raw = http("GET", gw.url + "/openapi.json", None, admin)
        assert "/v1/sandbox/executions/{id}" in json.loads(raw)["paths"]
        gw.stop()  # the audit writer flushes at shutdown
        rows = sqlite3.connect(gw.db_path).execute("SELECT detail FROM audit_log WHERE kind = 'sandbox'").fetchall()
        gw = None
        receipts = [json.loads(r[0]) for r in rows]
        mine = next(r for r in receipts if r["id"] == out["id"])
        assert mine["exit_reason"] == "exit:0" and len(mine["code_sha256"]) == 64 and "print" not in json.dumps(mine)
    finally:
        if gw is not None:
            gw.stop()
        shutil.rmtree(work_root, ignore_errors=True)


def test_sandbox_routes_are_absent_when_disabled(sim):
    gw = _gateway(sim, tempfile.mkdtemp(prefix="seawall-sbx-off-", dir="/tmp"), enabled=False)
    try:
        status, out = _post(gw, "/v1/sandbox/executions", {"language": "python", "code": "print(1)"})
        assert status == 404 and out["error"]["code"] == "not_found"
    finally:
        gw.stop()


RUN_CODE_POLICIES = """
@id("data-runs-python") permit (principal in Team::"data", action, resource)
  when { context.tool == "sandbox.run_code" && context.arguments.contains("language=python") };
@id("bash-needs-approval") @escalate("approval") permit (principal in Team::"data", action, resource)
  when { context.tool == "sandbox.run_code" && context.arguments.contains("language=bash") };
"""


def test_with_the_action_proxy_code_runs_under_policy(sim):
    """run_code as a tool: allowed for the data team, escalated for bash (runs once, after
    approval), denied for everyone else before anything runs."""
    work_root = tempfile.mkdtemp(prefix="seawall-sbx-gate-", dir="/tmp")
    gw = start_gateway({
        "admin_key": ADMIN,
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "chat", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}],
        "sandbox": {"enabled": True, "work_root": work_root, "workdir_mb": 16},
        "actions": {"enabled": True, "policy_text": RUN_CODE_POLICIES},
    })
    try:
        assert _post(gw, "/admin/teams", {"id": "data"}, ADMIN)[0] == 201
        data_key = _post(gw, "/admin/keys", {"user": "dana", "team": "data"}, ADMIN)[1]["key"]
        other_key = _post(gw, "/admin/keys", {"user": "otto"}, ADMIN)[1]["key"]
        status, out = _post(gw, "/v1/sandbox/executions", {"language": "python", "code": "print('hi')"}, data_key)
        if status == 503 and os.environ.get("SEAWALL_REQUIRE_SERVICES") != "1":
            pytest.skip(out["error"]["message"])
        assert status == 200 and out["stdout"] == "hi\n", out
        status, out = _post(gw, "/v1/sandbox/executions", {"language": "python", "code": "print('hi')"}, other_key)
        assert status == 403 and out["error"]["code"] == "action_denied"
        bash = {"language": "bash", "code": "echo approved"}
        status, pending = _post(gw, "/v1/sandbox/executions", bash, data_key)
        assert status == 202 and pending["status"] == "pending"
        approval = pending["approval_id"]
        assert _post(gw, f"/admin/approvals/{approval}/approve", {"reason": "reviewed"}, ADMIN)[0] == 200
        status, out = _post(gw, "/v1/sandbox/executions", {**bash, "approval_id": approval}, data_key)
        assert status == 200 and out["stdout"] == "approved\n", out
        status, again = _post(gw, "/v1/sandbox/executions", {**bash, "approval_id": approval}, data_key)
        assert status == 409 and again["error"]["code"] == "approval_refused"  # single use
    finally:
        gw.stop()
        shutil.rmtree(work_root, ignore_errors=True)
