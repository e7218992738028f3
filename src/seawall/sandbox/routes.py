"""HTTP routes: POST /v1/sandbox/executions and GET /v1/sandbox/executions/{id}, under the
caller's key. Results are kept per tenant (Principal.tenant): another tenant's id is not found.

The handlers are plain async functions over the service (`create`, `fetch`) that `routes`
wraps for the router; bad bodies become GatewayError("invalid_request", ..., param=<field
path>) naming the first wrong field.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping

from pydantic import ValidationError

from ..core.errors import GatewayError, invalid
from ..core.types import Principal
from ..web.router import Call, Route
from .models import ExecutionRequest, ExecutionResult
from .service import SandboxService

CreateExecutionBody = ExecutionRequest  # the request body's model
# (principal, arguments, run, approval_id, request_id) -> {"status": "done", "result"} | {"status": "pending", ...}
Gate = Callable[[Any, dict, Callable[[], Awaitable[dict]], "str | None", str], Awaitable[dict]]
JOB_KIND = "sandbox.execution"  # the async job kind the assembly registers with the jobs feature


@dataclass(frozen=True)
class AsyncSubmit:
    """How an execution becomes an async job, handed over by the assembly (the sandbox does not
    know the jobs feature): whether the caller asked for one (`Prefer: respond-async`,
    `x-seawall-async: 1`), and queueing a body as a JOB_KIND job, which sets Location on the
    call's response and returns the job's JSON."""

    wanted: Callable[[Mapping[str, str]], bool]
    submit: Callable[[Call, dict], Awaitable[dict]]


def _param(loc: tuple) -> str:
    """('files', 0, 'name') -> 'files[0].name'"""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_body(body: dict) -> ExecutionRequest:
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object", None)
    try:
        return ExecutionRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = _param(tuple(first.get("loc", ())))
        message = first.get("msg", "invalid value")
        if first.get("type") == "extra_forbidden":
            message = "unknown field"
        raise invalid(f"{param}: {message}" if param else message, param or None) from None


async def create(service: SandboxService, body: dict, principal_id: str | None) -> dict:
    request = parse_body(body)
    result = await service.execute(request, principal_id)
    return result.to_dict()


async def fetch(service: SandboxService, id: str, principal_id: str | None = None) -> dict:
    """A kept result; another principal's result is not found (no existence leak)."""
    result = service.get(id, principal_id)
    if result is None:
        raise GatewayError("not_found", f"no execution {id!r} is kept here", param="id")
    return result.to_dict()


def job_body(service: SandboxService, body: dict) -> dict:
    """An execution request checked now (400, or 503 when the sandbox cannot run), as the job
    stores it; an approval was spent at submission, so its id is not kept."""
    request = parse_body(body)
    service.check(request)
    return request.model_dump(mode="json", exclude_none=True, exclude={"approval_id"})


async def run_job(service: SandboxService, body: dict, principal: Principal | None) -> dict:
    """A queued execution, run on a jobs worker: the same result contract as the sync route."""
    result = await service.execute(parse_body(body), principal.tenant if principal is not None else None)
    return result.to_dict()


def _tenant(call: Call) -> str | None:
    return call.principal.tenant if call.principal is not None else None


def routes(service: SandboxService, gate: Gate | None = None, deferral: AsyncSubmit | None = None) -> list[Route]:
    """Only a gateway that enables the sandbox serves these (the assembly asks). With `gate`
    (the action proxy's, when it is on) every execution is the tool `sandbox.run_code` under
    its policy: denied (403), escalated (202 with an approval id) or run. With `deferral` (the
    jobs feature is on) a caller asking for an async answer gets 202 and a job instead; the
    policy decides at submission, before anything is queued."""

    async def create_route(call: Call):
        request: ExecutionRequest = call.body
        deferred = deferral is not None and deferral.wanted(call.request.headers)
        status = 202 if deferred else None

        async def run() -> dict:
            if deferred:
                return await deferral.submit(call, job_body(service, request.model_dump(mode="json", exclude_none=True)))
            return (await service.execute(request, _tenant(call))).to_dict()

        if gate is None:
            return call.json(await run(), status=status)

        arguments = {"language": request.language, "network": request.network, "code_bytes": len(request.code),
                     "code_sha256": hashlib.sha256(request.code.encode()).hexdigest(),
                     "files": len(request.files), "limits": request.limits.model_dump(exclude_none=True)}
        out = await gate(call.principal, arguments, run, request.approval_id, call.request_id)
        if out["status"] == "pending":
            return call.json(out, status=202)
        return call.json(out["result"], status=status)

    async def fetch_route(call: Call):
        return call.json(await fetch(service, call.params["id"], _tenant(call)))

    return [
        Route("POST", "/v1/sandbox/executions", create_route, auth="client", body=ExecutionRequest,
              response=ExecutionResult, summary="Run code in an isolated sandbox", tag="sandbox"),
        Route("GET", "/v1/sandbox/executions/{id}", fetch_route, auth="client", response=ExecutionResult,
              summary="A kept execution result", tag="sandbox"),
    ]
