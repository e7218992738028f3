"""Routes with methods and path parameters, typed bodies, and who may call them.

A `Route` says everything the edge needs: the method and path template, who may call it
(`auth`), the body and query models it accepts, what it answers (for /openapi.json). Feature
packages hand their routes to the App (govern/routes.py, cache/routes.py, ...).

Static paths are one dict lookup, as cheap as the plain dict the App used before; templated
paths (`/admin/keys/{id}`) are tried after, segment by segment. A path that exists with other
methods answers 405 with `Allow`, so a method never reaches a handler not declared for it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Awaitable, Callable, Literal
from urllib.parse import unquote

import orjson
from pydantic import BaseModel, ValidationError

from ..core.errors import GatewayError
from ..net.server import Request, Response, StreamResponse
from .http import JSON, read_json

Auth = Literal["none", "client", "admin"]
MAX_PARAM = 128  # longer path parameters are refused before a handler sees them
ADMIN_BODY_LIMIT = 1 << 20


class Call:
    """One request as a handler sees it."""

    __slots__ = ("request", "route", "params", "body", "raw", "query", "principal", "request_id", "headers",
                 "client_request_id", "accounted")

    def __init__(self, request: Request, route: "Route", params: dict[str, str], request_id: str,
                 headers: dict[str, str]) -> None:
        self.request = request
        self.route = route
        self.params = params
        self.body: Any = None  # the validated model; for raw JSON routes the dict
        self.raw: bytes | None = None  # the body's bytes (raw JSON routes)
        self.query: Any = None
        self.principal: Any = None  # auth="client" routes: who is calling
        self.request_id = request_id
        self.headers = headers  # response headers so far
        self.client_request_id: str | None = None  # the client's own x-request-id, kept apart from ours
        self.accounted = False  # the pipeline took the request: it logs and audits it, whatever happens

    def json(self, obj: Any, status: int | None = None) -> Response:
        """A JSON answer with the route's success status; a model is dumped by its fields."""
        if isinstance(obj, BaseModel):
            obj = obj.model_dump(mode="json")
        return Response(body=orjson.dumps(obj), status=status or self.route.status, headers=self.headers,
                        content_type=JSON)


Handler = Callable[[Call], Awaitable["Response | StreamResponse"]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # "/admin/keys/{id}"
    handler: Handler = field(compare=False)
    auth: Auth = "none"
    # a pydantic model (validated, extra fields refused), or a dict: a JSON Schema that documents
    # a raw JSON object the handler validates itself (the OpenAI and Anthropic bodies)
    body: type[BaseModel] | dict | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | dict | None = None  # a model, or a JSON Schema
    status: int = 200
    summary: str = ""
    tag: str = ""
    body_limit: int = ADMIN_BODY_LIMIT


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = list(routes)
        self.exact: dict[tuple[str, str], Route] = {}
        self.methods: dict[str, list[str]] = {}  # static path -> its methods (for 405)
        # templates by segment count: [(segments, {method: route})]; "{x}" segments are parameters
        self.templates: dict[int, list[tuple[tuple[str, ...], dict[str, Route]]]] = {}
        for r in self.routes:
            if "{" not in r.path:
                if (r.method, r.path) in self.exact:
                    raise ValueError(f"route {r.method} {r.path} is declared twice")
                self.exact[(r.method, r.path)] = r
                self.methods.setdefault(r.path, []).append(r.method)
                continue
            segs = tuple(r.path.strip("/").split("/"))
            group = self.templates.setdefault(len(segs), [])
            for s, by_method in group:
                if s == segs:
                    if r.method in by_method:
                        raise ValueError(f"route {r.method} {r.path} is declared twice")
                    by_method[r.method] = r
                    break
            else:
                group.append((segs, {r.method: r}))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route and its path parameters; GatewayError 404 or 405 (with Allow) otherwise."""
        route = self.exact.get((method, path))
        if route is not None:
            return route, NO_PARAMS
        allowed = self.methods.get(path)
        if allowed is None:
            parts = path.strip("/").split("/")
            for segs, by_method in self.templates.get(len(parts), ()):
                params = _bind(segs, parts)
                if params is None:
                    continue
                route = by_method.get(method)
                if route is not None:
                    return route, params
                allowed = list(by_method)
                break
        if allowed is None:
            raise GatewayError("not_found", f"no route {method} {path}")
        raise GatewayError("invalid_request", f"method {method} is not allowed on {path}", status=405,
                           headers={"allow": ", ".join(sorted(allowed))})


NO_PARAMS: dict[str, str] = MappingProxyType({})  # type: ignore[assignment] - static paths share it, read-only


def _bind(segs: tuple[str, ...], parts: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for seg, part in zip(segs, parts):
        if seg[0] == "{":
            value = unquote(part)
            if not value or len(value) > MAX_PARAM or not value.isprintable():
                return None
            params[seg[1:-1]] = value
        elif seg != part:
            return None
    return params


async def read_body(call: Call) -> None:
    """Fill call.body (and call.raw) as the route declares."""
    route, request = call.route, call.request
    spec = route.body
    if isinstance(spec, dict):  # a raw JSON object; the handler validates it
        call.body, call.raw = await read_json(request, route.body_limit)
        return
    data: dict = {}
    if request.body_exists:
        data, _ = await read_json(request, route.body_limit)
    call.body = validate(spec, data, strict=True)


def read_query(call: Call) -> None:
    call.query = validate(call.route.query, call.request.query, strict=False)


def validate(model: type[BaseModel], data: dict, *, strict: bool) -> BaseModel:
    try:
        return model.model_validate(data, strict=strict)
    except ValidationError as e:
        raise field_error(e) from None


def field_error(e: ValidationError) -> GatewayError:
    """The first problem, in our words, naming the field (never the rejected value)."""
    err = e.errors(include_url=False, include_input=False)[0]
    loc = ".".join(str(p) for p in err["loc"] if p != "__root__")
    kind = err["type"]
    ctx = err.get("ctx") or {}
    field_name = loc or None
    if kind == "extra_forbidden":
        msg = f"unknown field {loc!r}"
    elif kind == "missing":
        msg = f"the field {loc!r} is required"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
        bound = next(iter(ctx.values()), "")
        msg = f"{loc!r} must be {op} {bound}"
    elif kind in ("string_too_short", "too_short"):
        msg = f"{loc!r} must not be empty" if ctx.get("min_length") == 1 else \
            f"{loc!r} must have at least {ctx.get('min_length')} characters or items"
    elif kind in ("string_too_long", "too_long"):
        msg = f"{loc!r} must have at most {ctx.get('max_length')} characters or items"
    elif kind == "string_pattern_mismatch":
        msg = f"{loc!r} has characters or a form it may not have"
    elif kind == "finite_number":
        msg = f"{loc!r} must be a finite number"
    elif kind in ("literal_error", "enum"):
        msg = f"{loc!r} must be one of {ctx.get('expected', '')}"
    elif kind == "value_error":  # a model validator's own message (written in our words)
        msg = str(ctx.get("error", "invalid value"))
        field_name = getattr(ctx.get("error"), "param", None) or field_name
    else:  # a wrong type: int_type, string_type, bool_type, list_type, ...
        expected = kind.split("_")[0].replace("dict", "object").replace("model", "object") \
            .replace("int", "integer").replace("float", "number").replace("bool", "boolean").replace("str", "string")
        article = "an" if expected[:1] in "aeiou" else "a"
        msg = f"{loc!r} must be {article} {expected}" if loc else f"the body must be a JSON {expected}"
    return GatewayError("invalid_request", msg, param=field_name)


class FieldProblem(ValueError):
    """Raised by a model validator: a message in our words and the field it is about."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param

    def __str__(self) -> str:
        return self.args[0]
