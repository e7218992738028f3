"""`seawall eval guard TEXTS.jsonl [--config FILE --alias NAME]`: run the input guard over an
operator's own texts before turning it on.

Input: one JSON object a line, ``{"text": str, "role": "user"|"tool"}`` (other fields are
ignored). Output, on stdout, one line per input in the same order (the field names are a
contract other checks rely on)::

    {"blocked": bool, "flagged": bool, "injection": float|null,
     "entities": [{"type": str, "start": int, "end": int}], "forwarded": str}

* each text is checked alone, as the only message of a chat request (``role: tool`` as a tool
  result), through the real ``Guard`` with the alias's policy (the shipped defaults without
  ``--config``);
* ``injection`` is the injection score of the text's source, null when it was not scored
  (injection checks off, or the request stopped before them, e.g. by a secret);
* ``entities`` are the secrets and PII the policy's detectors find in the original text,
  character offsets into it;
* ``forwarded`` is the text as it would go upstream (masked / tokenized), "" when blocked.

The whole file is validated first: a bad line stops the run with its line number and nothing
is written. Work is done in batches; progress goes to stderr for files of 1,000 lines or more.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .policy import GuardPolicy

if TYPE_CHECKING:
    from .engine import Guard

BATCH = 64
PROGRESS_FROM = 1000


class InputError(ValueError):
    pass


def read_items(path: Path) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    with fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{n}: not JSON ({exc.msg})") from None
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise InputError(f'{path}:{n}: expected an object with a string "text"')
            role = row.get("role", "user")
            if role not in ("user", "tool"):
                raise InputError(f'{path}:{n}: "role" must be "user" or "tool", not {role!r}')
            items.append((row["text"], role))
    return items


def policy_for(config: str | None, alias: str | None) -> GuardPolicy:
    from .config import GATEWAY_DEFAULTS, merge_policies

    if config is None:
        if alias is not None:
            raise InputError("--alias needs --config")
        return GATEWAY_DEFAULTS
    from ..config import ConfigError, load

    try:
        cfg = load(config)
    except ConfigError as exc:
        raise InputError(f"configuration error: {exc}") from None
    top = getattr(cfg, "guard", None)
    if alias is None:
        return merge_policies(top)
    for m in cfg.models:
        if m.name == alias:
            return merge_policies(top, getattr(m, "guard", None))
    raise InputError(f"{config}: no model alias {alias!r} (have: {', '.join(m.name for m in cfg.models)})")


def _request(text: str, role: str) -> dict:
    if role == "tool":
        return {"model": "eval", "messages": [{"role": "tool", "tool_call_id": "call_eval", "content": text}]}
    return {"model": "eval", "messages": [{"role": "user", "content": text}]}


def _entities(guard: Guard, text: str, policy: GuardPolicy) -> list[dict]:
    spans = []
    if policy.secrets_enabled:
        spans += guard.secrets.analyze(text)
    if policy.pii_enabled:
        spans += [s for s in guard.pii.analyze(text) if s.score >= policy.pii_min_score]
        if policy.pii_ner:
            spans += [s for s in guard.ner.analyze(text) if s.score >= policy.pii_min_score]
    seen, out = set(), []
    for s in sorted(spans, key=lambda s: (s.start, s.end, s.kind)):
        key = (s.kind, s.start, s.end)
        if key not in seen:
            seen.add(key)
            out.append({"type": s.kind, "start": s.start, "end": s.end})
    return out


async def evaluate_one(guard: Guard, text: str, role: str, policy: GuardPolicy) -> dict:
    d = await guard.check_input(_request(text, role), policy)
    forwarded = d.request["messages"][0]["content"] if d.allowed else ""
    inj = d.injection_scores.get(role)
    return {
        "blocked": not d.allowed,
        "flagged": bool(d.flagged),
        "injection": None if inj is None else float(inj),
        "entities": _entities(guard, text, policy),
        "forwarded": forwarded if isinstance(forwarded, str) else json.dumps(forwarded, ensure_ascii=False),
    }


async def run(items: list[tuple[str, str]], policy: GuardPolicy, out, err, guard: Guard | None = None) -> None:
    if guard is None:
        from .engine import Guard  # the models load only when an evaluation runs, not for `--help`

        guard = Guard()
    if policy.enabled and policy.injection_enabled and policy.injection_classifier:
        await guard.warm_up(classifier=True, ner=policy.pii_ner, injection_model=policy.injection_model)
    show = len(items) >= PROGRESS_FROM
    for i in range(0, len(items), BATCH):
        batch = items[i : i + BATCH]
        rows = await asyncio.gather(*(evaluate_one(guard, t, r, policy) for t, r in batch))
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()
        if show:
            err.write(f"\rseawall eval guard: {min(i + BATCH, len(items))}/{len(items)}")
            err.flush()
    if show:
        err.write("\n")


def cmd_guard(args: argparse.Namespace) -> int:
    try:
        items = read_items(Path(args.texts))
        policy = policy_for(args.config, args.alias)
    except InputError as exc:
        print(f"seawall eval guard: {exc}", file=sys.stderr)
        return 2
    asyncio.run(run(items, policy, sys.stdout, sys.stderr))
    return 0


def add_command(evsub) -> None:
    """Register ``guard`` under the ``seawall eval`` subcommand group."""
    p = evsub.add_parser("guard", help="run the input guard over TEXTS.jsonl ({text, role} lines)")
    p.add_argument("texts", help='JSON lines: {"text": str, "role": "user"|"tool"}')
    p.add_argument("--config", "-c", help="YAML configuration (default: the shipped guard defaults)")
    p.add_argument("--alias", help="model alias whose guard policy to use (needs --config)")
    p.set_defaults(func=cmd_guard)
