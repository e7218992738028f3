"""Admin HTTP routes for governance, under the admin key.

    POST /admin/departments {id, name}             GET /admin/departments
    POST /admin/teams {id, department, allowed_models}   GET /admin/teams
    POST /admin/keys {user, team, department, name, allowed_models, expires_in_s,
                      allow_department_header, allowed_departments}  -> the key, shown once
    GET  /admin/keys   GET /admin/keys/{id}   POST /admin/keys/{id}/rotate {grace_s}
    POST /admin/keys/{id}/revoke   (or DELETE /admin/keys/{id})
    POST /admin/limits {scope, scope_id, model, rpm, tpm}   GET /admin/limits   DELETE /admin/limits/{id}
    POST /admin/budgets {scope, scope_id, period, amount_usd, hard}  GET /admin/budgets  DELETE /admin/budgets/{id}
    GET  /admin/usage?group_by=department,model,day&from=&to=&department=&limit=&offset=
"""
from __future__ import annotations

import hmac

import orjson

from ..core.errors import GatewayError
from ..net.server import Request, Response
from ..govern.admin import GROUPS, Admin
from .http import JSON, bearer_or_key, read_json


class AdminGovern:
    def __init__(self, gateway) -> None:
        self.gov = gateway.governance
        self.admin = Admin(self.gov)
        key = gateway.config.admin_key
        self.admin_key = key.get() if key else None

    def handles(self, path: str) -> bool:
        return path.startswith("/admin/") and path.split("/")[2] in (
            "keys", "teams", "departments", "limits", "budgets", "usage")

    async def __call__(self, request: Request, rid: str, headers: dict) -> Response:
        presented = bearer_or_key(request)
        if not self.admin_key:
            raise GatewayError("permission_denied", "the admin API is disabled: set admin_key")
        if not presented or not hmac.compare_digest(presented.encode(), self.admin_key.encode()):
            raise GatewayError("invalid_api_key", "missing or invalid admin key")
        await self.gov.start()
        parts = [p for p in request.path.split("/") if p][1:]
        method = request.method
        a = self.admin
        what = parts[0]
        body: dict = {}
        if method in ("POST", "PUT", "PATCH") and (request.content_length or request.body_exists):
            body, _ = await read_json(request, 1 << 20)
        try:
            if what == "departments" and len(parts) == 1:
                out = await (a.list_departments() if method == "GET" else a.create_department(**_pick(body, "id", "name")))
            elif what == "teams" and len(parts) == 1:
                out = await (a.list_teams() if method == "GET" else a.create_team(
                    **_pick(body, "id", "department", "name", "allowed_models", "allowed_departments")))
            elif what == "keys" and len(parts) == 1:
                out = await (a.list_keys() if method == "GET" else a.create_key(**_pick(
                    body, "user", "team", "department", "name", "allowed_models", "expires_in_s",
                    "allow_department_header", "allowed_departments")))
            elif what == "keys" and len(parts) == 2:
                out = await (a.get_key(parts[1]) if method == "GET" else a.revoke_key(parts[1]))
            elif what == "keys" and len(parts) == 3 and parts[2] == "rotate" and method == "POST":
                out = await a.rotate_key(parts[1], float(body.get("grace_s", 3600.0)))
            elif what == "keys" and len(parts) == 3 and parts[2] == "revoke" and method == "POST":
                out = await a.revoke_key(parts[1])
            elif what == "limits" and len(parts) == 1:
                out = await (a.list_limits() if method == "GET" else a.set_limit(
                    **_pick(body, "scope", "scope_id", "model", "rpm", "tpm")))
            elif what == "budgets" and len(parts) == 1:
                out = await (a.list_budgets() if method == "GET" else a.set_budget(
                    **_pick(body, "scope", "scope_id", "period", "amount_usd", "hard")))
            elif what in ("limits", "budgets") and len(parts) == 2 and method == "DELETE":
                out = await a.delete(what[:-1], parts[1])
            elif what == "usage" and method == "GET":
                qs = request.query
                group = [g for g in (qs.get("group_by") or "department").split(",") if g]
                out = await a.usage(group_by=group, start=qs.get("from"), end=qs.get("to"),
                                    filters={g: qs[g] for g in GROUPS if g in qs},
                                    limit=int(qs.get("limit", 100)), offset=int(qs.get("offset", 0)))
            else:
                raise GatewayError("not_found", f"no route {method} {request.path}")
        except TypeError as e:
            raise GatewayError("invalid_request", f"bad arguments: {e}") from None
        except ValueError as e:
            raise GatewayError("invalid_request", str(e)) from None
        if isinstance(out, list):
            out = {"object": "list", "data": out}
        status = 201 if method == "POST" and len(parts) == 1 and what != "usage" else 200
        return Response(body=orjson.dumps(out), status=status, headers=headers, content_type=JSON)


def _pick(body: dict, *names: str) -> dict:
    unknown = set(body) - set(names)
    if unknown:
        raise GatewayError("invalid_request", f"unknown field {sorted(unknown)[0]!r}", param=sorted(unknown)[0])
    return {k: body[k] for k in names if k in body}
