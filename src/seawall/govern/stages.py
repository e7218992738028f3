"""The governance stages of the pipeline: audit (outermost), identify, admit."""
from __future__ import annotations

import asyncio
import time
from typing import AsyncIterator

from ..core.errors import GatewayError
from ..core.types import Request, Result, Stream
from . import audit as audit_mod
from .service import Governance, cost_usd


class AuditStage:
    """audit: one record per request, whatever the outcome (rejections and disconnects too)."""

    def __init__(self, gov: Governance) -> None:
        self.gov = gov

    async def __call__(self, req: Request, call_next) -> Result:
        gov = self.gov
        if not gov._started:
            await gov.start()
        if gov.audit is None or not gov.enabled:
            return await call_next(req)
        try:
            result = await call_next(req)
        except GatewayError as e:
            self._record(req, e.code, e.status, None, {"error": e.message})
            raise
        except asyncio.CancelledError:
            self._record(req, "client_closed", 499, None, None)
            raise
        except Exception:
            self._record(req, "internal_error", 500, None, None)
            raise
        if isinstance(result, Stream):
            result.chunks = self._watch(req, result.chunks)
        else:
            text = None
            if gov.audit_content != "none":
                try:
                    text = _completion_text(result.body)
                except Exception:  # noqa: BLE001
                    text = None
            self._record(req, "ok", 200, text, None)
        return result

    async def _watch(self, req: Request, chunks: AsyncIterator[dict]) -> AsyncIterator[dict]:
        keep = self.gov.audit_content != "none"
        parts: list[str] = []
        outcome, status, detail = "client_closed", 499, None
        try:
            async for c in chunks:
                if keep and c:
                    for ch in c.get("choices") or ():
                        piece = (ch.get("delta") or {}).get("content")
                        if piece:
                            parts.append(piece)
                yield c
            outcome, status = "ok", 200
        except GatewayError as e:
            outcome, status, detail = e.code, e.status, {"error": e.message}
            raise
        finally:
            self._record(req, outcome, status, "".join(parts) if keep else None, detail)

    def _record(self, req: Request, outcome: str, status: int, response: str | None, detail: dict | None) -> None:
        gov = self.gov
        p = req.principal
        meta = req.meta
        usage = meta.usage or {}
        mode = gov.audit_content
        info = {"attempts": meta.attempts, "stream": req.stream}
        if meta.guard is not None:
            info["guard"] = meta.guard  # kinds, actions, counts, scores: never the values
        cache = meta.extra.get("x-seawall-cache")
        if cache:
            info["cache"] = cache  # hit-exact, hit-semantic;score=.., miss, stale;age=.., refresh
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
        gov.audit.submit(rec)


def _completion_text(body: dict) -> str | None:
    choices = body.get("choices")
    if choices:
        return "".join((c.get("message") or {}).get("content") or "" for c in choices)
    return None


class Identify:
    """identify: the presented key -> principal (user, team, department, allowed models)."""

    def __init__(self, gov: Governance) -> None:
        self.gov = gov

    async def __call__(self, req: Request, call_next) -> Result:
        if self.gov.enabled:
            if req.principal is None:
                req.principal = self.gov.identify(req.headers, req.alias)
            else:  # the HTTP edge identified the caller already: only the alias is left to check
                self.gov.permit(req.principal, req.alias)
        return await call_next(req)


class Admit:
    """admit: rate limits and a budget reservation before the call; settle after it with the
    actual usage and cost (released on failure); cost and x-ratelimit-* headers."""

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
            result.chunks = self._watch(req, adm, result.chunks)
            return result
        self._settle(req, adm)
        return result

    def _settle(self, req: Request, adm) -> None:
        meta = req.meta
        dep = req.route.deployments if req.route is not None else ()
        price = next((d.price for d in dep if d.id == meta.deployment), None)
        cost = cost_usd(price, meta.usage)
        meta.cost_usd = cost
        meta.extra["x-seawall-cost-usd"] = f"{cost:.6f}"
        self.gov.settle(adm, meta.usage, cost)

    async def _watch(self, req: Request, adm, chunks: AsyncIterator[dict]) -> AsyncIterator[dict]:
        settled = False
        try:
            async for c in chunks:
                yield c
            self._settle(req, adm)
            settled = True
        finally:
            if not settled:
                if req.meta.usage:
                    self._settle(req, adm)  # the upstream reported usage before it stopped
                else:
                    self.gov.settle(adm, None, None)


def _max_price(route):
    """The estimate uses the dearest deployment the request may land on."""
    if route is None or not route.deployments:
        return None
    return max((d.price for d in route.deployments), key=lambda p: p.input + p.output)
