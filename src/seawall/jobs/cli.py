"""`seawall worker`: a process that only runs jobs (no HTTP face), sharing the queue with the
gateways through the SQL store. SIGTERM/SIGINT stop it; a job it was running is left leased and
is taken over by another worker when the lease lapses."""
from __future__ import annotations

import argparse
import asyncio
import signal


def cmd_worker(args: argparse.Namespace) -> int:
    from ..config import load_or_exit
    from ..gateway import Gateway

    cfg = load_or_exit(args.config)
    cfg.jobs.enabled = True
    if args.concurrency is not None:
        cfg.jobs.workers = args.concurrency
    cfg.jobs.workers = max(cfg.jobs.workers, 1)

    async def run() -> None:
        gw = Gateway(cfg)
        await gw.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print(f"seawall worker: {cfg.jobs.workers} worker(s) on {cfg.store.sql.split('@')[-1]}", flush=True)
        try:
            await stop.wait()
        finally:
            await gw.aclose()

    asyncio.run(run())
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("worker", help="run async jobs from the shared queue (no HTTP server)")
    p.add_argument("--config", "-c", required=True, help="YAML configuration file")
    p.add_argument("--concurrency", type=int, help="jobs run at once (default: jobs.workers)")
    p.set_defaults(func=cmd_worker)
