"""The fast path for `tools/call` on /mcp: a well-formed call is answered here, in the /mcp
handler's own task, with a plain JSON body; everything else (initialize, server/discover,
tools/list, notifications, GET/DELETE, and any request this path is not sure about) goes to
the official SDK's session manager as before.

Why: the SDK serves each POST through a per-request pipeline (a Starlette request, the
transport-security middleware, era routing, a ServerRunner, a session, a Connection with its
exit stack, middleware, and for the handshake era a transport, a dispatcher and a task) that
cost about 0.4 ms of CPU per call, more than the whole 1 ms the gateway may add
(docs/benchmarks.md, "Action proxy"). A `tools/call` is one JSON-RPC request and one response.

Same protocol, same checks. The path takes a request only when the SDK would accept it, and
it uses the SDK's own validators for that; any doubt is a fallback, never an error written
here, so every rejection still comes from the SDK:
- POST, `Content-Type: application/json`, an `Accept` that admits application/json (the
  manager runs in JSON-response mode, so this is what the SDK itself requires);
- the body one JSON-RPC 2.0 request object, method `tools/call`, with an integer or string id;
- 2026-07-28 era (the `Mcp-Protocol-Version` header names a modern version): the SDK's
  `classify_inbound_request` (the `_meta` envelope, the routing headers) and its
  `Mcp-Param-*` check against the tool's input schema;
- handshake era (no header or a handshake version): no modern envelope in `_meta`;
- both: the SDK's per-version surface validation of the params and its params model.
The answer is shaped as the SDK's runner shapes it (the per-version result sieve, `resultType`
and the `serverInfo` stamp on modern results). Policy, audit and approvals are untouched:
the call goes through McpGateway.call_tool, the handler the SDK path calls.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
from mcp_types import (
    DEFAULT_NEGOTIATED_VERSION,
    INTERNAL_ERROR,
    PROTOCOL_VERSION_META_KEY,
    SERVER_INFO_META_KEY,
)
from mcp_types import methods as _methods
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    MCP_METHOD_HEADER,
    MCP_NAME_HEADER,
    MCP_PARAM_HEADER_PREFIX,
    MCP_PROTOCOL_VERSION_HEADER,
    X_MCP_HEADER_KEY,
    InboundLadderRejection,
    classify_inbound_request,
    validate_mcp_param_headers,
)
from pydantic import ValidationError

if TYPE_CHECKING:
    from .mcp import McpGateway

log = logging.getLogger("seawall.actions.mcp")
JSON = "application/json"
_PARAM_PREFIX = MCP_PARAM_HEADER_PREFIX.lower()
_ENVELOPE = frozenset(("jsonrpc", "id", "method", "params"))
_ABSENT = object()
_SEEN_MAX = 1024  # calls whose checks passed, remembered by everything the checks read but the argument values
_SEEN_KEY_BYTES = 4096


def accepts_json(accept: str) -> bool:
    """The SDK's reading of Accept (RFC 7231 wildcards), JSON half."""
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return "*/*" in kinds or JSON in kinds or "application/*" in kinds


class FastCalls:
    def __init__(self, gateway: "McpGateway") -> None:
        self.gateway = gateway
        server = gateway.server
        entry = server.get_request_handler("tools/call")
        self.params_type = entry.params_type if entry is not None else None
        self._declared: dict[int, tuple[Any, bool]] = {}
        self._seen: dict[tuple, tuple[str, Any]] = {}
        # only the SDK's default middleware (its OpenTelemetry span, a no-op without a tracer
        # provider; Seawall traces the request itself) and no cache hint may be skipped here
        self.enabled = (self.params_type is not None and not server.cache_hints.get("tools/call")
                        and all(type(m).__name__ == "OpenTelemetryMiddleware" for m in server.middleware))

    def parse(self, method: str, headers: Mapping[str, str], body: bytes) -> tuple[Any, Any, str] | None:
        """(request id, typed params, protocol version) of a tools/call this path may serve;
        None leaves the request to the SDK."""
        if not self.enabled or method != "POST":
            return None
        if (headers.get("content-type") or "").split(";")[0].strip().lower() != JSON:
            return None
        if not accepts_json(headers.get("accept", "")):
            return None
        if b'"tools/call"' not in body:  # cheap: most other methods never get parsed twice
            return None
        try:
            msg = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if type(msg) is not dict or msg.keys() - _ENVELOPE or msg.get("jsonrpc") != "2.0" \
                or msg.get("method") != "tools/call":
            return None
        rid, params = msg.get("id"), msg.get("params")
        if type(rid) not in (int, str) or type(params) is not dict:
            return None
        pv = headers.get(MCP_PROTOCOL_VERSION_HEADER)
        # What the SDK's checks below read, except the argument values: they accept any JSON
        # object as `arguments` (dict[str, Any]), so their verdict for a call is known from
        # one seen before that differs only there. The Mcp-Param-* check reads the values: it
        # runs on every call.
        arguments = params.get("arguments", _ABSENT)
        key = None
        if arguments is _ABSENT or type(arguments) is dict:
            key = (pv, headers.get(MCP_METHOD_HEADER), headers.get(MCP_NAME_HEADER), arguments is _ABSENT,
                   orjson.dumps({k: v for k, v in params.items() if k != "arguments"}))
            known = self._seen.get(key)
            if known is not None:
                version, template = known
                if pv is not None and pv not in HANDSHAKE_PROTOCOL_VERSIONS and not self._params_headers_ok(params, headers):
                    return None
                typed = template if arguments is _ABSENT else template.model_copy(update={"arguments": arguments})
                return rid, typed, version
        if pv is not None and pv not in HANDSHAKE_PROTOCOL_VERSIONS:
            route = classify_inbound_request(msg, headers=headers)
            if isinstance(route, InboundLadderRejection):
                return None
            version = route.protocol_version
            if not self._params_headers_ok(params, headers):
                return None
        else:
            meta = params.get("_meta")
            if isinstance(meta, Mapping) and PROTOCOL_VERSION_META_KEY in meta:
                return None  # the handshake era refuses a modern envelope: the SDK says so
            version = pv or DEFAULT_NEGOTIATED_VERSION
        try:
            _methods.validate_client_request("tools/call", version, params)
            typed = self.params_type.model_validate(params, by_name=False)
        except (ValidationError, KeyError, ValueError, TypeError):
            return None
        if key is not None and len(key[-1]) <= _SEEN_KEY_BYTES:
            if len(self._seen) >= _SEEN_MAX:
                self._seen.clear()
            self._seen[key] = (version, typed)
        return rid, typed, version

    def _params_headers_ok(self, params: dict, headers: Mapping[str, str]) -> bool:
        """The SDK's `Mcp-Param-*` check for a modern tools/call, with the gateway's schema lookup."""
        name, arguments = params.get("name"), params.get("arguments")
        if not isinstance(name, str) or (arguments is not None and not isinstance(arguments, Mapping)):
            return True  # the SDK skips its check too; validation below refuses or passes it
        arguments = arguments or {}
        if not arguments and not any(k.startswith(_PARAM_PREFIX) for k in headers):
            return True
        schema = self.gateway._input_schema(name)
        if schema is None or not self._declares_headers(schema):
            return True  # nothing declared: the SDK's check can refuse nothing (it walks the schema to learn so)
        return validate_mcp_param_headers(schema, arguments, headers) is None

    def _declares_headers(self, schema) -> bool:
        """Whether an input schema mentions `x-mcp-header` anywhere (a superset of the
        annotations the SDK validates), remembered per schema object."""
        known = self._declared.get(id(schema))
        if known is None or known[0] is not schema:
            if len(self._declared) > 10_000:
                self._declared.clear()
            try:
                declares = X_MCP_HEADER_KEY.encode() in orjson.dumps(schema)
            except TypeError:
                declares = True  # not plain JSON: let the SDK's validator look
            known = self._declared[id(schema)] = (schema, declares)
        return known[1]

    def answer(self, rid: Any, version: str, result) -> tuple[int, bytes]:
        """(HTTP status, body) of the JSON-RPC response, shaped as the SDK's runner shapes it."""
        modern = version in MODERN_PROTOCOL_VERSIONS
        dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
        try:
            dumped = _methods.serialize_server_result("tools/call", version, dumped)
        except ValidationError:
            log.exception("tools/call produced an invalid result")
            return self.error(rid, modern, INTERNAL_ERROR, "Handler returned an invalid result")
        if modern:
            if dumped.get("resultType") is None:
                dumped["resultType"] = "complete"
            meta = dumped.get("_meta")
            if meta is None:
                dumped["_meta"] = {SERVER_INFO_META_KEY: self.gateway.server.server_info_stamp}
            elif isinstance(meta, dict) and meta.get(SERVER_INFO_META_KEY) is None:
                dumped["_meta"] = {**meta, SERVER_INFO_META_KEY: self.gateway.server.server_info_stamp}
        return 200, orjson.dumps({"jsonrpc": "2.0", "id": rid, "result": dumped})

    @staticmethod
    def error(rid: Any, modern: bool, code: int, message: str) -> tuple[int, bytes]:
        status = ERROR_CODE_HTTP_STATUS.get(code, 200) if modern else 200
        return status, orjson.dumps({"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}})
