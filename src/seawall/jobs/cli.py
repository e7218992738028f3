"""CLI: `seawall jobs list|show|cancel|retry` for operators (docs/jobs.md, "Operating the queue").

    seawall jobs list -c seawall.yaml [--state failed ...] [--alias gpt-4o] [--key KEY_ID] [--limit 50] [--json]
    seawall jobs show JOB_ID -c seawall.yaml [--result]
    seawall jobs cancel JOB_ID -c seawall.yaml [--reason "..."] [--operator NAME] [--json]
    seawall jobs retry JOB_ID -c seawall.yaml [--reason "..."] [--operator NAME] [--json]

They work on the configured SQL store, with the gateway up or down; a running gateway's worker
learns of a cancel at its next lease renewal, exactly as for DELETE /v1/jobs/{id}. Cancels and
retries (and refusals of them) are audited (`kind: job_admin`, `via: cli`) through the
governance audit log. Exit codes: 0 done, 1 the job is in a state the command does not apply
to, 2 a malformed or unknown job id.
"""
from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import time
from datetime import datetime, timezone

from ..config import load_or_exit

# the parser names the states and the list cap without importing the store (sqlalchemy), so that
# `seawall --help` stays light (tests/test_cli_startup.py); tests/test_jobs_cli.py checks they agree
STATES = ("queued", "running", "completed", "failed", "cancelled", "expired")
MAX_LIST = 1000


def add_jobs_commands(subparsers, audited) -> None:
    """`audited(cfg)`: an async context giving (SQL engine, core.types.AuditLog), handed over by the
    CLI so this package does not import govern/."""
    p = subparsers.add_parser("jobs", help="list, show, cancel and retry async jobs (docs/jobs.md)")
    js = p.add_subparsers(dest="jobs_command", required=True)
    c = js.add_parser("list", help="jobs newest first, filtered by state, alias or key")
    _config(c)
    c.add_argument("--state", action="append", choices=STATES, help="repeatable; default: every state")
    c.add_argument("--alias", help="the model alias the job was submitted for")
    c.add_argument("--key", help="a virtual key's id, or a tenant as jobs store it (key:..., static:...)")
    c.add_argument("--limit", type=int, default=50, help=f"at most this many (1..{MAX_LIST}, default 50)")
    c.add_argument("--json", action="store_true", help="a JSON list instead of a table")
    c.set_defaults(func=_cmd("list", audited))
    c = js.add_parser("show", help="one job: state, attempts, error, webhook deliveries")
    _config(c)
    c.add_argument("id")
    c.add_argument("--result", action="store_true", help="include the full result")
    c.set_defaults(func=_cmd("show", audited))
    for verb, what in (("cancel", "a queued or running job -> cancelled"),
                       ("retry", "a failed, cancelled or expired job -> queued, its attempts reset")):
        c = js.add_parser(verb, help=what)
        _config(c)
        c.add_argument("id")
        c.add_argument("--reason", default="", help="recorded in the audit log")
        c.add_argument("--operator", default=None, help="who is acting (default: the login name)")
        c.add_argument("--json", action="store_true", help="print the job afterwards as JSON")
        c.set_defaults(func=_cmd(verb, audited))


def _config(p) -> None:
    p.add_argument("--config", "-c", required=True, help="YAML configuration file")


def _cmd(verb: str, audited):
    def cmd(args: argparse.Namespace) -> int:
        cfg = load_or_exit(args.config)
        return asyncio.run(_run(cfg, verb, args, audited))

    return cmd


def _operator(args) -> str:
    if args.operator:
        return args.operator
    try:
        return getpass.getuser()
    except Exception:  # no login name in a bare container
        return "cli"


async def _run(cfg, verb: str, args, audited) -> int:
    from . import ops
    from .queue import Queue

    if verb == "list" and not 1 <= args.limit <= MAX_LIST:
        print(f"--limit must be between 1 and {MAX_LIST}", file=sys.stderr)
        return 2
    if verb != "list" and not ops.JOB_ID.match(args.id):
        print(f"{args.id!r} is not a job id (job_ followed by hex digits)", file=sys.stderr)
        return 2
    async with audited(cfg) as (engine, audit):
        if verb == "list":
            rows = await ops.list_jobs(engine, states=args.state, alias=args.alias, key=args.key, limit=args.limit)
            print(json.dumps(rows, indent=2) if args.json else _table(rows))
            return 0
        row = await ops.get_row(engine, args.id)
        if row is None:
            print(f"no job {args.id} in {_where(cfg)}", file=sys.stderr)
            return 2
        if verb == "show":
            print(json.dumps(ops.operator_view(row, with_result=args.result), indent=2, default=str))
            return 0
        operator, before = _operator(args), row.status
        who = json.loads(row.principal) if row.principal else {}
        detail = {"job_id": args.id, "via": "cli", "action": verb, "from": before, "reason": args.reason}

        def record(outcome: str, status: int, **extra) -> None:
            audit.record("job_admin", outcome, status, user_id=operator, key_id=who.get("key_id"),
                         alias=row.alias, detail={**detail, **extra})

        try:
            if verb == "cancel":
                if before not in ops.CANCELLABLE_STATES:
                    raise ops.Refused(f"job {args.id} is {before}; only queued or running jobs can be cancelled")
                job = await Queue(engine).cancel(args.id, None)
                if job is None or job.status != "cancelled":  # finished between the look and the write
                    raise ops.Refused(f"job {args.id} is {job.status if job else 'gone'}; it finished first")
            else:
                await ops.retry(engine, args.id, cfg.jobs.default_ttl_s)
        except ops.Refused as e:
            record("refused", 409, message=str(e))
            print(str(e), file=sys.stderr)
            return 1
        except LookupError:  # purged between the look and the write
            print(f"no job {args.id} in {_where(cfg)}", file=sys.stderr)
            return 2
        after = "cancelled" if verb == "cancel" else "queued"
        record(after if verb == "cancel" else "retried", 200)
        if args.json:
            print(json.dumps(ops.operator_view(await ops.get_row(engine, args.id)), indent=2, default=str))
        else:
            print(f"job {args.id}: {before} -> {after}"
                  + (" (its worker stops at its next lease renewal)" if before == "running" else ""))
        return 0


def _where(cfg) -> str:
    """The store, named without credentials."""
    url = str(cfg.store.sql)
    return url.split("@", 1)[-1] if "@" in url else url


def _age(ts: float | None) -> str:
    if ts is None:
        return "-"
    s = max(0.0, time.time() - ts)
    return f"{s:.0f}s" if s < 120 else f"{s / 60:.0f}m" if s < 7200 else f"{s / 3600:.0f}h" if s < 172800 \
        else f"{s / 86400:.0f}d"


def _table(rows: list[dict]) -> str:
    if not rows:
        return "no jobs"
    head = ("ID", "STATUS", "KIND", "MODEL", "TENANT", "ATTEMPTS", "CREATED (UTC)", "AGE", "ERROR")
    lines = [head]
    for r in rows:
        created = datetime.fromtimestamp(r["created_at"], timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        lines.append((r["id"], r["status"], r["kind"], r["model"], r["tenant"],
                      f"{r['attempts']}/{r['max_attempts']}", created, _age(r["created_at"]), r["error_code"] or ""))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(line, widths)).rstrip() for line in lines)
