"""A thin client for streamable-HTTP upstream MCP servers: JSON-RPC POSTs on Seawall's pooled
keep-alive HTTP client (net/client.py), with one session initialised once and reused.

Why not the SDK's client here: it runs a session (task groups, memory streams, an HTTP client
of its own, result validation) around every call, which cost the proxy several milliseconds per
allowed call (docs/benchmarks.md, "Action proxy"). The gateway only forwards `tools/list` and
`tools/call`, so it needs the protocol's plain request/response shape and nothing more; stdio
servers stay on the SDK.

- `initialize` (the handshake protocol version) and `notifications/initialized` are sent once,
  lazily; a `Mcp-Session-Id` the server issues is sent on every later request.
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
from mcp_types.version import LATEST_HANDSHAKE_VERSION as PROTOCOL

from ..net.client import Client

MAX_ANSWER = 16 << 20


class UpstreamFailure(Exception):
    """The upstream did not answer usefully (down, timed out, HTTP error, not JSON)."""


class UpstreamRefused(UpstreamFailure):
    """The upstream answered with a JSON-RPC error (it is up; it refused the request)."""


class HttpUpstream:
    def __init__(self, name: str, url: str, timeout_s: float, client: Client) -> None:
        self.name, self.url, self.timeout_s, self.client = name, url, timeout_s, client
        self.session_id: str | None = None
        self._ready = False
        self._init_lock = asyncio.Lock()
        self._ids = itertools.count(1)

    async def list_tools(self) -> types.ListToolsResult:
        return types.ListToolsResult.model_validate(await self.request("tools/list", {}))

    async def call_tool(self, name: str, arguments: dict) -> types.CallToolResult:
        return types.CallToolResult.model_validate(
            await self.request("tools/call", {"name": name, "arguments": arguments}))

    async def request(self, method: str, params: dict) -> dict:
        """One JSON-RPC request's result, initialising (again) as needed."""
        try:
            async with asyncio.timeout(self.timeout_s):
                for attempt in (0, 1):
                    await self._initialise()
                    sent_with = self.session_id
                    status, result = await self._exchange(method, params)
                    if status == 404 and sent_with is not None and attempt == 0:
                        await self._expired(sent_with)  # the session is gone: a new one, and once more
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
            status, result = await self._exchange("initialize", {
                "protocolVersion": PROTOCOL, "capabilities": {},
                "clientInfo": {"name": "seawall", "version": "1"}}, fresh=True)
            self._result(status, result, "initialize")
            status, _ = await self._exchange("notifications/initialized", None)
            if status >= 400:
                raise UpstreamFailure(f"MCP server {self.name} refused notifications/initialized (HTTP {status})")
            self._ready = True

    async def _expired(self, old: str) -> None:
        async with self._init_lock:
            if self.session_id == old:  # not already replaced by a concurrent request
                self._ready = False

    def _result(self, status: int, answer, method: str) -> dict:
        if status >= 400 or not isinstance(answer, dict):
            raise UpstreamFailure(f"MCP server {self.name} answered {method} with HTTP {status}")
        if "error" in answer:
            err = answer["error"] if isinstance(answer["error"], dict) else {}
            raise UpstreamRefused(f"MCP server {self.name} refused {method}: {str(err.get('message', ''))[:300]}")
        result = answer.get("result")
        if not isinstance(result, dict):
            raise UpstreamFailure(f"MCP server {self.name} answered {method} without a result")
        return result

    async def _exchange(self, method: str, params: dict | None, fresh: bool = False) -> tuple[int, dict | None]:
        """POST one message; (HTTP status, the JSON-RPC response to it or None)."""
        msg: dict = {"jsonrpc": "2.0", "method": method}
        rid = None
        if not method.startswith("notifications/"):
            rid = msg["id"] = next(self._ids)
        if params is not None:
            msg["params"] = params
        headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
        if not fresh:
            headers["mcp-protocol-version"] = PROTOCOL
            if self.session_id:
                headers["mcp-session-id"] = self.session_id
        resp = await self.client.request("POST", self.url, body=orjson.dumps(msg), headers=headers,
                                         connect_timeout=self.timeout_s)
        try:
            if fresh and resp.headers.get("mcp-session-id"):
                self.session_id = resp.headers.get("mcp-session-id")
            ctype = (resp.headers.get("content-type") or "").lower()
            if rid is None or resp.status >= 400:
                await resp.read()
                return resp.status, None
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
