"""guard in / guard out: the guard engine on the request path.

On the way in (`GuardIn.__call__`, after identify/route/admit, before cache/coalesce/execute):
`Guard.check_input` on the OpenAI-format body. A block raises its GatewayError
(guard_blocked 400, guard_error 503: fail closed, request_too_large 413) before anything is
forwarded. A rewritten body (PII masked, redacted or tokenized) replaces `req.body` and drops
`req.raw`, so the rewritten bytes are what goes upstream. Sensitive kinds that the policy
routes (`sensitive_kinds_route_to_tags`) set `req.required_tags`: the balancer then picks only
deployments carrying all of them, for first attempts, retries, hedges and fallback aliases;
when no deployment the request could reach carries them, the policy blocks (or allows).

On the way out: a complete answer goes through `OutputFilter.filter_response` (restore
placeholders, also inside tool-call arguments; leakage scan; JSON schema), a stream through
`filter_chunk` per chunk and `finish` at the end; a leak found mid-stream ends the stream with
one error event (api/http.write_stream).

What was decided is recorded without values: `req.meta.guard` (the audit record),
Prometheus counters, and the `x-seawall-guard` header (pass | masked | flagged | fail_open).

The policy of an alias is compiled once into its profile (guard/config.py); the stage reads
`req.profile.guard`. `GuardService.answer_passes` is the guard's public verdict on an answer,
which the cache asks before it keeps one.
"""
from __future__ import annotations

import hashlib
from typing import Callable

import orjson
from prometheus_client import Counter

from ..core.errors import GatewayError
from ..core.streams import tap
from ..core.types import Completion, Request, Result, Stream
from .engine import Guard, InputDecision, OutputFilter
from .policy import GuardPolicy


def _warm_up_plan(policies) -> tuple[set[str], bool]:
    used = [p for p in policies if p.enabled]
    modes = {p.injection_model for p in used if p.injection_enabled and p.injection_classifier}
    return modes, any(p.pii_enabled and p.pii_ner for p in used)


def _per_config(config, router) -> tuple[dict[str, GuardPolicy], dict[str, list[frozenset]]]:
    """Each alias's policy, and the deployments' tag sets a request to it may reach (its own and
    its fallbacks')."""
    policies = {a: p.guard for a, p in config.profiles.items()}
    reach = {name: [d.tags for n in (name, *p.resilience.fallbacks, *p.resilience.context_fallbacks)
                    for d in router.routes[n].deployments]
             for name, p in config.profiles.items()}
    return policies, reach


class GuardMetrics:
    def __init__(self, registry) -> None:
        reg = {"registry": registry} if registry is not None else {}
        self.decisions = Counter("seawall_guard_decisions_total", "Input guard decisions by alias and outcome",
                                 ["alias", "outcome"], **reg)
        self.findings = Counter("seawall_guard_findings_total",
                                "Guard findings (items found) by detector, kind, action and direction",
                                ["detector", "kind", "action", "direction"], **reg)
        self._children: dict[tuple, object] = {}

    def inc(self, metric, *labels, n: int = 1) -> None:
        key = (id(metric), labels)
        c = self._children.get(key)
        if c is None:
            c = self._children[key] = metric.labels(*labels)
        c.inc(n)


def _digest(req: Request) -> str:
    """Of the content as the client sent it (before any rewrite), for Request.original_digest."""
    data = req.raw if req.raw is not None else orjson.dumps(req.body, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _outcome(d: InputDecision) -> str:
    if not d.allowed:
        return "error" if d.code == "guard_error" else "blocked"
    if d.fail_open:
        return "fail_open"
    parts = [name for name, on in (("masked", d.rewritten), ("flagged", d.flagged)) if on]
    return ",".join(parts) or "pass"


class GuardService:
    """The guard of one gateway: the engine (its models), the per-alias policies, metrics, and
    the public verdict on answers."""

    def __init__(self, config, router, registry) -> None:
        self.engine = Guard()
        self.policies, self.reach = _per_config(config, router)
        self.metrics = GuardMetrics(registry)

    async def start(self) -> None:
        """Load the models the configured policies use, so the first request pays no model load."""
        await self._warm(self.policies)

    async def _warm(self, policies: dict) -> None:
        modes, ner = _warm_up_plan(policies.values())
        modes = {m for m in modes if self.engine.classifier_installed(m)}  # the rest: missing_extras
        if modes or ner:
            mode = next(iter(modes)) if len(modes) == 1 else "cascade"  # cascade loads both tiers
            await self.engine.warm_up(classifier=bool(modes), ner=ner, injection_model=mode)

    async def prepare(self, config, router) -> Callable[[], None]:
        """A reload: load the models the new policies use (the engine and its loaded models stay);
        the returned commit swaps the policies in, in the same step as the new pipeline."""
        policies, reach = _per_config(config, router)
        await self._warm(policies)

        def commit() -> None:
            self.policies, self.reach = policies, reach

        return commit

    async def aclose(self) -> None:
        pass

    def answer_passes(self, req: Request, body: dict) -> bool:
        """Would this answer pass the alias's output guard as it stands (no block, nothing to
        mask, a valid schema)? A guard that errors says no."""
        policy = self.policies.get(req.alias)
        if policy is None or not policy.enabled or not policy.output_enabled:
            return True
        out = self.engine.output_filter(policy, None, req.body)
        try:
            out.filter_response(body)
        except Exception:  # noqa: BLE001 - a block, or a guard that errors: not a clean answer
            return False
        return not out.findings.as_list() and not out.schema_errors


class GuardIn:
    """guard in: check and rewrite the request; guard out: filter the answer (see module doc)."""

    def __init__(self, svc: GuardService) -> None:
        self.svc = svc
        self.guard: Guard = svc.engine
        self.metrics = svc.metrics
        self.reach = svc.reach

    async def __call__(self, req: Request, call_next) -> Result:
        policy: GuardPolicy = req.profile.guard
        if not policy.enabled:
            return await call_next(req)
        d = await self.guard.check_input(req.body, policy)
        outcome = _outcome(d)
        self._record(req, d, outcome)
        req.meta.guard_outcome = outcome
        if not d.allowed:
            raise d.error()
        if d.required_tags:
            self._restrict(req, d, policy)
        if d.request is not req.body:
            req.original_digest = _digest(req)
            req.body, req.raw = d.request, None  # the rewritten body is what goes upstream
        result = await call_next(req)
        if not policy.output_enabled and not len(d.vault):
            return result
        out = self.guard.output_filter(policy, d.vault, req.body)
        if isinstance(result, Stream):
            tap(result, rewrite=out.filter_chunk, tail=out.finish, on_end=lambda _: self._record_output(req, out))
            return result
        try:
            body = out.filter_response(result.body)
        finally:
            self._record_output(req, out)
        if body == result.body:
            return result  # untouched: relay the upstream's bytes
        # a new Completion: the upstream's may be shared (coalesced followers, a cache)
        return Completion(result.meta, body)

    def _restrict(self, req: Request, d: InputDecision, policy: GuardPolicy) -> None:
        tags = frozenset(d.required_tags)
        if any(tags <= have for have in self.reach.get(req.alias, ())):
            req.required_tags = tags
            return
        action = policy.sensitive_unroutable_action
        findings = req.meta.guard["findings"]
        findings.append({"detector": "routing", "kind": "unroutable", "action": action, "source": "request",
                         "count": 1})
        self.metrics.inc(self.metrics.findings, "routing", "unroutable", action, "in")
        if action == "block":
            req.meta.guard_outcome = "blocked"
            kinds = sorted(k for k in d.sensitive_kinds if k in policy.sensitive_kinds_route_to_tags)
            what = ", ".join(k.lower().replace("_", " ") for k in kinds)
            raise GatewayError(
                "guard_blocked",
                f"The request was blocked: it contains {what}, which may only go to deployments tagged "
                f"{', '.join(sorted(tags))}, and model {req.alias!r} has none.",
            )

    def _record(self, req: Request, d: InputDecision, outcome: str) -> None:
        info: dict = {"outcome": outcome, "findings": list(d.findings), "ms": round(d.duration_ms, 3)}
        if d.code:
            info["code"] = d.code
        if d.injection_scores:
            info["injection_scores"] = d.injection_scores
        if d.required_tags:
            info["required_tags"] = list(d.required_tags)
        req.meta.guard = info
        m = self.metrics
        m.inc(m.decisions, req.alias, outcome)
        for f in d.findings:
            m.inc(m.findings, f["detector"], f["kind"], f["action"], "in", n=f.get("count", 1))

    def _record_output(self, req: Request, out: OutputFilter) -> None:
        found = out.findings.as_list()
        if not found:
            return
        m = self.metrics
        for f in found:
            m.inc(m.findings, f["detector"], f["kind"], f["action"], "out", n=f.get("count", 1))
        if req.meta.guard is not None:
            req.meta.guard["output_findings"] = found
