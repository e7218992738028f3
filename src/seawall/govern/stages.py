"""The governance stages of the pipeline: audit (outermost), identify, admit."""
from __future__ import annotations

import time

from ..core.cost import cost_usd
from ..core.errors import GatewayError, Outcome, outcome_of
from ..core.streams import tap
from ..core.types import Request, Result, Stream
from . import audit as audit_mod
from .service import Governance, estimate_prompt_tokens


class AuditStage:
    """audit: one record per request, whatever the outcome (rejections and disconnects too)."""

    def __init__(self, gov: Governance) -> None:
        self.gov = gov

    async def __call__(self, req: Request, call_next) -> Result:
        gov = self.gov
        if gov.audit is None or not gov.enabled:
            return await call_next(req)
        try:
            result = await call_next(req)
        except BaseException as e:
            outcome = outcome_of(e)
            self._record(req, outcome.code, outcome.status, None,
                         {"error": e.message} if isinstance(e, GatewayError) else None)
            raise
        if isinstance(result, Stream):
            self._watch(req, result)
        else:
            text = None
            if gov.audit_content != "none":
                try:
                    text = _completion_text(result.body)
                except Exception:  # noqa: BLE001
                    text = None
            rec = self._make(req, "ok", 200, text, None)
            if req.commit is not None:  # a job's answer and its charge: one write (core/types.py)
                rec["once"] = True  # the log skips it if the job's settling wrote it already
                try:
                    committed = await req.commit(result, rec)
                except BaseException as e:
                    req.meta.cost_usd = 0.0  # not stored: the job runs again and that run is charged
                    outcome = outcome_of(e)
                    self._record(req, outcome.code, outcome.status, None, {"job": "not_stored"})
                    raise
                if not committed:  # the lease went to another worker, whose run is charged
                    req.meta.cost_usd = 0.0
                    self._record(req, "ok", 200, None, {"job": "lease_lost"})
                    return result
            gov.audit.submit(rec)
        return result

    def _watch(self, req: Request, stream: Stream) -> None:
        keep = self.gov.audit_content != "none"
        parts: list[str] = []

        def on_chunk(c: dict) -> None:
            for ch in c.get("choices") or ():
                piece = (ch.get("delta") or {}).get("content")
                if piece:
                    parts.append(piece)

        def on_end(outcome: Outcome) -> None:
            detail = {"error": outcome.error.message} if isinstance(outcome.error, GatewayError) else None
            self._record(req, outcome.code, outcome.status, "".join(parts) if keep else None, detail)

        tap(stream, on_chunk=on_chunk if keep else None, on_end=on_end)

    def _record(self, req: Request, outcome: str, status: int, response: str | None, detail: dict | None) -> None:
        self.gov.audit.submit(self._make(req, outcome, status, response, detail))

    def _make(self, req: Request, outcome: str, status: int, response: str | None, detail: dict | None) -> dict:
        gov = self.gov
        p = req.principal
        meta = req.meta
        usage = meta.usage or {}
        mode = gov.audit_content
        info = {"attempts": meta.attempts, "stream": req.stream}
        if meta.guard is not None:
            info["guard"] = meta.guard  # kinds, actions, counts, scores: never the values
        if meta.cache:
            info["cache"] = meta.cache  # hit-exact, hit-semantic;score=.., miss, stale;age=.., refresh
        if meta.client_request_id:
            info["client_request_id"] = meta.client_request_id  # the client's id, beside ours
        if detail:
            info.update(detail)
        if p is not None and p.kind != "virtual":
            info["principal"] = p.kind
        prompt = None
        if mode != "none":
            try:
                prompt = audit_mod.prompt_text(req.body)
            except Exception:  # noqa: BLE001
                prompt = None
        rec = audit_mod.make_record(
            "request", outcome, status, request_id=req.request_id,
            key_id=p and p.key_id, user_id=p and p.user_id, team_id=p and p.team_id,
            department_id=p and p.department_id, alias=req.alias, deployment=meta.deployment,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            cost_usd=float(getattr(meta, "cost_usd", None) or 0.0),
            latency_ms=round((time.perf_counter() - req.started) * 1000.0, 3),
            detail=info, prompt=audit_mod.content(mode, prompt), response=audit_mod.content(mode, response),
        )
        return rec


def _completion_text(body: dict) -> str | None:
    choices = body.get("choices")
    if choices:
        return "".join((c.get("message") or {}).get("content") or "" for c in choices)
    return None


class Identify:
    """identify: the presented key -> principal (user, team, department, allowed models). The
    HTTP edge has usually identified the caller already (once per request); then only the
    alias permission is left to check."""

    def __init__(self, gov: Governance) -> None:
        self.gov = gov

    async def __call__(self, req: Request, call_next) -> Result:
        gov = self.gov
        if gov.enabled:
            if req.principal is None:
                req.principal = gov.identify(req.headers, req.alias)
            else:
                gov.permit(req.principal, req.alias)
        return await call_next(req)


class Admit:
    """admit: rate limits and a budget reservation before the call; settle after it with the
    actual usage and cost (released on failure); cost and x-ratelimit-* headers. A stream the
    client leaves early is charged for what it delivered."""

    def __init__(self, gov: Governance) -> None:
        self.gov = gov

    async def __call__(self, req: Request, call_next) -> Result:
        gov = self.gov
        if not gov.enabled:
            return await call_next(req)
        price = _max_price(req.route)
        adm, headers = await gov.admit(req, req.principal, price)
        if headers:
            req.meta.extra.update(headers)
        try:
            result = await call_next(req)
        except BaseException:
            gov.settle(adm, None, None)
            raise
        if isinstance(result, Stream):
            self._watch(req, adm, result)
            return result
        self._settle(req, adm)
        return result

    def _settle(self, req: Request, adm) -> None:
        meta = req.meta
        dep = req.route.deployments if req.route is not None else ()
        price = next((d.price for d in dep if d.id == meta.deployment), None)
        cost = cost_usd(price, meta.usage)
        meta.cost_usd = cost
        self.gov.settle(adm, meta.usage, cost)

    def _watch(self, req: Request, adm, stream: Stream) -> None:
        delivered = _Delivered()

        def on_end(outcome: Outcome) -> None:
            if not outcome.ok and not req.meta.usage and delivered.chunks:
                # Left early (or cut by an error) before the upstream reported usage: charge
                # what was delivered, so closing a stream is not a way around budgets and TPM.
                req.meta.usage = delivered.usage(estimate_prompt_tokens(req.body, req.raw))
            if req.meta.usage:
                self._settle(req, adm)
            else:
                self.gov.settle(adm, None, None)

        tap(stream, on_chunk=delivered.feed, on_end=on_end)


class _Delivered:
    """Counts what a stream has delivered: content characters and chunks."""

    __slots__ = ("chars", "chunks")

    def __init__(self) -> None:
        self.chars = self.chunks = 0

    def feed(self, c: dict) -> None:
        for ch in c.get("choices") or ():
            delta = ch.get("delta") or {}
            text = delta.get("content")
            if text:
                self.chars += len(text)
                self.chunks += 1
            for call in delta.get("tool_calls") or ():
                args = (call.get("function") or {}).get("arguments")
                if args:
                    self.chars += len(args)
                    self.chunks += 1

    def usage(self, prompt_tokens: int) -> dict:
        # about four characters a token, and at least one token a content chunk
        completion = max((self.chars + 3) // 4, self.chunks)
        return {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
                "total_tokens": prompt_tokens + completion, "estimated": True}


def _max_price(route):
    """The estimate uses the dearest deployment the request may land on."""
    if route is None or not route.deployments:
        return None
    return max((d.price for d in route.deployments), key=lambda p: p.input + p.output)
