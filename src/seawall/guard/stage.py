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

The policy of an alias is `GATEWAY_DEFAULTS`, then the top-level `guard:` config, then the
alias's `guard:`: each layer overrides only the fields it sets; mappings (`pii_actions`,
`output_pii_actions`, `sensitive_kinds_route_to_tags`) and the injection bands merge key by key.
"""
from __future__ import annotations

from typing import AsyncIterator

from prometheus_client import Counter
from pydantic import BaseModel

from ..core.errors import GatewayError
from ..core.types import HEARTBEAT, Completion, Request, Result, Stream
from .engine import Guard, InputDecision, OutputFilter
from .policy import GuardPolicy


# The gateway's starting point: the engine's defaults (secrets block; e-mail, phone, street
# address, person tokenized; card, IBAN, SSN redacted; injection heuristics plus the `fast`
# classifier head block at >= 0.9 and flag at >= 0.5 for user content; fail closed). The
# classifier is on: since weights v3 (trained with everyday benign text) short ordinary
# prompts ("Hello", "ok", "Explain quantum computing simply") score low; see
# docs/guardrails.md for the held-out false-positive figures. `injection_classifier: false`
# turns it off for an alias.
GATEWAY_DEFAULTS = GuardPolicy()


def merge_policies(*layers: GuardPolicy | None) -> GuardPolicy:
    """The gateway's defaults overridden by each layer's explicitly set fields, in order."""
    merged = GATEWAY_DEFAULTS
    for layer in layers:
        if layer is not None:
            merged = _merge(merged, layer)
    return merged


def _merge(base: BaseModel, layer: BaseModel) -> BaseModel:
    update = {}
    for name in layer.model_fields_set:
        new, old = getattr(layer, name), getattr(base, name)
        if isinstance(new, dict) and isinstance(old, dict):
            new = {**old, **new}
        elif isinstance(new, BaseModel) and isinstance(old, BaseModel):
            new = _merge(old, new)
        update[name] = new
    return base.model_copy(update=update)


def alias_policies(config) -> dict[str, GuardPolicy]:
    out = {}
    for alias in config.models:
        p = merge_policies(config.guard, alias.guard)
        if alias.kind == "embeddings":  # no instructions to inject, no text answer to scan
            p = p.model_copy(update={"injection_enabled": False, "output_enabled": False})
        out[alias.name] = p
    return out


async def warm_up(guard: Guard, config) -> None:
    """Load the models the configured policies use (Gateway.start), not on request one."""
    used = [p for p in alias_policies(config).values() if p.enabled]
    modes = {p.injection_model for p in used if p.injection_enabled and p.injection_classifier}
    ner = any(p.pii_enabled and p.pii_ner for p in used)
    if modes or ner:
        mode = next(iter(modes)) if len(modes) == 1 else "cascade"  # cascade loads both tiers
        await guard.warm_up(classifier=bool(modes), ner=ner, injection_model=mode)


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


def _outcome(d: InputDecision) -> str:
    if not d.allowed:
        return "error" if d.code == "guard_error" else "blocked"
    if d.fail_open:
        return "fail_open"
    parts = [name for name, on in (("masked", d.rewritten), ("flagged", d.flagged)) if on]
    return ",".join(parts) or "pass"


class GuardIn:
    """guard in: check and rewrite the request; guard out: filter the answer (see module doc)."""

    def __init__(self, gw) -> None:
        self.guard: Guard = gw.guard
        config, router = gw.config, gw.router
        self.policies = alias_policies(config)
        self.metrics = GuardMetrics(gw.metrics.registry)
        # the deployments' tag sets a request to each alias may reach (its own and its fallbacks')
        self.reach: dict[str, list[frozenset]] = {
            a.name: [d.tags for n in (a.name, *a.fallbacks, *a.context_fallbacks) for d in router.routes[n].deployments]
            for a in config.models
        }

    async def __call__(self, req: Request, call_next) -> Result:
        policy = self.policies.get(req.alias)
        if policy is None or not policy.enabled:
            return await call_next(req)
        d = await self.guard.check_input(req.body, policy)
        outcome = _outcome(d)
        self._record(req, d, outcome)
        req.meta.extra["x-seawall-guard"] = outcome  # pass | masked | flagged | masked,flagged | fail_open | blocked | error
        if not d.allowed:
            raise d.error()
        if d.required_tags:
            self._restrict(req, d, policy)
        if d.request is not req.body:
            req.body, req.raw = d.request, None  # the rewritten body is what goes upstream
        result = await call_next(req)
        if not policy.output_enabled and not len(d.vault):
            return result
        out = self.guard.output_filter(policy, d.vault, req.body)
        if isinstance(result, Stream):
            result.chunks = self._watch(req, out, result.chunks)
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
            req.meta.extra["x-seawall-guard"] = "blocked"
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

    async def _watch(self, req: Request, out: OutputFilter, chunks: AsyncIterator[dict]) -> AsyncIterator[dict]:
        try:
            async for c in chunks:
                yield c if c is HEARTBEAT else out.filter_chunk(c)
            for c in out.finish():
                yield c
        finally:
            self._record_output(req, out)
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()
