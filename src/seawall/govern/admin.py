"""Admin operations on keys, teams, departments, limits and budgets, and usage reports.

Used by the admin HTTP routes and the CLI alike. Every change is written to SQL, recorded in
the audit log, and published so every instance reloads its directory.
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import sqlalchemy as sa

from ..core.errors import GatewayError
from ..store import sql
from . import audit as audit_mod
from .keys import hash_key, hint, new_id, new_key

SCOPES_LIMIT = ("key", "team", "department", "model")
SCOPES_BUDGET = ("key", "team", "department")
PERIODS = ("daily", "monthly", "total")
GROUPS = {"department": "department_id", "team": "team_id", "key": "key_id", "model": "alias", "day": "day",
          "user": "user_id"}


def _bad(msg: str, param: str | None = None) -> GatewayError:
    return GatewayError("invalid_request", msg, param=param)


def _conflict(msg: str) -> GatewayError:
    return GatewayError("invalid_request", msg, status=409)


def _missing(what: str, id: str, command: str) -> GatewayError:
    return GatewayError("not_found", f"no {what} {id!r}: create it first (`{command}`, or POST /admin/{what}s), "
                        f"or pass --create-missing (create_missing: true) to create it with the key",
                        param=what)


def _row(r) -> dict:
    return {str(k): v for k, v in r._mapping.items()}  # plain str keys (orjson rejects str subclasses)


def _key_view(r) -> dict:
    return {"id": r.id, "hint": r.hint, "name": r.name, "user": r.user_id, "team": r.team_id,
            "department": r.department_id, "allowed_models": r.allowed_models,
            "allow_department_header": bool(r.allow_department_header),
            "allowed_departments": r.allowed_departments, "expires_at": r.expires_at,
            "revoked_at": r.revoked_at, "rotation_grace_until": r.prev_until, "created_at": r.created_at,
            "webhook_url": _redact_url(r.webhook_url)}


def _webhook(url: str | None) -> str | None:
    """A key's default webhook URL, checked as a job's is at submission (plain http(s), no
    credentials, short): its address is checked again before every delivery (net/webhooks.py)."""
    from ..net.webhooks import TargetRefused, check_url  # not on the CLI's start-up path

    if url is None:
        return None
    try:
        check_url(url)
    except TargetRefused as e:
        raise _bad(str(e), "webhook_url") from None
    return url


def _redact_url(url: str | None) -> str | None:
    """Shown without its query or fragment: they often carry a token."""
    if not url:
        return url
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}{p.path}" + ("?[redacted]" if p.query or p.fragment else "")


async def _departments(c, ids) -> list[str] | None:
    """A list of existing department ids, or None."""
    if ids is None:
        return None
    if not isinstance(ids, list) or not all(isinstance(d, str) and d for d in ids):
        raise _bad("allowed_departments must be a list of department ids", "allowed_departments")
    ids = list(dict.fromkeys(ids))
    known = {r.id for r in await c.execute(sa.select(sql.departments.c.id).where(sql.departments.c.id.in_(ids)))}
    missing = [d for d in ids if d not in known]
    if missing:
        raise GatewayError("not_found", f"no department {missing[0]!r}", param="allowed_departments")
    return ids


class Admin:
    def __init__(self, gov) -> None:
        self.gov = gov
        self.engine = gov.engine

    async def _changed(self, action: str, detail: dict, actor: str = "admin") -> None:
        if self.gov.audit is not None:
            self.gov.audit.submit(audit_mod.make_record("admin", action, 200, user_id=actor, detail=detail))
        await self.gov.changed()

    # ---- departments and teams --------------------------------------------------------

    async def create_department(self, id: str, name: str = "") -> dict:
        if not id:
            raise _bad("id is required", "id")
        async with self.engine.begin() as c:
            if (await c.execute(sa.select(sql.departments.c.id).where(sql.departments.c.id == id))).first():
                raise GatewayError("invalid_request", f"department {id!r} exists", status=409)
            await c.execute(sa.insert(sql.departments).values(id=id, name=name or id, created_at=time.time()))
        await self._changed("department.create", {"id": id})
        return {"id": id, "name": name or id}

    async def list_departments(self) -> list[dict]:
        async with self.engine.connect() as c:
            return [_row(r) for r in await c.execute(sa.select(sql.departments).order_by(sql.departments.c.id))]

    async def get_department(self, id: str) -> dict:
        return await self._get(sql.departments, "department", id)

    async def update_department(self, id: str, *, name: str | None = None) -> dict:
        if name is not None:
            await self._update(sql.departments, "department", id, {"name": name or id})
        await self._changed("department.update", {"id": id, "name": name})
        return await self.get_department(id)

    async def delete_department(self, id: str) -> dict:
        """Refused while a team or an active key belongs to it; its limits and budgets go with it."""
        async with self.engine.begin() as c:
            await self._exists(c, sql.departments, "department", id)
            teams = [r.id for r in await c.execute(sa.select(sql.teams.c.id).where(sql.teams.c.department_id == id))]
            if teams:
                raise _conflict(f"department {id!r} still has team(s) {', '.join(teams[:5])}: move or delete them first")
            await self._drop_owner(c, "department", id, sql.api_keys.c.department_id)
            await c.execute(sa.delete(sql.departments).where(sql.departments.c.id == id))
        await self._changed("department.delete", {"id": id})
        return {"id": id, "deleted": True}

    # ---- shared by show, update and delete ---------------------------------------------

    async def _get(self, t: sa.Table, what: str, id: str) -> dict:
        async with self.engine.connect() as c:
            r = (await c.execute(sa.select(t).where(t.c.id == id))).first()
        if r is None:
            raise GatewayError("not_found", f"no {what} {id!r}")
        return _key_view(r) if t is sql.api_keys else _row(r)

    async def _update(self, t: sa.Table, what: str, id: str, values: dict) -> None:
        async with self.engine.begin() as c:
            res = await c.execute(sa.update(t).where(t.c.id == id).values(**values))
        if not res.rowcount:
            raise GatewayError("not_found", f"no {what} {id!r}")

    @staticmethod
    async def _exists(c, t: sa.Table, what: str, id: str) -> None:
        if not (await c.execute(sa.select(t.c.id).where(t.c.id == id))).first():
            raise GatewayError("not_found", f"no {what} {id!r}")

    @staticmethod
    async def _drop_owner(c, scope: str, id: str, key_column) -> None:
        """Before deleting a team or department: refuse while an active key belongs to it,
        detach revoked keys (the audit log keeps their history), drop its limits and budgets."""
        keys = sql.api_keys
        active = [r.id for r in await c.execute(sa.select(keys.c.id).where(key_column == id,
                                                                            keys.c.revoked_at.is_(None)))]
        if active:
            raise _conflict(f"{scope} {id!r} still has active key(s) {', '.join(active[:5])}: revoke them first")
        await c.execute(sa.update(keys).where(key_column == id).values(**{key_column.name: None}))
        for t in (sql.limits, sql.budgets):
            await c.execute(sa.delete(t).where(t.c.scope == scope, t.c.scope_id == id))

    async def create_team(self, id: str, department: str | None = None, name: str = "",
                          allowed_models: list[str] | None = None,
                          allowed_departments: list[str] | None = None) -> dict:
        """`allowed_departments`: what the team's keys with allow_department_header may name in
        x-seawall-department (unless a key has its own list)."""
        if not id:
            raise _bad("id is required", "id")
        async with self.engine.begin() as c:
            if department and not (await c.execute(
                    sa.select(sql.departments.c.id).where(sql.departments.c.id == department))).first():
                raise GatewayError("not_found", f"no department {department!r}")
            allowed_departments = await _departments(c, allowed_departments)
            if (await c.execute(sa.select(sql.teams.c.id).where(sql.teams.c.id == id))).first():
                raise GatewayError("invalid_request", f"team {id!r} exists", status=409)
            await c.execute(sa.insert(sql.teams).values(id=id, name=name or id, department_id=department,
                                                        allowed_models=allowed_models,
                                                        allowed_departments=allowed_departments, created_at=time.time()))
        await self._changed("team.create", {"id": id, "department": department,
                                            "allowed_departments": allowed_departments})
        return {"id": id, "department": department, "allowed_models": allowed_models,
                "allowed_departments": allowed_departments}

    async def list_teams(self) -> list[dict]:
        async with self.engine.connect() as c:
            return [_row(r) for r in await c.execute(sa.select(sql.teams).order_by(sql.teams.c.id))]

    async def get_team(self, id: str) -> dict:
        return await self._get(sql.teams, "team", id)

    async def update_team(self, id: str, **fields) -> dict:
        """Only the fields given change; allowed_models/allowed_departments null means any/none."""
        values = {}
        async with self.engine.begin() as c:
            await self._exists(c, sql.teams, "team", id)
            if "name" in fields:
                values["name"] = fields["name"] or id
            if "department" in fields:
                if fields["department"] is not None:
                    await self._exists(c, sql.departments, "department", fields["department"])
                values["department_id"] = fields["department"]
            if "allowed_models" in fields:
                values["allowed_models"] = fields["allowed_models"]
            if "allowed_departments" in fields:
                values["allowed_departments"] = await _departments(c, fields["allowed_departments"])
            if values:
                await c.execute(sa.update(sql.teams).where(sql.teams.c.id == id).values(**values))
        await self._changed("team.update", {"id": id, **{k: v for k, v in values.items() if k != "name"}})
        return await self.get_team(id)

    async def delete_team(self, id: str) -> dict:
        """Refused while an active key belongs to it; its limits and budgets go with it."""
        async with self.engine.begin() as c:
            await self._exists(c, sql.teams, "team", id)
            await self._drop_owner(c, "team", id, sql.api_keys.c.team_id)
            await c.execute(sa.delete(sql.teams).where(sql.teams.c.id == id))
        await self._changed("team.delete", {"id": id})
        return {"id": id, "deleted": True}

    # ---- keys -----------------------------------------------------------------------

    async def create_key(self, *, user: str | None = None, team: str | None = None, department: str | None = None,
                         name: str = "", allowed_models: list[str] | None = None, expires_in_s: float | None = None,
                         allow_department_header: bool = False, allowed_departments: list[str] | None = None,
                         create_missing: bool = False, webhook_url: str | None = None) -> dict:
        """Returns the key in plaintext: the only time it is ever shown. With
        allow_department_header, x-seawall-department may name one of `allowed_departments`
        (else one of the team's); any other department is refused. A team or department that
        does not exist is an error naming it, or is created with `create_missing`."""
        if not isinstance(allow_department_header, bool):
            raise _bad("allow_department_header must be a boolean", "allow_department_header")
        webhook_url = _webhook(webhook_url)
        key = new_key()
        kid = new_id("key_")
        now = time.time()
        created: list[str] = []
        async with self.engine.begin() as c:
            if department and not (await c.execute(
                    sa.select(sql.departments.c.id).where(sql.departments.c.id == department))).first():
                if not create_missing:
                    raise _missing("department", department, f"seawall departments create {department}")
                await c.execute(sa.insert(sql.departments).values(id=department, name=department, created_at=now))
                created.append(f"department {department}")
            if team:
                row = (await c.execute(sa.select(sql.teams).where(sql.teams.c.id == team))).first()
                if row is None:
                    if not create_missing:
                        how = f"seawall teams create {team}" + (f" --department {department}" if department else "")
                        raise _missing("team", team, how)
                    await c.execute(sa.insert(sql.teams).values(id=team, name=team, department_id=department,
                                                                created_at=now))
                    created.append(f"team {team}")
                else:
                    department = department or row.department_id
            allowed_departments = await _departments(c, allowed_departments)
            await c.execute(sa.insert(sql.api_keys).values(
                id=kid, key_hash=hash_key(key, self.gov.pepper), hint=hint(key), name=name, user_id=user,
                team_id=team, department_id=department, allowed_models=allowed_models,
                allow_department_header=allow_department_header, allowed_departments=allowed_departments,
                expires_at=now + expires_in_s if expires_in_s else None, created_at=now, webhook_url=webhook_url))
        await self._changed("key.create", {"id": kid, "user": user, "team": team, "department": department,
                                           "allowed_departments": allowed_departments, "created": created,
                                           "webhook": webhook_url is not None})
        return {"id": kid, "key": key, "hint": hint(key), "user": user, "team": team, "department": department,
                "allowed_models": allowed_models, "allow_department_header": allow_department_header,
                "allowed_departments": allowed_departments, "expires_at": now + expires_in_s if expires_in_s else None,
                "webhook_url": _redact_url(webhook_url)}

    async def list_keys(self) -> list[dict]:
        async with self.engine.connect() as c:
            return [_key_view(r) for r in await c.execute(sa.select(sql.api_keys).order_by(sql.api_keys.c.created_at))]

    async def get_key(self, kid: str) -> dict:
        return await self._get(sql.api_keys, "key", kid)

    async def update_key(self, kid: str, **fields) -> dict:
        """Name, allowed models, expiry and the department header; never the secret (rotate)
        nor the owner (a new key). Only the fields given change."""
        values = {k: fields[k] for k in ("name", "allow_department_header") if fields.get(k) is not None}
        if "allowed_models" in fields:
            values["allowed_models"] = fields["allowed_models"]
        if "expires_in_s" in fields:
            values["expires_at"] = time.time() + fields["expires_in_s"] if fields["expires_in_s"] else None
        if "webhook_url" in fields:  # null clears it
            values["webhook_url"] = _webhook(fields["webhook_url"])
        async with self.engine.begin() as c:
            r = (await c.execute(sa.select(sql.api_keys.c.revoked_at).where(sql.api_keys.c.id == kid))).first()
            if r is None or r.revoked_at is not None:
                raise GatewayError("not_found", f"no active key {kid!r}")
            if "allowed_departments" in fields:
                values["allowed_departments"] = await _departments(c, fields["allowed_departments"])
            if values:
                await c.execute(sa.update(sql.api_keys).where(sql.api_keys.c.id == kid).values(**values))
        await self._changed("key.update", {"id": kid, **{k: v for k, v in values.items() if k != "name"},
                                           **({"webhook_url": _redact_url(values["webhook_url"])}
                                              if "webhook_url" in values else {})})
        return await self.get_key(kid)

    async def rotate_key(self, kid: str, grace_s: float = 3600.0) -> dict:
        """A new secret for the same key (limits, budgets and history stay); the old one
        keeps working for `grace_s` seconds."""
        key = new_key()
        now = time.time()
        async with self.engine.begin() as c:
            r = (await c.execute(sa.select(sql.api_keys).where(sql.api_keys.c.id == kid))).first()
            if r is None or r.revoked_at is not None:
                raise GatewayError("not_found", f"no active key {kid!r}")
            await c.execute(sa.update(sql.api_keys).where(sql.api_keys.c.id == kid).values(
                key_hash=hash_key(key, self.gov.pepper), hint=hint(key),
                prev_hash=r.key_hash if grace_s > 0 else None, prev_until=now + grace_s if grace_s > 0 else None))
        await self._changed("key.rotate", {"id": kid, "grace_s": grace_s})
        return {"id": kid, "key": key, "hint": hint(key), "previous_valid_until": now + grace_s}

    async def revoke_key(self, kid: str) -> dict:
        async with self.engine.begin() as c:
            res = await c.execute(sa.update(sql.api_keys).where(sql.api_keys.c.id == kid).values(
                revoked_at=time.time(), prev_hash=None, prev_until=None))
        if not res.rowcount:
            raise GatewayError("not_found", f"no key {kid!r}")
        await self._changed("key.revoke", {"id": kid})
        return {"id": kid, "revoked": True}

    # ---- limits and budgets -----------------------------------------------------------

    async def set_limit(self, *, scope: str, scope_id: str, model: str = "*", rpm: int | None = None,
                        tpm: int | None = None) -> dict:
        if scope not in SCOPES_LIMIT:
            raise _bad(f"scope must be one of {', '.join(SCOPES_LIMIT)}", "scope")
        if not scope_id:
            raise _bad("scope_id is required", "scope_id")
        for name, v in (("rpm", rpm), ("tpm", tpm)):
            if v is not None and (not isinstance(v, int) or v < 1):
                raise _bad(f"{name} must be a positive integer", name)
        if rpm is None and tpm is None:
            raise _bad("set rpm, tpm or both", "rpm")
        lid = await self._upsert(sql.limits, "lim_", {"scope": scope, "scope_id": scope_id, "model": model},
                                 {"rpm": rpm, "tpm": tpm})
        out = {"id": lid, "scope": scope, "scope_id": scope_id, "model": model, "rpm": rpm, "tpm": tpm}
        await self._changed("limit.set", out)
        return out

    async def _upsert(self, t: sa.Table, prefix: str, match: dict, values: dict) -> str:
        """Update the row that `match` identifies, or insert it; returns its id."""
        async with self.engine.begin() as c:
            row = (await c.execute(sa.select(t.c.id).where(*(t.c[k] == v for k, v in match.items())))).first()
            if row:
                await c.execute(sa.update(t).where(t.c.id == row.id).values(**values))
                return row.id
            rid = new_id(prefix)
            await c.execute(sa.insert(t).values(id=rid, **match, **values, created_at=time.time()))
            return rid

    async def list_limits(self) -> list[dict]:
        async with self.engine.connect() as c:
            return [_row(r) for r in await c.execute(sa.select(sql.limits).order_by(sql.limits.c.created_at))]

    async def get(self, what: str, id: str) -> dict:
        """A limit or a budget."""
        return await self._get({"limit": sql.limits, "budget": sql.budgets}[what], what, id)

    async def update_limit(self, id: str, **fields) -> dict:
        """rpm and tpm; null removes one (one must stay)."""
        current = await self.get("limit", id)
        merged = {k: fields.get(k, current[k]) for k in ("rpm", "tpm")}
        if merged["rpm"] is None and merged["tpm"] is None:
            raise _bad("a limit needs rpm, tpm or both (delete it instead)", "rpm")
        await self._update(sql.limits, "limit", id, merged)
        await self._changed("limit.update", {"id": id, **merged})
        return await self.get("limit", id)

    async def update_budget(self, id: str, **fields) -> dict:
        """amount_usd and hard (the scope and period identify a budget: make a new one)."""
        values = {k: fields[k] for k in ("amount_usd", "hard") if fields.get(k) is not None}
        await self.get("budget", id)
        if values:
            await self._update(sql.budgets, "budget", id, values)
        await self._changed("budget.update", {"id": id, **values})
        return await self.get("budget", id)

    async def delete(self, what: str, id: str) -> dict:
        table = {"limit": sql.limits, "budget": sql.budgets}[what]
        async with self.engine.begin() as c:
            res = await c.execute(sa.delete(table).where(table.c.id == id))
        if not res.rowcount:
            raise GatewayError("not_found", f"no {what} {id!r}")
        await self._changed(f"{what}.delete", {"id": id})
        return {"id": id, "deleted": True}

    async def set_budget(self, *, scope: str, scope_id: str, amount_usd: float, period: str = "monthly",
                         hard: bool = True) -> dict:
        if scope not in SCOPES_BUDGET:
            raise _bad(f"scope must be one of {', '.join(SCOPES_BUDGET)}", "scope")
        if period not in PERIODS:
            raise _bad(f"period must be one of {', '.join(PERIODS)}", "period")
        if not isinstance(amount_usd, (int, float)) or amount_usd < 0:
            raise _bad("amount_usd must be a number >= 0", "amount_usd")
        bid = await self._upsert(sql.budgets, "bud_", {"scope": scope, "scope_id": scope_id, "period": period},
                                 {"amount_usd": float(amount_usd), "hard": hard})
        out = {"id": bid, "scope": scope, "scope_id": scope_id, "period": period, "amount_usd": float(amount_usd),
               "hard": hard}
        await self._changed("budget.set", out)
        return out

    async def list_budgets(self) -> list[dict]:
        from .service import MICRO, period_tag

        async with self.engine.connect() as c:
            rows = [_row(r) for r in await c.execute(sa.select(sql.budgets).order_by(sql.budgets.c.created_at))]
        now = time.time()
        for b in rows:
            key = self.gov.state.store.key("bg", b["id"], period_tag(b["period"], now)[0])
            try:
                used = await self.gov.state.call("get", key)
                b["spent_usd"] = int(used or 0) / MICRO  # settled spend plus open reservations
            except Exception:  # noqa: BLE001
                b["spent_usd"] = None
        return rows

    # ---- usage ------------------------------------------------------------------------

    async def usage(self, *, group_by: list[str], start: str | None = None, end: str | None = None,
                    filters: dict[str, str] | None = None, limit: int = 100, offset: int = 0) -> dict:
        """Requests, tokens and cost grouped by any of department, team, key, user, model,
        day; days are YYYY-MM-DD (UTC), both ends included."""
        if not group_by:
            group_by = ["department"]
        bad = [g for g in group_by if g not in GROUPS]
        if bad:
            raise _bad(f"cannot group by {bad[0]!r} (use {', '.join(GROUPS)})", "group_by")
        limit = max(1, min(int(limit), 10000))
        t = sql.audit_log
        cols = [getattr(t.c, GROUPS[g]).label(g) for g in group_by]
        q = sa.select(*cols, sa.func.count().label("requests"),
                      sa.func.sum(t.c.prompt_tokens).label("prompt_tokens"),
                      sa.func.sum(t.c.completion_tokens).label("completion_tokens"),
                      sa.func.sum(t.c.cost_usd).label("cost_usd")).where(t.c.kind == "request")
        if start:
            q = q.where(t.c.day >= start)
        if end:
            q = q.where(t.c.day <= end)
        for g, v in (filters or {}).items():
            if g not in GROUPS:
                raise _bad(f"cannot filter by {g!r}", g)
            q = q.where(getattr(t.c, GROUPS[g]) == v)
        q = q.group_by(*cols).order_by(*cols).limit(limit + 1).offset(int(offset))
        async with self.engine.connect() as c:
            rows = [_row(r) for r in await c.execute(q)]
        more = len(rows) > limit
        rows = rows[:limit]
        for r in rows:
            r["cost_usd"] = round(float(r["cost_usd"] or 0), 6)
            r["prompt_tokens"] = int(r["prompt_tokens"] or 0)
            r["completion_tokens"] = int(r["completion_tokens"] or 0)
        return {"object": "list", "group_by": group_by, "data": rows,
                "next_offset": offset + limit if more else None}
