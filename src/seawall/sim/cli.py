"""Command line of the simulator: `add_arguments` fills a parser, `run` serves until a signal."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import TYPE_CHECKING

from .faults import Faults

if TYPE_CHECKING:
    from .server import Simulator


def _window(text: str) -> list[float]:
    try:
        start, end = (float(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:END in seconds, got {text!r}") from None
    return [start, end]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    a = parser.add_argument
    a("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    a("--port", type=int, default=8900, help="port to listen on; 0 picks a free one")
    a("--seed", type=int, default=0, help="seed for content and fault decisions")
    a("--models", default="", help="comma-separated model names to list in /v1/models")
    a("--require-key", metavar="KEY", default=None,
      help="answer 401 unless this key is sent (Bearer, x-api-key or api-key)")
    a("--rpm", type=int, default=None, metavar="N",
      help="answer at most N requests per minute (429 beyond), with OpenAI's x-ratelimit-*-requests headers")
    a("--rpm-burst", type=int, default=None, metavar="B",
      help="with --rpm: at most B requests at once (default N, a full minute's worth)")
    g = parser.add_argument_group("faults (all changeable at runtime via POST /_sim/faults)")
    g.add_argument("--latency-ms", type=float, default=0.0,
                   help="delay before answering; the p50 when --latency-p99-ms is set")
    g.add_argument("--latency-p99-ms", type=float, default=None,
                   help="heavy-tailed latency: lognormal with this p99")
    g.add_argument("--error-rate", type=float, default=0.0, help="share of requests failing")
    g.add_argument("--error-status", type=int, default=500,
                   help="status of injected errors (429, 500, 502, 503, 529, ...)")
    g.add_argument("--retry-after-s", type=float, default=1.0, help="Retry-After on 429")
    g.add_argument("--hang", action="store_true", help="accept requests and never answer")
    g.add_argument("--reset-rate", type=float, default=0.0,
                   help="share of connections aborted without a response")
    g.add_argument("--stall-after-chunks", type=int, default=None,
                   help="streams stop after N events and hang")
    g.add_argument("--malformed-rate", type=float, default=0.0,
                   help="share answered 200 with invalid JSON")
    g.add_argument("--error-body-rate", type=float, default=0.0,
                   help="share answered 200 with an error object as the body")
    g.add_argument("--ttft-ms", type=float, default=0.0, help="streams: delay before 1st event")
    g.add_argument("--chunk-ms", type=float, default=0.0, help="streams: delay between events")
    g.add_argument("--outage", type=_window, nargs="+", action="extend", default=[],
                   metavar="START:END", help="down between these seconds after start")
    g.add_argument("--flap-period-s", type=float, default=0.0,
                   help="flapping: period of the down/up cycle")
    g.add_argument("--flap-down-s", type=float, default=0.0,
                   help="flapping: seconds down at the start of every period")
    g.add_argument("--outage-status", type=int, default=503, help="status while down")


def faults_from_args(args: argparse.Namespace) -> Faults:
    return Faults.from_dict({
        "latency_ms": args.latency_ms, "latency_p99_ms": args.latency_p99_ms,
        "error_rate": args.error_rate, "error_status": args.error_status,
        "retry_after_s": args.retry_after_s, "hang": bool(args.hang),
        "reset_rate": args.reset_rate, "stall_after_chunks": args.stall_after_chunks,
        "malformed_rate": args.malformed_rate, "error_body_rate": args.error_body_rate,
        "ttft_ms": args.ttft_ms, "chunk_ms": args.chunk_ms, "outage": list(args.outage),
        "flap_period_s": args.flap_period_s, "flap_down_s": args.flap_down_s,
        "outage_status": getattr(args, "outage_status", 503),
    })


async def _serve(sim: Simulator, host: str, port: int) -> None:
    await sim.start(host=host, port=port)
    print(f"seawall simulator listening on {sim.url} (seed {sim.seed})", flush=True)
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, done.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - e.g. Windows
            pass
    try:
        await done.wait()
    finally:
        await sim.stop()


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; returns the process exit code."""
    from .server import Simulator  # here, not at the top: `seawall --help` builds this parser too

    try:
        faults = faults_from_args(args)
    except ValueError as e:
        print(f"seawall simulate: {e}", file=sys.stderr)
        return 2
    models = [m.strip() for m in (args.models or "").split(",") if m.strip()]
    if args.rpm is not None and args.rpm < 1 or args.rpm_burst is not None and args.rpm_burst < 1:
        print("seawall simulate: --rpm and --rpm-burst must be at least 1", file=sys.stderr)
        return 2
    sim = Simulator(faults=faults, seed=args.seed, models=models, require_key=args.require_key,
                    rpm=args.rpm, rpm_burst=args.rpm_burst)
    try:
        import uvloop  # type: ignore[import-not-found]
        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is optional (e.g. Windows)
        runner = asyncio.run
    try:
        runner(_serve(sim, args.host, args.port))
    except OSError as e:  # e.g. the port is taken
        print(f"seawall simulate: {e}", file=sys.stderr)
        return 1
    return 0
