"""A thin client for streamable-HTTP upstream MCP servers: JSON-RPC POSTs on Seawall's pooled
keep-alive HTTP client (net/client.py), in the 2026-07-28 era when the server offers it, else
with one handshake-era session initialised once and reused.

Why not the SDK's client here: it runs a session (task groups, memory streams, an HTTP client
of its own, result validation) around every call, which cost the proxy several milliseconds per
allowed call (docs/benchmarks.md, "Action proxy"). The gateway only forwards `tools/list` and
`tools/call`, so it needs the protocol's plain request/response shape and nothing more; stdio
servers stay on the SDK.

- The era is chosen once, lazily, as the SDK's own client does: `server/discover` first; a
  server that answers it with a 2026-07-28 version is spoken to in that era (every request
  self-contained: the `_meta` envelope, `Mcp-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, and
  the `Mcp-Param-*` headers the listed tool's schema declares; no session). Any other answer
  means the handshake era: `initialize` and `notifications/initialized` once, and a
  `Mcp-Session-Id` the server issues sent on every later request. The SDK's servers serve the
  2026 era with much less work per request (no transport, dispatcher and task per POST:
  docs/benchmarks.md, "Action proxy"), which is most of why it is preferred.
- A 2026-era server that answers -32022 (it no longer serves that version: it was replaced)
  is negotiated with again, once.
- A 404 on a request that carried a session id means the session expired (the spec's
  answer): the client initialises again and sends the request once more.
- An answer as JSON or as an SSE stream is read up to the JSON-RPC response to our id.
- Every exchange is bounded by the server's `timeout_s`; a server that is down, slow or
  answers nonsense raises UpstreamFailure with a message that names the server and no more.
"""
from __future__ import annotations

import asyncio
import itertools

import mcp_types as types
import orjson
from mcp.shared.inbound import (
    MCP_METHOD_HEADER,
    MCP_NAME_HEADER,
    MCP_PROTOCOL_VERSION_HEADER,
    NAME_BEARING_METHODS,
    encode_header_value,
    find_invalid_x_mcp_header,
    mcp_param_headers,
    x_mcp_header_map,
)
from mcp_types import (
    CLIENT_CAPABILITIES_META_KEY,
    CLIENT_INFO_META_KEY,
    PROTOCOL_VERSION_META_KEY,
    UNSUPPORTED_PROTOCOL_VERSION,
)
from mcp_types.version import LATEST_HANDSHAKE_VERSION as PROTOCOL
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from ..net.client import Client

MAX_ANSWER = 16 << 20
CLIENT_INFO = {"name": "seawall", "version": "1"}


class UpstreamFailure(Exception):
    """The upstream did not answer usefully (down, timed out, HTTP error, not JSON)."""


class UpstreamRefused(UpstreamFailure):
    """The upstream answered with a JSON-RPC error (it is up; it refused the request)."""


def _code(answer) -> int | None:
    err = answer.get("error") if isinstance(answer, dict) else None
    return err.get("code") if isinstance(err, dict) else None


class HttpUpstream:
    def __init__(self, name: str, url: str, timeout_s: float, client: Client, *, discover: bool = True) -> None:
        self.name, self.url, self.timeout_s, self.client = name, url, timeout_s, client
        self.discover = discover  # False: the handshake era without asking (tests of that era)
        self.session_id: str | None = None
        self.modern: str | None = None  # the 2026-era version in use, None: the handshake era
        self._header_maps: dict[str, dict] = {}  # tool -> its x-mcp-header map (from the last listing)
        self._ready = False
        self._init_lock = asyncio.Lock()
        self._ids = itertools.count(1)

    async def list_tools(self) -> types.ListToolsResult:
        listed = types.ListToolsResult.model_validate(await self.request("tools/list", {}))
        maps = {}
        for tool in listed.tools:
            schema = tool.input_schema
            if schema and find_invalid_x_mcp_header(schema) is None and (m := x_mcp_header_map(schema)):
                maps[tool.name] = m
        self._header_maps = maps
        return listed

    async def call_tool(self, name: str, arguments: dict) -> types.CallToolResult:
        result = await self.request("tools/call", {"name": name, "arguments": arguments})
        if result.get("resultType", "complete") != "complete":  # an interim (input_required) result
            raise UpstreamFailure(f"MCP server {self.name} asked for more input, which the gateway does not relay")
        return types.CallToolResult.model_validate(result)

    async def request(self, method: str, params: dict) -> dict:
        """One JSON-RPC request's result, initialising (again) as needed."""
        try:
            async with asyncio.timeout(self.timeout_s):
                for attempt in (0, 1):
                    if not self._ready:
                        await self._initialise()
                    sent_with = self.session_id
                    modern = self.modern
                    status, result = await self._exchange(method, params)
                    if status == 404 and sent_with is not None and attempt == 0:
                        await self._expired(sent_with)  # the session is gone: a new one, and once more
                        continue
                    if modern and attempt == 0 and _code(result) == UNSUPPORTED_PROTOCOL_VERSION:
                        await self._renegotiate(modern)  # another server now: negotiate, and once more
                        continue
                    return self._result(status, result, method)
        except UpstreamFailure:
            raise
        except TimeoutError:
            raise UpstreamFailure(f"MCP server {self.name} did not answer within {self.timeout_s:g}s") from None
        except Exception as exc:
            raise UpstreamFailure(f"MCP server {self.name} is unreachable ({type(exc).__name__})") from None
        raise UpstreamFailure(f"MCP server {self.name} refused the session twice")

    async def _initialise(self) -> None:
        if self._ready:
            return
        async with self._init_lock:
            if self._ready:
                return
            self.session_id = None
            self.modern = None
            version = await self._discover() if self.discover else None
            if version is not None:
                self.modern = version
                self._ready = True
                return
            status, result = await self._exchange("initialize", {
                "protocolVersion": PROTOCOL, "capabilities": {},
                "clientInfo": {"name": "seawall", "version": "1"}}, fresh=True)
            self._result(status, result, "initialize")
            status, _ = await self._exchange("notifications/initialized", None)
            if status >= 400:
                raise UpstreamFailure(f"MCP server {self.name} refused notifications/initialized (HTTP {status})")
            self._ready = True

    async def _discover(self) -> str | None:
        """The 2026-era version to speak, or None for the handshake era (what the SDK client's
        `auto` mode concludes: anything but a discover result naming a version we speak)."""
        status, answer = await self._exchange("server/discover", {}, version=MODERN_PROTOCOL_VERSIONS[-1])
        result = answer.get("result") if status == 200 and isinstance(answer, dict) else None
        offered = result.get("supportedVersions") if isinstance(result, dict) else None
        mutual = [v for v in MODERN_PROTOCOL_VERSIONS if isinstance(offered, list) and v in offered]
        return mutual[-1] if mutual else None

    async def _renegotiate(self, version: str) -> None:
        async with self._init_lock:
            if self.modern == version:
                self._ready = False

    async def _expired(self, old: str) -> None:
        async with self._init_lock:
            if self.session_id == old:  # not already replaced by a concurrent request
                self._ready = False

    def _result(self, status: int, answer, method: str) -> dict:
        if not isinstance(answer, dict) or (status >= 400 and "error" not in answer):
            raise UpstreamFailure(f"MCP server {self.name} answered {method} with HTTP {status}")
        if "error" in answer:
            err = answer["error"] if isinstance(answer["error"], dict) else {}
            raise UpstreamRefused(f"MCP server {self.name} refused {method}: {str(err.get('message', ''))[:300]}")
        result = answer.get("result")
        if not isinstance(result, dict):
            raise UpstreamFailure(f"MCP server {self.name} answered {method} without a result")
        return result

    async def _exchange(self, method: str, params: dict | None, fresh: bool = False,
                        version: str | None = None) -> tuple[int, dict | None]:
        """POST one message; (HTTP status, the JSON-RPC response to it or None). `version`: a
        2026-era request at that version (by default the era negotiated)."""
        msg: dict = {"jsonrpc": "2.0", "method": method}
        rid = None
        if not method.startswith("notifications/"):
            rid = msg["id"] = next(self._ids)
        headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
        version = version or (None if fresh else self.modern)
        if version is not None:  # self-contained: the envelope in _meta and the routing headers
            params = {**(params or {}), "_meta": {PROTOCOL_VERSION_META_KEY: version,
                                                  CLIENT_CAPABILITIES_META_KEY: {}, CLIENT_INFO_META_KEY: CLIENT_INFO}}
            headers[MCP_PROTOCOL_VERSION_HEADER] = version
            headers[MCP_METHOD_HEADER] = method
            name = params.get(NAME_BEARING_METHODS.get(method, ""))
            if isinstance(name, str):
                headers[MCP_NAME_HEADER] = encode_header_value(name)
            if method == "tools/call" and (m := self._header_maps.get(name)):
                headers.update(mcp_param_headers(m, params.get("arguments") or {}))
        elif not fresh:
            headers[MCP_PROTOCOL_VERSION_HEADER] = PROTOCOL
            if self.session_id:
                headers["mcp-session-id"] = self.session_id
        if params is not None:
            msg["params"] = params
        resp = await self.client.request("POST", self.url, body=orjson.dumps(msg), headers=headers,
                                         connect_timeout=self.timeout_s)
        try:
            if fresh and resp.headers.get("mcp-session-id"):
                self.session_id = resp.headers.get("mcp-session-id")
            ctype = (resp.headers.get("content-type") or "").lower()
            if rid is None:
                await resp.read()
                return resp.status, None
            if resp.status >= 400:  # a 2026-era server maps JSON-RPC errors to HTTP statuses: keep its error
                body = await resp.read()
                try:
                    answer = orjson.loads(body) if ctype.startswith("application/json") else None
                except orjson.JSONDecodeError:
                    answer = None
                return resp.status, answer if isinstance(answer, dict) and "error" in answer else None
            if ctype.startswith("text/event-stream"):
                return resp.status, await self._from_stream(resp, rid)
            return resp.status, orjson.loads(await resp.read())
        except orjson.JSONDecodeError:
            raise UpstreamFailure(f"MCP server {self.name} answered {method} with something not JSON") from None
        finally:  # a whole body's connection goes back to the pool; a stream left mid-way is closed
            resp.release() if resp.complete else resp.close()

    async def _from_stream(self, resp, rid: int) -> dict | None:
        """The response to `rid` out of an SSE stream (other events: notifications, skipped)."""
        data: list[bytes] = []
        seen = 0
        while True:
            line = await resp.readline()
            if not line:
                return None
            seen += len(line)
            if seen > MAX_ANSWER:
                raise UpstreamFailure(f"MCP server {self.name} streamed more than {MAX_ANSWER} bytes")
            line = line.rstrip(b"\r\n")
            if line.startswith(b"data:"):
                data.append(line[5:].lstrip(b" "))
            elif not line and data:
                msg = orjson.loads(b"\n".join(data))
                data = []
                if isinstance(msg, dict) and msg.get("id") == rid and ("result" in msg or "error" in msg):
                    return msg
