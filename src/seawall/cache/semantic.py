"""The semantic cache: embedder + one ANN index per namespace + verifier + threshold.

Namespace = (tenant scope, alias, context fingerprint). The fingerprint is an exact hash of
everything in the request that is not the conversation's free text: system prompt(s), tools,
tool_choice, response_format and the output-changing parameters (the same normalization as
the exact key), the turns older than the last few that are embedded, and every part of a
message that is not text (an image, audio, a file). Two requests with a different system
prompt, tool set or output format are never compared at all. Tenant isolation is structural: indexes live in a dict keyed by the
namespace, a lookup only ever searches its own namespace's index, and an entry id found there
can only name an entry written under that namespace.

What is embedded is the conversation, not only the last message: the last user turn (q)
and, when the conversation has earlier turns, the last few of them (h). The vector is
normalize(0.7·e(q) + 0.3·e(h)), so the current question dominates while a follow-up such as
"and in Celsius?" after different earlier turns lands elsewhere. The verifier then checks the
last user turns against each other and, when present, the earlier turns too.

A request whose last message is not a user turn (a tool result, an assistant prefill) is not
looked up semantically: its answer depends on data, not on phrasing; the exact cache still
serves it.

Who decides a candidate: by default the rule verifier, on every candidate at or above the
cosine threshold calibrated for the embedder whose content words also align with the prompt's
(vector/align.py; embedder.ALIGNED: a cosine threshold and an alignment floor, chosen
leave-one-dataset-out to keep false hits <= 1 % on every held-out look-alike set). Without
token vectors, or with the gate off (`semantic.align: false`), the cosine alone must reach
embedder.THRESHOLDS. An alias may opt into the learned
pair judge (vector/judge.py, `semantic.judge`), which then decides every candidate at or above
its cosine floor (an alias's own cosine threshold, if higher, still applies).
"""
from __future__ import annotations

import asyncio
import hashlib
import itertools
import threading
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import orjson

from ..vector.align import alignment
from ..vector.embedder import Embedder, _text_of
from ..vector.index import NamespaceIndex
from ..vector.judge import PairJudge
from .keys import normalize_request
from ..vector.verifier import Verifier
from ..vector.window import WHOLE, read_parts, requests_around, seen_chars

QUERY_WEIGHT = 0.7
LOOKALIKE_RULES = ("question word", "added qualifier")  # verifier reasons that overrule the judge
HISTORY_TURNS = 4  # earlier user/assistant messages included in the embedded context


@dataclass(frozen=True, slots=True)
class ConversationView:
    fingerprint: str   # exact hash of system + tools + format + params
    query: str         # the last user turn
    history: str       # earlier turns (most recent last), "" if none


def conversation_view(body: Mapping[str, Any], history_turns: int = HISTORY_TURNS,
                      space: str = "") -> ConversationView | None:
    """Split a chat request into (context fingerprint, last user turn, earlier turns).

    ``space`` names the embedder: it is part of the fingerprint, so vectors of two embedders
    (an instance on another model, or new student weights) never meet in one namespace."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return None
    last = messages[-1]
    if not isinstance(last, Mapping) or last.get("role") != "user":
        return None
    query = _text_of(last.get("content"))
    if not query.strip():
        return None
    system: list[Any] = []
    turns: list[str] = []
    media: list[Any] = [_not_text(last.get("content"))]
    for m in messages[:-1]:
        if not isinstance(m, Mapping):
            continue
        role = m.get("role")
        if role in ("system", "developer"):
            system.append(m.get("content"))
        else:
            media.append(_not_text(m.get("content")))
            text = _text_of(m.get("content"))
            if m.get("tool_calls"):
                text += " " + orjson.dumps(m["tool_calls"], option=orjson.OPT_SORT_KEYS).decode()
            turns.append(f"{role}: {text}".strip())
    ctx = normalize_request({k: v for k, v in body.items() if k != "messages"})
    ctx["system"] = system
    # turns older than the embedded ones are neither embedded nor compared, nor are images,
    # audio or files ("What is in this picture?" with another picture): they must be equal
    older = turns[:-history_turns] if history_turns > 0 else turns
    if older:
        ctx["earlier"] = older
    if any(media):
        ctx["media"] = media
    if space:
        ctx["embedder"] = space
    if isinstance(body.get("system"), (str, list)):  # Anthropic-style top-level system
        ctx["system"] = [body["system"]]
    fp = hashlib.blake2b(orjson.dumps(ctx, option=orjson.OPT_SORT_KEYS), digest_size=12).hexdigest()
    history = "\n".join(turns[-history_turns:]) if history_turns > 0 else ""
    return ConversationView(fp, query, history)


def _not_text(content: Any) -> list[Any]:
    """The parts of a message's content that are not text (images, audio, files, tool results)."""
    if not isinstance(content, list):
        return []
    return [p for p in content if not (isinstance(p, str) or isinstance(p, Mapping)
                                       and p.get("type") in ("text", "input_text") and isinstance(p.get("text"), str))]


@dataclass(slots=True)
class SemanticEntry:
    id: int
    namespace: tuple[str, str, str]
    query: str
    history: str
    response: Any
    created_at: float
    expires_at: float
    stale_until: float
    meta: dict[str, Any] = field(default_factory=dict)
    tokens: Any = None  # align.Tokens of the query, once known (kept from its embedding)
    seen: tuple[int, int] | None = None  # how much of query / history the embedding read, once known


def _read_parts(view: ConversationView, e: SemanticEntry) -> tuple[str, str, str, str] | str:
    """What the rules compare (the last turns, the earlier turns: prompt's, entry's), or why a
    long prompt may not take this entry's answer at all: the two differ past what the
    embeddings read (vector/window.py). Even with the rules off: no vector saw the difference."""
    if max(len(view.query), len(e.query), len(view.history), len(e.history)) <= WHOLE:
        return view.query, e.query, view.history, e.history
    if e.seen is None:
        e.seen = (seen_chars(e.query), seen_chars(e.history))
    q = read_parts(view.query, seen_chars(view.query), e.query, e.seen[0])
    if q is None:
        return "long prompt: differs past the embedded window"
    h = read_parts(view.history, seen_chars(view.history), e.history, e.seen[1])
    if h is None:
        return "long history: differs past the embedded window"
    return q[0], q[1], h[0], h[1]


@dataclass(frozen=True, slots=True)
class Hit:
    entry: SemanticEntry
    score: float
    age_s: float
    stale: bool = False

    @property
    def response(self) -> Any:
        return self.entry.response


def text_key(query: str, history: str) -> str:
    """The conversation's text up to case, spacing and closing punctuation. A prompt equal to
    a stored one under it is looked up without an embedding (the verifier still checks it)."""
    def norm(t: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", t).split()).casefold().rstrip(" ?.!")

    return norm(query) + "\x00" + norm(history)


@dataclass(frozen=True, slots=True)
class Decision:
    """A lookup's outcome with its why: the best candidate's cosine and, on a miss, the reason."""

    hit: Hit | None
    score: float | None
    reason: str | None


@dataclass
class _Space:
    index: NamespaceIndex
    ids: OrderedDict[int, None]
    by_text: dict[str, int] = field(default_factory=dict)  # text_key -> the newest entry id


class SemanticCache:
    """Semantic lookups and stores, per (scope, alias) namespace."""

    def __init__(
        self,
        embedder: Embedder,
        verifier: Verifier | None = None,
        threshold: float = 0.86,
        judge: PairJudge | None = None,
        candidates: int = 4,
        aligned: tuple[float, float] | None = None,
        max_entries_per_namespace: int = 100_000,
        hnsw_above: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.embedder = embedder
        self.verifier = verifier if verifier is not None else Verifier()
        self.threshold = threshold
        self.judge = judge
        self.candidates = candidates
        # (cosine threshold, alignment floor) with the alignment gate; None: no gate calibrated
        self.aligned = aligned if getattr(embedder, "has_tokens", False) else None
        self.max_per_ns = max_entries_per_namespace
        self.hnsw_above = hnsw_above
        self._clock = clock
        self._spaces: dict[tuple[str, str, str], _Space] = {}
        self._entries: dict[int, SemanticEntry] = {}
        self._ids = itertools.count(1)  # next() on a count is atomic under the GIL
        self._lock = threading.Lock()  # namespace creation and eviction order (adds run in threads)
        self.refusals: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def view(self, body: Mapping[str, Any]) -> ConversationView | None:
        """The request's conversation view in this cache's embedding space."""
        return conversation_view(body, space=self.embedder.name)

    def _vector(self, view: ConversationView) -> np.ndarray:
        if not view.history:
            return self.embedder.embed([view.query])[0]
        q, h = self.embedder.embed([view.query, view.history])
        v = QUERY_WEIGHT * q + (1.0 - QUERY_WEIGHT) * h
        return (v / (np.linalg.norm(v) or 1.0)).astype(np.float32)

    def lookup(self, scope: str, alias: str, body: Mapping[str, Any] | ConversationView, *,
               threshold: float | None = None, candidates: int | None = None,
               allow_stale: bool = False, verify: bool = True, judge: bool = False,
               judge_threshold: float | None = None, align: bool = True,
               align_threshold: float | None = None) -> Hit | None:
        """The best verified entry above the threshold in this namespace, or None. ``body`` may
        be the request or its already computed conversation view."""
        return self.decide(scope, alias, body, threshold=threshold, candidates=candidates, allow_stale=allow_stale,
                           verify=verify, judge=judge, judge_threshold=judge_threshold, align=align,
                           align_threshold=align_threshold).hit

    def decide(self, scope: str, alias: str, body: Mapping[str, Any] | ConversationView, *,
               threshold: float | None = None, candidates: int | None = None, allow_stale: bool = False,
               verify: bool = True, judge: bool = False, judge_threshold: float | None = None,
               align: bool = True, align_threshold: float | None = None) -> Decision:
        """lookup() with its reason (``seawall eval cache`` reports it).

        ``threshold`` is the alias's cosine threshold (None: the judge's floor when the judge
        decides, else the calibrated one); ``judge`` lets the shipped pair judge decide instead
        of the rules (if one is shipped for the embedder), ``judge_threshold`` its probability
        (None: the shipped one); ``verify`` False serves on cosine alone. ``align`` turns the
        token-alignment gate on (where one is calibrated for the embedder, rules deciding),
        ``align_threshold`` is its floor (None: the calibrated one)."""
        view = body if isinstance(body, ConversationView) else self.view(body)
        if view is None:
            return Decision(None, None, "no user turn last")
        ns = (scope, alias, view.fingerprint)
        space = self._spaces.get(ns)
        if space is None or len(space.index) == 0:
            return Decision(None, None, "empty namespace")
        pj = self.judge if verify and judge else None
        gate = None  # (alignment floor, the cosine a candidate without token vectors needs)
        if pj is None and verify and align and self.aligned is not None:
            thr = threshold if threshold is not None else self.aligned[0]
            gate = (self.aligned[1] if align_threshold is None else align_threshold, max(thr, self.threshold))
        else:
            thr = threshold if threshold is not None else (pj.floor if pj is not None else self.threshold)
        now = self._clock()
        best, reason = None, None
        same = space.by_text.get(text_key(view.query, view.history))
        if same is not None:  # the same words as a stored prompt: no embedding needed
            hit, reason = self._serve(same, 1.0, view, ns, now, allow_stale, verify, pj, judge_threshold, gate)
            if hit is not None:
                return Decision(hit, 1.0, None)
            best = 1.0
        vec = self._vector(view)
        for id_, score in space.index.search(vec, candidates or self.candidates):
            best = score if best is None else max(best, score)
            if score < thr:
                reason = reason or f"cosine {score:.3f} < {thr:.3f}"
                break
            hit, why = self._serve(id_, score, view, ns, now, allow_stale, verify, pj, judge_threshold, gate)
            if hit is not None:
                return Decision(hit, score, None)
            reason = reason or why
        return Decision(None, None if best is None else float(best), reason or "no candidate")

    def _serve(self, id_: int, score: float, view: ConversationView, ns: tuple[str, str, str], now: float, allow_stale: bool, verify: bool = True,
               judge: PairJudge | None = None, judge_threshold: float | None = None,
               gate: tuple[float, float] | None = None) -> tuple[Hit | None, str | None]:
        """A candidate as a hit, if it is of this namespace, alive, and the judge (or the
        verifier) agrees; else the reason it is not."""
        e = self._entries.get(id_)
        if e is None or e.namespace != ns:
            return None, "foreign entry"  # cannot happen by construction; never serve across namespaces
        if now >= e.stale_until:
            self._drop(id_)
            return None, "expired"
        stale = now >= e.expires_at
        if stale and not allow_stale:
            return None, "stale"
        parts = _read_parts(view, e)
        if isinstance(parts, str):
            why = parts
        else:
            why = self._refusal(parts, score, judge, judge_threshold) if verify else None
        if why is None and gate is not None and view.query != e.query:  # the rules' reason first: it says more
            why = self._misaligned(view, e, score, gate)
        if why is not None:
            key = why.split(" ", 1)[0]
            self.refusals[key] = self.refusals.get(key, 0) + 1
            return None, why
        return Hit(e, score, now - e.created_at, stale), None

    def _misaligned(self, view: ConversationView, e: SemanticEntry, score: float,
                    gate: tuple[float, float]) -> str | None:
        """Why the gate refuses: a content word on either side that the other side does not mean
        (alignment under the floor), or no token vectors and a cosine under the plain threshold."""
        floor, plain = gate
        if e.tokens is None:  # pulled from another instance: read once, kept (one embedding)
            e.tokens = self.embedder.tokens([e.query])[0] or False
        mine = self.embedder.tokens([view.query])[0]  # embedded just now: from the embedding cache
        if not e.tokens or mine is None:
            return None if score >= plain else f"cosine {score:.3f} < {plain:.3f} (no token vectors)"
        a = alignment(mine, e.tokens)
        return None if a >= floor else f"alignment {a:.3f} < {floor:.3f}"

    def _refusal(self, parts: tuple[str, str, str, str], score: float,
                 judge: PairJudge | None, judge_threshold: float | None) -> str | None:
        """Why this entry may not answer this conversation, or None if it may (``parts``: the
        prompt's and the entry's last turns and earlier turns, as far as they are compared)."""
        query, stored, history, stored_history = parts
        if judge is not None and query != stored:
            p = judge.prob(score, query, stored)
            t = judge.threshold if judge_threshold is None else judge_threshold
            if p < t:
                return f"judge {p:.3f} < {t:.3f}"
            # the judge was trained before issue 14's question-word and qualifier rules: they
            # still refuse on their own (the judge reads its signals without them)
            verdict = self.verifier.verify(query, stored, score)
            if not verdict.accept and verdict.reason.startswith(LOOKALIKE_RULES):
                return verdict.reason
        else:
            verdict = self.verifier.verify(query, stored, score)
            if not verdict.accept:
                return verdict.reason
        if history or stored_history:  # earlier turns: the rules compare them (the judge reads questions)
            verdict = self.verifier.verify(history, stored_history, score)
            if not verdict.accept:
                return "history " + verdict.reason
        return self._around_shared(query, stored)

    def _around_shared(self, query: str, stored: str) -> str | None:
        """Why two prompts that share a long context (a pasted document) ask different things
        around it (vector/window.py), or None: the requests alone must match, at the plain
        cosine threshold and by the rules."""
        around = requests_around(query, stored)
        if around is None:
            return None
        mine, theirs = around
        if not mine or not theirs:
            return "shared context: one prompt asks more"
        a, b = self.embedder.embed([mine, theirs])
        cos = float(a @ b)
        if cos < self.threshold:
            return f"shared context: requests differ, cosine {cos:.3f} < {self.threshold:.3f}"
        verdict = self.verifier.verify(mine, theirs, cos)
        return None if verdict.accept else "shared context: " + verdict.reason

    def store(self, scope: str, alias: str, body: Mapping[str, Any], response: Any, *,
              ttl_s: float, stale_for_s: float = 0.0, meta: dict[str, Any] | None = None) -> int | None:
        """Add an answer; returns its id, or None if the request has no semantic view."""
        view = self.view(body)
        if view is None:
            return None
        now = self._clock()
        return self.add_entry((scope, alias, view.fingerprint), self._vector(view), view.query, view.history,
                              response, now, now + ttl_s, now + ttl_s + stale_for_s, meta)

    def add_entry(self, ns: tuple[str, str, str], vec: np.ndarray, query: str, history: str, response: Any,
                  created_at: float, expires_at: float, stale_until: float,
                  meta: dict[str, Any] | None = None) -> int:
        """Add one entry with a precomputed vector (also entries shared by other instances)."""
        id_ = next(self._ids)
        self._add(ns, [SemanticEntry(id_, ns, query, history, response, created_at, expires_at, stale_until,
                                     dict(meta or {}))], np.asarray(vec, np.float32)[None, :])
        return id_

    def add_vectors(self, scope: str, alias: str, fingerprint: str, vecs: np.ndarray,
                    queries: list[str], responses: list[Any], ttl_s: float) -> None:
        """Bulk load precomputed vectors (warm start from a shared store; benchmarks)."""
        ns = (scope, alias, fingerprint)
        now = self._clock()
        self._add(ns, [SemanticEntry(next(self._ids), ns, q, "", r, now, now + ttl_s, now + ttl_s)
                       for q, r in zip(queries, responses)], vecs)

    def _add(self, ns: tuple[str, str, str], entries: list[SemanticEntry], vecs: np.ndarray) -> None:
        """Index entries in their namespace, evicting the oldest past the namespace's limit.
        Adds run in worker threads (an index add can take a while, its tier switch longer)."""
        space = self._spaces.get(ns)
        if space is None:
            with self._lock:
                space = self._spaces.get(ns)
                if space is None:
                    index = NamespaceIndex(self.embedder.dim, self.hnsw_above)
                    space = self._spaces[ns] = _Space(index, OrderedDict())
        if self.aligned is not None:
            for e in entries:
                if e.tokens is None:
                    e.tokens = self._cached_tokens(e.query)
        for e in entries:
            self._entries[e.id] = e
        space.index.add([e.id for e in entries], vecs)
        with self._lock:
            for e in entries:
                space.ids[e.id] = None
                space.by_text[text_key(e.query, e.history)] = e.id
            doomed = [space.ids.popitem(last=False)[0] for _ in range(len(space.ids) - self.max_per_ns)]
        for id_ in doomed:
            self._drop(id_)

    def _cached_tokens(self, text: str):
        """A text's token vectors if the embedding cache holds them (no embedding run here)."""
        peek = getattr(self.embedder, "peek_tokens", None)
        return peek(text) if peek is not None else None

    def _drop(self, id_: int) -> None:
        e = self._entries.pop(id_, None)
        if e is None:
            return
        space = self._spaces.get(e.namespace)
        if space is not None:
            space.index.remove(id_)
            space.ids.pop(id_, None)
            tk = text_key(e.query, e.history)
            if space.by_text.get(tk) == id_:
                space.by_text.pop(tk, None)

    def invalidate(self, *, scope: str | None = None, alias: str | None = None) -> int:
        """Drop every entry of a tenant scope, an alias, or both."""
        n = 0
        for ns in [k for k in self._spaces if (scope is None or k[0] == scope) and (alias is None or k[1] == alias)]:
            space = self._spaces.pop(ns)
            for id_ in space.ids:
                self._entries.pop(id_, None)
                n += 1
        return n

    def stats(self) -> dict[str, Any]:
        return {"entries": len(self._entries), "namespaces": len(self._spaces),
                "refusals": dict(self.refusals)}

    async def alookup(self, scope: str, alias: str, body: Mapping[str, Any] | ConversationView,
                      **kw: Any) -> Hit | None:
        """lookup() off the event loop (embedding is CPU work). ONNX Runtime lets go of the GIL
        while it embeds, so meanwhile the loop reads the new prompt's slots for the verifier
        (memoised), which then has only the stored side's to read."""
        view = body if isinstance(body, ConversationView) else self.view(body)
        if view is None:
            return None
        found = asyncio.ensure_future(asyncio.to_thread(self.lookup, scope, alias, view, **kw))
        await asyncio.sleep(0)  # let the thread start before the loop takes the GIL for the slots
        self.verifier.prepare(view.query, view.history)
        return await found

    async def astore(self, scope: str, alias: str, body: Mapping[str, Any], response: Any, **kw: Any) -> int | None:
        return await asyncio.to_thread(self.store, scope, alias, body, response, **kw)
