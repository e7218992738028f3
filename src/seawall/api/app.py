"""The HTTP surface: OpenAI and Anthropic routes, probes, metrics.

Served by seawall.net.server (httptools on asyncio protocols) with a dict of routes: general
routers, middleware chains and their request objects cost more per request than the whole
proxy hop is allowed to.
"""
from __future__ import annotations

import logging
import time

import orjson

from ..core.errors import GatewayError
from ..core.types import Stream
from ..gateway import Gateway, new_request_id
from ..net.server import Request, Response, StreamResponse
from ..observe.logging import request_id as request_id_var
from ..observe.metrics import CONTENT_TYPE
from ..wire import anthropic as wire
from . import admin, admin_cache
from .http import JSON, SSEEncoder, error_response, internal_error, read_json, write_stream

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


class App:
    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway
        server = gateway.config.server
        self.max_body = server.max_body_bytes
        self.client_keys = [k.get() for k in server.api_keys if k.get()]
        self.ready = False
        self.routes = {
            ("POST", "/v1/chat/completions"): self.chat_completions,
            ("POST", "/v1/embeddings"): self.embeddings,
            ("GET", "/v1/models"): self.list_models,
            ("POST", "/v1/messages"): self.messages,
            ("GET", "/healthz"): self.healthz,
            ("GET", "/readyz"): self.readyz,
            ("GET", "/metrics"): self.metrics,
        }
        self.routes.update(admin.routes(self))
        self.routes.update(admin_cache.routes(self))  # /admin/cache/{stats,invalidate}
        self.paths = {path for _, path in self.routes}
        from .admin_govern import AdminGovern

        self.admin_govern = AdminGovern(gateway)  # /admin/{keys,teams,departments,limits,budgets,usage}

    async def __call__(self, request: Request) -> Response | StreamResponse:
        rid = request.headers.get("x-request-id") or new_request_id()
        if len(rid) > 128 or not rid.isprintable():
            rid = new_request_id()
        request_id_var.set(rid)  # this task serves this one request: the id follows every log line
        started = time.perf_counter()
        path = request.path
        if len(path) > 3 and path[-1] == "/":
            path = path.rstrip("/")
        handler = self.routes.get((request.method, path))
        anthropic = path == "/v1/messages"
        render = wire.anthropic_error_body if anthropic else GatewayError.to_openai
        headers = {"x-request-id": rid, "x-seawall-request-id": rid}
        try:
            if handler is None and self.admin_govern.handles(path):
                handler = self.admin_govern
            if handler is None:
                if path in self.paths:
                    raise GatewayError("invalid_request", f"method {request.method} is not allowed on {path}",
                                       status=405)
                raise GatewayError("not_found", f"no route {request.method} {path}")
            if path.startswith("/v1/"):
                request.principal = self.gw.authenticate(request.headers)  # once per request
            return await handler(request, rid, headers)
        except GatewayError as e:
            headers["x-seawall-latency-ms"] = f"{(time.perf_counter() - started) * 1000:.2f}"
            return error_response(e, headers, render)
        except Exception:
            log.exception("unhandled error")
            return error_response(internal_error(), headers, render)

    # ---- OpenAI -------------------------------------------------------------------------

    async def chat_completions(self, request, rid, headers):
        body, raw = await read_json(request, self.max_body)
        req = self.gw.request("chat", body, raw=raw, request_id=rid, headers=request.headers,
                              principal=request.principal)
        return await self._answer(request, req, headers, _OPENAI)

    async def embeddings(self, request, rid, headers):
        body, raw = await read_json(request, self.max_body)
        req = self.gw.request("embeddings", body, raw=raw, request_id=rid, headers=request.headers,
                              principal=request.principal)
        return await self._answer(request, req, headers, _OPENAI)

    async def list_models(self, request, rid, headers):
        return Response(body=orjson.dumps({"object": "list", "data": self.gw.models()}), headers=headers,
                            content_type=JSON)

    async def _answer(self, request, req, headers, encoder, convert=None):
        try:
            result = await self.gw.handle(req)
        except GatewayError as e:
            headers.update(req.meta.headers())
            raise e
        headers.update(result.meta.headers())
        if isinstance(result, Stream):
            return await write_stream(request, result, headers, encoder)
        body = result.raw if convert is None else orjson.dumps(convert(result.body))
        return Response(body=body, headers=headers, content_type=JSON)

    # ---- Anthropic ----------------------------------------------------------------------

    async def messages(self, request, rid, headers):
        body, _ = await read_json(request, self.max_body)
        chat_body = wire.messages_request_to_chat(body)
        req = self.gw.request("chat", chat_body, request_id=rid, headers=request.headers,
                              principal=request.principal)
        model = body.get("model") or req.alias
        if req.stream:
            return await self._answer(request, req, headers, AnthropicEncoder(model))
        return await self._answer(request, req, headers, None,
                                  convert=lambda chat: wire.chat_response_to_messages(chat, model))

    # ---- probes and metrics -----------------------------------------------------------

    async def healthz(self, request, rid, headers):
        return Response(body=b'{"status":"ok"}', headers=headers, content_type=JSON)

    async def readyz(self, request, rid, headers):
        if not self.ready:
            raise GatewayError("upstream_unavailable", "starting or stopping", status=503)
        return Response(body=b'{"status":"ready"}', headers=headers, content_type=JSON)

    async def metrics(self, request, rid, headers):
        return Response(body=self.gw.metrics.exposition(), headers={**headers, "content-type": CONTENT_TYPE})
