"""Governance's admin routes, under the admin key: departments, teams, keys, limits and
budgets (create, list, show, update, delete), usage, and the audit log. The bodies are typed (govern/schemas.py); the work is in govern/admin.py, which
the CLI uses too."""
from __future__ import annotations

from ..web.router import Call, Route
from . import schemas as s
from .admin import GROUPS, Admin
from .browse import FILTERS, browse


def routes(gov) -> list[Route]:
    admin = Admin(gov)

    def op(fn):
        async def handler(call: Call):
            await gov.start()  # the directory and the SQL schema are ready
            out = await fn(call)
            if isinstance(out, list):
                out = {"object": "list", "data": out}
            return call.json(out)

        return handler

    @op
    async def create_department(call):
        return await admin.create_department(**call.body.model_dump())

    @op
    async def list_departments(call):
        return await admin.list_departments()

    @op
    async def create_team(call):
        return await admin.create_team(**call.body.model_dump())

    @op
    async def list_teams(call):
        return await admin.list_teams()

    @op
    async def create_key(call):
        return await admin.create_key(**call.body.model_dump())

    @op
    async def list_keys(call):
        return await admin.list_keys()

    @op
    async def get_key(call):
        return await admin.get_key(call.params["id"])

    @op
    async def rotate_key(call):
        return await admin.rotate_key(call.params["id"], call.body.grace_s)

    @op
    async def revoke_key(call):
        return await admin.revoke_key(call.params["id"])

    @op
    async def set_limit(call):
        return await admin.set_limit(**call.body.model_dump())

    @op
    async def list_limits(call):
        return await admin.list_limits()

    @op
    async def delete_limit(call):
        return await admin.delete("limit", call.params["id"])

    @op
    async def set_budget(call):
        return await admin.set_budget(**call.body.model_dump())

    @op
    async def list_budgets(call):
        return await admin.list_budgets()

    @op
    async def delete_budget(call):
        return await admin.delete("budget", call.params["id"])

    @op
    async def usage(call):
        q: s.UsageQuery = call.query
        group = [g for g in q.group_by.split(",") if g]
        filters = {g: getattr(q, g) for g in GROUPS if getattr(q, g) is not None}
        return await admin.usage(group_by=group, start=q.from_, end=q.to, filters=filters, limit=q.limit,
                                 offset=q.offset)

    def patch(fields):  # only what the body sent
        return fields.model_dump(exclude_unset=True)

    @op
    async def get_department(call):
        return await admin.get_department(call.params["id"])

    @op
    async def update_department(call):
        return await admin.update_department(call.params["id"], **patch(call.body))

    @op
    async def delete_department(call):
        return await admin.delete_department(call.params["id"])

    @op
    async def get_team(call):
        return await admin.get_team(call.params["id"])

    @op
    async def update_team(call):
        return await admin.update_team(call.params["id"], **patch(call.body))

    @op
    async def delete_team(call):
        return await admin.delete_team(call.params["id"])

    @op
    async def update_key(call):
        return await admin.update_key(call.params["id"], **patch(call.body))

    @op
    async def get_limit(call):
        return await admin.get("limit", call.params["id"])

    @op
    async def update_limit(call):
        return await admin.update_limit(call.params["id"], **patch(call.body))

    @op
    async def get_budget(call):
        return await admin.get("budget", call.params["id"])

    @op
    async def update_budget(call):
        return await admin.update_budget(call.params["id"], **patch(call.body))

    @op
    async def audit(call):
        q: s.AuditQuery = call.query
        filters = {f: getattr(q, f) for f in FILTERS if getattr(q, f) is not None}
        return await browse(gov.engine, filters=filters, since=q.since, until=q.until, before=q.before,
                            limit=q.limit, content=q.content)

    def admin_route(method, path, handler, summary, body=None, response=None, status=200, query=None):
        return Route(method, path, handler, auth="admin", body=body, query=query, response=response,
                     status=status, summary=summary, tag="governance")

    return [
        admin_route("POST", "/admin/departments", create_department, "Create a department", s.DepartmentIn,
                    s.Department, 201),
        admin_route("GET", "/admin/departments", list_departments, "List departments", response=s.Departments),
        admin_route("GET", "/admin/departments/{id}", get_department, "Show a department", response=s.Department),
        admin_route("PATCH", "/admin/departments/{id}", update_department, "Update a department",
                    s.DepartmentUpdate, s.Department),
        admin_route("DELETE", "/admin/departments/{id}", delete_department,
                    "Delete a department (none of its teams or active keys may remain)", response=s.Deleted),
        admin_route("POST", "/admin/teams", create_team, "Create a team", s.TeamIn, s.Team, 201),
        admin_route("GET", "/admin/teams", list_teams, "List teams", response=s.Teams),
        admin_route("GET", "/admin/teams/{id}", get_team, "Show a team", response=s.Team),
        admin_route("PATCH", "/admin/teams/{id}", update_team, "Update a team", s.TeamUpdate, s.Team),
        admin_route("DELETE", "/admin/teams/{id}", delete_team, "Delete a team (none of its active keys may remain)",
                    response=s.Deleted),
        admin_route("POST", "/admin/keys", create_key, "Create a virtual key (shown once)", s.KeyIn,
                    s.KeyCreated, 201),
        admin_route("GET", "/admin/keys", list_keys, "List keys (never their secrets)", response=s.Keys),
        admin_route("GET", "/admin/keys/{id}", get_key, "Show a key", response=s.KeyView),
        admin_route("PATCH", "/admin/keys/{id}", update_key, "Update a key's name, models, expiry or departments",
                    s.KeyUpdate, s.KeyView),
        admin_route("DELETE", "/admin/keys/{id}", revoke_key, "Revoke a key", response=s.KeyRevoked),
        admin_route("POST", "/admin/keys/{id}/revoke", revoke_key, "Revoke a key", s.Empty, s.KeyRevoked),
        admin_route("POST", "/admin/keys/{id}/rotate", rotate_key,
                    "Rotate a key's secret; the old one works for grace_s seconds", s.RotateIn, s.KeyRotated),
        admin_route("POST", "/admin/limits", set_limit, "Set a rate limit (upsert by scope and model)",
                    s.LimitIn, s.Limit, 201),
        admin_route("GET", "/admin/limits", list_limits, "List rate limits", response=s.Limits),
        admin_route("GET", "/admin/limits/{id}", get_limit, "Show a rate limit", response=s.Limit),
        admin_route("PATCH", "/admin/limits/{id}", update_limit, "Update a rate limit", s.LimitUpdate, s.Limit),
        admin_route("DELETE", "/admin/limits/{id}", delete_limit, "Delete a rate limit", response=s.Deleted),
        admin_route("POST", "/admin/budgets", set_budget, "Set a budget (upsert by scope and period)",
                    s.BudgetIn, s.Budget, 201),
        admin_route("GET", "/admin/budgets", list_budgets, "List budgets with their spend", response=s.Budgets),
        admin_route("GET", "/admin/budgets/{id}", get_budget, "Show a budget", response=s.Budget),
        admin_route("PATCH", "/admin/budgets/{id}", update_budget, "Update a budget", s.BudgetUpdate, s.Budget),
        admin_route("DELETE", "/admin/budgets/{id}", delete_budget, "Delete a budget", response=s.Deleted),
        admin_route("GET", "/admin/audit", audit, "Browse the audit log, newest first", query=s.AuditQuery,
                    response=s.AuditPage),
        admin_route("GET", "/admin/usage", usage, "Requests, tokens and cost, grouped", query=s.UsageQuery,
                    response=s.Usage),
    ]
