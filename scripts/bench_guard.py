#!/usr/bin/env python3
"""Latency of the guards (p50 / p95), printed as a Markdown table.

* input guard, pattern path only (secrets + PII patterns + injection heuristics), 1 KB prompt
* input guard with the MiniLM classifier, 1 KB prompt (each iteration a distinct prompt, so
  the embedding cache never hits), and the cache-hit case (same prompt again)
* output stream scanner + token restore, 1 KB answer in 16-character chunks
* optional ``--ner``: the Presidio + spaCy NER path on the same prompt

    HF_HUB_OFFLINE=1 python scripts/bench_guard.py [--n 2000] [--n-clf 60] [--ner]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from seawall.guard import Guard, GuardPolicy  # noqa: E402

BASE = (
    "Hi, I'm preparing the quarterly review for the Berlin office. Please summarise the points below "
    "in five bullet points for the leadership team and flag any risks. Revenue grew 12% to 4.3 million "
    "while costs rose 7%, mostly because of two new hires in support and the move to the new building. "
    "Customer churn fell from 3.1% to 2.4% after the onboarding changes shipped in March. The mobile app "
    "rewrite is two sprints late; the team blames the payment SDK upgrade. Questions from finance should "
    "go to maria.keller@example.com or +49 30 901820 during office hours. We still need a decision on the "
    "vendor contract renewal (due 30 June) and on whether to open a second support shift for APAC "
    "customers. Keep the tone neutral and avoid jargon; the audience includes people from legal and HR "
    "who are not close to the product work. End with three questions we should answer before the board "
    "meeting, and suggest an owner for each one based on the notes above. Thanks a lot for the help!"
)


def prompt_1kb(i: int | None = None) -> str:
    text = BASE if i is None else f"[{i}] " + BASE
    return (text + " " * 1024)[:1024]


# a 2 KB e-mail pasted into a user message (bench_pasted.py, bench_tool.py)
PASTED_EMAIL = ("Summarise this e-mail for me in three bullet points:\n\n" + "\n".join(
    f"Hi team, update {i}: the supplier confirmed the delivery of the pallets for week {i}. Please reply by Friday "
    f"if your site cannot receive them, and click the portal link to confirm the slot. Thanks, Dana" for i in range(12)))[:2048]


def req(text: str) -> dict:
    return {"model": "m", "messages": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": text}]}


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


async def time_input(guard: Guard, policy: GuardPolicy, n: int, vary: bool) -> list[float]:
    out = []
    for i in range(n):
        r = req(prompt_1kb(i if vary else None))
        t = time.perf_counter()
        d = await guard.check_input(r, policy)
        out.append((time.perf_counter() - t) * 1000)
        assert d.allowed, d.reason
    return out


def time_stream(guard: Guard, policy: GuardPolicy, n: int) -> list[float]:
    answer = prompt_1kb()
    chunks = [answer[i : i + 16] for i in range(0, len(answer), 16)]
    out = []
    for _ in range(n):
        of = guard.output_filter(policy)
        t = time.perf_counter()
        for c in chunks:
            of.filter_chunk({"choices": [{"index": 0, "delta": {"content": c}, "finish_reason": None}]})
        of.filter_chunk({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        out.append((time.perf_counter() - t) * 1000)
    return out


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--n-clf", type=int, default=60)
    ap.add_argument("--ner", action="store_true")
    args = ap.parse_args()
    guard = Guard()
    rows = []

    pattern = GuardPolicy(injection_classifier=False)
    await time_input(guard, pattern, 50, False)  # warm-up
    xs = await time_input(guard, pattern, args.n, False)
    rows.append(("input guard, pattern path (PII + secrets + heuristics), 1 KB", xs))

    t0 = time.perf_counter()
    await guard.warm_up(classifier=True, ner=args.ner)
    load_s = time.perf_counter() - t0
    clf = guard.classifier
    cleared = clf.fast_scores({"p": prompt_1kb(0)})["p"] < clf.fast_pass
    for mode, n in (("fast", args.n // 4), ("cascade", args.n_clf), ("full", args.n_clf)):
        pol = GuardPolicy(injection_model=mode)
        await time_input(guard, pol, 3, True)
        xs = await time_input(guard, pol, n, True)
        note = f" (this prompt {'is cleared by the fast tier' if cleared else 'goes on to the transformer'})" if mode == "cascade" else ""
        rows.append((f"input guard + classifier mode={mode}, 1 KB, distinct prompts{note}", xs))
    # the injection check alone on the default path (rules + fast head, distinct prompts):
    # the issue-14 budget (<= 1 ms p50); the rows above add the PII and secrets patterns
    from seawall.guard.injection import heuristic_score

    xs = []
    for i in range(args.n // 2):
        p = prompt_1kb(10_000 + i)
        t1 = time.perf_counter()
        heuristic_score(p)
        clf.score_many([p], "fast")
        xs.append((time.perf_counter() - t1) * 1000)
    rows.append(("injection check alone: rules + fast head (default path), 1 KB, distinct prompts", xs))
    xs = await time_input(guard, GuardPolicy(injection_model="full"), args.n, False)
    rows.append(("input guard + classifier, 1 KB, repeated prompt (score cache hit)", xs))

    # the cascade on real benign prompts of varied length (what "typical traffic" costs)
    try:
        sys.path.insert(0, str(ROOT / "scripts"))
        from train_injection import default_data_dir, load_jackhhao

        texts, labels = load_jackhhao(default_data_dir(), "test")
        benign = [t for t, y in zip(texts, labels) if y == 0][: args.n_clf * 2]
        pol = GuardPolicy(injection_model="cascade")
        xs = []
        for i, t in enumerate(benign):
            r = req(f"[{i}] {t}")
            t1 = time.perf_counter()
            await guard.check_input(r, pol)
            xs.append((time.perf_counter() - t1) * 1000)
        rows.append((f"input guard + cascade on jackhhao test benign prompts (varied length, median {int(statistics.median(len(t) for t in benign))} chars)", xs))
    except FileNotFoundError:
        print("(../shared/data not found: skipping the benign-traffic cascade row)")

    xs = time_stream(guard, GuardPolicy(), max(50, args.n // 10))
    rows.append(("output: stream scan + restore, 1 KB answer in 16-char chunks (whole stream)", xs))

    if args.ner:
        ner = GuardPolicy(injection_enabled=False, pii_ner=True, ner_budget_s=30)
        await time_input(guard, ner, 3, True)
        xs = await time_input(guard, ner, max(20, args.n_clf), True)
        rows.append(("input guard + Presidio/spaCy NER, 1 KB (no classifier)", xs))

    import torch

    print(f"# bench_guard {time.strftime('%Y-%m-%d %H:%M')} — {platform.machine()}, {os.cpu_count()} CPU, "
          f"Python {platform.python_version()}, torch {torch.__version__} ({torch.get_num_threads()} thread), "
          f"model load {load_s:.1f}s\n")
    print("| case | n | p50 ms | p95 ms | mean ms |")
    print("|---|---:|---:|---:|---:|")
    for name, xs in rows:
        print(f"| {name} | {len(xs)} | {pct(xs, 0.5):.3f} | {pct(xs, 0.95):.3f} | {statistics.fmean(xs):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
