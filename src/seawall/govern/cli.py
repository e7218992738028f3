"""CLI wrappers for governance: `seawall departments|teams|keys|limits|budgets ...`,
`seawall audit ...`, `seawall db upgrade`.

They work on the stores named in the configuration file directly (SQL, and the state store
to tell running instances about changes; running gateways also poll a SQL change counter),
so they work with the gateway up or down. Input is validated by the admin API's own body
models (govern/schemas.py), so the CLI and the API accept and refuse the same things.

    seawall departments create sales -c seawall.yaml [--name Sales]
    seawall teams create crm --department sales -c seawall.yaml
    seawall keys create -c seawall.yaml --user ann --team crm [--create-missing] [--models m1,m2]
    seawall keys list|show ID|update ID ...|rotate ID [--grace-s N]|revoke ID|delete ID -c seawall.yaml
    seawall limits create --scope team --scope-id crm --rpm 60 -c seawall.yaml
    seawall budgets create --scope team --scope-id crm --amount-usd 100 -c seawall.yaml
    (each of departments, teams, limits, budgets: create, list, show, update, delete)
    seawall audit verify -c seawall.yaml        exit 0 intact, 1 tampered
    seawall audit retain -c seawall.yaml --days 90
    seawall db upgrade -c seawall.yaml
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from ..config import load_or_exit


def add_commands(subparsers) -> None:
    _governance_commands(subparsers)

    p = subparsers.add_parser("audit", help="verify the audit log's hash chain; apply retention")
    au = p.add_subparsers(dest="audit_command", required=True)
    c = au.add_parser("verify", help="exit 0 if the chain is intact, 1 if a record was changed, removed or moved")
    _config(c)
    c.set_defaults(func=_run(_audit_verify))
    c = au.add_parser("retain", help="delete records older than --days, in batches")
    _config(c)
    c.add_argument("--days", type=float, required=True)
    c.set_defaults(func=_run(_audit_retain))

    p = subparsers.add_parser("db", help="database migrations")
    db = p.add_subparsers(dest="db_command", required=True)
    c = db.add_parser("upgrade", help="bring the schema to the latest migration")
    _config(c)
    c.set_defaults(func=_run(_db_upgrade))


def _config(p) -> None:
    p.add_argument("--config", "-c", required=True, help="YAML configuration file")


def _run(fn):
    def cmd(args: argparse.Namespace) -> int:
        cfg = load_or_exit(args.config)
        return asyncio.run(_with_gov(cfg, fn, args))

    return cmd


async def _with_gov(cfg, fn, args) -> int:
    from ..core.errors import GatewayError
    from .service import Governance

    gov = Governance(cfg)
    gov.audit = None if fn in (_audit_verify, _audit_retain, _db_upgrade) else gov.audit
    try:
        if fn is not _db_upgrade:
            if cfg.store.migrate:
                from ..store.sql import migrate

                await migrate(gov.engine)
            if fn not in (_audit_verify, _audit_retain):  # these read the audit tables alone
                await gov.reload()
            if gov.audit is not None:
                gov.audit.start()
        return await fn(gov, args)
    except GatewayError as e:  # a clear one-line error, never a traceback
        print(f"error: {e.message}", file=sys.stderr)
        return 2
    finally:
        await gov.aclose()


def _out(obj) -> None:
    print(json.dumps(obj, indent=2, default=str))


def _list(csv: str | None) -> list[str] | None:
    return [x.strip() for x in csv.split(",") if x.strip()] if csv else None



# ---- departments, teams, keys, limits, budgets -------------------------------------------

def _governance_commands(subparsers) -> None:
    def group(name, help):
        return subparsers.add_parser(name, help=help).add_subparsers(dest=f"{name}_command", required=True)

    def cmd(parent, name, help, fn, *, id=False):
        c = parent.add_parser(name, help=help)
        _config(c)
        if id:
            c.add_argument("id")
        c.set_defaults(func=_run(fn))
        return c

    g = group("departments", "create, list, show, update and delete departments")
    c = cmd(g, "create", "create a department", _department_create, id=True)
    c.add_argument("--name", default="")
    cmd(g, "list", "list departments", lambda gov, a: _print(_admin(gov).list_departments()))
    cmd(g, "show", "show a department", lambda gov, a: _print(_admin(gov).get_department(a.id)), id=True)
    c = cmd(g, "update", "rename a department", _department_update, id=True)
    c.add_argument("--name")
    cmd(g, "delete", "delete a department (its teams and active keys must go first)",
        lambda gov, a: _print(_admin(gov).delete_department(a.id)), id=True)

    g = group("teams", "create, list, show, update and delete teams")
    for name, help, fn in (("create", "create a team", _team_create), ("update", "update a team", _team_update)):
        c = cmd(g, name, help, fn, id=True)
        c.add_argument("--department")
        c.add_argument("--name", default=None)
        c.add_argument("--models", help="allowed model aliases, comma-separated (default: any)")
        c.add_argument("--departments", help="what x-seawall-department may name for the team's keys")
    cmd(g, "list", "list teams", lambda gov, a: _print(_admin(gov).list_teams()))
    cmd(g, "show", "show a team", lambda gov, a: _print(_admin(gov).get_team(a.id)), id=True)
    cmd(g, "delete", "delete a team (its active keys must be revoked first)",
        lambda gov, a: _print(_admin(gov).delete_team(a.id)), id=True)

    g = group("keys", "create, list, show, update, rotate and revoke virtual API keys")
    c = cmd(g, "create", "create a key (printed once)", _keys_create)
    c.add_argument("--user")
    c.add_argument("--team")
    c.add_argument("--department")
    c.add_argument("--create-missing", action="store_true", help="create the team and department if they do not exist")
    for p in (c, cmd(g, "update", "update a key's name, models, expiry or departments", _keys_update, id=True)):
        p.add_argument("--name", default=None)
        p.add_argument("--models", help="allowed model aliases, comma-separated (default: any)")
        p.add_argument("--expires-in-s", type=float)
        p.add_argument("--allow-department-header", action="store_true", default=None)
        p.add_argument("--departments", help="what x-seawall-department may name, comma-separated "
                       "(with --allow-department-header; default: the team's list)")
        p.add_argument("--webhook-url", help="webhook for this key's async jobs that name none "
                       "(signed with jobs.webhooks.secret)" + ("; '' clears it" if p is not c else ""))
    cmd(g, "list", "list keys (never their secrets)", lambda gov, a: _print(_admin(gov).list_keys()))
    cmd(g, "show", "show a key", lambda gov, a: _print(_admin(gov).get_key(a.id)), id=True)
    c = cmd(g, "rotate", "new secret; the old one stays valid for --grace-s", _keys_rotate, id=True)
    c.add_argument("--grace-s", type=float, default=3600.0)
    for name in ("revoke", "delete"):  # a key is never deleted: its history stays with the audit log
        cmd(g, name, "revoke a key on every instance", lambda gov, a: _print(_admin(gov).revoke_key(a.id)), id=True)

    for what, extra in (("limits", "rate limits"), ("budgets", "budgets")):
        g = group(what, f"create, list, show, update and delete {extra}")
        one = what[:-1]
        c = cmd(g, "create", f"set a {one} (upsert by scope{' and model' if one == 'limit' else ' and period'})",
                _limit_create if one == "limit" else _budget_create)
        c.add_argument("--scope", required=True)
        c.add_argument("--scope-id", required=True)
        u = cmd(g, "update", f"change a {one}", _limit_update if one == "limit" else _budget_update, id=True)
        if one == "limit":
            c.add_argument("--model", default="*")
            for p in (c, u):
                p.add_argument("--rpm", type=int)
                p.add_argument("--tpm", type=int)
        else:
            c.add_argument("--period", default="monthly")
            for p, default in ((c, True), (u, None)):
                p.add_argument("--amount-usd", type=float, required=p is c)
                p.add_argument("--soft", dest="hard", action="store_false", default=default,
                               help="warn only: requests over the budget still pass")
                if p is u:
                    p.add_argument("--hard", dest="hard", action="store_true")
        lister = (lambda gov, a: _print(_admin(gov).list_limits())) if one == "limit" else \
            (lambda gov, a: _print(_admin(gov).list_budgets()))
        cmd(g, "list", f"list {extra}", lister)
        cmd(g, "show", f"show a {one}", lambda gov, a, one=one: _print(_admin(gov).get(one, a.id)), id=True)
        cmd(g, "delete", f"delete a {one}", lambda gov, a, one=one: _print(_admin(gov).delete(one, a.id)), id=True)


def _admin(gov):
    from .admin import Admin

    return Admin(gov)


async def _print(coro) -> int:
    _out(await coro)
    return 0


def _body(schema, /, **fields):
    """Validated by the admin API's body model; only the options given (None: not given)."""
    from ..web.router import validate

    return validate(schema, {k: v for k, v in fields.items() if v is not None}, strict=False)


async def _department_create(gov, a) -> int:
    from . import schemas as s

    return await _print(_admin(gov).create_department(**_body(s.DepartmentIn, id=a.id, name=a.name).model_dump()))


async def _department_update(gov, a) -> int:
    from . import schemas as s

    body = _body(s.DepartmentUpdate, name=a.name)
    return await _print(_admin(gov).update_department(a.id, **body.model_dump(exclude_unset=True)))


def _team_fields(a) -> dict:
    return {"department": a.department, "name": a.name, "allowed_models": _list(a.models),
            "allowed_departments": _list(a.departments)}


async def _team_create(gov, a) -> int:
    from . import schemas as s

    return await _print(_admin(gov).create_team(**_body(s.TeamIn, id=a.id, **_team_fields(a)).model_dump()))


async def _team_update(gov, a) -> int:
    from . import schemas as s

    body = _body(s.TeamUpdate, **_team_fields(a))
    return await _print(_admin(gov).update_team(a.id, **body.model_dump(exclude_unset=True)))


def _key_fields(a) -> dict:
    return {"name": a.name, "allowed_models": _list(a.models), "expires_in_s": a.expires_in_s,
            "allow_department_header": a.allow_department_header, "allowed_departments": _list(a.departments),
            "webhook_url": a.webhook_url or None}


async def _keys_create(gov, a) -> int:
    from . import schemas as s

    body = _body(s.KeyIn, user=a.user, team=a.team, department=a.department, create_missing=a.create_missing,
                 **_key_fields(a))
    _out(await _admin(gov).create_key(**body.model_dump()))
    print("store this key now: it is not shown again", file=sys.stderr)
    return 0


async def _keys_update(gov, a) -> int:
    from . import schemas as s

    body = _body(s.KeyUpdate, **_key_fields(a))
    fields = body.model_dump(exclude_unset=True)
    if a.webhook_url == "":  # --webhook-url '': clear it
        fields["webhook_url"] = None
    return await _print(_admin(gov).update_key(a.id, **fields))


async def _keys_rotate(gov, a) -> int:
    from . import schemas as s

    return await _print(_admin(gov).rotate_key(a.id, _body(s.RotateIn, grace_s=a.grace_s).grace_s))


async def _limit_create(gov, a) -> int:
    from . import schemas as s

    body = _body(s.LimitIn, scope=a.scope, scope_id=a.scope_id, model=a.model, rpm=a.rpm, tpm=a.tpm)
    return await _print(_admin(gov).set_limit(**body.model_dump()))


async def _limit_update(gov, a) -> int:
    from . import schemas as s

    body = _body(s.LimitUpdate, rpm=a.rpm, tpm=a.tpm)
    return await _print(_admin(gov).update_limit(a.id, **body.model_dump(exclude_unset=True)))


async def _budget_create(gov, a) -> int:
    from . import schemas as s

    body = _body(s.BudgetIn, scope=a.scope, scope_id=a.scope_id, amount_usd=a.amount_usd, period=a.period,
                 hard=a.hard)
    return await _print(_admin(gov).set_budget(**body.model_dump()))


async def _budget_update(gov, a) -> int:
    from . import schemas as s

    body = _body(s.BudgetUpdate, amount_usd=a.amount_usd, hard=a.hard)
    return await _print(_admin(gov).update_budget(a.id, **body.model_dump(exclude_unset=True)))


async def _audit_verify(gov, a) -> int:
    from .audit import NoAuditHead, verify

    try:
        res = await verify(gov.engine)
    except NoAuditHead as e:
        print(f"cannot verify the audit log: {e}; is this the gateway's database? "
              f"Create the schema with `seawall db upgrade -c {a.config}`", file=sys.stderr)
        return 2
    if res.ok:
        print(f"audit log intact: {res.checked} records verified")
        return 0
    print(f"audit log TAMPERED at record {res.seq}: {res.problem} ({res.checked} records verified before it)")
    return 1


async def _audit_retain(gov, a) -> int:
    from .audit import retain

    n = await retain(gov.engine, time.time() - a.days * 86400)
    print(f"deleted {n} audit records older than {a.days:g} days")
    return 0


async def _db_upgrade(gov, a) -> int:
    from ..store.sql import migrate

    await migrate(gov.engine)
    print("database schema is up to date")
    return 0
