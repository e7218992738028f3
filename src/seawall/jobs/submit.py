"""Submitting a request as a job over HTTP: `Prefer: respond-async` (`wants_async`), and the 202
with its Location (`enqueue`, `submit_call`), shared by the OpenAI/Anthropic faces, /v1/responses
and the features whose routes queue work (the sandbox, the action proxy)."""
from __future__ import annotations

from ..core.errors import GatewayError
from ..web.router import Call
from .service import JobsService


def wants_async(headers) -> bool:
    """`Prefer: respond-async` (RFC 7240) or `x-seawall-async: 1`."""
    prefer = headers.get("prefer")
    if prefer and "respond-async" in prefer.lower():
        return True
    return headers.get("x-seawall-async") in ("1", "true")


async def enqueue(service: JobsService, call: Call, kind: str):
    """202 Accepted with the job and a Location header, instead of running the request now.
    Options come as headers: Idempotency-Key, x-seawall-priority, x-seawall-webhook."""
    return call.json(await submit_call(service, call, kind, call.body), status=202)


async def submit_call(service: JobsService, call: Call, kind: str, body: dict, *,
                      not_before: float | None = None) -> dict:
    """Queue `body` as a `kind` job for the caller (waiting until `not_before` or a release, if
    given); sets Location (and the replay header) on the call's response and returns the job's JSON."""
    job, _created = await submit_call_created(service, call, kind, body, not_before=not_before)
    return job


async def submit_call_created(service: JobsService, call: Call, kind: str, body: dict, *,
                              not_before: float | None = None) -> tuple[dict, bool]:
    """submit_call, also saying whether the job is new (False: the same Idempotency-Key again,
    the first submission's job is returned)."""
    h = call.request.headers
    prio = h.get("x-seawall-priority")
    try:
        priority = int(prio) if prio else 0
    except ValueError:
        raise GatewayError("invalid_request", "x-seawall-priority must be an integer") from None
    job, created = await service.submit(kind, body, call.principal, idempotency_key=h.get("idempotency-key"),
                                        priority=priority, webhook_url=h.get("x-seawall-webhook"),
                                        not_before=not_before)
    call.headers["location"] = f"/v1/jobs/{job.id}"
    if not created:
        call.headers["x-seawall-idempotent-replay"] = "true"
    return job.public(), created
