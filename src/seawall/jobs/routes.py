"""Jobs over HTTP: GET/DELETE /v1/jobs/{id} for the submitter's tenant, the admin view of the
queues, and the Files, Batch and Responses routes (the async hook the faces call is submit.py)."""
from __future__ import annotations

from ..core.errors import GatewayError
from ..web.router import Call, Route
from . import ops
from .batch_routes import routes as batch_routes
from .batches import Batches
from .responses import routes as responses_routes
from .service import JobsService, tenant_of

JOB_RESPONSE = {
    "type": "object",
    "properties": {
        "id": {"type": "string"}, "object": {"const": "job"},
        "status": {"enum": ["queued", "running", "completed", "failed", "cancelled", "expired"]},
        "kind": {"type": "string"}, "model": {"type": "string"}, "attempts": {"type": "integer"},
        "result": {"description": "the answer in the submitting route's own wire format (when completed)"},
        "error": {"type": "object"},
    },
}


QUEUE_WINDOW_S = 300.0  # GET /admin/jobs/queues: throughput over the last five minutes


def routes(service: JobsService) -> list[Route]:
    async def get_job(call: Call):
        job = await service.get(call.params["id"], call.principal)
        return call.json(job.public())

    async def cancel_job(call: Call):
        job = await service.cancel(call.params["id"], call.principal)
        return call.json(job.public())

    async def webhook_secret(call: Call):
        # the caller's own key: it only verifies this key's deliveries, never another tenant's
        if not service.config.webhooks.per_key_secrets:  # the gateway's own key is the operator's to hand out
            raise GatewayError("invalid_request", "per-key webhook secrets are off on this gateway "
                                                  "(jobs.webhooks.per_key_secrets): ask its operator")
        secret = service.webhooks.secret_for(tenant_of(call.principal))
        if secret is None:
            raise GatewayError("invalid_request", "webhooks are off on this gateway (jobs.webhooks.secret)")
        call.headers["cache-control"] = "no-store"
        return call.json({"object": "webhook_secret", "secret": secret})

    async def queues(call: Call):
        depth = await service.refresh_gauges()
        busy = await ops.activity(service.queue.engine, QUEUE_WINDOW_S)
        return call.json({"object": "list", "window_s": QUEUE_WINDOW_S,
                          "data": ops.queue_view(depth, busy, QUEUE_WINDOW_S)})

    if not service.enabled:
        return []
    return [*responses_routes(service, service.max_body), *batch_routes(Batches(service), service.config.batch.max_file_bytes),
        Route("GET", "/v1/jobs/webhook-secret", webhook_secret, auth="client",
              summary="The key the caller's job webhooks are signed with (Standard Webhooks whsec_)", tag="jobs"),
        Route("GET", "/v1/jobs/{id}", get_job, auth="client", response=JOB_RESPONSE,
              summary="An async job: its status, and its result when done", tag="jobs"),
        Route("DELETE", "/v1/jobs/{id}", cancel_job, auth="client", response=JOB_RESPONSE,
              summary="Cancel a queued or running job", tag="jobs"),
        Route("GET", "/admin/jobs/queues", queues, auth="admin",
              summary="Per alias: queued jobs, the oldest one's age, running jobs, throughput", tag="jobs"),
    ]
