"""The guard engine: one object that checks a request on the way in and filters the answer
on the way out.

    guard = Guard()
    decision = await guard.check_input(request, policy)      # never raises for detector errors
    if not decision.allowed:
        raise decision.error()                                # guard_blocked / guard_error / request_too_large
    upstream_request = decision.request                       # placeholders instead of PII
    out = guard.output_filter(policy, decision.vault, request)
    response = out.filter_response(response)                  # or per chunk: out.filter_chunk(chunk)

Fail closed: a detector that raises or overruns its time budget turns the decision into
``guard_error`` (blocked) unless ``policy.fail_open``. Decision messages name kinds, never values;
``findings`` are counts per kind for audit and metrics, without raw values.
"""
from __future__ import annotations

import asyncio
import copy
import functools
import gc
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..core.errors import GatewayError
from .injection import Allowlist, InjectionClassifier, RulesOverBudget, default_classifier, heuristic_score, missing_for
from .output_filter import OutputFilter
from .pii import FastPII, PresidioPII, ip_ok, mask_value, merge_spans, redact_label
from .policy import GuardPolicy
from .secrets import DetectSecretsExtended, FastSecrets
from .types import Findings, Span
from .vault import TokenVault, inside_placeholder

log = logging.getLogger("seawall.guard")


class GuardTimeout(Exception):
    pass


# CPU time each thread spends in the garbage collector. A full collection in a process that
# holds a transformer's objects takes ~0.25 s of CPU, all of it in the thread whose allocation
# set it off; one that starts during the pattern scan is no cost of the patterns, and counting
# it blocked a short request with guard_error (seen in the tests, after the models loaded).
_gc_time = threading.local()


def _gc_clock(phase: str, info: dict) -> None:
    now = time.thread_time()
    if phase == "start":
        _gc_time.started = now
    else:
        _gc_time.total = getattr(_gc_time, "total", 0.0) + now - getattr(_gc_time, "started", now)


gc.callbacks.append(_gc_clock)


def _gc_spent() -> float:
    return getattr(_gc_time, "total", 0.0)


@dataclass
class InputDecision:
    allowed: bool
    request: dict
    vault: TokenVault
    findings: list[dict] = field(default_factory=list)
    sensitive_kinds: set[str] = field(default_factory=set)
    required_tags: list[str] = field(default_factory=list)
    code: str | None = None  # guard_blocked | guard_error | request_too_large
    reason: str | None = None  # safe to show the caller: kinds, never values
    flagged: bool = False
    injection_scores: dict[str, float] = field(default_factory=dict)
    rewritten: bool = False
    fail_open: bool = False  # allowed only because policy.fail_open swallowed a guard error
    duration_ms: float = 0.0

    def error(self) -> GatewayError:
        return GatewayError(self.code or "guard_blocked", self.reason or "Blocked by the input guard.")

    def raise_if_blocked(self) -> None:
        if not self.allowed:
            raise self.error()


class _Blocked(Exception):
    def __init__(self, code: str, reason: str, scores: dict[str, float] | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.scores = scores or {}


# ---------------------------------------------------------------- walking an OpenAI request


@dataclass
class _Segment:
    source: str  # user | system | assistant | tool | tool_call
    text: str  # as it will go upstream (PII masked in place)
    set: Callable[[str], None]
    # as the client sent it: what the injection check reads ("Dear Claude, please send ..." masked
    # to "Dear <PERSON_1>, ..." no longer names the model it speaks to)
    original: str = field(init=False)

    def __post_init__(self) -> None:
        self.original = self.text


def _segments(req: dict) -> Iterator[_Segment]:
    """Every piece of text in a chat/completions/embeddings request, with a setter."""
    msgs = req.get("messages")
    if isinstance(msgs, list):
        for msg in msgs:
            if not isinstance(msg, dict):
                continue
            role = msg.get("role", "user")
            source = {"tool": "tool", "function": "tool", "developer": "system"}.get(role, role)
            content = msg.get("content")
            if isinstance(content, str):
                yield _Segment(source, content, lambda v, m=msg: m.__setitem__("content", v))
            elif isinstance(content, list):
                for part in content:
                    if isinstance(part, dict) and isinstance(part.get("text"), str):
                        yield _Segment(source, part["text"], lambda v, p=part: p.__setitem__("text", v))
                    elif isinstance(part, dict) and part.get("type") == "tool_result":  # Anthropic shape
                        c = part.get("content")
                        if isinstance(c, str):
                            yield _Segment("tool", c, lambda v, p=part: p.__setitem__("content", v))
                        elif isinstance(c, list):
                            for sub in c:
                                if isinstance(sub, dict) and isinstance(sub.get("text"), str):
                                    yield _Segment("tool", sub["text"], lambda v, p=sub: p.__setitem__("text", v))
                    elif isinstance(part, dict) and part.get("type") == "tool_use" and isinstance(part.get("input"), dict):
                        yield _Segment(
                            "tool_call",
                            json.dumps(part["input"], ensure_ascii=False),
                            lambda v, p=part: p.__setitem__("input", json.loads(v)),
                        )
            for tc in msg.get("tool_calls") or []:
                fn = tc.get("function") if isinstance(tc, dict) else None
                if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                    yield _Segment("tool_call", fn["arguments"], lambda v, f=fn: f.__setitem__("arguments", v))
    for key in ("prompt", "input"):
        val = req.get(key)
        if isinstance(val, str):
            yield _Segment("user", val, lambda v, k=key: req.__setitem__(k, v))
        elif isinstance(val, list):
            for i, item in enumerate(val):
                if isinstance(item, str):
                    yield _Segment("user", item, lambda v, i=i, lst=val: lst.__setitem__(i, v))


def _json_strings(obj: Any) -> Iterator[tuple[Any, Any, str]]:
    """(container, key, string) for every string leaf of a JSON value."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, str):
                yield obj, k, v
            else:
                yield from _json_strings(v)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            if isinstance(v, str):
                yield obj, i, v
            else:
                yield from _json_strings(v)


def _human(kind: str) -> str:
    return kind.lower().replace("_", " ")


# ---------------------------------------------------------------- the engine


class Guard:
    def __init__(
        self,
        *,
        pii: Any = None,
        secrets: Any = None,
        classifier: InjectionClassifier | Any | None = None,
        ner: Any = None,
        secrets_extended: Any = None,
    ) -> None:
        self.pii = pii or FastPII()
        self.secrets = secrets or FastSecrets()
        self._classifier = classifier
        self._ner = ner
        self._secrets_ext = secrets_extended
        self._allowlists: dict[tuple[str, ...], Allowlist] = {}
        self._installed: dict[str, bool] = {}  # classifier mode -> its packages are installed
        self._system_spans: dict[tuple[Any, str], tuple[Span, ...]] = {}  # see _detect

    # lazily built heavy parts
    @property
    def classifier(self):
        if self._classifier is None:
            self._classifier = default_classifier()
        return self._classifier

    def classifier_installed(self, mode: str) -> bool:
        """A classifier handed in always is; the default one when its packages are installed."""
        if self._classifier is not None:
            return True
        ok = self._installed.get(mode)
        if ok is None:
            ok = self._installed[mode] = not missing_for(mode)
        return ok

    def classifier_skipped(self, policy: GuardPolicy) -> bool:
        """The default `fast` head, which only flags, is skipped on an install without its
        packages (the rules still block; start-up says so). Anything the operator chose that
        can block stays required: fail closed (guard_error), never silently weaker."""
        return (policy.injection_model == "fast" and not policy.injection_classifier_blocks
                and not self.classifier_installed("fast"))

    @property
    def ner(self):
        if self._ner is None:
            self._ner = PresidioPII()
        return self._ner

    @property
    def secrets_extended(self):
        if self._secrets_ext is None:
            self._secrets_ext = DetectSecretsExtended()
        return self._secrets_ext

    def _allowlist(self, patterns: list[str]) -> Allowlist:
        key = tuple(patterns)
        al = self._allowlists.get(key)
        if al is None:
            al = self._allowlists[key] = Allowlist(patterns)
        return al

    async def warm_up(self, classifier: bool = True, ner: bool = False, injection_model: str = "cascade") -> None:
        """Load the models now (server start-up) instead of on the first request.
        ``injection_model="cascade"`` loads both classifier tiers; "fast" only the cheap one."""
        if classifier:
            clf = self.classifier
            if hasattr(clf, "warm_up"):
                await asyncio.to_thread(clf.warm_up, injection_model)
        if ner:
            await asyncio.to_thread(self.ner.analyze, "warm-up for Alice in Paris")

    # ------------------------------------------------------------ input

    async def check_input(self, request: dict, policy: GuardPolicy) -> InputDecision:
        t0 = time.perf_counter()
        vault = TokenVault()
        if not policy.enabled:
            return InputDecision(True, request, vault)
        findings = Findings()
        try:
            decision = await self._check(request, policy, vault, findings)
        except _Blocked as b:
            decision = InputDecision(
                False, request, vault, findings.as_list(), code=b.code, reason=b.reason, injection_scores=b.scores
            )
        except Exception as exc:  # a detector raised or overran its budget: fail closed
            kind = "timeout" if isinstance(exc, (GuardTimeout, RulesOverBudget, asyncio.TimeoutError)) else "error"
            log.warning("guard %s: %s", kind, type(exc).__name__, exc_info=kind == "error")
            findings.add("guard", kind, "fail_open" if policy.fail_open else "block", "guard")
            if policy.fail_open:
                decision = InputDecision(True, request, vault, findings.as_list(), fail_open=True)
            else:
                decision = InputDecision(
                    False,
                    request,
                    vault,
                    findings.as_list(),
                    code="guard_error",
                    reason="The input guard could not check this request (detector "
                    + ("timed out" if kind == "timeout" else "failed")
                    + "), so it was blocked.",
                )
        decision.duration_ms = (time.perf_counter() - t0) * 1000.0
        return decision

    async def _check(self, request: dict, policy: GuardPolicy, vault: TokenVault, findings: Findings) -> InputDecision:
        work = copy.deepcopy(request)  # cheap for chat requests; the caller's dict stays untouched
        segs = list(_segments(work))
        total = self._check_size(work, segs, policy, findings)
        sensitive: set[str] = set()
        # a long document's scans take a worker thread (they hold the GIL, but the event loop
        # keeps serving the other requests between its switches instead of stalling for them)
        offload = total > _THREAD_CHARS
        if offload:
            changed, ner_jobs = await asyncio.to_thread(self._patterns, segs, policy, vault, findings, sensitive)
        else:
            changed, ner_jobs = self._patterns(segs, policy, vault, findings, sensitive)

        # -- NER (Presidio + spaCy): in a worker thread, under its own budget
        if ner_jobs:
            ner = self.ner
            budget = policy.ner_budget_s + (0.0 if getattr(ner, "loaded", True) else policy.model_load_budget_s)
            results = await asyncio.wait_for(
                asyncio.to_thread(lambda: [ner.analyze(s.text) for s in ner_jobs]), timeout=budget
            )
            for seg, spans in zip(ner_jobs, results):
                new = self._apply_pii(seg.text, spans, seg.source, policy, vault, findings, sensitive)
                if new != seg.text:
                    seg.set(new)
                    seg.text = new
                    changed = True

        # -- prompt injection
        scores: dict[str, float] = {}
        flagged = False
        if policy.injection_enabled:
            scores, flagged = await self._check_injection(segs, policy, findings, offload)

        required: list[str] = []
        for kind in sorted(sensitive):
            for tag in policy.sensitive_kinds_route_to_tags.get(kind, []):
                if tag not in required:
                    required.append(tag)
        return InputDecision(
            True,
            work if changed else request,
            vault,
            findings.as_list(),
            sensitive_kinds=sensitive,
            required_tags=required,
            flagged=flagged,
            injection_scores=scores,
            rewritten=changed,
        )

    def _patterns(self, segs: list[_Segment], policy: GuardPolicy, vault: TokenVault, findings: Findings,
                  sensitive: set[str]) -> tuple[bool, list[_Segment]]:
        """Secrets + PII, pattern path, time-checked: (whether a text changed, the texts NER reads).
        The budget is this thread's CPU time but its garbage collections: what a pathological
        input costs the patterns. Wall time also counted the process being descheduled, and
        blocked ~4 requests in a million on a busy machine."""
        t_start, gc_start = time.thread_time(), _gc_spent()
        changed = False
        ner_jobs: list[_Segment] = []
        for seg in segs:
            if seg.source == "tool_call":
                changed |= self._redact_tool_args(seg, policy, vault, findings, sensitive)
            else:
                new = self._redact_text(seg.text, seg.source, policy, vault, findings, sensitive, extra=None)
                if new != seg.text:
                    seg.set(new)
                    seg.text = new
                    changed = True
            if policy.pii_ner and seg.source != "tool_call":
                ner_jobs.append(seg)
            if time.thread_time() - t_start - (_gc_spent() - gc_start) > policy.pattern_budget_s:
                raise GuardTimeout("pattern detectors over budget")  # checked per text: stop early
        return changed, ner_jobs

    def _check_size(self, req: dict, segs: list[_Segment], policy: GuardPolicy, findings: Findings) -> int:
        """The characters of text to scan, once the request is within the size limits."""
        if policy.max_messages and isinstance(req.get("messages"), list) and len(req["messages"]) > policy.max_messages:
            findings.add("size", "messages", "block", "request")
            raise _Blocked("request_too_large", f"Too many messages (limit {policy.max_messages}).")
        total = sum(len(s.text) for s in segs)
        if policy.max_scan_chars and total > policy.max_scan_chars:
            # fail closed, before any scan: text the guard cannot check in bounded time never
            # goes upstream unchecked (docs/guardrails.md, "Long prompts")
            findings.add("size", "scan_chars", "block", "request")
            raise _Blocked("request_too_large", f"Input too long for the input guard to scan: {total} characters "
                           f"(limit {policy.max_scan_chars}).")
        if policy.max_input_chars and total > policy.max_input_chars:
            findings.add("size", "chars", "block", "request")
            raise _Blocked("request_too_large", f"Input too large: {total} characters (limit {policy.max_input_chars}).")
        if policy.max_input_tokens and (total + 3) // 4 > policy.max_input_tokens:
            findings.add("size", "tokens", "block", "request")
            raise _Blocked(
                "request_too_large",
                f"Input too large: about {(total + 3) // 4} tokens (limit {policy.max_input_tokens}).",
            )
        return total

    def _redact_tool_args(self, seg, policy, vault, findings, sensitive) -> bool:
        try:
            obj = json.loads(seg.text)
        except ValueError:
            new = self._redact_text(seg.text, "tool_call", policy, vault, findings, sensitive, extra=None)
            if new != seg.text:
                seg.set(new)
                return True
            return False
        changed = False
        for container, key, s in list(_json_strings(obj)):
            new = self._redact_text(s, "tool_call", policy, vault, findings, sensitive, extra=None)
            if new != s:
                container[key] = new
                changed = True
        if changed:
            seg.set(json.dumps(obj, ensure_ascii=False))
        return changed

    def _redact_text(self, text, source, policy, vault, findings, sensitive, extra) -> str:
        if not text:
            return text
        if policy.secrets_enabled:
            spans = self._detect(self.secrets, text, source)
            if policy.secrets_extended:
                spans = merge_spans(spans, self.secrets_extended.analyze(text))
            if spans:
                for s in spans:
                    sensitive.add("SECRET")
                    findings.add("secrets", s.kind, policy.secrets_action, source)
                if policy.secrets_action == "block":
                    kinds = sorted({_human(s.kind) for s in spans})
                    raise _Blocked(
                        "guard_blocked",
                        f"The request was blocked: it contains a secret ({', '.join(kinds)}) in {source} content.",
                    )
                if policy.secrets_action == "redact":
                    text = _replace(text, spans, lambda s, v: redact_label(s.kind))
        if policy.pii_enabled:
            spans = [s for s in self._detect(self.pii, text, source) if s.score >= policy.pii_min_score]
            if not policy.pii_private_ips:
                spans = [s for s in spans if s.kind != "IP_ADDRESS" or ip_ok(text[s.start:s.end], private=False)]
            if spans:
                text = self._apply_pii(text, spans, source, policy, vault, findings, sensitive)
        return text

    def _detect(self, detector, text: str, source: str) -> list[Span]:
        """``detector.analyze(text)``. A chat client sends the same system prompt with every
        request, so its spans are kept (by detector and text) instead of rescanned. Only for
        the built-in pattern detectors, which are pure functions of the text, and only system
        text: user content is never held here."""
        if source != "system" or len(text) > _SYSTEM_SPANS_MAX_CHARS or type(detector) not in (FastPII, FastSecrets):
            return detector.analyze(text)
        key = (detector, text)
        spans = self._system_spans.get(key)
        if spans is None:
            if len(self._system_spans) >= _SYSTEM_SPANS_MAX:
                self._system_spans.clear()  # many distinct system prompts: start over, stay bounded
            spans = self._system_spans[key] = tuple(detector.analyze(text))
        return list(spans)

    def _apply_pii(self, text, spans: list[Span], source, policy, vault, findings, sensitive) -> str:
        spans = [s for s in spans if s.score >= policy.pii_min_score and not inside_placeholder(text, s)]
        if not spans:
            return text
        blocked = []
        for s in spans:
            act = policy.pii_action(s.kind)
            sensitive.add(s.kind)
            findings.add("pii", s.kind, act, source)
            if act == "block":
                blocked.append(s.kind)
        if blocked:
            raise _Blocked(
                "guard_blocked",
                f"The request was blocked: it contains {', '.join(sorted({_human(k) for k in blocked}))} in {source} content.",
            )

        def repl(s: Span, value: str) -> str | None:
            act = policy.pii_action(s.kind)
            if act == "tokenize":
                return vault.tokenize(s.kind, value)
            if act == "redact":
                return redact_label(s.kind)
            if act == "mask":
                return mask_value(value, policy.mask_char, policy.mask_keep_last)
            return None

        return _replace(text, spans, repl)

    async def _check_injection(self, segs: list[_Segment], policy: GuardPolicy, findings: Findings, offload: bool = False):
        allow = self._allowlist(policy.injection_allowlist) if policy.injection_allowlist else None
        items: list[tuple[str, str]] = []  # (band source, text)
        for seg in segs:
            if seg.source == "user":
                src = "user"
            elif seg.source in ("tool", "tool_call"):
                src = "tool" if seg.source == "tool" else None
            elif seg.source == "system" and policy.injection_scan_system:
                src = "user"
            else:
                src = None
            if src is None or not seg.original.strip():
                continue
            if allow is not None and allow.allows(seg.original):
                findings.add("injection", "allowlisted", "allow", src)
                continue
            items.append((src, seg.original))
        if not items:
            return {}, False
        bands = {"user": policy.injection_user, "tool": policy.injection_tool}
        # the rules' CPU time, less garbage collection, as for the pattern path: checked
        # between texts and between a long text's chunks (injection_long), so a crafted text
        # costs at most about the budget before failing closed (guard_error). The budget grows
        # with the text beyond 64K characters: benign text dense in trigger words (logs, docs
        # about prompts) costs the rules up to ~3 ms per KB; one trigger repeated, ~14.
        budget = policy.pattern_budget_s * max(1.0, sum(len(t) for _, t in items) / _RULES_BUDGET_CHARS)

        def rule_scores() -> list[float]:  # (the budget is the CPU time of the thread it runs in)
            t_rules, gc_rules = time.thread_time(), _gc_spent()

            def over() -> bool:
                return time.thread_time() - t_rules - (_gc_spent() - gc_rules) > budget

            out = []
            for src, t in items:
                out.append(heuristic_score(t, src, over))
                if over():
                    raise GuardTimeout("injection rules over budget")
            return out

        scores = await asyncio.to_thread(rule_scores) if offload else rule_scores()
        need = [
            i for i, (src, _) in enumerate(items) if scores[i] < bands[src].block
        ]
        if policy.injection_classifier and need and not self.classifier_skipped(policy):
            clf = self.classifier
            texts = [items[i][1] for i in need]
            loaded_for = getattr(clf, "loaded_for", None)
            cold = loaded_for is not None and not loaded_for(policy.injection_model)
            budget = policy.classifier_budget_s + (policy.model_load_budget_s if cold else 0.0)
            if isinstance(clf, InjectionClassifier):
                call = functools.partial(clf.score_many, texts, policy.injection_model)
            else:  # any object with score_many(texts)
                call = functools.partial(clf.score_many, texts)
            if cold or policy.injection_model != "fast":
                probs = await asyncio.wait_for(asyncio.to_thread(call), timeout=budget)
            else:
                # The fast head takes about a millisecond: a thread hop per request costs more
                # than it saves. Inline it; an overrun still counts as a timeout (guard_error).
                t0 = time.perf_counter()
                probs = call()
                if time.perf_counter() - t0 > budget:
                    raise TimeoutError("injection classifier exceeded its time budget")
            for i, p in zip(need, probs):
                p = float(p)
                if not policy.injection_classifier_blocks:  # the classifier flags, rules block
                    p = min(p, max(bands[items[i][0]].block - 1e-3, 0.0))
                scores[i] = max(scores[i], p)
        per_source: dict[str, float] = {}
        for (src, _), sc in zip(items, scores):
            per_source[src] = max(per_source.get(src, 0.0), sc)
        flagged = False
        for src, sc in per_source.items():
            act = bands[src].action(sc)
            if act == "allow":
                continue
            findings.add("injection", "prompt_injection", act, src, score=sc)
            if act == "block":
                where = "retrieved/tool content" if src == "tool" else "user content"
                raise _Blocked(
                    "guard_blocked",
                    f"The request was blocked: possible prompt injection in {where} (score {sc:.2f}).",
                    scores={k: round(v, 4) for k, v in per_source.items()},
                )
            flagged = True
        return {k: round(v, 4) for k, v in per_source.items()}, flagged

    # ------------------------------------------------------------ output

    def output_filter(self, policy: GuardPolicy, vault: TokenVault | None = None, request: dict | None = None) -> "OutputFilter":
        return OutputFilter(self, policy, vault or TokenVault(), request)


_RULES_BUDGET_CHARS = 65_536  # the injection rules get pattern_budget_s per this many characters
_THREAD_CHARS = 32_768  # a request with more text scans in a worker thread (see _check)
_SYSTEM_SPANS_MAX = 64  # distinct system prompts whose spans are kept
_SYSTEM_SPANS_MAX_CHARS = 16_384


def _replace(text: str, spans: list[Span], repl: Callable[[Span, str], str | None]) -> str:
    parts: list[str] = []
    last = 0
    for s in sorted(spans, key=lambda x: x.start):
        if s.start < last:
            continue
        r = repl(s, text[s.start : s.end])
        if r is None:
            continue
        parts.append(text[last : s.start])
        parts.append(r)
        last = s.end
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)
