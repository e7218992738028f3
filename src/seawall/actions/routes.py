"""The actions routes: POST /v1/actions (a client's action on a configured HTTP connector),
the approvers' admin routes (/admin/approvals) and the policy reload."""
from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..core.errors import GatewayError, invalid
from ..web.router import Call, Route
from . import deferred
from .connectors import effect_of_method
from .policy import PolicyError
from .service import Action, ActionsService

log = logging.getLogger("seawall.actions")


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connector: str = Field(..., min_length=1, max_length=128)
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str = Field(..., min_length=1, max_length=2048)
    operation: str | None = Field(None, max_length=128, pattern=r"^[A-Za-z0-9_\-]+$",
                                  description="the name policies see (`connector.operation`); default METHOD_path")
    record: str | None = Field(None, max_length=256, description="the record acted on, for policies on Record")
    body: dict[str, Any] | None = None
    approval_id: str | None = Field(None, max_length=64, description="run an action a person approved")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(..., min_length=1, max_length=2000)
    approver: str = Field("admin", min_length=1, max_length=256)


class ApproveIn(DecisionIn):
    arguments: dict[str, Any] | None = Field(
        None, description="approve with these arguments instead (an edit; they pass the policies again)")


class ApprovalsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["pending", "approved", "denied", "executed", "expired"] | None = None
    limit: int = Field(100, ge=1, le=1000)


def operation_of(body: ActionIn) -> str:
    if body.operation:
        return body.operation
    return body.method + "_" + "_".join(p for p in body.path.split("/") if p)[:100]


def action_of(body: ActionIn) -> Action:
    args = dict(body.body or {})
    return Action(server=body.connector, operation=operation_of(body), arguments=args, record=body.record,
                  effect=effect_of_method(body.method))


def routes(service: ActionsService, deferral: deferred.Deferral | None = None) -> list[Route]:
    """With `deferral` (the jobs feature is on) a caller asking for an async answer gets 202 and
    a job instead (actions/deferred.py); the policy decides at submission."""
    try:  # the MCP SDK is the `mcp` extra; without it /mcp says so
        from .mcp import McpGateway
    except ImportError:
        McpGateway = None
    gateway = service.mcp = McpGateway(service) if McpGateway is not None else None

    async def mcp(call: Call):
        if gateway is None:
            raise GatewayError("permission_denied", "the MCP gateway needs the mcp extra (pip install seawall[mcp])")
        await service.start()
        return await gateway.handle(call)

    async def create_action(call: Call):
        await service.start()
        body: ActionIn = call.body
        if not service.cfg.enabled:
            raise GatewayError("permission_denied", "actions are disabled (actions.enabled is false)")
        service.connectors.check(body.connector, body.method, body.path)  # before policy: shape and allow-list
        action = action_of(body)
        if deferral is not None and deferral.wanted(call.request.headers):
            if body.approval_id is not None:
                raise invalid("an approval given for a request is used by sending the request again, "
                              "without Prefer: respond-async", "approval_id")
            fields = {"connector": body.connector, "method": body.method, "path": body.path,
                      "operation": action.operation, "record": body.record, "body": body.body}
            return call.json(await deferred.submit(service, call, fields, deferral), status=202)

        async def execute(tool: str, arguments: dict):
            if tool != action.tool:
                raise GatewayError("action_denied", "connectors have no read-only variant of this operation")
            payload = arguments if (body.body is not None or arguments) else None
            return await service.connectors.call(body.connector, body.method, body.path, payload)

        out = await service.perform(call.principal, action, execute, approval_id=body.approval_id,
                                    request_id=call.request_id)
        return call.json(out, status=202 if out["status"] == "pending" else 200)

    async def list_approvals(call: Call):
        await service.start()
        q: ApprovalsQuery = call.query
        return call.json({"object": "list", "data": await service.approvals.list(q.status, q.limit)})

    async def get_approval(call: Call):
        await service.start()
        got = await service.approvals.get(call.params["id"])
        if got is None:
            raise GatewayError("not_found", f"no approval {call.params['id']!r}", param="id")
        return call.json(got)

    def decide(approve: bool):
        async def handler(call: Call):
            await service.start()
            b = call.body
            return call.json(await service.decide_approval(call.params["id"], approve, b.approver, b.reason,
                                                           arguments=getattr(b, "arguments", None)))
        return handler

    async def reload_policies(call: Call):
        await service.start()
        if not service.cfg.enabled:
            raise GatewayError("permission_denied", "actions are disabled (actions.enabled is false)")
        try:
            out = service.reload_policies(actor="admin", via="http")
        except PolicyError as exc:
            raise GatewayError("invalid_request", f"the policies were refused; the running set is kept: {exc}",
                               status=400) from None
        try:
            await service.announce_reload()  # the other workers and instances follow within a sweep
            out["peers"] = "told"
        except Exception:  # noqa: BLE001 - this worker has reloaded; say the others were not told
            log.exception("actions: the policy generation could not be bumped")
            out["peers"] = "not_told"
        return call.json(out)

    def admin(method, path, handler, summary, body=None, query=None):
        return Route(method, path, handler, auth="admin", body=body, query=query, summary=summary, tag="actions")

    mcp_doc = "The MCP gateway (streamable HTTP): tools of the configured MCP servers, through policy"
    return [
        Route("POST", "/mcp", mcp, auth="client", summary=mcp_doc, tag="actions"),
        Route("GET", "/mcp", mcp, auth="client", summary=mcp_doc, tag="actions"),
        Route("DELETE", "/mcp", mcp, auth="client", summary=mcp_doc, tag="actions"),
        Route("POST", "/v1/actions", create_action, auth="client", body=ActionIn, tag="actions",
              summary="Perform an action on a configured system through policy (202: waiting for approval; "
                      "with Prefer: respond-async, a job)"),
        admin("GET", "/admin/approvals", list_approvals, "List action approvals", query=ApprovalsQuery),
        admin("GET", "/admin/approvals/{id}", get_approval, "Show an action approval"),
        admin("POST", "/admin/approvals/{id}/approve", decide(True),
              "Approve an escalated action (with `arguments`: approve an edited version)", ApproveIn),
        admin("POST", "/admin/approvals/{id}/deny", decide(False), "Deny an escalated action", DecisionIn),
        admin("POST", "/admin/actions/policies/reload", reload_policies,
              "Read and validate the action policies again; an invalid set is refused and the running one kept"),
    ]
