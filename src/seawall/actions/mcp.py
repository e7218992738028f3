"""The MCP gateway at /mcp: one MCP endpoint for the caller's virtual key, in front of the
configured upstream MCP servers. `tools/list` shows the tools the caller's policy does not deny
(named `server.tool`); every `tools/call` passes the action service before the upstream sees it.

Serving: the gateway's HTTP server (net/server.py) is not ASGI. The official SDK's
StreamableHTTPSessionManager is, so one route hands it the request through a small ASGI
bridge (`asgi_call`). The manager runs stateless with JSON responses: each POST is a whole
JSON-RPC exchange answered with one body, which the bridge buffers into one Response; no
session state lives in Seawall, so any instance or worker can serve any call. A plain
`tools/call` skips the SDK's per-request pipeline: mcp_fast.py answers it with the same
handler, and leaves every other request, and any it is unsure of, to the SDK.

Upstreams: a streamable-HTTP server is reached through Seawall's own thin JSON-RPC client
(upstream.py: the 2026-07-28 era when offered, else one handshake session; pooled keep-alive
connections); a stdio server through the SDK's client. Either way each exchange is bounded by the server's `timeout_s`.
"""
from __future__ import annotations

import asyncio
import logging
import time
from contextlib import AsyncExitStack
from typing import Any

import mcp_types as types
from mcp_types import INTERNAL_ERROR
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from ..core.errors import GatewayError
from ..net.client import Client as HttpClient
from ..net.messages import Response
from .mcp_fast import FastCalls
from .service import Action, ActionsService
from .upstream import HttpUpstream, UpstreamFailure, UpstreamRefused

log = logging.getLogger("seawall.actions.mcp")
# the SDK and its HTTP client log every request at INFO; Seawall's own access log covers that
for _name in ("mcp", "httpx2", "httpcore2"):
    logging.getLogger(_name).setLevel(logging.WARNING)
APPROVAL_ARG = "_seawall_approval_id"  # a retry of an approved call names its approval here
MAX_BODY = 4 << 20
TOOLS_TTL_S = 30.0
RETRY_S = 5.0  # a tools/list does not ask a server that failed to list again within this


def _text(message: str, error: bool = True) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=error)


class McpGateway:
    def __init__(self, service: ActionsService) -> None:
        self.service = service
        self.cfg = service.cfg
        self.clients: dict[str, Client | HttpUpstream] = {}
        self.tools: dict[str, dict[str, types.Tool]] = {}  # server -> name -> tool (as last listed)
        self._listed_at: dict[str, float] = {}
        self._failed_at: dict[str, float] = {}
        self._hint_dumps: dict[int, tuple[types.Tool, dict]] = {}  # id(tool) -> (tool, its annotations)
        self._http: HttpClient | None = None
        # get_tool_input_schema: without it the SDK lists every tool (a policy decision each)
        # before every tools/call, only to check Mcp-Param-* headers against the input schema
        self.server = Server("seawall", on_list_tools=self._list_tools, on_call_tool=self._call_tool,
                             get_tool_input_schema=self._input_schema)
        self.fast = FastCalls(self)
        self.manager: StreamableHTTPSessionManager | None = None
        self._owner: asyncio.Task | None = None
        self._ready: asyncio.Future | None = None
        self._stop: asyncio.Event | None = None

    @property
    def enabled(self) -> bool:
        return self.cfg.enabled and bool(self.cfg.mcp_servers)

    # ---- lifecycle: one task owns the upstream clients and the session manager (anyio scopes
    # must be entered and left by the same task) -----------------------------------------------

    async def start(self) -> None:
        if not self.enabled or self._owner is not None:
            return
        loop = asyncio.get_running_loop()
        self._ready, self._stop = loop.create_future(), asyncio.Event()
        self._owner = asyncio.create_task(self._own(), name="seawall-mcp")
        await self._ready

    async def _own(self) -> None:
        try:
            async with AsyncExitStack() as stack:
                for name, up in self.cfg.mcp_servers.items():
                    if up.url:  # connects (and initialises) at its first use
                        if self._http is None:
                            self._http = HttpClient(limit=32, max_response_bytes=MAX_BODY * 4)
                        self.clients[name] = HttpUpstream(name, up.url, up.timeout_s, self._http)
                        continue
                    target: Any = StdioServerParameters(command=up.command, args=up.args, env=up.env or None)
                    self.clients[name] = await stack.enter_async_context(Client(target))
                self.manager = StreamableHTTPSessionManager(
                    self.server, json_response=True, stateless=True,
                    security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False))
                await stack.enter_async_context(self.manager.run())
                self._ready.set_result(None)
                await self._stop.wait()
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(GatewayError("upstream_unavailable", f"MCP upstreams did not start: {exc}"))
            elif not isinstance(exc, asyncio.CancelledError):
                log.exception("the MCP gateway stopped")
        finally:
            self.clients.clear()
            if self._http is not None:
                await self._http.close()
                self._http = None

    async def aclose(self) -> None:
        if self._owner is not None:
            self._stop.set()
            try:
                await asyncio.wait_for(self._owner, 10)
            except (asyncio.TimeoutError, Exception):
                self._owner.cancel()
            self._owner = None

    # ---- MCP handlers ----------------------------------------------------------------------

    @staticmethod
    def _state(ctx) -> dict:
        request = getattr(ctx, "request", None)
        return request.scope.get("state", {}) if request is not None else {}

    @classmethod
    def _principal(cls, ctx):
        return cls._state(ctx).get("seawall_principal")

    async def _upstream(self, server: str, call):
        """One exchange with an upstream, bounded by its timeout; failures as GatewayError."""
        timeout = self.cfg.mcp_servers[server].timeout_s
        client = self.clients[server]
        try:
            if isinstance(client, HttpUpstream):  # it bounds every exchange itself (a second timer
                return await call(client)         # per call showed up in the profile)
            async with asyncio.timeout(timeout):  # the SDK's stdio client does not
                return await call(client)
        except UpstreamRefused as exc:
            raise GatewayError("upstream_error", str(exc)) from None
        except UpstreamFailure as exc:
            raise GatewayError("upstream_unavailable", str(exc)) from None
        except TimeoutError:
            raise GatewayError("upstream_timeout", f"MCP server {server} did not answer within {timeout:g}s") from None

    async def _upstream_tools(self, server: str, fresh: bool = False) -> dict[str, types.Tool]:
        """The upstream's tools, listed again after TOOLS_TTL_S (clients re-list often; the
        upstream's answer changes rarely) or when a call names a tool not yet seen."""
        now = time.monotonic()
        if fresh or now - self._listed_at.get(server, -1e9) > TOOLS_TTL_S:
            if not fresh and now - self._failed_at.get(server, -1e9) < RETRY_S:
                return self.tools.get(server, {})  # it just failed: no wait of timeout_s on every list
            try:
                listed = await self._upstream(server, lambda c: c.list_tools())
            except GatewayError:
                self._failed_at[server] = now
                raise
            self.tools[server] = {t.name: t for t in listed.tools}
            self._listed_at[server] = now
        return self.tools[server]

    def _input_schema(self, name: str):
        server, _, tool = name.partition(".")
        known = self.tools.get(server, {}).get(tool)
        return known.input_schema if known is not None else None

    def _hints(self, tool: types.Tool | None) -> dict | None:
        """The tool's own (untrusted) annotations as a dict, a copy the Action owns; dumped once
        per listed tool object (a re-listing brings new objects, so nothing stale is reused)."""
        if tool is None or tool.annotations is None:
            return None
        known = self._hint_dumps.get(id(tool))
        if known is None or known[0] is not tool:
            if len(self._hint_dumps) > 10_000:
                self._hint_dumps.clear()
            known = self._hint_dumps[id(tool)] = (tool, tool.annotations.model_dump(by_alias=True, exclude_none=True))
        return dict(known[1])

    async def _list_tools(self, ctx, params) -> types.ListToolsResult:
        principal = self._principal(ctx)
        out = []
        for server in self.clients:
            try:
                tools = await self._upstream_tools(server)
            except GatewayError as exc:  # one server down hides its tools, not the others'
                log.warning("tools/list: %s", exc.message)
                tools = self.tools.get(server, {})
            for name, tool in tools.items():
                action = Action(server, name, {}, hints=self._hints(tool))
                if self.service.decide(principal, action, track_rate=False).decision != "deny":
                    out.append(tool.model_copy(update={"name": f"{server}.{name}"}))
        return types.ListToolsResult(tools=out)

    async def _call_tool(self, ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        state = self._state(ctx)
        return await self.call_tool(state.get("seawall_principal"), params, state.get("seawall_request_id"))

    async def call_tool(self, principal, params: types.CallToolRequestParams,
                        request_id: str | None = None) -> types.CallToolResult:
        """One tools/call, from the SDK's dispatch or the fast path (mcp_fast.py); `request_id`
        (the HTTP request's x-request-id) goes into the call's audit records."""
        server, _, name = params.name.partition(".")
        if server not in self.clients or not name:
            return _text(f"unknown tool {params.name!r}")
        arguments = dict(params.arguments or {})
        approval_id = arguments.pop(APPROVAL_ARG, None)
        try:
            tool = self.tools.get(server, {}).get(name)
            if tool is None:
                tool = (await self._upstream_tools(server, fresh=True)).get(name)
        except GatewayError as exc:
            return _text(f"The MCP server could not be reached: {exc.message}")
        action = Action(server, name, arguments, hints=self._hints(tool))

        async def execute(tool_name: str, args: dict):
            srv, _, op = tool_name.partition(".")
            if srv != server:
                raise GatewayError("action_denied", "a rewrite may not move a call to another server")
            return await self._upstream(server, lambda c: c.call_tool(op, args))

        try:
            out = await self.service.perform(principal, action, execute, approval_id=approval_id,
                                             wait_s=self.cfg.mcp_wait_s, request_id=request_id)
        except GatewayError as exc:
            if exc.code.startswith("upstream_"):
                return _text(f"The call was permitted but did not complete: {exc.message}")
            return _text(f"Seawall refused this call: {exc.message}")
        if out["status"] == "pending":
            return _text(f"This call needs a person's approval (approval id {out['approval_id']}). It has not run. "
                         f"Once approved, call it again with the same arguments plus "
                         f"\"{APPROVAL_ARG}\": \"{out['approval_id']}\".")
        return out["result"]

    # ---- the HTTP side ---------------------------------------------------------------------

    async def handle(self, call) -> Response:
        if not self.enabled:
            raise GatewayError("not_found", "the MCP gateway is off (actions.mcp_servers is empty)")
        await self.start()
        request = call.request
        body = await request.read(MAX_BODY) if request.body_exists else b""
        parsed = self.fast.parse(request.method, request.headers, body)
        if parsed is not None:
            rid, params, version = parsed
            try:
                status, answer = self.fast.answer(rid, version, await self.call_tool(call.principal, params,
                                                                                    call.request_id))
            except Exception:  # what the SDK would do with a handler that raised: a generic error
                log.exception("tools/call failed")
                status, answer = self.fast.error(rid, version in MODERN_PROTOCOL_VERSIONS, INTERNAL_ERROR,
                                                 "Internal server error")
            return Response(body=answer, status=status, headers=call.headers, content_type="application/json")
        return await asgi_call(self.manager.handle_request, request, body,
                               {"seawall_principal": call.principal, "seawall_request_id": call.request_id},
                               call.headers)


async def asgi_call(app, request, body: bytes, state: dict, base_headers: dict) -> Response:
    """Run one ASGI HTTP exchange over a net.server request and buffer its answer."""
    host = request.headers.get("host", "127.0.0.1")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
        "scheme": "http", "path": request.path, "raw_path": request.path.encode(),
        "query_string": request.query_string.encode(), "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()],
        "server": (host.split(":")[0], 0), "client": ("127.0.0.1", 0), "state": state,
    }
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the request has no more body; the app waits for disconnect

    status, headers, chunks = 500, {}, []

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            for k, v in message.get("headers", []):
                headers[k.decode("latin-1").lower()] = v.decode("latin-1")
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    content_type = headers.pop("content-type", None)
    headers.pop("content-length", None)
    return Response(body=b"".join(chunks), status=status, headers={**base_headers, **headers},
                    content_type=content_type)
