"""Cost of the request-body parse with the duplicate-key check (core/jsonbody.py) next to a bare
orjson.loads, on chat bodies of about 1 KB and 100 KB (best of 7 runs, microseconds per body).

    PYTHONPATH=src python scripts/bench_jsonbody.py
"""
from __future__ import annotations

import json
import time

import orjson

from seawall.core.jsonbody import parse_object


def chat_body(messages: int, size: int, word: str) -> bytes:
    """A chat with prose turns and one tool call and result (tool arguments are escaped JSON)."""
    msgs = [{"role": "user" if i % 2 == 0 else "assistant", "content": word * (size // messages // len(word))}
            for i in range(messages)]
    msgs.append({"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                 "function": {"name": "f", "arguments": json.dumps({"city": "Paris", "days": 3})}}]})
    msgs.append({"role": "tool", "tool_call_id": "c1", "content": "sunny"})
    return json.dumps({"model": "gpt-4o-mini", "messages": msgs, "temperature": 0.2, "max_tokens": 100}).encode()


def per_call_us(fn, raw: bytes, n: int) -> float:
    best = float("inf")
    for _ in range(7):
        t = time.perf_counter()
        for _ in range(n):
            fn(raw)
        best = min(best, (time.perf_counter() - t) / n)
    return best * 1e6


def main() -> None:
    print("| body | bytes | orjson.loads us | parse_object us | added us |")
    print("|---|---|---|---|---|")
    for label, messages, size in (("1 KB", 3, 750), ("100 KB", 100, 100_000)):
        for word, prose in (("word ", "no colons in prose"), ("note: ", "colons in prose")):
            raw = chat_body(messages, size, word)
            n = 20000 if len(raw) < 5000 else 1000
            base, checked = per_call_us(orjson.loads, raw, n), per_call_us(parse_object, raw, n)
            print(f"| {label}, {prose} | {len(raw)} | {base:.1f} | {checked:.1f} | +{checked - base:.1f} |")
    dup = b'{"model":"m","messages":[{"role":"user","content":"a"}],"messages":[]}'
    try:
        parse_object(dup)
    except Exception as e:  # noqa: BLE001
        print(f"\nduplicate: {type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
