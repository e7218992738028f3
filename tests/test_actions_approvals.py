"""The approvers' side of the action proxy through real HTTP and the CLI: a signed webhook
(Standard Webhooks, verified by a real receiver) for each new approval, retried with every
attempt recorded; the human-override rate as a Prometheus counter (approve, deny, edit,
expire; verdicts from the CLI included); an approver's edit, re-checked by the policies;
policies reloaded without a restart (admin route and SIGHUP), an invalid set refused with the
old one kept; CLI verdicts audited with the approver."""
from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from procs import _env, http, start_gateway
from services import backend  # noqa: F401  (fixture)
from seawall import config as config_mod
from seawall.actions.service import Action, ActionsService
from seawall.core.types import Principal
from seawall.net.webhooks import TargetRefused, check_target
from seawall.store.sql import make_engine, migrate

ADMIN = "adm-approvals-test-2f7c"
ADMIN_H = {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"}
SECRET = "whsec_" + base64.b64encode(b"approvals-webhook-test-key-32byt").decode()
POLICIES = """
@id("reads") permit (principal, action, resource) when { context.effect == "read" };
@id("deletes-need-approval") @escalate("approval")
permit (principal, action, resource) when { context.effect == "delete" };
@id("purges-expire-fast") @escalate("approval") @ttl("1")
permit (principal, action, resource) when { context.operation == "purge" };
@id("no-wildcards") forbid (principal, action, resource) when { context.wildcard };
"""


class Receiver(BaseHTTPRequestHandler):
    """An approvers' endpoint: fails the first delivery (503), then takes them."""

    got: list = []
    fail_first = True

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        Receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
        status = 503 if Receiver.fail_first else 200
        Receiver.fail_first = False
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


class System(BaseHTTPRequestHandler):
    calls: list = []

    def _answer(self):
        n = int(self.headers.get("content-length") or 0)
        System.calls.append((self.command, self.path, json.loads(self.rfile.read(n)) if n else None))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *a):
        pass


def serve(handler) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    receiver, hook_url = serve(Receiver)
    system, sys_url = serve(System)
    policy = tmp_path_factory.mktemp("pol") / "actions.cedar"
    policy.write_text(POLICIES)
    gw = start_gateway({
        "admin_key": ADMIN, "server": {"access_log": False},
        "providers": [{"name": "sim", "base_url": "http://127.0.0.1:9/v1"}],
        "models": [{"name": "chat", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}],
        "governance": {"audit": {"flush_interval_s": 0.05}},
        "actions": {"enabled": True, "policies": [str(policy)], "approvals_sweep_s": 0.2,
                    "connectors": {"crm": {"base_url": sys_url, "methods": ["GET", "POST", "DELETE"],
                                           "paths": ["/records/*"]}},
                    "approvals_webhook": {"url": hook_url + "/approvals", "secret": "${APPROVALS_WEBHOOK_SECRET}",
                                          "backoff_s": 0.1, "allow_private_targets": True}},
    }, env={"APPROVALS_WEBHOOK_SECRET": SECRET})
    _, _, raw = http("POST", gw.url + "/admin/keys", json.dumps({"user": "agent"}).encode(), ADMIN_H)
    gw.key = json.loads(raw)["key"]
    gw.config = gw.proc.args[gw.proc.args.index("--config") + 1]
    gw.policy = policy
    yield gw
    gw.stop()
    receiver.shutdown()
    system.shutdown()


def act(gw, body):
    status, _, raw = http("POST", gw.url + "/v1/actions", json.dumps(body).encode(),
                          {"authorization": f"Bearer {gw.key}", "content-type": "application/json"})
    return status, json.loads(raw)


def escalate(gw, path="/records/1", operation=None, body=None):
    status, out = act(gw, {"connector": "crm", "method": "DELETE", "path": path, "operation": operation,
                           "body": body or {"ids": [1]}})
    assert status == 202, out
    return out["approval_id"]


def decide(gw, aid, verb, **extra):
    status, _, raw = http("POST", gw.url + f"/admin/approvals/{aid}/{verb}",
                          json.dumps({"reason": "ticket 9", "approver": "rita", **extra}).encode(), ADMIN_H)
    return status, json.loads(raw)


def until(fn, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        out = fn()
        if out or time.monotonic() > deadline:
            return out
        time.sleep(0.05)


def audit_rows(gw, kind):
    db = open(gw.config).read().split("sqlite:///", 1)[1].split()[0]
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT outcome, user_id, detail FROM audit_log WHERE kind = ?", (kind,)).fetchall()
    finally:
        con.close()


def verdicts(gw) -> dict[str, float]:
    text = http("GET", gw.url + "/metrics")[2].decode()
    return {m.group(1): float(m.group(2)) for m in
            re.finditer(r'seawall_action_approval_decisions_total\{decision="(\w+)"\} ([0-9.e+]+)', text)}


def test_approvers_get_a_signed_webhook_retried_until_taken(stack):
    aid = escalate(stack)
    got = until(lambda: len([g for g in Receiver.got if aid.encode() in g[1]]) >= 2 and Receiver.got)
    mine = [g for g in got if aid.encode() in g[1]]
    assert len(mine) == 2  # the first answered 503, the retry was taken
    headers, body = mine[-1]
    payload = Webhook(SECRET).verify(body, headers)  # signature, timestamp and id per Standard Webhooks
    assert payload["type"] == "approval.created" and payload["data"]["id"] == aid == headers["webhook-id"]
    assert payload["data"]["tool"] == "crm.DELETE_records_1" and payload["data"]["request"]["arguments"] == {"ids": [1]}
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"another-key-another-key-another!").decode()).verify(body, headers)
    view = until(lambda: (v := json.loads(http("GET", stack.url + f"/admin/approvals/{aid}", None, ADMIN_H)[2]))
                 ["webhook"]["state"] == "delivered" and v)
    assert [a.get("status") for a in view["webhook"]["attempts"]] == [503, 200]
    assert SECRET.encode() not in body


def test_an_edit_runs_the_approvers_arguments_and_a_forbidden_edit_is_refused(stack):
    aid = escalate(stack, "/records/2", body={"ids": [2, 3, 4]})
    status, out = decide(stack, aid, "approve", arguments={"ids": "*"})  # the policies forbid wildcards
    assert status == 400 and out["error"]["param"] == "arguments"
    status, out = decide(stack, aid, "approve", arguments={"ids": [2]})
    assert status == 200 and out["verdict"] == "edit" and out["status"] == "approved"
    before = len(System.calls)
    status, out = act(stack, {"connector": "crm", "method": "DELETE", "path": "/records/2",
                              "body": {"ids": [2, 3, 4]}, "approval_id": aid})  # the agent's own request
    assert status == 200, out
    assert System.calls[before:] == [("DELETE", "/records/2", {"ids": [2]})]  # what the approver allowed
    assert {"field": "ids", "from": [2, 3, 4], "to": [2], "by": "approver"} in out["decision"]["diff"]


def test_the_override_rate_is_a_metric_cli_verdicts_and_expiry_included(stack):
    before = until(lambda: verdicts(stack))
    approve, deny, edit, cli = (escalate(stack, f"/records/{n}") for n in (11, 12, 13, 14))
    assert decide(stack, approve, "approve")[0] == 200
    assert decide(stack, deny, "deny")[0] == 200
    assert decide(stack, edit, "approve", arguments={"ids": [13]})[0] == 200
    r = subprocess.run([sys.executable, "-m", "seawall.cli", "approvals", "deny", cli, "--reason", "not today",
                        "--approver", "carol", "-c", stack.config], capture_output=True, text=True,
                       env=_env({"APPROVALS_WEBHOOK_SECRET": SECRET}))
    assert r.returncode == 0, r.stderr
    escalate(stack, "/records/15", operation="purge")  # expires after 1 s, closed by the sweep
    want = {"approve": 1, "deny": 2, "edit": 1, "expire": 1}
    got = until(lambda: (v := verdicts(stack)) and all(v[k] - before[k] >= n for k, n in want.items()) and v)
    assert got and {k: got[k] - before[k] for k in want} == want, (before, verdicts(stack))
    rows = until(lambda: [r for r in audit_rows(stack, "action_approval") if r[1] == "carol"])
    assert rows and rows[0][0] == "denied"
    detail = json.loads(rows[0][2])
    assert detail == {**detail, "approval_id": cli, "approver": "carol", "reason": "not today", "via": "cli"}


def test_policies_reload_without_restart_and_an_invalid_set_is_refused(stack):
    write = {"connector": "crm", "method": "POST", "path": "/records/7", "operation": "update", "body": {"n": 1}}
    assert act(stack, write)[0] == 403  # nothing permits writes yet
    stack.policy.write_text(POLICIES + '@id("updates") permit (principal, action, resource) '
                                       'when { context.operation == "update" };\n')
    status, _, raw = http("POST", stack.url + "/admin/actions/policies/reload", b"", ADMIN_H)
    out = json.loads(raw)
    assert status == 200 and out["status"] == "applied" and out["policy_version"] != out["previous"]
    assert out["peers"] == "told"
    assert act(stack, write)[0] == 200
    good = stack.policy.read_text()
    stack.policy.write_text(good + 'permit (principal, action, resource) when { context.amout > 1 };\n')
    status, _, raw = http("POST", stack.url + "/admin/actions/policies/reload", b"", ADMIN_H)
    assert status == 400 and "amout" in json.loads(raw)["error"]["message"]
    assert act(stack, write)[0] == 200  # the running set stayed
    stack.policy.write_text(POLICIES)  # SIGHUP: the existing reload path re-reads the policy files
    os.kill(stack.proc.pid, signal.SIGHUP)
    assert until(lambda: act(stack, write)[0] == 403)
    rows = until(lambda: len(r := audit_rows(stack, "action_policy_reload")) >= 3 and r)
    assert sorted(r[0] for r in rows) == ["applied", "applied", "refused"]
    vias = {json.loads(r[2])["via"] for r in rows}
    assert vias == {"http", "config_reload"}


async def test_a_webhook_to_an_internal_address_is_refused_unless_allowed(tmp_path, monkeypatch):
    for url in ("http://127.0.0.1:8080/x", "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data",
                "http://[::1]/", "http://localhost/", "http://[::ffff:127.0.0.1]/", "ftp://example.com/"):
        with pytest.raises(TargetRefused):
            await check_target(url)
    await check_target("http://127.0.0.1:8080/x", allow_private=True)
    await check_target("https://93.184.216.34/hook")  # a public address literal: no DNS needed

    class Counting(BaseHTTPRequestHandler):
        hits = 0

        def do_POST(self):
            Counting.hits += 1
            self.send_response(200)
            self.end_headers()

    server, url = serve(Counting)
    monkeypatch.setenv("APPROVALS_WEBHOOK_SECRET", SECRET)
    cfg = config_mod.parse({
        "providers": [{"name": "p", "base_url": "http://127.0.0.1:9/v1"}],
        "models": [{"name": "m", "targets": [{"provider": "p", "model": "x"}]}],
        "actions": {"enabled": True, "policy_text": POLICIES, "effects": {"crm.drop": "delete"},
                    "approvals_webhook": {"url": url, "secret": "${APPROVALS_WEBHOOK_SECRET}"}},
    })
    engine = make_engine(f"sqlite:///{tmp_path}/a.db")
    await migrate(engine)
    svc = ActionsService(cfg, engine)
    await svc.start()
    try:
        async def never(tool, args):
            raise AssertionError("an escalated action must not run")

        out = await svc.perform(Principal(key_id="k1"), Action("crm", "drop", {"ids": [1]}), never)
        await asyncio.gather(*svc.notifier._tasks)
        view = await svc.approvals.get(out["approval_id"])
        assert view["webhook"]["state"] == "failed" and view["webhook"]["attempts"][0]["error"] == "target_refused"
        assert Counting.hits == 0  # nothing left the gateway for the loopback address
    finally:
        await svc.aclose()
        await engine.dispose()
        server.shutdown()


async def test_the_sweep_counts_each_verdict_once_across_gateways(backend):  # noqa: F811
    """Two gateways' services over one database (SQLite, then PostgreSQL): a verdict given by
    the CLI (uncounted) and an approval that expired are each counted by exactly one of them."""
    from prometheus_client import CollectorRegistry

    cfg = config_mod.parse({
        "providers": [{"name": "p", "base_url": "http://127.0.0.1:9/v1"}],
        "models": [{"name": "m", "targets": [{"provider": "p", "model": "x"}]}],
        "actions": {"enabled": True, "policy_text": POLICIES, "effects": {"crm.drop": "delete"}},
    })
    engine = make_engine(backend["sql"])
    await migrate(engine)
    registries = [CollectorRegistry(), CollectorRegistry()]
    gateways = [ActionsService(cfg, engine, counts=True, registry=r) for r in registries]
    cli = ActionsService(cfg, engine)  # no metric: its verdicts wait for a sweep
    try:
        for svc in (*gateways, cli):
            svc.reload()

        async def never(tool, args):
            raise AssertionError("not run")

        made = [await cli.perform(Principal(key_id="k1"), Action("crm", "drop", {"ids": [n]}), never)
                for n in range(3)]
        await cli.decide_approval(made[0]["approval_id"], False, "carol", "no", via="cli")
        await cli.decide_approval(made[1]["approval_id"], True, "carol", "ok", arguments={"ids": [9]}, via="cli")
        await cli.approvals.decide(made[2]["approval_id"], True, "x", "y")  # a plain approval, uncounted
        late = await cli.approvals.create(tool="crm.drop", bound="b", policy_version="v", tenant="t",
                                          request={}, decision={}, ttl_s=0.01)
        await asyncio.sleep(0.05)
        await asyncio.gather(*(g.sweep() for g in gateways), *(g.sweep() for g in gateways))

        def total(name):
            return sum(r.get_sample_value("seawall_action_approval_decisions_total", {"decision": name}) or 0
                       for r in registries)

        assert {v: total(v) for v in ("approve", "deny", "edit", "expire")} == {
            "approve": 1, "deny": 1, "edit": 1, "expire": 1}
        assert (await cli.approvals.get(late["id"]))["status"] == "expired"
    finally:
        await engine.dispose()


def test_a_reload_through_one_worker_reaches_every_worker(tmp_path):
    system, sys_url = serve(System)
    policy = tmp_path / "actions.cedar"
    policy.write_text(POLICIES)
    gw = start_gateway({
        "admin_key": ADMIN, "server": {"access_log": False},
        "providers": [{"name": "sim", "base_url": "http://127.0.0.1:9/v1"}],
        "models": [{"name": "chat", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}],
        "actions": {"enabled": True, "policies": [str(policy)], "approvals_sweep_s": 0.2,
                    "connectors": {"crm": {"base_url": sys_url, "methods": ["POST"], "paths": ["/records/*"]}}},
    }, workers=2)
    try:
        _, _, raw = http("POST", gw.url + "/admin/keys", json.dumps({"user": "agent"}).encode(), ADMIN_H)
        gw.key = json.loads(raw)["key"]
        write = {"connector": "crm", "method": "POST", "path": "/records/7", "operation": "update", "body": {}}
        assert {act(gw, write)[0] for _ in range(10)} == {403}
        policy.write_text(POLICIES + '@id("updates") permit (principal, action, resource) '
                                     'when { context.operation == "update" };\n')
        assert http("POST", gw.url + "/admin/actions/policies/reload", b"", ADMIN_H)[0] == 200
        time.sleep(1.0)  # five sweeps
        assert {act(gw, write)[0] for _ in range(20)} == {200}  # each request on a new connection: both workers
    finally:
        gw.stop()
        system.shutdown()


@pytest.mark.parametrize("url, why", [
    ("https://user:pw@hooks.example.com/a", "credentials"),
    ("https://hooks.example.com:99999/a", "valid port"),
    ("https://hooks.example.com/a b", "no spaces"),
])
def test_a_malformed_approvals_webhook_url_refuses_the_config(monkeypatch, url, why):
    monkeypatch.setenv("APPROVALS_WEBHOOK_SECRET", SECRET)
    with pytest.raises(config_mod.ConfigError) as e:
        config_mod.parse({
            "providers": [{"name": "p", "base_url": "http://127.0.0.1:9/v1"}],
            "models": [{"name": "m", "targets": [{"provider": "p", "model": "x"}]}],
            "actions": {"enabled": True, "policy_text": POLICIES,
                        "approvals_webhook": {"url": url, "secret": "${APPROVALS_WEBHOOK_SECRET}"}},
        })
    assert why in str(e.value) and "pw" not in str(e.value)
