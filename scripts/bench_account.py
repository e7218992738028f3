"""What the account stage's end-of-request work costs, before and after the access-log line
gained the key hint, team, cache result, guard decision and cost (issue 13, item 20).

In process, no I/O: `Account._done` for one finished request, with the access log on (the JSON
formatter writing to a discarding stream) and off. The "before" code is read from git (the
commit given by --before), so the two run side by side on the same machine in one process.

    PYTHONPATH=src python scripts/bench_account.py [--n 200000] [--before bcc1fed]
"""
from __future__ import annotations

import argparse
import io
import logging
import subprocess
import sys
import time
import types

from seawall.core.types import Meta, Principal, Request
from seawall.observe import account as new_account
from seawall.observe.logging import JsonFormatter
from seawall.observe.metrics import Metrics


def old_module(commit: str) -> types.ModuleType:
    src = subprocess.run(["git", "show", f"{commit}:src/seawall/observe/account.py"], capture_output=True,
                         text=True, check=True).stdout
    mod = types.ModuleType("seawall.observe._account_before")
    mod.__package__ = "seawall.observe"
    exec(compile(src, "account_before.py", "exec"), mod.__dict__)
    return mod


def run(mod, metrics, log_on: bool, n: int) -> float:
    acc = mod.Account(metrics, log_on)
    p = Principal("key_1", None, "sre", "ops", hint="sw-ab…")
    meta = Meta("r1", deployment="sim/m", attempts=1, usage={"prompt_tokens": 12, "completion_tokens": 40},
                cost_usd=0.00012, cache="miss", guard_outcome="pass")
    req = Request("chat", "m", {}, False, meta, principal=p, headers={"authorization": "Bearer sw-abcdefghijklmnop"})
    for _ in range(2000):  # warm the label cache
        metrics.enter()
        acc._done(req, "ok", 200)
    t = time.perf_counter()
    for _ in range(n):
        metrics.enter()
        acc._done(req, "ok", 200)
    return (time.perf_counter() - t) / n * 1e6


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--before", default="bcc1fed")
    args = ap.parse_args()
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(JsonFormatter())
    sink = logging.getLogger("seawall.request")
    sink.handlers[:] = [handler]
    sink.propagate = False
    sink.setLevel(logging.INFO)
    before = old_module(args.before)
    metrics = Metrics(["m"])
    for log_on in (False, True):
        for name, mod in (("before", before), ("after", new_account), ("before", before), ("after", new_account)):
            handler.stream = io.StringIO()
            us = run(mod, metrics, log_on, args.n)
            print(f"access_log={'on ' if log_on else 'off'} {name:6s} {us:6.2f} us/request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
