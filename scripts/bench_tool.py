#!/usr/bin/env python3
"""A/B latency of the injection rules (``heuristic_score``) on a 1 KB benign tool output (role
"tool"), on the bench's 1 KB prompt (role "user" and "tool") and on bench_pasted's 2 KB pasted
e-mail (role "user"): run it alternately with each tree's src and compare the best figures per tree
(docs/benchmarks.md, "Tool-content rules as named records"). Each figure is the fastest of 15 runs of
100 calls (the minimum: the machine is shared).

    python scripts/bench_tool.py /path/to/tree/src     # prints a dict of microseconds per call
"""
import os
import sys
import timeit
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


def main() -> None:
    out = {}
    for name, text, role in (("tool 1KB as tool", TOOL_1KB, "tool"), ("prompt 1KB as user", bg.prompt_1kb(), "user"),
                             ("prompt 1KB as tool", bg.prompt_1kb(), "tool"), ("pasted 2KB e-mail as user", bg.PASTED_EMAIL, "user")):
        heuristic_score(text, role)  # warm the regex caches
        out[name] = round(min(timeit.repeat(lambda: heuristic_score(text, role), number=100, repeat=15)) / 100 * 1e6, 1)
    print(repr(out))


main()
