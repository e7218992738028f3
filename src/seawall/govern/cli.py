"""CLI wrappers for governance: `seawall keys ...`, `seawall audit ...`, `seawall db upgrade`.

They work on the stores named in the configuration file directly (SQL, and the state store
to tell running instances about changes), so they work with the gateway up or down.

    seawall keys create -c seawall.yaml --user ann --team core [--models m1,m2] [--expires-in-s N]
    seawall keys list|rotate ID [--grace-s N]|revoke ID -c seawall.yaml
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
    p = subparsers.add_parser("keys", help="create, list, rotate and revoke virtual API keys")
    ks = p.add_subparsers(dest="keys_command", required=True)
    c = ks.add_parser("create", help="create a key (printed once)")
    _config(c)
    c.add_argument("--user")
    c.add_argument("--team")
    c.add_argument("--department")
    c.add_argument("--name", default="")
    c.add_argument("--models", help="allowed model aliases, comma-separated (default: any)")
    c.add_argument("--expires-in-s", type=float)
    c.add_argument("--allow-department-header", action="store_true")
    c.add_argument("--departments", help="what x-seawall-department may name, comma-separated "
                   "(with --allow-department-header; default: the team's list)")
    c.set_defaults(func=_run(_keys_create))
    c = ks.add_parser("list", help="list keys (never their secrets)")
    _config(c)
    c.set_defaults(func=_run(_keys_list))
    c = ks.add_parser("rotate", help="new secret; the old one stays valid for --grace-s")
    _config(c)
    c.add_argument("id")
    c.add_argument("--grace-s", type=float, default=3600.0)
    c.set_defaults(func=_run(_keys_rotate))
    c = ks.add_parser("revoke", help="revoke a key on every instance")
    _config(c)
    c.add_argument("id")
    c.set_defaults(func=_run(_keys_revoke))

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
    finally:
        await gov.aclose()


def _out(obj) -> None:
    print(json.dumps(obj, indent=2, default=str))


def _list(csv: str | None) -> list[str] | None:
    return [x.strip() for x in csv.split(",") if x.strip()] if csv else None


async def _keys_create(gov, a) -> int:
    from .admin import Admin

    models = [m.strip() for m in a.models.split(",") if m.strip()] if a.models else None
    out = await Admin(gov).create_key(user=a.user, team=a.team, department=a.department, name=a.name,
                                      allowed_models=models, expires_in_s=a.expires_in_s,
                                      allow_department_header=a.allow_department_header,
                                      allowed_departments=_list(a.departments))
    _out(out)
    print("store this key now: it is not shown again", file=sys.stderr)
    return 0


async def _keys_list(gov, a) -> int:
    from .admin import Admin

    _out(await Admin(gov).list_keys())
    return 0


async def _keys_rotate(gov, a) -> int:
    from .admin import Admin

    _out(await Admin(gov).rotate_key(a.id, a.grace_s))
    return 0


async def _keys_revoke(gov, a) -> int:
    from .admin import Admin

    _out(await Admin(gov).revoke_key(a.id))
    return 0


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
