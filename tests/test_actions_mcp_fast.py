"""The /mcp fast path for tools/call (actions/mcp_fast.py).

In process: tools/call requests the official SDK client really sent (2026-07-28 era and the
handshake era) are answered by the fast path exactly as the SDK's session manager answers
them (same status, same JSON), and requests it must not take (other methods, notifications,
an Accept without JSON, mismatched routing headers, a modern envelope on the handshake era)
are left to the SDK. Through a gateway process: the SDK client in both eras gets an allowed
call through, a denied call never reaches the MCP server, and the answer is plain JSON.
"""
from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import httpx2
import mcp_types as types
import orjson
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from procs import http
from seawall import config as config_mod
from seawall.actions.mcp import McpGateway, asgi_call
from seawall.actions.service import ActionsService
from seawall.core.types import Principal
from seawall.net.headers import Headers
from seawall.net.messages import Request
from test_actions_mcp import POLICIES, stack, text  # noqa: F401  (stack: the gateway + MCP server fixture)

WHO = Principal(key_id="k1", user_id="u1", team_id="ops")
GUEST = Principal(key_id="k2", user_id="u2", team_id="guests")


class Stub:
    """An upstream that answers at once and counts what reaches it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.tool = types.Tool(name="read_record", input_schema={"type": "object",
                                                                 "properties": {"id": {"type": "integer"}}},
                               annotations=types.ToolAnnotations(read_only_hint=True))
        self.update = types.Tool(name="update_record", input_schema={"type": "object"})

    async def list_tools(self):
        return types.ListToolsResult(tools=[self.tool, self.update])

    async def call_tool(self, name, args):
        self.calls.append((name, args))
        return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps({"id": args.get("id")}))])


def _request(method: str, headers: dict, body: bytes) -> Request:
    r = Request(None)
    r.method, r.path, r._buf, r._done = method, "/mcp", bytearray(body), True
    r.headers = Headers.from_raw([(k.encode(), v.encode()) for k, v in headers.items()])
    r.content_length = len(body)
    return r


async def _gateway():
    cfg = config_mod.parse({"providers": [{"name": "p", "base_url": "http://127.0.0.1:9"}],
                            "models": [{"name": "m", "targets": [{"provider": "p", "model": "x"}]}],
                            "actions": {"enabled": True, "policy_text": POLICIES,
                                        "effects": {"records.read_record": "read", "records.update_record": "write"},
                                        "mcp_servers": {"records": {"url": "http://127.0.0.1:9/mcp"}}}})
    svc = ActionsService(cfg, None)
    svc.reload()
    gw = McpGateway(svc)
    await gw.start()
    stub = gw.clients["records"] = Stub()
    return gw, stub


async def _capture(gw, mode: str) -> list[tuple[dict, bytes]]:
    """The POSTs an SDK client sends for a session with one allowed and one denied call."""
    seen = []

    async def app(scope, receive, send):
        body = (await receive()).get("body", b"")
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        seen.append((headers, body))
        req = SimpleNamespace(method=scope["method"], path=scope["path"], query_string="", headers=headers)
        resp = await asgi_call(gw.manager.handle_request, req, body, {"seawall_principal": WHO}, {})
        await send({"type": "http.response.start", "status": resp.status,
                    "headers": [(k.encode(), v.encode()) for k, v in resp.headers.items()]
                    + [(b"content-type", (resp.content_type or "application/json").encode())]})
        await send({"type": "http.response.body", "body": resp.body})

    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://gw") as hc:
        async with Client(streamable_http_client("http://gw/mcp", http_client=hc), mode=mode) as client:
            await client.list_tools()
            assert not (await client.call_tool("records.read_record", {"id": 7})).is_error
            assert (await client.call_tool("records.nope", {})).is_error
    return seen


async def _both(gw, headers: dict, body: bytes, who=WHO):
    """(SDK's answer, fast path's answer) for one request: (status, content type, JSON or None)."""
    req = SimpleNamespace(method="POST", path="/mcp", query_string="", headers=headers)
    sdk = await asgi_call(gw.manager.handle_request, req, body, {"seawall_principal": who}, {})
    fast = await gw.handle(SimpleNamespace(request=_request("POST", headers, body), principal=who, headers={},
                                           request_id="req-fast-1"))

    def shape(r):
        json_body = r.body and (r.content_type or "").startswith("application/json")
        return r.status, r.content_type, (orjson.loads(r.body) if json_body else r.body)

    return shape(sdk), shape(fast)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_the_fast_path_answers_a_real_clients_tools_call_as_the_sdk_does(mode):
    async def run():
        gw, stub = await _gateway()
        try:
            posts = await _capture(gw, mode)
            calls = [(h, b) for h, b in posts if b'"tools/call"' in b]
            assert len(calls) == 2
            for headers, body in calls:
                assert gw.fast.parse("POST", Headers(headers), body) is not None  # the fast path takes it
                sdk, fast = await _both(gw, headers, body)
                assert sdk == fast
                assert fast[0] == 200 and fast[1] == "application/json"
            sent = orjson.loads(calls[0][1])
            if mode == "auto":  # the 2026-07-28 era: per-request envelope, resultType and serverInfo stamp
                assert sent["params"]["_meta"]
                assert fast[2]["result"]["resultType"] == "complete" and fast[2]["result"]["_meta"]
            else:
                assert "resultType" not in fast[2]["result"]
            for headers, body in posts:  # everything else is the SDK's
                if b'"tools/call"' not in body:
                    assert gw.fast.parse("POST", Headers(headers), body) is None
            assert stub.calls == [("read_record", {"id": 7})] * 3  # the SDK's and the fast path's, once each
        finally:
            await gw.aclose()

    asyncio.run(run())


def test_requests_the_fast_path_must_not_take_get_the_sdks_answer():
    async def run():
        gw, stub = await _gateway()
        try:
            posts = await _capture(gw, "auto")
            headers, body = next((h, b) for h, b in posts if b'"tools/call"' in b)
            stub.calls.clear()
            msg = orjson.loads(body)
            cases = {
                "sse only": ({**headers, "accept": "text/event-stream"}, body),
                "wrong Mcp-Name": ({**headers, "mcp-name": "records.update_record"}, body),
                "no envelope": (headers, orjson.dumps({**msg, "params": {"name": "records.read_record",
                                                                         "arguments": {"id": 1}}})),
                "a notification": (headers, orjson.dumps({k: v for k, v in msg.items() if k != "id"})),
                "a batch": (headers, orjson.dumps([msg])),
                "not JSON": (headers, b"{nope"),
                "text/plain": ({**headers, "content-type": "text/plain"}, body),
                "bad arguments": (headers, orjson.dumps({**msg, "params": {**msg["params"], "arguments": [1]}})),
            }
            # the handshake era with a 2026 envelope in _meta: this SDK's stateless path serves it;
            # the fast path stays out of the way (the SDK answers both times, below)
            odd = ({k: v for k, v in headers.items() if k not in ("mcp-protocol-version", "mcp-method", "mcp-name")},
                   body)
            for label, (h, b) in cases.items():
                assert gw.fast.parse("POST", Headers(h), b) is None, label
                sdk, fast = await _both(gw, h, b)
                assert sdk == fast, label
                refused = sdk[0] >= 400 or (isinstance(sdk[2], dict) and "error" in sdk[2])
                assert refused or (label == "a notification" and sdk[0] == 202), (label, sdk)
            assert stub.calls == []  # none of them reached the server
            # a tool that declares an Mcp-Param header: the header must match the argument
            gw.tools["records"]["read_record"] = stub.tool.model_copy(update={"input_schema": {
                "type": "object", "properties": {"id": {"type": "integer", "x-mcp-header": "Id"}}}})
            wrong = ({**headers, "mcp-param-id": "999"}, body)
            assert gw.fast.parse("POST", Headers(wrong[0]), wrong[1]) is None
            sdk, fast = await _both(gw, *wrong)
            assert sdk == fast and sdk[0] == 400 and "Mcp-Param-Id" in sdk[2]["error"]["message"]
            assert gw.fast.parse("POST", Headers({**headers, "mcp-param-id": "7"}), body) is not None
            assert stub.calls == []
            assert gw.fast.parse("POST", Headers(odd[0]), odd[1]) is None
            sdk, fast = await _both(gw, *odd)
            assert sdk == fast and len(stub.calls) == 2
        finally:
            await gw.aclose()

    asyncio.run(run())


def test_a_denied_call_on_the_fast_path_never_reaches_the_server():
    async def run():
        gw, stub = await _gateway()
        try:
            posts = await _capture(gw, "legacy")
            headers, body = next((h, b) for h, b in posts if b'"tools/call"' in b)
            stub.calls.clear()
            msg = orjson.loads(body)
            update = orjson.dumps({**msg, "params": {"name": "records.update_record",
                                                     "arguments": {"id": 1, "name": "x"}}})
            assert gw.fast.parse("POST", Headers(headers), update) is not None
            sdk, fast = await _both(gw, headers, update, who=GUEST)
            assert sdk == fast and fast[2]["result"]["isError"] is True
            assert "refused" in fast[2]["result"]["content"][0]["text"]
            assert stub.calls == []
            _, allowed = await _both(gw, headers, update, who=WHO)  # ops may update: it arrives
            assert allowed[2]["result"].get("isError") is not True and len(stub.calls) == 2
        finally:
            await gw.aclose()

    asyncio.run(run())


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_both_eras_through_a_gateway_process(stack, mode):  # noqa: F811
    async def session(team, fn):
        headers = {"authorization": f"Bearer {stack.keys[team]}"}
        async with httpx2.AsyncClient(headers=headers, timeout=60) as hc:
            async with Client(streamable_http_client(stack.url + "/mcp", http_client=hc), mode=mode) as client:
                return await fn(client)

    before = len(stack.calls())
    got = asyncio.run(session("guests", lambda c: c.call_tool("records.read_record", {"id": 11})))
    assert not got.is_error and json.loads(text(got))["id"] == 11
    assert stack.calls()[-1] == {"tool": "read_record", "arguments": {"id": 11}}
    denied = asyncio.run(session("guests", lambda c: c.call_tool("records.update_record", {"id": 11, "name": "x"})))
    assert denied.is_error and "refused" in text(denied)
    assert len(stack.calls()) == before + 1


def test_raw_json_and_sse_accept_through_a_gateway_process(stack):  # noqa: F811
    body = json.dumps({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
                       "params": {"name": "records.read_record", "arguments": {"id": 12}}}).encode()
    key = {"authorization": f"Bearer {stack.keys['guests']}", "content-type": "application/json"}
    status, headers, raw = http("POST", stack.url + "/mcp", body, {**key, "accept": "application/json"})
    assert status == 200 and headers.get("content-type", "").startswith("application/json")
    answer = json.loads(raw)
    assert answer["id"] == 5 and json.loads(answer["result"]["content"][0]["text"])["id"] == 12
    # JSON-response mode: a client that accepts only SSE is refused (by the SDK), and nothing runs
    before = len(stack.calls())
    status, _, _ = http("POST", stack.url + "/mcp", body, {**key, "accept": "text/event-stream"})
    assert status == 406 and len(stack.calls()) == before


def test_a_call_shaped_like_one_seen_before_is_still_checked_where_it_differs():
    """The fast path remembers the SDK checks' verdict for a call by everything they read but
    the argument values; the Mcp-Param-* check, the routing headers and the arguments' type
    still decide on every call, and the answer is still the SDK's."""
    async def run():
        gw, stub = await _gateway()
        try:
            posts = await _capture(gw, "auto")
            headers, body = next((h, b) for h, b in posts if b'"tools/call"' in b)
            msg = orjson.loads(body)
            gw.fast._seen.clear()
            assert gw.fast.parse("POST", Headers(headers), body) is not None
            assert len(gw.fast._seen) == 1

            def other(**params):
                return orjson.dumps({**msg, "id": 99, "params": {**msg["params"], **params}})
            rid, typed, _ = gw.fast.parse("POST", Headers(headers), other(arguments={"id": 8}))
            assert (rid, typed.name, typed.arguments) == (99, "records.read_record", {"id": 8})
            assert len(gw.fast._seen) == 1  # served by the remembered verdict
            sdk, fast = await _both(gw, headers, other(arguments={"id": 8}))
            assert sdk == fast and json.loads(fast[2]["result"]["content"][0]["text"])["id"] == 8
            # what differs is checked: a routing header, the arguments' type, another envelope
            assert gw.fast.parse("POST", Headers({**headers, "mcp-name": "records.update_record"}), body) is None
            assert gw.fast.parse("POST", Headers(headers), other(arguments=[8])) is None
            assert gw.fast.parse("POST", Headers(headers), other(arguments=None))[1].arguments is None  # the SDK's too
            assert gw.fast.parse("POST", Headers(headers), other(_meta={"x": 1})) is None
            # a declared Mcp-Param header is compared with the argument on every call
            gw.tools["records"]["read_record"] = stub.tool.model_copy(update={"input_schema": {
                "type": "object", "properties": {"id": {"type": "integer", "x-mcp-header": "Id"}}}})
            good = {**headers, "mcp-param-id": "8"}
            assert gw.fast.parse("POST", Headers(good), other(arguments={"id": 8})) is not None
            assert gw.fast.parse("POST", Headers(good), other(arguments={"id": 9})) is None
            sdk, fast = await _both(gw, good, other(arguments={"id": 9}))
            assert sdk == fast and sdk[0] == 400 and "Mcp-Param-Id" in sdk[2]["error"]["message"]
            assert ("read_record", {"id": 9}) not in stub.calls
        finally:
            await gw.aclose()

    asyncio.run(run())
