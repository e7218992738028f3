"""The router's matching (path parameters, 404, 405 with Allow), the typed admin bodies' 400s
(which name the field, in our words), and the /openapi.json document (a valid OpenAPI 3.1
that covers every route)."""
from __future__ import annotations

import math

import pytest
from openapi_spec_validator import validate as validate_openapi

from seawall.api.app import App
from seawall.api.openapi import document
from seawall.web.router import Route, Router, validate
from seawall.cache.routes import InvalidateIn
from seawall.core.errors import GatewayError
from seawall.gateway import Gateway
from seawall.govern import schemas as s


async def _handler(call):
    return None


def router() -> Router:
    return Router([
        Route("GET", "/admin/keys", _handler),
        Route("POST", "/admin/keys", _handler),
        Route("GET", "/admin/keys/{id}", _handler),
        Route("DELETE", "/admin/keys/{id}", _handler),
        Route("POST", "/admin/keys/{id}/rotate", _handler),
    ])


def test_path_parameters_are_bound_and_decoded():
    r = router()
    route, params = r.match("GET", "/admin/keys/key_1")
    assert route.path == "/admin/keys/{id}" and params == {"id": "key_1"}
    route, params = r.match("POST", "/admin/keys/a%20b/rotate")
    assert route.path == "/admin/keys/{id}/rotate" and params == {"id": "a b"}
    assert r.match("GET", "/admin/keys")[0].path == "/admin/keys"


@pytest.mark.parametrize("path", ["/admin/nothing", "/admin/keys/k/nothing", "/admin/keys/" + "x" * 129,
                                  "/admin/keys/%0a", "/admin/keys/k/rotate/more"])
def test_unknown_paths_are_404(path):
    with pytest.raises(GatewayError) as e:
        router().match("GET", path)
    assert e.value.status == 404 and e.value.code == "not_found"


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PUT", "PATCH", "POST"])
def test_an_undeclared_method_on_a_template_is_405_with_allow(method):
    with pytest.raises(GatewayError) as e:
        router().match(method, "/admin/keys/key_1")
    assert e.value.status == 405
    assert e.value.headers["allow"] == "DELETE, GET"


def test_an_undeclared_method_on_a_static_path_is_405_with_allow():
    with pytest.raises(GatewayError) as e:
        router().match("DELETE", "/admin/keys")
    assert e.value.status == 405 and e.value.headers["allow"] == "GET, POST"


def test_a_route_declared_twice_is_refused():
    with pytest.raises(ValueError):
        Router([Route("GET", "/a/{id}", _handler), Route("GET", "/a/{id}", _handler)])


@pytest.mark.parametrize("model, body, param, words", [
    (s.KeyIn, {"user": "u", "colour": "red"}, "colour", "unknown field"),
    (s.KeyIn, {"user": 5}, "user", "must be a string"),
    (s.KeyIn, {"expires_in_s": -5}, "expires_in_s", "> 0"),
    (s.KeyIn, {"expires_in_s": 11 * 365 * 86400}, "expires_in_s", "<="),
    (s.KeyIn, {"expires_in_s": "60"}, "expires_in_s", "must be a number"),
    (s.KeyIn, {"allowed_models": "chat"}, "allowed_models", "must be a list"),
    (s.RotateIn, {"grace_s": 1e308}, "grace_s", "<="),
    (s.RotateIn, {"grace_s": -1}, "grace_s", ">= 0"),
    (s.LimitIn, {"scope": "team", "scope_id": "t", "rpm": 0}, "rpm", ">= 1"),
    (s.LimitIn, {"scope": "team", "scope_id": "t", "tpm": True}, "tpm", "must be an integer"),
    (s.LimitIn, {"scope": "team", "scope_id": "t"}, "rpm", "set rpm, tpm or both"),
    (s.LimitIn, {"scope": "planet", "scope_id": "t", "rpm": 1}, "scope", "must be one of"),
    (s.BudgetIn, {"scope": "team", "scope_id": "t", "amount_usd": -1}, "amount_usd", ">= 0"),
    (s.BudgetIn, {"scope": "team", "scope_id": "t", "amount_usd": math.inf}, "amount_usd", "finite"),
    (s.BudgetIn, {"scope": "team", "scope_id": "t"}, "amount_usd", "is required"),
    (s.DepartmentIn, {"id": ""}, "id", "must not be empty"),
    (s.DepartmentIn, {"id": "d" * 65}, "id", "at most 64"),
    (s.DepartmentIn, {"id": "a\x00b"}, "id", "characters"),
    (InvalidateIn, {}, "alias", "give alias, tenant or prefix"),
    (InvalidateIn, {"all": "yes"}, "all", "must be a boolean"),
])
def test_a_bad_admin_body_is_400_naming_the_field(model, body, param, words):
    with pytest.raises(GatewayError) as e:
        validate(model, body, strict=True)
    err = e.value
    assert err.status == 400 and err.code == "invalid_request"
    assert err.param == param and words in err.message
    assert "Input should" not in err.message and "pydantic" not in err.message  # our words, not the library's


def test_good_admin_bodies_pass_with_defaults():
    assert validate(s.RotateIn, {}, strict=True).grace_s == 3600.0
    assert validate(s.RotateIn, {"grace_s": 30 * 86400}, strict=True).grace_s == 30 * 86400
    k = validate(s.KeyIn, {"user": "ann", "expires_in_s": 60, "allowed_models": ["chat"]}, strict=True)
    assert k.expires_in_s == 60 and k.allowed_models == ["chat"]
    q = validate(s.UsageQuery, {"group_by": "team,day", "from": "2026-01-01", "limit": "5"}, strict=False)
    assert q.from_ == "2026-01-01" and q.limit == 5


@pytest.fixture
def app(tmp_path):
    gw = Gateway.from_config({
        "admin_key": "adm", "store": {"sql": f"sqlite:///{tmp_path}/gw.db"},
        "providers": [{"name": "p", "base_url": "http://127.0.0.1:9/v1"}],
        "models": [{"name": "chat", "targets": [{"provider": "p", "model": "m"}]}]})
    return App(gw)


def test_openapi_document_is_valid_and_covers_every_route(app):
    doc = document(app.router.routes, aliases=["chat"])
    validate_openapi(doc)  # OpenAPI 3.1
    assert doc["openapi"].startswith("3.1")
    for r in app.router.routes:
        assert r.method.lower() in doc["paths"][r.path], (r.method, r.path)
    for path in ("/v1/chat/completions", "/v1/embeddings", "/v1/models", "/v1/messages", "/healthz", "/readyz",
                 "/metrics", "/admin/keys/{id}/rotate", "/admin/usage", "/admin/cache/invalidate",
                 "/admin/deployments"):
        assert path in doc["paths"]
    schemas = doc["components"]["schemas"]
    assert schemas["KeyIn"]["additionalProperties"] is False
    assert schemas["RotateIn"]["properties"]["grace_s"]["maximum"] == 30 * 86400
    rotate = doc["paths"]["/admin/keys/{id}/rotate"]["post"]
    assert rotate["security"] == [{"adminKey": []}]
    assert rotate["parameters"][0]["name"] == "id"
    chat = doc["paths"]["/v1/chat/completions"]["post"]
    assert chat["requestBody"]["content"]["application/json"]["schema"]["properties"]["model"]["enum"] == ["chat"]
    assert {"clientKey", "adminKey"} <= set(doc["components"]["securitySchemes"])
