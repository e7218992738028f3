"""/v1/responses: OpenAI's Responses API over the chat pipeline (responses_wire.py translates).

Stored responses (`store`, true by default) keep the chat messages that produced them, so
`previous_response_id` continues a conversation; they are tenant-scoped like jobs (another key's
id is 404). `background: true` runs the request as a job; GET reads its state and, once done,
its response; POST .../cancel cancels it. `Prefer: respond-async` (or `x-seawall-async: 1`)
queues it as on the other routes: 202 with the job, whose result is the response.
"""
from __future__ import annotations

import time

import orjson
import sqlalchemy as sa

from ..core import validate
from ..core.errors import GatewayError
from ..core.types import Meta, Request, Stream
from ..net.server import Response
from ..web.http import JSON, SSEEncoder, write_stream
from ..web.router import Call, Route
from . import responses_wire as rw
from .queue import responses
from .service import JobsService, tenant_of
from .submit import submit_call_created, wants_async

JOB_STATUS = {"queued": "queued", "running": "in_progress", "cancelled": "cancelled", "failed": "failed",
              "expired": "failed"}


class Encoder(SSEEncoder):
    def __init__(self, translate: rw.StreamTranslator) -> None:
        self.translate = translate

    def chunk(self, chunk: dict) -> bytes:
        return b"".join(rw.sse(n, d) for n, d in self.translate.feed(chunk))

    def end(self) -> bytes:
        return b"".join(rw.sse(n, d) for n, d in self.translate.finish())

    def error(self, err: GatewayError) -> bytes:
        return rw.sse("error", {"type": "error", "code": err.code, "message": err.message, "param": err.param})


class Responses:
    def __init__(self, service: JobsService) -> None:
        self.service = service
        self.engine = service.queue.engine

    async def _row(self, rid: str, principal):
        async with self.engine.connect() as conn:
            r = (await conn.execute(sa.select(responses).where(responses.c.id == rid,
                                                               responses.c.tenant == tenant_of(principal)))).first()
        if r is None:
            raise GatewayError("not_found", f"no response {rid}")
        return r

    async def _save(self, rid, principal, body, messages, response, job_id=None, created_at=None) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(responses.insert().values(
                id=rid, tenant=tenant_of(principal), body=orjson.dumps(body).decode(),
                messages=orjson.dumps(messages).decode(), job_id=job_id, created_at=created_at or time.time(),
                response=None if response is None else orjson.dumps(response).decode()))

    async def current(self, r) -> dict:
        """The stored response, or a background job's state rendered as one."""
        if r.response is not None:
            return orjson.loads(r.response)
        body = orjson.loads(r.body)
        job = await self.service.queue.get(r.job_id)
        if job is None:
            raise GatewayError("not_found", f"no response {r.id}")
        if job.status == "completed":  # a "responses" job keeps the response; older "chat" ones their answer
            out = job.result if job.kind == "responses" else rw.from_chat(r.id, body, job.result, r.created_at)
            async with self.engine.begin() as conn:  # finished: keep the answer with the conversation
                await conn.execute(responses.update().where(responses.c.id == r.id)
                                   .values(response=orjson.dumps(out).decode()))
            return out
        err = None
        if job.status in ("failed", "expired"):
            e = job.error or {}
            err = {"code": e.get("code", "server_error"), "message": e.get("message", "the job failed")}
        return rw.envelope(r.id, body, JOB_STATUS[job.status], [], None, r.created_at, err)

    async def create(self, call: Call):
        body, principal = call.body, call.principal
        history: list[dict] = []
        prev = body.get("previous_response_id")
        if prev is not None:
            r = await self._row(str(prev), principal)
            before = await self.current(r)
            if before["status"] != "completed":
                raise GatewayError("invalid_request", f"response {prev} is {before['status']}",
                                   param="previous_response_id")
            history = orjson.loads(r.messages) + rw.output_to_messages(before["output"])
        chat = rw.to_chat(body, history)
        stream = bool(body.get("stream"))
        alias = validate.chat_body({**chat, "stream": stream}, self.service.max_json_depth)
        rid = rw.new_id("resp_")
        store = body.get("store", True) is not False
        background, later = bool(body.get("background")), wants_async(call.request.headers)
        if background or later:
            if stream:
                raise GatewayError("invalid_request", "background and async responses are not streamed; poll instead",
                                   param="stream")
            created_at = time.time()
            job_body = {"chat": chat, "response": {"id": rid, "request": body, "created_at": created_at}}
            if background:  # OpenAI's way: the response object, polled at /v1/responses/{id}
                job, _ = await self.service.submit("responses", job_body, principal)
                await self._save(rid, principal, body, chat["messages"], None, job.id, created_at)
                return call.json(rw.envelope(rid, body, "queued", [], None, created_at))
            # Prefer: respond-async, as on the other routes: 202, the job, Location /v1/jobs/{id}
            # (whose result is this response once done); an Idempotency-Key replay keeps the first's
            job_json, created = await submit_call_created(self.service, call, "responses", job_body)
            if created:
                await self._save(rid, principal, body, chat["messages"], None, job_json["id"], created_at)
            return call.json(job_json, status=202)
        if stream:
            chat["stream"] = True
        req = Request(kind="chat", alias=alias, body=chat, stream=stream, meta=Meta(call.request_id), raw=None,
                      headers=call.request.headers, cache=None, principal=principal)
        try:
            result = await self.service.handle(req)
        except GatewayError:
            call.headers.update(req.meta.headers())
            raise
        call.headers.update(result.meta.headers())
        if isinstance(result, Stream):
            translate = rw.StreamTranslator(rid, body)
            resp = await write_stream(call.request, result, call.headers, Encoder(translate))
            if store and translate.final is not None:
                await self._save(rid, principal, body, chat["messages"], translate.final)
            return resp
        out = rw.from_chat(rid, body, result.body)
        if store:
            await self._save(rid, principal, body, chat["messages"], out)
        return Response(body=orjson.dumps(out), headers=call.headers, content_type=JSON)

    async def get(self, call: Call):
        return call.json(await self.current(await self._row(call.params["id"], call.principal)))

    async def cancel(self, call: Call):
        r = await self._row(call.params["id"], call.principal)
        if r.job_id is None:
            raise GatewayError("invalid_request", "only background responses can be cancelled")
        await self.service.queue.cancel(r.job_id, tenant_of(call.principal))
        return call.json(await self.current(r))

    async def delete(self, call: Call):
        r = await self._row(call.params["id"], call.principal)
        async with self.engine.begin() as conn:
            await conn.execute(responses.delete().where(responses.c.id == r.id))
        return call.json({"id": r.id, "object": "response", "deleted": True})


REQUEST = {"type": "object", "required": ["model"],
           "properties": {"model": {"type": "string"}, "input": {}, "instructions": {"type": "string"},
                          "tools": {"type": "array"}, "previous_response_id": {"type": "string"},
                          "stream": {"type": "boolean"}, "background": {"type": "boolean"},
                          "store": {"type": "boolean"}, "text": {"type": "object"}}}


def routes(service: JobsService, body_limit: int) -> list[Route]:
    r = Responses(service)
    t = "openai"
    return [
        Route("POST", "/v1/responses", r.create, auth="client", body=REQUEST, body_limit=body_limit,
              summary="Responses API (OpenAI), over chat completions", tag=t),
        Route("GET", "/v1/responses/{id}", r.get, auth="client", summary="A stored or background response", tag=t),
        Route("DELETE", "/v1/responses/{id}", r.delete, auth="client", summary="Delete a stored response", tag=t),
        Route("POST", "/v1/responses/{id}/cancel", r.cancel, auth="client",
              summary="Cancel a background response", tag=t),
    ]
