"""`seawall eval cache PAIRS.jsonl [--config FILE --alias NAME]`: measure the semantic cache
on your own pairs of prompts before turning it on.

Each input line is ``{"a": str, "b": str}`` (other fields ignored). For each pair, in a fresh
tenant namespace of the real semantic cache, ``a`` is stored as a one-user-message chat and
``b`` looked up with the alias's semantic policy (the shipped defaults without --config). One
line per input, in order, on stdout; the field names are a contract:

    {"served": bool, "score": float|null, "reason": str|null}

``score`` is the best candidate's cosine (null when there was none), ``reason`` why ``b`` was
not served (null when it was). A line that is not such an object gets ``served`` false and
its error as the reason, and the run goes on. Embeddings are computed in batches; progress
goes to stderr.
"""
from __future__ import annotations

import argparse
import sys
from typing import IO, Any, Iterable

import orjson

BATCH = 256
EVAL_ALIAS = "eval"


def _pairs(lines: Iterable[bytes]) -> Iterable[tuple[str, str] | str]:
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield f"line {n}: not JSON ({exc})"
            continue
        if not isinstance(d, dict) or not isinstance(d.get("a"), str) or not isinstance(d.get("b"), str):
            yield f"line {n}: expected an object with string fields 'a' and 'b'"
            continue
        yield d["a"], d["b"]


def _policy(config: str | None, alias: str | None):
    """(embedder kind, semantic settings) of the alias, or the shipped defaults."""
    from .policy import CacheConfig, SemanticSettings

    if config is None:
        return CacheConfig().embedder, SemanticSettings()
    from ..config import load_or_exit

    cfg = load_or_exit(config)
    names = [m.name for m in cfg.models]
    if alias is None:
        if len(names) != 1:
            raise SystemExit(f"--alias is required: {config} has {len(names)} aliases ({', '.join(names)})")
        alias = names[0]
    if alias not in names:
        raise SystemExit(f"unknown alias {alias!r} in {config} (aliases: {', '.join(names)})")
    return cfg.cache.embedder, cfg.profile(alias).cache.semantic


def build_cache(kind: str):
    from ..vector.embedder import default_aligned, default_threshold, load_embedder
    from ..vector.judge import judge_for
    from .semantic import SemanticCache

    emb = load_embedder(kind, cache_entries=4 * BATCH)
    return SemanticCache(emb, threshold=default_threshold(kind), judge=judge_for(kind), aligned=default_aligned(kind))


def run(pairs_in: IO[bytes], out: IO[bytes], err: IO[str], *, kind: str, settings: Any, cache=None) -> int:
    """Evaluate every pair of ``pairs_in``; returns the number of lines written."""
    cache = cache if cache is not None else build_cache(kind)  # an empty cache is falsy (len 0)
    kw = {"threshold": settings.threshold, "candidates": settings.candidates, "verify": settings.verify,
          "judge": getattr(settings, "judge", False), "judge_threshold": getattr(settings, "judge_threshold", None),
          "align": getattr(settings, "align", True), "align_threshold": getattr(settings, "align_threshold", None)}
    written = served = 0
    batch: list[tuple[str, str] | str] = []

    def flush() -> None:
        nonlocal written, served
        texts = [t for p in batch if not isinstance(p, str) for t in p]
        if texts:
            cache.embedder.embed(texts)  # one batched call; lookups below read the embedding cache
        for p in batch:
            if isinstance(p, str):
                rec: dict[str, Any] = {"served": False, "score": None, "reason": p}
            else:
                scope = f"eval-{written}"
                cache.store(scope, EVAL_ALIAS, {"messages": [{"role": "user", "content": p[0]}]}, "",
                            ttl_s=3600.0)
                d = cache.decide(scope, EVAL_ALIAS, {"messages": [{"role": "user", "content": p[1]}]}, **kw)
                cache.invalidate(scope=scope)
                rec = {"served": d.hit is not None, "score": None if d.score is None else round(float(d.score), 6),
                       "reason": d.reason}
            served += rec["served"]
            out.write(orjson.dumps(rec) + b"\n")
            written += 1
        out.flush()
        err.write(f"seawall eval cache: {written} pairs, {served} served\n")
        err.flush()
        batch.clear()

    for p in _pairs(pairs_in):
        batch.append(p)
        if len(batch) >= BATCH:
            flush()
    flush()
    return written


def cmd_eval_cache(args: argparse.Namespace) -> int:
    if args.alias and not args.config:
        raise SystemExit("--alias needs --config")
    kind, settings = _policy(args.config, args.alias)
    src = sys.stdin.buffer if args.pairs == "-" else open(args.pairs, "rb")
    try:
        run(src, sys.stdout.buffer, sys.stderr, kind=kind, settings=settings)
    finally:
        if src is not sys.stdin.buffer:
            src.close()
    return 0


def add_command(eval_sub) -> None:
    """Register `cache` under the `seawall eval` group."""
    p = eval_sub.add_parser("cache", help="store a, look up b for each pair of a JSONL file; one verdict a line")
    p.add_argument("pairs", help='JSONL file of {"a": ..., "b": ...} ("-" for stdin)')
    p.add_argument("--config", "-c", help="configuration file (default: the shipped cache defaults)")
    p.add_argument("--alias", help="model alias whose semantic policy to use (with --config)")
    p.set_defaults(func=cmd_eval_cache)
