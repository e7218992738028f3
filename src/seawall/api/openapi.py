"""GET /openapi.json: an OpenAPI 3.1 document built from the route table, with the admin
bodies' JSON Schemas taken from their pydantic models."""
from __future__ import annotations

import re

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .. import __version__
from ..web.router import Route
from ..web.schema import ErrorBody
from .wire_schemas import ANTHROPIC_ERROR

_REF = "#/components/schemas/{model}"
_SECURITY = {"client": [{"clientKey": []}, {"clientApiKeyHeader": []}], "admin": [{"adminKey": []}]}
_ERRORS = {"400": "Invalid request (the message and param name the field)", "401": "Missing or invalid key",
           "403": "Not allowed", "404": "Not found", "405": "Method not allowed (see the Allow header)",
           "413": "Body too large", "429": "Rate limit or budget", "5XX": "Upstream or gateway failure"}


def document(routes: list[Route], aliases: list[str] | None = None) -> dict:
    """`aliases`: this gateway's model names, listed as the values `model` may take."""
    models: list[type[BaseModel]] = [ErrorBody]
    for r in routes:
        for m in (r.body, r.query, r.response):
            if isinstance(m, type) and issubclass(m, BaseModel) and m not in models:
                models.append(m)
    pairs = [(m, "validation") for m in models] + [(m, "serialization") for m in models]
    refs, defs = models_json_schema(pairs, ref_template=_REF)
    schemas = defs.get("$defs", {})
    paths: dict[str, dict] = {}
    for r in routes:
        paths.setdefault(r.path, {})[r.method.lower()] = _operation(r, refs, aliases)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Seawall", "version": __version__,
                 "description": "An OpenAI- and Anthropic-compatible AI gateway, and its admin API."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "clientKey": {"type": "http", "scheme": "bearer",
                              "description": "a client key: server.api_keys or a virtual key (sw-...)"},
                "clientApiKeyHeader": {"type": "apiKey", "in": "header", "name": "x-api-key",
                                       "description": "the same key, as Anthropic clients send it"},
                "adminKey": {"type": "http", "scheme": "bearer", "description": "the admin_key"},
            },
        },
    }


def _schema(spec, refs, mode: str):
    if isinstance(spec, dict):
        return spec
    return refs[(spec, mode)]


def _operation(r: Route, refs, aliases: list[str] | None) -> dict:
    op_id = re.sub(r"[^a-zA-Z0-9]+", "_", f"{r.method.lower()}{r.path}").strip("_")
    op: dict = {"operationId": op_id, "summary": r.summary, "tags": [r.tag] if r.tag else []}
    params = [{"name": name, "in": "path", "required": True,
               "schema": {"type": "string", "minLength": 1, "maxLength": 128}}
              for name in re.findall(r"{(\w+)}", r.path)]
    if r.query is not None:
        for name, f in r.query.model_fields.items():
            schema = _not_null(r.query.model_json_schema(ref_template=_REF)["properties"][f.alias or name])
            params.append({"name": f.alias or name, "in": "query", "required": f.is_required(), "schema": schema})
    if params:
        op["parameters"] = params
    if r.body is not None:
        body = _schema(r.body, refs, "validation")
        if aliases and isinstance(r.body, dict) and "model" in body.get("properties", {}):
            body = {**body, "properties": {**body["properties"], "model": {
                **body["properties"]["model"], "enum": sorted(aliases)}}}
        op["requestBody"] = {"required": isinstance(r.body, dict) or _has_required(r.body),
                             "content": {"application/json": {"schema": body}}}
    if r.response is not None:
        ok = {"description": r.summary or "OK",
              "content": {"application/json": {"schema": _schema(r.response, refs, "serialization")}}}
    elif r.path == "/metrics":
        ok = {"description": "Prometheus text exposition", "content": {"text/plain": {"schema": {"type": "string"}}}}
    else:
        ok = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    shape = ANTHROPIC_ERROR if r.path == "/v1/messages" else refs[(ErrorBody, "serialization")]
    err = {"content": {"application/json": {"schema": shape}}}
    op["responses"] = {str(r.status): ok, **{code: {"description": d, **err} for code, d in _ERRORS.items()}}
    if r.auth in _SECURITY:
        op["security"] = _SECURITY[r.auth]
    else:
        op["security"] = []
    return op


def _has_required(model: type[BaseModel]) -> bool:
    return any(f.is_required() for f in model.model_fields.values())


def _not_null(schema: dict) -> dict:
    """A query parameter is absent or a string: drop the `null` branch of an optional one."""
    options = [o for o in schema.get("anyOf", ()) if o.get("type") != "null"]
    if len(options) == 1:
        schema = {**{k: v for k, v in schema.items() if k not in ("anyOf", "default")}, **options[0]}
    return schema
