"""CLI: `seawall policy test FILE` (CI for policies) and `seawall approvals ...` (approvers).

    seawall policy test cases.yaml [-c seawall.yaml] [--policies a.cedar ...]   exit 1 on a mismatch
    seawall approvals list [--status pending] -c seawall.yaml
    seawall approvals show ID -c seawall.yaml
    seawall approvals approve|deny ID --reason "..." [--approver NAME] -c seawall.yaml
    seawall approvals approve ID --arguments '{"ids": [1]}' --reason "..."   an edit: run these instead

Verdicts given here are audited (the approver, the reason, `via: cli`) through the governance
audit log, and counted in the gateways' override metric by their next sweep.

A case file is a list (YAML or JSON) of actions with what the policies must decide:

    - principal: {key: k1, user: ann, team: ops, department: eng}
      server: crm
      operation: refund
      arguments: {amount: 5000}
      expect: degrade                      # allow | deny | degrade | escalate
      expect_arguments: {amount: 100}      # optional: the arguments after the rewrite
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys

import yaml

from ..config import load_or_exit, parse
from ..core.types import Principal


def add_commands(subparsers, audited=None) -> None:
    """`audited(cfg)`: an async context giving (SQL engine, core.types.AuditLog) for the approvals
    commands; the CLI hands over governance (this package does not import govern/)."""
    p = subparsers.add_parser("policy", help="check action policies (docs/actions.md)")
    ps = p.add_subparsers(dest="policy_command", required=True)
    c = ps.add_parser("test", help="evaluate a file of actions against the policies; exit 1 on a mismatch")
    c.add_argument("file")
    c.add_argument("--config", "-c", help="configuration file (its actions section)")
    c.add_argument("--policies", nargs="*", default=None, help="Cedar files (instead of the config's)")
    c.set_defaults(func=_policy_test)

    p = subparsers.add_parser("approvals", help="list, show, approve and deny escalated actions")
    ap = p.add_subparsers(dest="approvals_command", required=True)
    c = ap.add_parser("list")
    c.add_argument("--config", "-c", required=True)
    c.add_argument("--status", choices=["pending", "approved", "denied", "executed", "expired"])
    c.set_defaults(func=_approvals("list", audited))
    c = ap.add_parser("show")
    c.add_argument("--config", "-c", required=True)
    c.add_argument("id")
    c.set_defaults(func=_approvals("show", audited))
    for verb in ("approve", "deny"):
        c = ap.add_parser(verb)
        c.add_argument("--config", "-c", required=True)
        c.add_argument("id")
        c.add_argument("--reason", required=True)
        c.add_argument("--approver", default="cli")
        if verb == "approve":
            c.add_argument("--arguments", help="JSON object: approve an edited version of the action")
        c.set_defaults(func=_approvals(verb, audited))


def _service(cfg, engine=None, audit=None):
    from .service import ActionsService

    return ActionsService(cfg, engine, audit=audit)


def _policy_test(args: argparse.Namespace) -> int:
    from .policy import PolicyError
    from .service import Action

    if args.config:
        cfg = load_or_exit(args.config)
    else:
        cfg = parse({"providers": [{"name": "none", "base_url": "http://127.0.0.1:9"}],
                     "models": [{"name": "none", "targets": [{"provider": "none", "model": "none"}]}]})
    if args.policies is not None:
        cfg.actions.policies = list(args.policies)
        cfg.actions.policy_text = ""
    cfg.actions.enabled = True
    service = _service(cfg)
    try:
        service.reload()
    except PolicyError as exc:
        print(f"policies: {exc}", file=sys.stderr)
        return 2
    try:
        with open(args.file) as f:
            cases = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    if not isinstance(cases, list):
        print(f"{args.file}: expected a list of cases", file=sys.stderr)
        return 2
    failed = 0
    for i, case in enumerate(cases):
        p = case.get("principal") or {}
        who = Principal(key_id=p.get("key") or f"case-{i}", user_id=p.get("user"), team_id=p.get("team"),
                        department_id=p.get("department"))
        action = Action(server=case["server"], operation=case["operation"], arguments=case.get("arguments") or {},
                        record=case.get("record"), hints=case.get("hints"),
                        injection=float(case.get("injection", 0.0)), sensitivity=case.get("sensitivity", "none"))
        service.rates.seen.clear()  # each case on its own: no rate from the ones before
        d = service.decide(who, action)
        ok = d.decision == case.get("expect")
        if ok and "expect_arguments" in case:
            ok = d.arguments == case["expect_arguments"]
        failed += not ok
        name = case.get("name") or f"case {i + 1}"
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {action.tool} -> {d.decision} "
              f"(policies {', '.join(d.policies) or 'none'}; risk {d.risk})"
              + ("" if ok else f"; expected {case.get('expect')}"
                 + (f" with {case['expect_arguments']}" if "expect_arguments" in case else "")
                 + f", got arguments {d.arguments}"))
    print(f"{len(cases) - failed}/{len(cases)} as expected (policy version {service.engine.version})")
    return 1 if failed else 0


def _approvals(verb: str, audited):
    def cmd(args: argparse.Namespace) -> int:
        cfg = load_or_exit(args.config)
        return asyncio.run(_approvals_run(cfg, verb, args, audited))

    return cmd


@contextlib.asynccontextmanager
async def _unaudited(cfg):
    from ..store.sql import make_engine, migrate

    engine = make_engine(cfg.store.sql, timeout_s=cfg.store.sql_timeout_s)
    try:
        if cfg.store.migrate:
            await migrate(engine)
        yield engine, None
    finally:
        await engine.dispose()


async def _approvals_run(cfg, verb: str, args, audited) -> int:
    from ..core.errors import GatewayError

    arguments = None
    if getattr(args, "arguments", None) is not None:
        try:
            arguments = json.loads(args.arguments)
        except ValueError:
            arguments = None
        if not isinstance(arguments, dict):
            print("--arguments must be a JSON object", file=sys.stderr)
            return 2
    async with (audited or _unaudited)(cfg) as (engine, audit):
        if verb in ("list", "show"):  # reading needs the table alone, not the policy engine (cedarpy)
            from .approvals import Approvals

            approvals = Approvals(engine)
            out = await (approvals.list(args.status) if verb == "list" else approvals.get(args.id))
            if out is None:
                print(f"no approval {args.id!r}", file=sys.stderr)
                return 1
        else:
            service = _service(cfg, engine, audit)
            if arguments is not None:  # an edit passes the policies again; policies that fail to load refuse it
                from .policy import PolicyError

                try:
                    service.reload()
                except PolicyError as exc:
                    print(f"policies: {exc}", file=sys.stderr)
                    return 2
            try:
                out = await service.decide_approval(args.id, verb == "approve", args.approver, args.reason,
                                                    arguments=arguments, via="cli")
            except GatewayError as exc:
                print(exc.message, file=sys.stderr)
                return 1
        print(json.dumps(out, indent=2, default=str))
        return 0
