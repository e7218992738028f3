"""The at-most-once rules of an action run as an async job, through the library over SQLite and a
test HTTP system that counts its calls: a later attempt (its worker stopped mid-run) runs an
approved action it had not claimed yet, completes with an answer already stored without calling
again, and fails action_outcome_unknown when the approval was used but no answer was stored; a
request cannot use an approval made for a job."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from seawall import config as config_mod
from seawall.actions import deferred
from seawall.actions.approvals import Refused, binding, new_id
from seawall.actions.service import ActionsService, principal_of
from seawall.core.errors import GatewayError
from seawall.core.types import Principal
from seawall.store.sql import make_engine, migrate

POLICIES = """
@id("reads") permit (principal, action, resource) when { context.effect == "read" };
@id("deletes-need-approval") @escalate("approval")
permit (principal, action, resource) when { context.effect == "delete" };
"""


class System(BaseHTTPRequestHandler):
    calls: list = []

    def _answer(self):
        System.calls.append((self.command, self.path))
        out = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_DELETE = _answer

    def log_message(self, *a):
        pass


@pytest.fixture
async def svc(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), System)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cfg = config_mod.parse({
        "providers": [{"name": "p", "base_url": "http://127.0.0.1:9/v1"}],
        "models": [{"name": "m", "targets": [{"provider": "p", "model": "x"}]}],
        "actions": {"enabled": True, "policy_text": POLICIES, "connectors": {"billing": {
            "base_url": f"http://127.0.0.1:{server.server_address[1]}", "methods": ["GET", "DELETE"],
            "paths": ["/orders/*"]}}},
    })
    engine = make_engine(f"sqlite:///{tmp_path}/a.db")
    await migrate(engine)
    service = ActionsService(cfg, engine)
    await service.start()
    yield service
    await service.aclose()
    await engine.dispose()
    server.shutdown()


P = Principal(key_id="k1")


def _fields(method: str, path: str) -> dict:
    return {"connector": "billing", "method": method, "path": path,
            "operation": method + "_" + "_".join(p for p in path.split("/") if p), "record": None, "body": None}


async def _approved_job(svc, path: str) -> tuple[dict, str]:
    """A job body as POST /v1/actions with respond-async queues it, its approval approved."""
    fields = _fields("DELETE", path)
    action = deferred._action(fields)
    d = svc.decide(P, action)
    assert d.decision == "escalate"
    aid = new_id()
    body = {**fields, "decision": asdict(d), "request_id": "req-1", "approval_id": aid, "who": principal_of(P)}
    await svc.escalate(P, action, d, "req-1", approval_id=aid, job_id="job_" + aid[4:], expires_at=time.time() + 60)
    await svc.decide_approval(aid, True, "bob", "ticket 3")
    return body, aid


def _count(path: str) -> int:
    return sum(1 for c in System.calls if c[1] == path)


async def test_a_later_attempt_runs_an_unclaimed_approval_once_then_only_returns_its_answer(svc):
    body, aid = await _approved_job(svc, "/orders/1")
    resume = deferred.runner(svc, True)
    out = await resume(body, P)  # the stopped worker had not reached the claim: run it now
    assert out["status"] == "done" and out["result"]["body"] == {"path": "/orders/1"}
    assert _count("/orders/1") == 1
    again = await resume(body, P)  # stopped after the answer was stored, before the job finished
    assert again == out and _count("/orders/1") == 1
    assert await deferred.runner(svc, False)(body, P) == out and _count("/orders/1") == 1
    assert (await svc.approvals.get(aid))["result"] == {"ok": True, "job": True}


async def test_an_approval_used_without_a_stored_answer_is_not_run_again(svc):
    body, aid = await _approved_job(svc, "/orders/2")
    action = deferred._action(body)
    bound = binding(action.tool, action.arguments, body["who"], body["decision"]["policy_version"])
    with pytest.raises(Refused) as refused:  # a request cannot use the job's approval
        await svc.approvals.claim(aid, bound)
    assert refused.value.code == "approval_unusable"
    await svc.approvals.claim(aid, bound, job=True)  # the worker claimed it, then was killed
    for resumed in (True, False):
        with pytest.raises(GatewayError) as e:
            await deferred.runner(svc, resumed)(body, P)
        assert e.value.code == "action_outcome_unknown"
    assert _count("/orders/2") == 0


async def test_an_allowed_action_runs_once_and_a_later_attempt_does_not_run_it(svc):
    fields = _fields("GET", "/orders/3")
    d = svc.decide(P, deferred._action(fields))
    body = {**fields, "decision": asdict(d), "request_id": "req-2"}
    out = await deferred.runner(svc, False)(body, P)
    assert out["result"]["body"] == {"path": "/orders/3"} and _count("/orders/3") == 1
    with pytest.raises(GatewayError) as e:
        await deferred.runner(svc, True)(body, P)
    assert e.value.code == "action_outcome_unknown" and _count("/orders/3") == 1
