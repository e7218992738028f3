"""The actions stage: tool calls in a model's answer pass the same policies before the client
sees them (chat completions, complete and streamed), for aliases with `actions.tool_calls`.

The Responses API and the Anthropic face translate to and from chat at their edges, so their
function_call items and tool_use blocks pass here too.

An allowed call is untouched; a degraded one reaches the client rewritten; a denied one is
removed and a refusal the agent can read is put in the message's content. An escalated one
is held: removed, an approval is made (approvers are notified) and the content says
"pending approval <id>". Once a person approves, the same call (same tool, arguments, caller
and policy version) in the same conversation is released on the client's next attempt, once;
a later one waits for a new approval. When no call is left, finish_reason becomes "stop".
Streamed tool-call deltas are held back until the answer's end (a call is only known whole
then) and sent in one piece, or replaced; the text streams as it comes.
"""
from __future__ import annotations

import hashlib
import logging
import time

import orjson

from ..core.streams import tap
from ..core.types import HEARTBEAT, Completion, Request, Stream
from .approvals import Refused, binding
from .service import Action, ActionsService, principal_of

log = logging.getLogger("seawall.actions")


def conversation_of(req: Request) -> str:
    """A conversation is its caller and its opening (the messages up to the first user turn):
    each attempt and each later turn of one conversation repeat it."""
    head = []
    for m in req.body.get("messages") or []:
        if not isinstance(m, dict):
            continue
        head.append({"role": m.get("role"), "content": m.get("content")})
        if m.get("role") == "user":
            break
    tenant = req.principal.tenant if req.principal is not None else "anonymous"
    doc = {"tenant": tenant, "who": principal_of(req.principal), "head": head}
    return hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _injection(guard: dict | None) -> float:
    scores = (guard or {}).get("injection_scores")
    if isinstance(scores, dict):
        values = [v for v in scores.values() if isinstance(v, (int, float))]
    elif isinstance(scores, list):
        values = [v for v in scores if isinstance(v, (int, float))]
    else:
        values = [scores] if isinstance(scores, (int, float)) else []
    return float(max(values)) if values else 0.0


def _sensitivity(guard: dict | None) -> str:
    detectors = {f.get("detector") for f in (guard or {}).get("findings", []) if isinstance(f, dict)}
    return "secret" if "secrets" in detectors else "pii" if "pii" in detectors else "none"


class ActionsStage:
    def __init__(self, service: ActionsService) -> None:
        self.service = service

    async def __call__(self, req: Request, call_next):
        policy = getattr(req.profile, "actions", None)
        if policy is None or not policy.tool_calls or req.kind != "chat":
            return await call_next(req)
        result = await call_next(req)
        if isinstance(result, Stream):
            return self._watch(req, result, policy.server)
        await self._check_completion(req, result, policy.server)
        return result

    # ---- one call ------------------------------------------------------------------------

    async def _judge(self, req: Request, server: str, call: dict) -> tuple[dict | None, str | None]:
        """(the call to deliver or None, a notice for the agent or None)."""
        fn = call.get("function") or {}
        name = str(fn.get("name") or "")
        try:
            arguments = orjson.loads(fn.get("arguments") or "{}")
            if not isinstance(arguments, dict):
                raise ValueError
        except ValueError:
            return None, f"[Seawall refused the tool call {name}: its arguments are not a JSON object]"
        action = Action(server, name, arguments, injection=_injection(req.meta.guard),
                        sensitivity=_sensitivity(req.meta.guard))
        svc = self.service
        d = svc.decide(req.principal, action)
        rid = req.meta.request_id
        if d.decision == "deny":
            svc.record(req.principal, action, d, "denied", 403, rid, via="model_answer")
            why = ", ".join(d.policies) or "no policy permits it"
            return None, f"[Seawall refused the tool call {name}: not permitted ({why})]"
        if d.decision == "escalate":
            try:
                return await self._held(req, action, d, call, name)
            except Exception:  # the approvals store failed: nothing is released (closed), the agent is told
                log.exception("holding a tool call for approval failed")
                svc.record(req.principal, action, d, "failed", 503, rid, via="model_answer", error="approvals_store")
                return None, f"[Seawall refused the tool call {name}: it needs approval and approvals are unavailable]"
        svc.record(req.principal, action, d, d.decision, 200, rid, via="model_answer")
        if d.decision == "degrade":
            op = d.tool.split(".", 1)[1] if d.tool.startswith(server + ".") else name
            call = {**call, "function": {**fn, "name": op, "arguments": orjson.dumps(d.arguments).decode()}}
        return call, None

    async def _held(self, req: Request, action: Action, d, call: dict, name: str) -> tuple[dict | None, str | None]:
        """An escalated call: released once if a person approved this very call in this
        conversation; else the pending (or refused) approval is named, or a new one made."""
        svc, rid = self.service, req.meta.request_id
        bound = binding(action.tool, action.arguments, principal_of(req.principal), d.policy_version)
        conversation = conversation_of(req)
        prior = await svc.approvals.find(conversation, bound)
        live = prior is not None and prior["expires_at"] > time.time()
        if live and prior["status"] == "approved":
            try:
                ran = await svc.claim(req.principal, action, d, prior["id"], bound, rid, via="model_answer")
            except Refused:  # another attempt of the conversation took it first: this one waits anew
                prior = None
            else:
                svc.record(req.principal, action, ran, "approved", 200, rid, via="model_answer",
                           approval_id=prior["id"])
                await svc.approvals.record_result(prior["id"], {"released": True, "request_id": rid})
                if ran.arguments is action.arguments:
                    return call, None  # as the model wrote it
                fn = call.get("function") or {}
                return {**call, "function": {**fn, "arguments": orjson.dumps(ran.arguments).decode()}}, None
        if live and prior["status"] == "pending":
            svc.record(req.principal, action, d, "held", 202, rid, via="model_answer", approval_id=prior["id"])
            return None, (f"[Seawall held the tool call {name}: pending approval {prior['id']}; "
                          "it is released on a later attempt of this conversation once a person approves it]")
        if live and prior["status"] == "denied":
            svc.record(req.principal, action, d, "denied", 403, rid, via="model_answer", approval_id=prior["id"])
            return None, f"[Seawall refused the tool call {name}: an approver denied it (approval {prior['id']})]"
        made = await svc.escalate(req.principal, action, d, rid, conversation=conversation, via="model_answer")
        return None, (f"[Seawall held the tool call {name}: pending approval {made['id']}; "
                      "it is released on a later attempt of this conversation once a person approves it]")

    # ---- complete answers ----------------------------------------------------------------

    async def _check_completion(self, req: Request, result: Completion, server: str) -> None:
        body = result.body
        changed = False
        for choice in body.get("choices") or []:
            msg = choice.get("message") or {}
            calls = msg.get("tool_calls")
            if not calls:
                continue
            kept, notes = await self._judge_all(req, server, calls)
            if kept == calls:
                continue
            changed = True
            if kept:
                msg["tool_calls"] = kept
            else:
                msg.pop("tool_calls", None)
                if choice.get("finish_reason") == "tool_calls":
                    choice["finish_reason"] = "stop"
            if notes:
                text = "\n".join(notes)
                msg["content"] = f"{msg['content']}\n{text}" if msg.get("content") else text
        if changed:
            result.body = body  # re-serialized on the way out

    async def _judge_all(self, req, server, calls: list[dict]) -> tuple[list[dict], list[str]]:
        kept, notes = [], []
        for call in calls:
            out, note = await self._judge(req, server, call)
            if out is not None:
                kept.append(out)
            if note:
                notes.append(note)
        return kept, notes

    # ---- streams -------------------------------------------------------------------------

    def _watch(self, req: Request, stream: Stream, server: str) -> Stream:
        calls: dict[tuple[int, int], dict] = {}  # (choice, call index) -> the call assembled so far
        held: list[dict] = []  # the finishing chunk(s) of choices that had tool calls, sent after them
        template: dict = {}

        def rewrite(chunk: dict) -> dict:
            choices = chunk.get("choices")
            if not choices:
                if held:  # a usage chunk after a held finish stays after it
                    held.append(chunk)
                    return HEARTBEAT
                return chunk
            if not template:
                template.update({k: v for k, v in chunk.items() if k != "choices" and k != "usage"})
            touched = False
            out_choices = []
            for ch in choices:
                delta = ch.get("delta") or {}
                i = ch.get("index", 0)
                if delta.get("tool_calls"):
                    for part in delta["tool_calls"]:
                        key = (i, part.get("index", 0))
                        cur = calls.setdefault(key, {"id": None, "type": "function",
                                                     "function": {"name": "", "arguments": ""}})
                        if part.get("id"):
                            cur["id"] = part["id"]
                        fn = part.get("function") or {}
                        cur["function"]["name"] += fn.get("name") or ""
                        cur["function"]["arguments"] += fn.get("arguments") or ""
                    rest = {k: v for k, v in delta.items() if k != "tool_calls"}
                    ch = {**ch, "delta": rest}
                    touched = True
                if ch.get("finish_reason") and any(k[0] == i for k in calls):
                    held.append({**chunk, "choices": [ch]})
                    touched = True
                    continue
                out_choices.append(ch)
            if not touched:
                return chunk
            if not out_choices or all(not (c.get("delta") or {}) and not c.get("finish_reason") for c in out_choices):
                return HEARTBEAT  # nothing left to show now (a keep-alive comment goes out instead)
            return {**chunk, "choices": out_choices}

        async def tail():
            by_choice: dict[int, list[tuple[int, dict]]] = {}
            for (ci, ti), call in sorted(calls.items()):
                by_choice.setdefault(ci, []).append((ti, call))
            for ci, items in by_choice.items():
                kept, notes = await self._judge_all(req, server, [c for _, c in items])
                delta: dict = {}
                if kept:
                    delta["tool_calls"] = [{"index": n, **c} for n, c in enumerate(kept)]
                if notes:
                    delta["content"] = "\n".join(notes)
                if delta:
                    yield {**template, "choices": [{"index": ci, "delta": delta, "finish_reason": None}]}
                for h in held:
                    if not h.get("choices"):
                        continue
                    ch = h["choices"][0]
                    if ch.get("index", 0) == ci:
                        if not kept and ch.get("finish_reason") == "tool_calls":
                            ch = {**ch, "finish_reason": "stop"}
                        yield {**h, "choices": [ch]}
            for h in held:
                if not h.get("choices"):
                    yield h

        return tap(stream, rewrite=rewrite, tail=tail)
