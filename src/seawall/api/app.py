"""The HTTP surface: OpenAI and Anthropic routes, probes, metrics, /openapi.json, and the
feature packages' routes, which the assembly collects (govern/, cache/, resilience/ routes.py).

Served by seawall.net.server (httptools on asyncio protocols) through web/router.py: a static
path costs one dict lookup, as the plain dict of routes it replaced did.
"""
from __future__ import annotations

import logging
import time

import orjson

from ..config import ConfigError
from ..core.credentials import check_key, key_hint, presented_key
from ..core.errors import GatewayError
from ..core.types import Stream
from ..gateway import Gateway, new_request_id
from ..jobs.submit import enqueue, wants_async
from ..net.server import Request, Response, StreamResponse
from ..observe import account
from ..observe.logging import request_id as request_id_var
from ..observe.metrics import CONTENT_TYPE
from ..wire import anthropic as wire
from . import wire_schemas as ws
from ..web.http import JSON, SSEEncoder, error_response, internal_error, write_stream
from ..web.schema import Out
from ..web.router import NO_PARAMS, Call, Route, Router, read_body, read_query

log = logging.getLogger("seawall.http")

_OPENAI = SSEEncoder()


class AnthropicEncoder(SSEEncoder):
    def __init__(self, model: str) -> None:
        self.translate = wire.ChatStreamToMessages(model)

    def chunk(self, chunk: dict) -> bytes:
        return b"".join(wire.sse_event(n, d) for n, d in self.translate.feed(chunk))

    def end(self) -> bytes:
        return b"".join(wire.sse_event(n, d) for n, d in self.translate.finish())

    def error(self, err: GatewayError) -> bytes:
        return wire.sse_event("error", wire.anthropic_error_body(err))


class ReloadOut(Out):
    status: str  # unchanged | applied | restart_needed
    applied: list[str]  # e.g. server.log_level
    restart_needed: list[str]  # changed keys a running process does not apply


class App:
    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway
        self.max_body = gateway.config.server.max_body_bytes
        key = gateway.config.admin_key
        self.admin_key = key.get() if key else None
        self.access_log = gateway.config.server.access_log
        token = gateway.config.server.metrics_token
        self.metrics_token = token.get() if token else None
        self.reloader = None  # api/reload.Reloader when served from a configuration file
        self.ready = False
        self.router = Router(self.own_routes() + gateway.assembly.routes)  # the faces', then the features'

        self._exact = self.router.exact
        self.jobs = gateway.jobs if gateway.jobs.enabled else None  # Prefer: respond-async -> a job
        self._openapi: bytes | None = None

    def own_routes(self) -> list[Route]:
        big = self.max_body
        return [
            Route("POST", "/v1/chat/completions", self.chat_completions, auth="client", body=ws.CHAT_REQUEST,
                  response=ws.CHAT_RESPONSE, summary="Chat completion (OpenAI)", tag="openai", body_limit=big),
            Route("POST", "/v1/embeddings", self.embeddings, auth="client", body=ws.EMBEDDINGS_REQUEST,
                  response=ws.EMBEDDINGS_RESPONSE, summary="Embeddings (OpenAI)", tag="openai", body_limit=big),
            Route("GET", "/v1/models", self.list_models, auth="client", response=ws.MODELS_RESPONSE,
                  summary="The model aliases this key may use", tag="openai"),
            Route("POST", "/v1/messages", self.messages, auth="client", body=ws.MESSAGES_REQUEST,
                  response=ws.MESSAGES_RESPONSE, summary="Messages (Anthropic)", tag="anthropic", body_limit=big),
            Route("GET", "/healthz", self.healthz, response=ws.STATUS_RESPONSE, summary="Liveness", tag="probes"),
            Route("GET", "/readyz", self.readyz, response=ws.STATUS_RESPONSE, summary="Readiness", tag="probes"),
            Route("GET", "/metrics", self.metrics, summary="Prometheus metrics", tag="probes"),
            Route("GET", "/openapi.json", self.openapi, summary="This document", tag="probes"),
            Route("POST", "/admin/reload", self.reload, auth="admin", response=ReloadOut, tag="admin",
                  summary="Read the configuration file again; an invalid one is refused and changes nothing"),
        ]

    def reconfigured(self, config) -> None:
        """After a reload: the keys, the access log and the document follow the new configuration."""
        key = config.admin_key
        self.admin_key = key.get() if key else None
        token = config.server.metrics_token
        self.metrics_token = token.get() if token else None
        self.set_access_log(config.server.access_log)
        self._openapi = None  # it lists the aliases

    def set_access_log(self, on: bool) -> None:
        self.access_log = on
        for stage in self.gw.assembly.stages:
            if isinstance(stage, account.Account):
                stage.log_requests = on

    async def reload(self, call: Call):
        if self.reloader is None:
            raise GatewayError("invalid_request", "this gateway was not started from a configuration file "
                               "(seawall serve --config): there is nothing to reload")
        try:
            out = await self.reloader.reload()
        except ConfigError as e:
            log.error("configuration reload refused, the running configuration is kept: %s", e)
            raise GatewayError("invalid_request", f"the new configuration is invalid; the running one is kept: {e}",
                               status=400) from None
        log.info("configuration reloaded: %s", out["status"], extra=out)
        if self.reloader.notify_peers is not None:  # the other workers (this one reloads again: no change)
            self.reloader.notify_peers()
        return call.json(out)

    async def __call__(self, request: Request) -> Response | StreamResponse:
        # The gateway always makes its own id (the audit's request_id): a client's x-request-id
        # could be forged or reused, so it is only echoed back and kept beside ours.
        rid = new_request_id()
        request_id_var.set(rid)  # this task serves this one request: the id follows every log line
        started = time.perf_counter()
        path = request.path
        if len(path) > 3 and path[-1] == "/":
            path = path.rstrip("/")
        render = wire.anthropic_error_body if path == "/v1/messages" else GatewayError.to_openai
        headers = {"x-request-id": rid, "x-seawall-request-id": rid}
        client_rid = request.headers.get("x-request-id")
        if client_rid is not None:
            if len(client_rid) <= 128 and client_rid.isprintable():
                headers["x-client-request-id"] = client_rid
            else:
                client_rid = None
        call = None
        try:
            route = self._exact.get((request.method, path))  # the hot paths: one dict lookup
            if route is None:
                route, params = self.router.match(request.method, path)
            else:
                params = NO_PARAMS
            call = Call(request, route, params, rid, headers)
            call.client_request_id = client_rid
            auth = route.auth
            if auth == "client":  # the one place a client is identified; the pipeline reuses it
                call.principal = self.gw.authenticate(request.headers)
            elif auth == "admin":
                self.require_admin(request)
            if route.body is not None:
                await read_body(call)
            if route.query is not None:
                read_query(call)
            return await route.handler(call)
        except GatewayError as e:
            seconds = time.perf_counter() - started
            headers["x-seawall-latency-ms"] = f"{seconds * 1000:.2f}"
            if call is None or not call.accounted:  # the pipeline never saw it: say so here
                self._refused(request, path, call, e, seconds, client_rid)
            return error_response(e, headers, render)
        except Exception:
            log.exception("unhandled error")
            return error_response(internal_error(), headers, render)

    def _refused(self, request: Request, path: str, call: Call | None, e: GatewayError, seconds: float,
                 client_rid: str | None) -> None:
        """A refusal before the pipeline (unknown key, bad body, unknown path): one access-log
        line, and on a client or admin route an audit record, with the presented key's hint."""
        code, status = e.code, e.status
        hint = key_hint(presented_key(request.headers))
        account.refused(self.gw.metrics, self.access_log, request.method, path, code, status, hint, seconds)
        if call is not None and call.route.auth != "none":
            detail = {"error": e.message, "method": request.method, "path": path}
            if hint:
                detail["key"] = hint
            if client_rid:
                detail["client_request_id"] = client_rid
            p = call.principal
            kind = "admin" if call.route.auth == "admin" else "request"
            if self.gw.governance.enabled:
                self.gw.governance.record(kind, code, status, detail=detail, request_id=call.request_id,
                                          key_id=p.key_id if p is not None else None)

    def require_admin(self, request: Request) -> None:
        if not self.admin_key:
            raise GatewayError("permission_denied", "the admin API is disabled: set admin_key (or SEAWALL_ADMIN_KEY)")
        if not check_key(presented_key(request.headers), [self.admin_key]):
            raise GatewayError("invalid_api_key", "missing or invalid admin key (Authorization: Bearer <admin_key>)")

    # ---- OpenAI -------------------------------------------------------------------------

    async def chat_completions(self, call: Call):
        if self.jobs is not None and wants_async(call.request.headers):
            return await enqueue(self.jobs, call, "chat")
        req = self.gw.request("chat", call.body, raw=call.raw, request_id=call.request_id,
                              headers=call.request.headers, principal=call.principal)
        return await self._answer(call, req, _OPENAI)

    async def embeddings(self, call: Call):
        if self.jobs is not None and wants_async(call.request.headers):
            return await enqueue(self.jobs, call, "embeddings")
        req = self.gw.request("embeddings", call.body, raw=call.raw, request_id=call.request_id,
                              headers=call.request.headers, principal=call.principal)
        return await self._answer(call, req, _OPENAI)

    async def list_models(self, call: Call):
        models = self.gw.models()
        allowed = getattr(call.principal, "allowed_models", None)
        if allowed is not None:
            models = [m for m in models if m["id"] in allowed]
        return call.json({"object": "list", "data": models})

    async def _answer(self, call: Call, req, encoder, convert=None):
        headers = call.headers
        call.accounted = True  # from here the account and audit stages record it
        req.meta.client_request_id = call.client_request_id
        try:
            result = await self.gw.handle(req)
        except GatewayError as e:
            headers.update(req.meta.headers())
            raise e
        headers.update(result.meta.headers())
        if isinstance(result, Stream):
            return await write_stream(call.request, result, headers, encoder)
        body = result.raw if convert is None else orjson.dumps(convert(result.body))
        return Response(body=body, headers=headers, content_type=JSON)

    # ---- Anthropic ----------------------------------------------------------------------

    async def messages(self, call: Call):
        if self.jobs is not None and wants_async(call.request.headers):
            return await enqueue(self.jobs, call, "messages")
        body = call.body
        chat_body = wire.messages_request_to_chat(body)
        req = self.gw.request("chat", chat_body, request_id=call.request_id, headers=call.request.headers,
                              principal=call.principal)
        model = body.get("model") or req.alias
        if req.stream:
            return await self._answer(call, req, AnthropicEncoder(model))
        return await self._answer(call, req, None, convert=lambda chat: wire.chat_response_to_messages(chat, model))

    # ---- probes, metrics, the document ------------------------------------------------

    async def healthz(self, call: Call):
        return Response(body=b'{"status":"ok"}', headers=call.headers, content_type=JSON)

    async def readyz(self, call: Call):
        if not self.ready:
            raise GatewayError("upstream_unavailable", "starting or stopping", status=503)
        return Response(body=b'{"status":"ready"}', headers=call.headers, content_type=JSON)

    async def metrics(self, call: Call):
        if self.metrics_token and not check_key(presented_key(call.request.headers), [self.metrics_token]):
            raise GatewayError("invalid_api_key", "/metrics needs the metrics token (Authorization: Bearer "
                               "<server.metrics_token>)")
        return Response(body=self.gw.metrics.exposition(), headers={**call.headers, "content-type": CONTENT_TYPE})

    async def openapi(self, call: Call):
        if self._openapi is None:
            from .openapi import document

            self._openapi = orjson.dumps(document(self.router.routes, aliases=list(self.gw.router.routes)))
        return Response(body=self._openapi, headers=call.headers, content_type=JSON)
