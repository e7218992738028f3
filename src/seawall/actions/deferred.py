"""Actions as async jobs: `POST /v1/actions` with `Prefer: respond-async` (or `x-seawall-async: 1`)
when the jobs feature is on. The jobs feature is not imported: the assembly registers JOB_KIND
and hands over `Deferral` (queue a body) and `ActionsService.wake_job` (the queue's release).

The policy decides at submission. Denied: 403 at once, nothing is queued. Allowed or degraded:
the job runs the decided action. Escalated: the job is queued *waiting*, not runnable before its
approval's expiry, so it holds no worker while a person decides; the verdict wakes it (in the
process that took the verdict at once; a verdict from the CLI, or an expiry, by a gateway's
approvals sweep). On a worker the job reads its approval: denied -> failed `action_denied`;
expired (or still undecided at its deadline: it closes it) -> failed `approval_expired`;
approved -> claimed by a conditional UPDATE (approved -> executed, only by the job it was made
for), which is the record that the action is being run, committed before the system is called;
then the system's answer is stored on the approval row and the job completes with it.

At most once, never twice. The kind does not retry (a 5xx from the system may have been acted
on). A later attempt only comes from a worker that stopped mid-run (kill -9, a lost lease); it
does not run the action again: an approval still `approved` is claimed and run (the stopped
worker had not reached the claim); one `executed` with an answer stored completes the job with
it; one `executed` without (the system may or may not have acted) fails `action_outcome_unknown`.
An allowed action has no approval row to record it on, so a later attempt of it always fails
`action_outcome_unknown`.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Awaitable, Callable, Mapping

from ..core.errors import GatewayError, invalid
from ..core.types import Principal
from ..web.router import Call
from .approvals import Refused, binding, new_id
from .connectors import effect_of_method
from .service import Action, ActionsService, Decision, principal_of

JOB_KIND = "actions.perform"
WAKE_MARGIN_S = 1.0  # a job nobody woke runs this long after its approval's expiry and closes it
FIELDS = ("connector", "method", "path", "operation", "record", "body")


@dataclass(frozen=True)
class Deferral:
    """Handed over by the assembly: whether the caller asked for an async answer, and queueing a
    body as a JOB_KIND job (not runnable before the time given, unless released), which sets
    Location on the call's response and returns the job's JSON."""

    wanted: Callable[[Mapping[str, str]], bool]
    # -> (the job's JSON, whether it is new: False for the same Idempotency-Key again)
    submit: Callable[[Call, dict, float | None], Awaitable[tuple[dict, bool]]]


def _action(body: dict) -> Action:
    return Action(server=body["connector"], operation=body["operation"], arguments=dict(body["body"] or {}),
                  record=body.get("record"), effect=effect_of_method(body["method"]))


def _executor(service: ActionsService, body: dict, action: Action):
    async def execute(tool: str, arguments: dict):
        if tool != action.tool:
            raise GatewayError("action_denied", "connectors have no read-only variant of this operation")
        payload = arguments if (body["body"] is not None or arguments) else None
        return await service.connectors.call(body["connector"], body["method"], body["path"], payload)
    return execute


async def submit(service: ActionsService, call: Call, fields: dict, deferral: Deferral) -> dict:
    """Decide now and queue the job (202); a denial raises (403) with nothing queued."""
    if set(fields) != set(FIELDS):
        raise invalid("an async action names connector, method, path, operation, record and body")
    action = _action(fields)
    d = service.decide(call.principal, action)
    if d.decision == "deny":
        service.refuse(call.principal, action, d, call.request_id, via="job")
    body = {**fields, "decision": asdict(d), "request_id": call.request_id}
    if d.decision != "escalate":
        job, _created = await deferral.submit(call, body, None)
        return job
    expires_at = time.time() + service.approval_ttl(d)
    body["approval_id"] = approval_id = new_id()
    body["who"] = principal_of(call.principal)  # the approval's binding names the caller as they were
    job, created = await deferral.submit(call, body, expires_at + WAKE_MARGIN_S)
    if not created:
        return job  # the same Idempotency-Key again: the first submission made the approval
    await service.escalate(call.principal, action, d, call.request_id, via="job", approval_id=approval_id,
                           job_id=job["id"], expires_at=expires_at)
    return {**job, "approval": {"id": approval_id, "expires_at": expires_at, "decision": d.reasons()}}


def prepare(service: ActionsService) -> Callable[[dict, Principal | None], dict]:
    """The JobKind's check at submission: the fields are there and the connector still allows it."""
    def check(body: dict, _principal: Principal | None) -> dict:
        if any(k not in body for k in (*FIELDS, "decision")):
            raise invalid("not an action job body")
        service.connectors.check(body["connector"], body["method"], body["path"])
        return body
    return check


def runner(service: ActionsService, resumed: bool) -> Callable[[dict, Principal | None], Awaitable[Any]]:
    """The JobKind's `run` (resumed False) and `resume` (True: an earlier attempt's worker stopped)."""
    async def run(body: dict, principal: Principal | None) -> dict:
        await service.start()
        action, d, rid = _action(body), Decision(**body["decision"]), body.get("request_id")
        execute = _executor(service, body, action)
        if body.get("approval_id") is None:
            if resumed:
                raise _unknown(action)
            _still_permitted(service, principal, action, rid)
            return await service._run(principal, action, d, execute, rid, via="job")
        return await _run_approved(service, body, principal, action, d, execute, resumed)
    return run


def _still_permitted(service: ActionsService, principal, action: Action, rid) -> None:
    """A `forbid` added since submission (or a policy that no longer loads) still stops it;
    otherwise it runs as decided then."""
    now = service.decide(principal, action, track_rate=False)
    if now.decision == "deny":
        service.refuse(principal, action, now, rid, via="job")


def _unknown(action: Action) -> GatewayError:
    return GatewayError("action_outcome_unknown", f"the worker running {action.tool} stopped after it may have "
                        "called the system and before the answer was stored; it is not run again")


async def _run_approved(service: ActionsService, body: dict, principal, action: Action, d: Decision,
                        execute, resumed: bool) -> dict:
    aid, rid = body["approval_id"], body.get("request_id")
    view = await service.approvals.get(aid)
    if view is None:
        raise GatewayError("approval_refused", f"approval {aid} was never recorded (the gateway stopped while "
                           "queueing this job)")
    status = view["status"]
    if status == "pending":  # woken at its deadline though this clock says otherwise: close it
        status = "expired" if await service.approvals.close(aid) else (await service.approvals.get(aid))["status"]
    if status == "executed":
        return await _recorded(service, aid, action)
    if status == "denied":
        raise GatewayError("action_denied", f"the action {action.tool} was denied by an approver")
    if status != "approved":
        raise GatewayError("approval_expired", f"approval {aid} expired before a person approved the action")
    if not resumed:
        _still_permitted(service, principal, action, rid)
    bound = binding(action.tool, action.arguments, body["who"], d.policy_version)
    try:
        ran = await service.claim(principal, action, d, aid, bound, rid, job=True, via="job")
    except Refused as exc:
        now = await service.approvals.get(aid)
        if now is not None and now["status"] == "executed":
            return await _recorded(service, aid, action)  # another attempt claimed it meanwhile
        if now is not None and now["status"] == "expired":
            raise GatewayError("approval_expired", f"approval {aid} expired before the job ran") from None
        raise GatewayError("approval_refused", str(exc)) from None
    # claimed: from here a stop before the answer is stored leaves the outcome unknown
    try:
        out = await service._run(principal, action, ran, execute, rid, approval_id=aid, via="job")
    except GatewayError as exc:
        await service.approvals.record_result(aid, {"ok": False, "job": True, "error": {
            "code": exc.code, "status": exc.status, "message": exc.message}})
        raise
    await service.approvals.record_result(aid, {"ok": True, "job": True, "response": out})
    return out


async def _recorded(service: ActionsService, aid: str, action: Action) -> dict:
    """The outcome an earlier attempt stored, or action_outcome_unknown when it stored none."""
    got = await service.approvals.recorded(aid)
    if got is None or not got.get("job"):
        raise _unknown(action)
    if got.get("ok"):
        return got["response"]
    err = got.get("error") or {}
    raise GatewayError(err.get("code", "upstream_error"), err.get("message", "the action failed"),
                       status=err.get("status"))
