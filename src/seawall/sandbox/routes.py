"""HTTP handlers: POST /v1/sandbox/executions and GET /v1/sandbox/executions/{id}.

Plain async functions over the service, for the router to wire; bad bodies become
GatewayError("invalid_request", ..., param=<field path>) naming the first wrong field.
"""
from __future__ import annotations

from pydantic import ValidationError

from ..core.errors import GatewayError, invalid
from .models import ExecutionRequest
from .service import SandboxService

CreateExecutionBody = ExecutionRequest  # the request body's model


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
