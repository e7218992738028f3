"""The action proxy's decisions, through the service with a real SQLite store: Cedar policies
(deny by default, forbid beats permit, schema-validated at load), degrade as a recorded
rewrite, escalate as a single-use approval bound to the exact action, risk explained, every
decision audited, and a policy engine that errors denies."""
from __future__ import annotations

import asyncio
import time

import pytest

from seawall import config as config_mod
from seawall.actions import policy as policy_mod
from seawall.actions.policy import PolicyEngine, PolicyError
from seawall.actions.service import Action, ActionsService
from seawall.core.errors import GatewayError
from seawall.core.types import Principal
from seawall.store.sql import make_engine, migrate

POLICIES = """
@id("reads") permit (principal, action, resource) when { context.effect == "read" };
@id("refunds-capped") @degrade("cap") @field("amount") @max("100")
permit (principal, action, resource) when { context.tool == "crm.refund" };
@id("updates-dry-run") @degrade("dry_run")
permit (principal, action, resource) when { context.tool == "crm.update_record" && principal in Team::"interns" };
@id("updates") permit (principal, action, resource) when { context.tool == "crm.update_record" };
@id("deletes-need-approval") @escalate("approval")
permit (principal, action, resource) when { context.effect == "delete" };
@id("purges-need-quick-approval") @escalate("approval") @ttl("5")
permit (principal, action, resource) when { context.tool == "crm.purge" };
@id("no-injected-writes") forbid (principal, action, resource)
  when { context.injection > 50 && context.effect != "read" };
@id("no-record-42") forbid (principal, action, resource == Record::"crm/42");
"""

ALICE = Principal(key_id="k-alice", user_id="alice", team_id="ops", department_id="eng")
INTERN = Principal(key_id="k-ian", user_id="ian", team_id="interns", department_id="eng")


class Upstream:
    """Stands in for the system acted on: counts what reaches it and what arguments arrived."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    async def __call__(self, tool: str, arguments: dict):
        self.calls.append((tool, arguments))
        return {"ok": True, "tool": tool}


@pytest.fixture
def svc(tmp_path):
    audit: list[tuple] = []
    cfg = config_mod.parse({
        "providers": [{"name": "p", "base_url": "http://127.0.0.1:9/v1"}],
        "models": [{"name": "m", "targets": [{"provider": "p", "model": "x"}]}],
        "actions": {"enabled": True, "policy_text": POLICIES, "approval_ttl_s": 60,
                    "effects": {"crm.read_record": "read", "crm.update_record": "write", "crm.refund": "write",
                                "crm.delete_records": "delete"}},
    })
    engine = make_engine(f"sqlite:///{tmp_path}/a.db")
    asyncio.run(migrate(engine))
    service = ActionsService(cfg, engine, audit=Log(audit))
    asyncio.run(service.start())
    service.audited = audit
    yield service
    asyncio.run(engine.dispose())


class Log:
    """An audit log (core.types.AuditLog) that keeps ((kind, outcome, status), fields) pairs."""

    def __init__(self, kept: list) -> None:
        self.kept = kept

    def record(self, kind, outcome, status, **fields):
        self.kept.append(((kind, outcome, status), fields))

    def draft(self, kind, **fields):
        return lambda outcome, status: self.record(kind, outcome, status, **fields)


def run(coro):
    return asyncio.run(coro)


def test_reads_pass_and_anything_not_permitted_is_denied(svc):
    up = Upstream()
    out = run(svc.perform(ALICE, Action("crm", "read_record", {"id": 1}), up))
    assert out["status"] == "done" and up.calls == [("crm.read_record", {"id": 1})]
    assert out["decision"]["policies"] == ["reads"]
    with pytest.raises(GatewayError) as e:  # no permit names this tool: deny by default
        run(svc.perform(ALICE, Action("crm", "export_all", {}), up))
    assert e.value.code == "action_denied" and e.value.status == 403
    assert len(up.calls) == 1  # the denied call never reached the system
    kinds = [(a[0], a[1]) for a, _ in svc.audited]
    assert kinds == [("action", "allow"), ("action", "denied")]


def test_forbid_beats_permit(svc):
    up = Upstream()
    with pytest.raises(GatewayError):
        run(svc.perform(ALICE, Action("crm", "update_record", {"id": 1}, injection=0.9), up))
    with pytest.raises(GatewayError) as e:
        run(svc.perform(ALICE, Action("crm", "read_record", {"id": 42}, record="42"), up))
    assert "no-record-42" in e.value.message
    assert up.calls == []
    detail = svc.audited[0][1]["detail"]
    assert detail["policies"] == ["no-injected-writes"]
    assert {"factor": "injection", "value": 0.9, "points": 27} in detail["factors"]


def test_degrade_rewrites_deterministically_and_records_the_difference(svc):
    up = Upstream()
    out = run(svc.perform(ALICE, Action("crm", "refund", {"order": "o1", "amount": 5000}), up))
    assert up.calls == [("crm.refund", {"order": "o1", "amount": 100})]
    assert out["decision"]["diff"] == [{"policy": "refunds-capped", "field": "amount", "from": 5000, "to": 100}]
    run(svc.perform(INTERN, Action("crm", "update_record", {"id": 3, "name": "x"}), up))
    assert up.calls[1] == ("crm.update_record", {"id": 3, "name": "x", "dry_run": True})
    audited = [k["detail"] for a, k in svc.audited]
    assert audited[0]["diff"][0]["to"] == 100 and audited[0]["arguments"]["amount"] == 5000
    assert audited[1]["diff"] == [{"policy": "updates-dry-run", "field": "dry_run", "from": None, "to": True}]
    run(svc.perform(ALICE, Action("crm", "update_record", {"id": 3}), up))  # not an intern: untouched
    assert up.calls[2] == ("crm.update_record", {"id": 3})


def test_an_escalated_action_runs_exactly_once_after_approval(svc):
    up = Upstream()
    action = Action("crm", "delete_records", {"ids": [1, 2, 3]})
    pending = run(svc.perform(ALICE, action, up))
    assert pending["status"] == "pending" and up.calls == []
    aid = pending["approval_id"]
    with pytest.raises(GatewayError) as e:  # not approved yet
        run(svc.perform(ALICE, action, up, approval_id=aid))
    assert e.value.code == "approval_refused"
    view = run(svc.decide_approval(aid, True, "bob", "customer asked"))
    assert view["status"] == "approved" and view["approver"] == "bob"
    with pytest.raises(GatewayError) as e:  # a second approve
        run(svc.decide_approval(aid, True, "bob", "again"))
    assert e.value.code == "approval_refused"
    changed = Action("crm", "delete_records", {"ids": [1, 2, 3, 4]})
    with pytest.raises(GatewayError) as e:  # the approval does not cover other arguments
        run(svc.perform(ALICE, changed, up, approval_id=aid))
    assert e.value.code == "approval_refused" and "another action" in e.value.message
    with pytest.raises(GatewayError):  # nor another caller
        run(svc.perform(INTERN, action, up, approval_id=aid))
    out = run(svc.perform(ALICE, action, up, approval_id=aid))
    assert out["status"] == "done" and up.calls == [("crm.delete_records", {"ids": [1, 2, 3]})]
    with pytest.raises(GatewayError) as e:  # replayed
        run(svc.perform(ALICE, action, up, approval_id=aid))
    assert e.value.code == "approval_refused"
    assert len(up.calls) == 1
    assert run(svc.approvals.get(aid))["status"] == "executed"
    outcomes = [a[1] for a, _ in svc.audited]
    assert outcomes.count("approved") == 2 and outcomes.count("escalated") == 1  # the approval and the run


def test_concurrent_claims_run_once(svc):
    up = Upstream()
    action = Action("crm", "delete_records", {"ids": [7]})
    aid = run(svc.perform(ALICE, action, up))["approval_id"]
    run(svc.decide_approval(aid, True, "bob", "ok"))

    async def race():
        return await asyncio.gather(*(svc.perform(ALICE, action, up, approval_id=aid) for _ in range(8)),
                                    return_exceptions=True)

    results = run(race())
    assert sum(isinstance(r, dict) for r in results) == 1 and len(up.calls) == 1


def test_a_waiting_call_runs_when_approved_and_an_expired_one_is_refused(svc):
    up = Upstream()
    action = Action("crm", "delete_records", {"ids": [9]})

    async def wait_and_approve():
        task = asyncio.create_task(svc.perform(ALICE, action, up, wait_s=30))
        for _ in range(200):
            await asyncio.sleep(0.01)
            pending = await svc.approvals.list("pending")
            if pending:
                break
        await svc.decide_approval(pending[0]["id"], True, "bob", "fine")
        return await task

    out = run(wait_and_approve())
    assert out["status"] == "done" and up.calls == [("crm.delete_records", {"ids": [9]})]

    svc.cfg.approval_ttl_s = 0.05
    aid = run(svc.perform(ALICE, action, up))["approval_id"]
    time.sleep(0.1)
    assert run(svc.approvals.get(aid))["status"] == "expired"
    with pytest.raises(GatewayError):
        run(svc.decide_approval(aid, True, "bob", "late"))
    with pytest.raises(GatewayError):
        run(svc.perform(ALICE, action, up, approval_id=aid))
    assert len(up.calls) == 1


def test_a_policy_ttl_shortens_the_approval(svc):
    made = run(svc.perform(ALICE, Action("crm", "purge", {}), Upstream()))
    assert made["expires_at"] - time.time() <= 5
    made = run(svc.perform(ALICE, Action("crm", "delete_records", {"ids": [1]}), Upstream()))
    assert made["expires_at"] - time.time() > 50


def test_a_policy_change_voids_earlier_approvals(svc):
    up = Upstream()
    action = Action("crm", "delete_records", {"ids": [5]})
    aid = run(svc.perform(ALICE, action, up))["approval_id"]
    run(svc.decide_approval(aid, True, "bob", "ok"))
    svc.cfg.policy_text = POLICIES + '\n@id("extra") permit (principal, action, resource) when { false };'
    svc.reload()
    with pytest.raises(GatewayError) as e:
        run(svc.perform(ALICE, action, up, approval_id=aid))
    assert "policy version" in e.value.message and up.calls == []


def test_policies_are_validated_at_load_and_a_bad_reload_keeps_the_old_set(svc):
    with pytest.raises(PolicyError, match="attribute `amout`"):
        PolicyEngine('permit (principal, action, resource) when { context.amout > 1 };')
    with pytest.raises(PolicyError, match="@max"):
        PolicyEngine('@degrade("cap") @field("amount") permit (principal, action, resource);')
    with pytest.raises(PolicyError, match="permit"):
        PolicyEngine('@escalate("approval") forbid (principal, action, resource);')
    version = svc.engine.version
    svc.cfg.policy_text = "permit (principal, action, resource) when { context.nope };"
    with pytest.raises(PolicyError):
        svc.reload()
    assert svc.engine.version == version  # still serving the validated set


def test_no_policy_denies_everything(tmp_path):
    cfg = config_mod.parse({
        "providers": [{"name": "p", "base_url": "http://127.0.0.1:9/v1"}],
        "models": [{"name": "m", "targets": [{"provider": "p", "model": "x"}]}],
        "actions": {"enabled": True},
    })
    service = ActionsService(cfg, make_engine(f"sqlite:///{tmp_path}/b.db"))
    run(service.start())
    assert service.decide(ALICE, Action("crm", "read_record", {})).decision == "deny"


def test_a_policy_engine_that_errors_denies(svc, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(policy_mod.cedarpy, "is_authorized", boom)
    up = Upstream()
    with pytest.raises(GatewayError) as e:
        run(svc.perform(ALICE, Action("crm", "read_record", {"id": 1}), up))
    assert e.value.code == "action_denied" and "policy engine error" in e.value.message
    assert up.calls == []
    assert svc.audited[-1][0][1] == "denied"


def test_untrusted_hints_only_raise_risk_and_secrets_are_not_audited(svc):
    up = Upstream()
    # the server calls delete_records read-only: the config says delete, so it still escalates
    d = svc.decide(ALICE, Action("crm", "delete_records", {"ids": [1]}, hints={"readOnlyHint": True}))
    assert d.decision == "escalate" and d.effect == "delete"
    # an undeclared tool the server calls destructive is treated as a delete
    d = svc.decide(ALICE, Action("other", "tidy", {}, hints={"destructiveHint": True}))
    assert d.effect == "delete" and d.decision == "escalate"
    d = svc.decide(ALICE, Action("crm", "read_record", {"filter": "*", "limit": 500, "amount": 9999}))
    assert {f["factor"] for f in d.factors} == {"effect", "wildcard", "count", "amount"}
    assert d.risk == 5 + 25 + 20 + 20
    run(svc.perform(ALICE, Action("crm", "read_record", {"id": 1, "api_key": "sk-live-123456"}), up))
    assert svc.audited[-1][1]["detail"]["arguments"]["api_key"] == "[REDACTED]"
    assert up.calls[-1][1]["api_key"] == "sk-live-123456"  # the system still gets what it needs


def test_the_rate_of_similar_actions_raises_risk(svc):
    svc.cfg.risk.rate_over = 3
    scores = [svc.decide(ALICE, Action("crm", "read_record", {"id": i})).risk for i in range(6)]
    assert scores[:4] == [5, 5, 5, 5] and scores[4:] == [20, 20]
    assert svc.decide(INTERN, Action("crm", "read_record", {"id": 1})).risk == 5  # per principal
