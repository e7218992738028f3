"""Rule-based answers for when no model can answer: no network, no model, deterministic.

Three modes, configured per alias (`degraded.mode`):
- template: a fixed message (may use {alias});
- extractive_summary: the most informative sentences of the user's last message, chosen
  by the frequency of their content words, in their original order;
- keyword_sentiment: positive / negative / neutral from keyword counts, with negation.
The answer is an ordinary chat.completion (or a stream of chunks), marked by the model name
`seawall-degraded` and the x-seawall-fallback-level header.
"""
from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from typing import AsyncIterator

from ..core.types import Completion, Request, Stream

MODEL = "seawall-degraded"

_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
_WORDS = re.compile(r"[a-zA-Z']+")
_STOP = frozenset("""a an and are as at be been but by can could did do does for from had has have he her his
how i if in into is it its me my no not of on or our she so than that the their them then there these they this
to too us was we were what when where which who why will with would you your""".split())
_POSITIVE = frozenset("""good great excellent love loved like liked happy glad pleased amazing awesome fantastic
helpful fast easy recommend perfect wonderful satisfied thanks thank best nice smooth reliable""".split())
_NEGATIVE = frozenset("""bad terrible awful hate hated dislike angry upset disappointed broken slow poor worst
useless problem problems issue issues fail failed failure refund complaint annoying frustrated wrong error""".split())
_NEGATIONS = frozenset("not no never isn't wasn't don't doesn't didn't can't cannot won't hardly".split())


def last_user_text(body: dict) -> str:
    for m in reversed(body.get("messages") or []):
        if isinstance(m, dict) and m.get("role") == "user":
            c = m.get("content")
            if isinstance(c, str):
                return c
            if isinstance(c, list):
                return " ".join(p.get("text", "") for p in c if isinstance(p, dict) and p.get("type") == "text")
    return ""


def extractive_summary(text: str, max_sentences: int = 2) -> str:
    sentences = [s.strip() for s in _SENTENCES.split(text) if s and s.strip()]
    if len(sentences) <= max_sentences:
        return " ".join(sentences)
    freq = Counter(w for w in (x.lower() for x in _WORDS.findall(text)) if w not in _STOP)
    top = max(freq.values(), default=1)

    def score(s: str) -> float:
        words = [w.lower() for w in _WORDS.findall(s)]
        content = [w for w in words if w not in _STOP]
        return sum(freq[w] / top for w in content) / (len(words) ** 0.5 or 1.0)

    ranked = sorted(range(len(sentences)), key=lambda i: (-score(sentences[i]), i))[:max_sentences]
    return " ".join(sentences[i] for i in sorted(ranked))


def keyword_sentiment(text: str) -> tuple[str, int, int]:
    """(label, positive hits, negative hits); a negation flips the next three words."""
    pos = neg = 0
    flip = 0
    for w in (x.lower() for x in _WORDS.findall(text)):
        if w in _NEGATIONS:
            flip = 3
            continue
        hit = 1 if w in _POSITIVE else -1 if w in _NEGATIVE else 0
        if flip:
            hit = -hit
            flip -= 1
        if hit > 0:
            pos += 1
        elif hit < 0:
            neg += 1
    label = "positive" if pos > neg else "negative" if neg > pos else "neutral"
    return label, pos, neg


def answer_text(req: Request, cfg) -> str:
    text = last_user_text(req.body)
    if cfg.mode == "extractive_summary":
        summary = extractive_summary(text, cfg.max_sentences)
        return f"Summary: {summary}" if summary else cfg.template
    if cfg.mode == "keyword_sentiment":
        label, _, _ = keyword_sentiment(text)
        return label
    try:
        return cfg.template.format(alias=req.alias)
    except (KeyError, IndexError, ValueError):
        return cfg.template


def degraded_result(req: Request, cfg) -> Completion | Stream:
    text = answer_text(req, cfg)
    cid = "chatcmpl-degraded-" + uuid.uuid4().hex[:16]
    created = int(time.time())
    req.meta.deployment = MODEL
    req.meta.usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    if not req.stream:
        return Completion(req.meta, {
            "id": cid, "object": "chat.completion", "created": created, "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": dict(req.meta.usage),
        })

    async def chunks() -> AsyncIterator[dict]:
        base = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL}
        yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": text},
                                    "finish_reason": None}]}
        yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}

    return Stream(chunks(), req.meta)
