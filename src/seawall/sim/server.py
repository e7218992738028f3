"""The simulator: an aiohttp low-level server, fault injection, stats and the /_sim control API.

One request to a /v1 route goes: count -> draw -> auth -> parse -> hang -> latency -> outage ->
reset -> error -> malformed -> error body -> the dialect's answer.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from typing import Any, Awaitable, Callable

import orjson
from aiohttp import web

from . import anthropic, openai, responses, wire
from .faults import Draw, FaultError, Faults
from .ratelimit import RateLimit
from .wire import BadRequest, Ctx

DEFAULT_MODELS = ("gpt-4o-mini", "gpt-4o", "text-embedding-3-small",
                  "claude-3-5-haiku-latest", "claude-sonnet-4-0")

# path -> (method, dialect module, parse(body, seed) -> plan, answer(ctx, plan))
_Route = tuple[str, Any, Callable[[Any, int], Any], Callable[[Ctx, Any], Awaitable[Any]]]
_ROUTES: dict[str, _Route] = {
    "/v1/chat/completions": ("POST", openai, openai.parse_chat, openai.chat),
    "/v1/embeddings": ("POST", openai, openai.parse_embeddings, openai.embeddings),
    "/v1/models": ("GET", openai, openai.parse_models, openai.models),
    "/v1/messages": ("POST", anthropic, anthropic.parse_messages, anthropic.messages),
    "/v1/responses": ("POST", responses, responses.parse_responses, responses.responses),
}
_MALFORMED_JSON = b'{"id": "chatcmpl-sim", "object": "chat.completion", "choices": [{"index": 0,'
_MALFORMED_SSE = b'data: {"id": "chatcmpl-sim", "choices": [{"delta": {"content": "Hel\n\n'


class Simulator:
    """A fake OpenAI (chat, embeddings, Responses) / Anthropic upstream with deterministic fault injection."""

    def __init__(self, faults: Faults | None = None, seed: int = 0,
                 models: list[str] | tuple[str, ...] | None = None,
                 require_key: str | None = None, rpm: int | None = None,
                 rpm_burst: int | None = None) -> None:
        faults = faults or Faults()
        faults.validate()
        self._initial = faults
        self.faults = faults
        self.seed = seed
        self._rng = random.Random(seed)
        self.models = list(dict.fromkeys([*DEFAULT_MODELS, *(models or ())]))
        self.require_key = require_key
        self._rpm = (rpm, rpm_burst)
        self.rate_limit = RateLimit(rpm, rpm_burst) if rpm else None  # --rpm: OpenAI-style request limit
        self.host: str | None = None
        self.port: int | None = None
        self.started_at = time.time()
        self._t0 = time.monotonic()
        self._runner: web.ServerRunner | None = None
        self._stopping = asyncio.Event()
        self._reset_counters()

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("simulator not started")
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        # handler_cancellation: a client that goes away cancels its handler at once, so hung
        # and stalled requests leave in_flight promptly.
        server = web.Server(self._handle, handler_cancellation=True, access_log=None)
        self._runner = web.ServerRunner(server, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, backlog=1024)
        await site.start()
        self.host = host
        self.port = self._runner.addresses[0][1]
        self.started_at = time.time()
        self._t0 = time.monotonic()
        self._stopping = asyncio.Event()

    async def stop(self) -> None:
        self._stopping.set()  # releases hung requests (they drop their connection)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "Simulator":
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- faults and stats -----------------------------------------------------------------------

    def set_faults(self, **changes: Any) -> Faults:
        """Merge ``changes`` into the current faults; ValueError names a bad field."""
        self.faults = self.faults.merged(changes)
        return self.faults

    def reset_faults(self) -> Faults:
        self.faults = self._initial
        return self.faults

    def _reset_counters(self) -> None:
        self._received = 0
        self._in_flight = 0
        self._by_status: Counter[str] = Counter()
        self._by_path: Counter[str] = Counter()
        self._injected: Counter[str] = Counter()
        self._last_request: dict | None = None  # what the client sent last (GET /_sim/last-request)
        if getattr(self, "rate_limit", None) is not None:
            self.rate_limit = RateLimit(*self._rpm)

    def reset_stats(self) -> None:
        in_flight = self._in_flight  # requests still open will decrement it when they end
        self._reset_counters()
        self._in_flight = in_flight

    @property
    def last_request(self) -> dict | None:
        """The last /v1 request's path and parsed JSON body (same as GET /_sim/last-request)."""
        return self._last_request

    @property
    def stats(self) -> dict[str, Any]:
        out = {"received": self._received, "in_flight": self._in_flight,
               "by_status": dict(self._by_status), "by_path": dict(self._by_path),
               "faults_injected": dict(self._injected),
               "uptime_s": round(time.monotonic() - self._t0, 3)}
        if self.rate_limit is not None:
            out["rate_limit"] = self.rate_limit.stats(self._t0)
        return out

    def _count_stall(self) -> None:
        self._injected["stall"] += 1

    # -- request handling -----------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        if path.startswith("/v1/"):
            return await self._serve_counted(request, path)
        if path == "/healthz":
            return wire.json_response({"status": "ok"})
        if path.startswith("/_sim/"):
            return await self._control(request, path)
        return wire.json_response(openai.error_object(404, f"Unknown path {path}"), 404)

    async def _serve_counted(self, request: web.BaseRequest, path: str) -> web.StreamResponse:
        self._received += 1
        self._by_path[path] += 1
        self._in_flight += 1
        ctx = Ctx(request, self, self.faults, Draw.take(self._rng),
                  {"x-request-id": f"req_sim{self._received:08d}"})
        try:
            resp = await self._serve(ctx, path)
            if ctx.status is None:
                ctx.record(resp.status)
            return resp
        finally:
            self._in_flight -= 1
            self._by_status[str(ctx.status if ctx.status is not None else "no_response")] += 1

    async def _serve(self, ctx: Ctx, path: str) -> web.StreamResponse:
        request = ctx.request
        route = _ROUTES.get(path)
        dialect = route[1] if route else openai
        if route is None:
            return dialect.error_response(ctx, 404, f"Unknown path {path}")
        method, _, parse, answer = route
        if request.method != method:
            return dialect.error_response(ctx, 405, f"Use {method} for {path}")
        if self.require_key is not None and _given_key(request) != self.require_key:
            return dialect.error_response(ctx, 401)

        body = None
        if method == "POST":
            raw = await request.read()
            try:
                body = orjson.loads(raw)
                self._last_request = {"path": path, "body": body}
            except orjson.JSONDecodeError:
                return dialect.error_response(ctx, 400, "The request body is not valid JSON.",
                                              code="invalid_json")
        try:
            plan = parse(body, self.seed)
        except BadRequest as e:
            return dialect.error_response(ctx, 400, e.message, e.param)

        if self.rate_limit is not None and path != "/v1/models":
            ok, headers, wait = self.rate_limit.take()
            ctx.headers.update(headers)
            if not ok:
                ctx.headers["x-sim-fault"] = "rate_limit"
                ctx.headers["Retry-After"] = str(max(1, math.ceil(wait)))
                ctx.headers["retry-after-ms"] = str(max(1, int(wait * 1000)))
                return dialect.error_response(ctx, 429)

        f, d = ctx.faults, ctx.draw
        if f.hang:
            self._injected["hang"] += 1
            return await wire.hang(ctx)
        delay = f.latency_s(d.latency)
        if delay > 0:
            await asyncio.sleep(delay)
        if f.is_down(time.monotonic() - self._t0):
            self._injected["outage"] += 1
            return self._error(ctx, dialect, f.outage_status, "outage")
        if d.reset < f.reset_rate:
            self._injected["reset"] += 1
            ctx.record("reset")
            return wire.abort(ctx)
        if d.error < f.error_rate:
            self._injected["error"] += 1
            return self._error(ctx, dialect, f.error_status, "error")
        if d.malformed < f.malformed_rate:
            self._injected["malformed"] += 1
            return self._malformed(ctx, body)
        if d.error_body < f.error_body_rate:
            self._injected["error_body"] += 1
            ctx.headers["x-sim-fault"] = "error_body"
            return wire.json_response(dialect.error_object(500), 200, ctx.headers)
        return await answer(ctx, plan)

    def _error(self, ctx: Ctx, dialect: Any, status: int, fault: str) -> web.Response:
        ctx.headers["x-sim-fault"] = fault
        if status == 429 or (fault == "outage" and status in (503, 529)):
            s = ctx.faults.retry_after_s
            ctx.headers["Retry-After"] = str(math.ceil(s))  # HTTP allows whole seconds only
            ctx.headers["retry-after-ms"] = str(int(s * 1000))
        return dialect.error_response(ctx, status)

    def _malformed(self, ctx: Ctx, body: Any) -> web.Response:
        ctx.headers["x-sim-fault"] = "malformed"
        if isinstance(body, dict) and body.get("stream") is True:
            return web.Response(body=_MALFORMED_SSE, headers={**wire.SSE_HEADERS, **ctx.headers})
        return web.Response(body=_MALFORMED_JSON, content_type=wire.JSON, headers=ctx.headers)

    # -- control API (/_sim/...), not counted ---------------------------------------------------

    async def _control(self, request: web.BaseRequest, path: str) -> web.Response:
        m = request.method
        if path == "/_sim/faults":
            if m == "GET":
                return wire.json_response(self.faults.to_dict())
            if m == "DELETE":
                return wire.json_response(self.reset_faults().to_dict())
            if m in ("POST", "PATCH"):
                try:
                    patch = orjson.loads(await request.read())
                    return wire.json_response(self.set_faults(**_as_dict(patch)).to_dict())
                except (orjson.JSONDecodeError, ValueError, TypeError) as e:
                    return wire.json_response(_control_error(e), 400)
        elif path == "/_sim/stats" and m == "GET":
            return wire.json_response(self.stats)
        elif path == "/_sim/last-request" and m == "GET":
            return wire.json_response(self._last_request or {"path": None, "body": None})
        elif path == "/_sim/reset-stats" and m == "POST":
            self.reset_stats()
            return wire.json_response(self.stats)
        return wire.json_response(openai.error_object(404, f"Unknown control route {m} {path}"),
                                  404)


def _as_dict(patch: Any) -> dict:
    if not isinstance(patch, dict):
        raise FaultError("faults must be a JSON object")
    return patch


def _control_error(e: Exception) -> dict:
    msg = "body is not valid JSON" if isinstance(e, orjson.JSONDecodeError) else str(e)
    return {"error": {"message": msg, "type": "invalid_request_error", "code": None,
                      "param": getattr(e, "field", None)}}


def _given_key(request: web.BaseRequest) -> str | None:
    auth = request.headers.get("Authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.headers.get("x-api-key") or request.headers.get("api-key")
