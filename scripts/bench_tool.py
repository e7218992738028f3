#!/usr/bin/env python3
"""A/B latency of the injection rules on a 1 KB benign tool output (role="tool") and on the bench's
1 KB prompt (role "user" and "tool"): run it alternately with each tree's src and compare the best
medians (docs/benchmarks.md, "Tool-content rules as named records").

    python scripts/bench_tool.py /path/to/tree/src [n]     # prints a dict of medians (us)
"""
import os
import statistics
import sys
import time
from pathlib import Path

src = os.path.abspath(sys.argv[1])
sys.path.insert(0, src)
import seawall  # noqa: E402  (the tree under test, before bench_guard puts its own src first)
assert seawall.__file__.startswith(src), seawall.__file__
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_guard as bg  # noqa: E402
from seawall.guard.injection import heuristic_score  # noqa: E402

# a help-centre article as a retrieval tool returns it: the words the tool rules' gates look for
# ("assistant", "agent", "AI", "note", "if you", "when", "call", "send", "user") without an attack
TOOL_1KB = (
    "Help centre > Billing > Refunds\nUpdated 3 March. Note: refunds above 500 EUR need approval from the team lead. "
    "If you work on the billing desk, open the order in the admin console, check the payment status and "
    "send the customer the refund form. When the form comes back, call the payments API (POST /v1/refunds) with the "
    "order id; the AI assistant in the console can fill in the amount for you (the user field is the customer's "
    "login name, the system field the payment provider). Agents must reply to the customer within 24 hours and close the "
    "ticket after the refund is confirmed. Hi team, please forward questions about chargebacks to the finance "
    "channel. Model numbers (X200, X300) are on the invoice. The chatbot answers simple refund questions; it hands "
    "over to a person when the customer asks for one. After you read the policy, take the short quiz in the "
    "learning portal. Changelog: v2 adds partial refunds; v3 removes the legacy form.")[:1024]


def best_median(f, n):
    xs = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        xs.append((time.perf_counter() - t) * 1e6)
    return statistics.median(xs)


def main(n):
    out = {}
    for i in range(200):  # warm the regex caches
        heuristic_score(f"[{i}] " + TOOL_1KB, "tool")
    k = iter(range(10**9))
    out["rules tool 1KB us"] = best_median(lambda: heuristic_score(f"[{next(k)}] " + TOOL_1KB, "tool"), n)
    out["rules prompt 1KB user us"] = best_median(lambda: heuristic_score(bg.prompt_1kb(next(k)), "user"), n)
    out["rules prompt 1KB tool us"] = best_median(lambda: heuristic_score(bg.prompt_1kb(next(k)), "tool"), n)
    print(repr(out))


main(int(sys.argv[2]) if len(sys.argv) > 2 else 2000)
