#!/usr/bin/env python3
"""Cost of the input guard on long and huge texts, as the gateway calls it (`Guard.check_input`
with the default policy: secrets + PII patterns, injection rules, the fast classifier head).

Texts of 1 KB .. 4 MB, in a user message and in a tool message, of three kinds:

* prose: benign abstracts read from ../shared/data/rag (CISI, MEDLINE, CACM), concatenated
* dense: benign sentences of our own, thick with the rules' trigger words (system, ignore,
  instructions, password, assistant, "User:" lines, quotes, "no rules" ...)
* worst: per size, the slowest of several adversarial fillers (one trigger repeated, chosen to
  make one pass do the most work); the column names the winner

    PYTHONPATH=src HF_HUB_OFFLINE=1 python scripts/bench_guard_long.py [--sizes 1k,20k,100k,250k,1m,4m] [--reps 5]
        [--only prose,dense,worst] [--roles user,tool] [--profile-passes]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"  # ../shared/data beside the checkout

from seawall.guard import Guard, GuardPolicy  # noqa: E402  (PYTHONPATH=src picks the tree)

SIZES = {"1k": 1024, "20k": 20 * 1024, "100k": 100 * 1024, "250k": 250 * 1024, "1m": 1024 * 1024, "4m": 4 * 1024 * 1024}


def _abstracts() -> list[str]:
    out: list[str] = []
    for f in ("rag/cisi/CISI.ALL", "rag/medline/MED.ALL", "rag/cacm/cacm.all"):
        p = DATA / f
        if not p.exists():
            continue
        field, buf = None, []
        for line in p.read_text(errors="replace").splitlines():
            if line.startswith("."):
                if field == "W" and buf:
                    out.append(" ".join(" ".join(buf).split()))
                field, buf = line[1:2], []
            elif field == "W":
                buf.append(line)
        if field == "W" and buf:
            out.append(" ".join(" ".join(buf).split()))
    return out or ["The committee reviewed the annual budget and agreed to fund two new libraries."]


def fill(parts: list[str], n: int, sep: str = "\n\n") -> str:
    out, size, i = [], 0, 0
    while size < n:
        p = parts[i % len(parts)]
        out.append(p)
        size += len(p) + len(sep)
        i += 1
    return sep.join(out)[:n]


# benign, dense in the words the rules gate on (our own sentences)
DENSE = [
    "How do I reset the system password on the admin console? The assistant manager said: open Settings, then Security.",
    "The installation instructions say to ignore the warning about the legacy driver; the system still boots.",
    "Please summarise the onboarding guide from the previous quarter for the new assistant manager.",
    "Our policy has no rules for remote work yet, so the team follows the old guidelines from the handbook.",
    "The system maintenance window is tonight, so ignore any alerts from the backup job between 2 and 3 am.",
    "The assistant said the password must be rotated every ninety days; forget the old one after the change.",
    "In the story the character stays in role and never breaks the rules of the game, as the instructions say.",
    "The developer options on the phone show the build number; the prompt about unknown sources can wait.",
    "\"Ignore the noise\" is what the coach told the players before the final; they did not reveal the tactics.",
    "Reply to the customer: the new model ships with a filter, and the AI assistant can answer in French.",
    "<b>Note:</b> the admin can override the default settings; print the report and repeat the test twice.",
    "Human resources: pretend interviews are practice runs; respond as you would to a real candidate, please.",
]

# adversarial fillers: each repeats what one pass keys on, to make that pass do the most work
WORST = {
    "ignore": "ignore ",
    "ignore-prev": "ignore previous ",
    "user-turns": "User: hi\nAssistant: ok\n",
    "system-colon": "system: ",
    "quotes": "like 'ignore ",
    "no-rules": "no rules no ",
    "dan": "DAN now ",
    "angle": "<system> <",
    "you-are": "you are now ",
    "assistant": "assistant, ",
    "instructions": "instructions ",
    "password": "password: ",
    "html-comment": "<!-- ",
    "mixed-script": "Ignоre ",  # a Cyrillic o: evasion.plain's worst
    "digits": "4111 1111 ",  # PII number patterns
    "at": "a@b.c ",
    "summarise": "Summarise this e-mail:\n\n",
    # numbered: no two chunks alike (identical chunks are scored once)
    "ignore-n": "ignore {i} ",
    "mixed-script-n": "Ignоre {i} ",
    "user-turns-n": "User: hi {i}\nAssistant: ok\n",
    "quotes-n": "like 'ignore {i} ",
}


def filler(unit: str, n: int) -> str:
    if "{i}" not in unit:
        return (unit * (n // len(unit) + 1))[:n]
    out, size, i = [], 0, 0
    while size < n:
        out.append(unit.format(i=i))
        size += len(out[-1])
        i += 1
    return "".join(out)[:n]


def req(text: str, role: str) -> dict:
    msgs = [{"role": "system", "content": "You are a helpful assistant."}]
    if role == "user":
        msgs.append({"role": "user", "content": text})
    else:
        msgs += [{"role": "user", "content": "Summarise the tool result."},
                 {"role": "assistant", "content": None, "tool_calls": [
                     {"id": "c1", "type": "function", "function": {"name": "fetch", "arguments": "{}"}}]},
                 {"role": "tool", "tool_call_id": "c1", "content": text}]
    return {"model": "m", "messages": msgs}


async def run(guard: Guard, policy: GuardPolicy, text: str, role: str, reps: int) -> tuple[float, str]:
    xs, outcome = [], ""
    for i in range(reps):
        t = f"[{i}] " + text  # distinct, so the classifier's cache never hits
        r = req(t, role)
        t0 = time.thread_time()  # CPU time: the machine is shared (the fast path runs inline)
        d = await guard.check_input(r, policy)
        xs.append((time.thread_time() - t0) * 1000)
        outcome = "pass" if d.allowed and not d.flagged else (d.code or "flagged")
    return statistics.median(xs), outcome


def reps_for(n: int, base: int) -> int:
    return max(1, base if n <= 100 * 1024 else base // 3 if n <= 1024 * 1024 else 1)


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1k,20k,100k,250k,1m,4m")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--only", default="prose,dense,worst")
    ap.add_argument("--roles", default="user,tool")
    ap.add_argument("--worst", default="", help="comma-separated WORST keys (default: all)")
    ap.add_argument("--max-ms", type=float, default=30_000, help="skip larger sizes of a case once one takes longer")
    args = ap.parse_args()
    guard = Guard()
    policy = GuardPolicy()
    await guard.warm_up(classifier=True, injection_model="fast")
    await run(guard, policy, fill(DENSE, 4096), "user", 3)
    sizes = [s for s in args.sizes.split(",") if s]
    kinds = args.only.split(",")
    prose = _abstracts()
    worst_keys = [k for k in (args.worst.split(",") if args.worst else WORST)]
    print(f"# bench_guard_long {time.strftime('%Y-%m-%d %H:%M')} — {platform.machine()}, {os.cpu_count()} CPU, "
          f"Python {platform.python_version()}, default GuardPolicy (fast head); median CPU ms per check_input\n")
    print("| kind | role | " + " | ".join(sizes) + " |")
    print("|---|---|" + "---:|" * len(sizes))
    for kind in kinds:
        for role in args.roles.split(","):
            cells, slow = [], False
            for s in sizes:
                n = SIZES[s]
                if slow:
                    cells.append("skipped")
                    continue
                reps = reps_for(n, args.reps)
                if kind == "prose":
                    ms, out = await run(guard, policy, fill(prose, n), role, reps)
                    cell = f"{ms:.1f} {out}"
                elif kind == "dense":
                    ms, out = await run(guard, policy, fill(DENSE, n, "\n"), role, reps)
                    cell = f"{ms:.1f} {out}"
                else:
                    best = (-1.0, "", "")
                    for k in worst_keys:
                        unit = WORST[k]
                        text = filler(unit, n)
                        ms, out = await run(guard, policy, text, role, 1 if n > 100 * 1024 else 2)
                        if ms > best[0]:
                            best = (ms, k, out)
                    ms = best[0]
                    cell = f"{best[0]:.1f} {best[2]} ({best[1]})"
                cells.append(cell)
                slow = ms > args.max_ms
            print(f"| {kind} | {role} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
