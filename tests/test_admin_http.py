"""The admin surface and client authentication through real HTTP: undeclared methods never
reach a handler (HEAD/OPTIONS/PUT/PATCH on a key do not revoke it), bad admin bodies get 400s
that name the field, /v1/models lists only the key's aliases, and a request is identified
once (at the edge), with the pipeline reusing that principal."""
from __future__ import annotations

import asyncio
import json
import socket

import pytest
from openapi_spec_validator import validate as validate_openapi

from procs import http, start_gateway, start_simulator
from seawall.api.server import start_in_process
from seawall.gateway import Gateway
from seawall.govern.admin import Admin
from seawall.govern.service import Governance

ADMIN = "adm-http-test-51c0"
ADMIN_H = {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"}


@pytest.fixture(scope="module")
def stack():
    sim = start_simulator(seed=21)
    gw = start_gateway({
        "admin_key": ADMIN, "server": {"access_log": False},
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "chat", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]},
                   {"name": "other", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}],
    })
    yield gw
    gw.stop()
    sim.stop()


def admin(gw, method, path, body=None, headers=ADMIN_H):
    data = json.dumps(body).encode() if body is not None else None
    status, h, raw = http(method, gw.url + path, data, headers)
    return status, h, (json.loads(raw) if raw else None)


def chat(gw, key, model="chat"):
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode()
    return http("POST", gw.url + "/v1/chat/completions", body,
                {"authorization": f"Bearer {key}", "content-type": "application/json"})


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PUT", "PATCH"])
def test_undeclared_methods_on_a_key_do_not_revoke_it(stack, method):
    status, _, k = admin(stack, "POST", "/admin/keys", {"user": f"u-{method.lower()}"})
    assert status == 201
    status, headers, _ = admin(stack, method, f"/admin/keys/{k['id']}")
    if method == "PATCH":  # declared since item 15: it updates, and an empty update changes nothing
        assert status == 200
    else:
        assert status == 405 and headers["allow"] == "DELETE, GET, PATCH"
    assert admin(stack, "GET", f"/admin/keys/{k['id']}")[2]["revoked_at"] is None
    assert chat(stack, k["key"])[0] == 200


def test_declared_revocation_still_works(stack):
    _, _, k = admin(stack, "POST", "/admin/keys", {"user": "to-revoke"})
    assert admin(stack, "DELETE", f"/admin/keys/{k['id']}/")[0] == 200  # trailing slash as before
    assert chat(stack, k["key"])[0] == 401


@pytest.mark.parametrize("path, body, param", [
    ("/admin/keys", {"user": "x", "team_id": "t"}, "team_id"),                    # unknown field
    ("/admin/keys", {"user": 7}, "user"),                                         # wrong type
    ("/admin/keys", {"expires_in_s": -5}, "expires_in_s"),                        # bound
    ("/admin/teams", {"id": "t", "allowed_models": "chat"}, "allowed_models"),
    ("/admin/limits", {"scope": "key", "scope_id": "k", "rpm": "10"}, "rpm"),
    ("/admin/budgets", {"scope": "team", "scope_id": "t", "amount_usd": -0.5}, "amount_usd"),
    ("/admin/departments", {"id": "d" * 65}, "id"),
    ("/admin/cache/invalidate", {"alias": "chat", "everything": True}, "everything"),
])
def test_a_bad_admin_body_gets_400_naming_the_field(stack, path, body, param):
    status, _, out = admin(stack, "POST", path, body)
    assert status == 400
    err = out["error"]
    assert err["code"] == "invalid_request" and err["param"] == param and param in err["message"]
    assert "TypeError" not in err["message"] and "argument" not in err["message"]


def test_rotation_grace_is_bounded(stack):
    _, _, k = admin(stack, "POST", "/admin/keys", {"user": "rot"})
    status, _, out = admin(stack, "POST", f"/admin/keys/{k['id']}/rotate", {"grace_s": 1e308})
    assert status == 400 and out["error"]["param"] == "grace_s"
    status, _, out = admin(stack, "POST", f"/admin/keys/{k['id']}/rotate", {"grace_s": 60})
    assert status == 200 and chat(stack, out["key"])[0] == 200


def test_usage_query_is_typed(stack):
    assert admin(stack, "GET", "/admin/usage?group_by=model&limit=5")[0] == 200
    status, _, out = admin(stack, "GET", "/admin/usage?limit=lots")
    assert status == 400 and out["error"]["param"] == "limit"
    status, _, out = admin(stack, "GET", "/admin/usage?from=yesterday")
    assert status == 400 and out["error"]["param"] == "from"


def test_the_admin_key_is_checked_on_every_admin_route(stack):
    for path in ("/admin/keys", "/admin/cache/stats", "/admin/deployments", "/admin/usage"):
        assert admin(stack, "GET", path, headers={})[0] == 401
        assert admin(stack, "GET", path, headers={"authorization": "Bearer wrong"})[0] == 401
        assert admin(stack, "GET", path, headers={"x-api-key": ADMIN})[0] == 200  # one parser for every key


def test_models_lists_only_the_aliases_the_key_may_use(stack):
    _, _, k = admin(stack, "POST", "/admin/keys", {"user": "narrow", "allowed_models": ["other"]})
    status, _, raw = http("GET", stack.url + "/v1/models", headers={"authorization": f"Bearer {k['key']}"})
    assert status == 200 and [m["id"] for m in json.loads(raw)["data"]] == ["other"]
    _, _, wide = admin(stack, "POST", "/admin/keys", {"user": "wide"})
    status, _, raw = http("GET", stack.url + "/v1/models", headers={"authorization": f"Bearer {wide['key']}"})
    assert sorted(m["id"] for m in json.loads(raw)["data"]) == ["chat", "other"]


def test_openapi_is_served_without_a_key(stack):
    status, _, raw = http("GET", stack.url + "/openapi.json")
    doc = json.loads(raw)
    assert status == 200 and doc["openapi"] == "3.1.0" and "/admin/keys/{id}" in doc["paths"]
    validate_openapi(doc)


async def test_a_request_is_identified_once(tmp_path, monkeypatch):
    sim = start_simulator(seed=22)
    seen: list = []
    identify = Governance.identify

    def counting(self, headers, alias):
        seen.append(alias)
        return identify(self, headers, alias)

    monkeypatch.setattr(Governance, "identify", counting)
    gw = Gateway.from_config({
        "server": {"access_log": False}, "store": {"sql": f"sqlite:///{tmp_path}/gw.db"},
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "chat", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]},
                   {"name": "other", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}]})
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.setblocking(False)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop = await start_in_process(gw, sock=sock)
    try:
        k = await Admin(gw.governance).create_key(user="once", allowed_models=["chat"])
        body = json.dumps({"model": "chat", "messages": [{"role": "user", "content": "hi"}]}).encode()
        h = {"authorization": f"Bearer {k['key']}", "content-type": "application/json"}
        status, _, _ = await asyncio.to_thread(http, "POST", url + "/v1/chat/completions", body, h)
        assert status == 200 and len(seen) == 1
        # the pipeline still checks the alias against the principal it was handed
        status, _, raw = await asyncio.to_thread(http, "POST", url + "/v1/chat/completions",
                                                 body.replace(b'"chat"', b'"other"'), h)
        assert status == 403 and json.loads(raw)["error"]["param"] == "model" and len(seen) == 2
        # no admin_key configured: the admin API is off
        status, _, raw = await asyncio.to_thread(http, "GET", url + "/admin/keys", None, h)
        assert status == 403 and json.loads(raw)["error"]["code"] == "permission_denied"
    finally:
        await stop()
        sim.stop()
