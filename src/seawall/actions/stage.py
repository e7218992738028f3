"""The actions stage: tool calls in a model's answer pass the same policies before the client
sees them (chat completions, complete and streamed), for aliases with `actions.tool_calls`.

An allowed call is untouched; a degraded one reaches the client rewritten; a denied one is
removed and a refusal the agent can read is put in the message's content; an escalated one
is held (removed, with a notice) and audited as such. When no call is left, finish_reason
becomes "stop". Streamed tool-call deltas are held back until the answer's end (a call is
only known whole then) and sent in one piece, or replaced; the text streams as it comes.
"""
from __future__ import annotations

import orjson

from ..core.streams import tap
from ..core.types import HEARTBEAT, Completion, Request, Stream
from .service import Action, ActionsService


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
        self._check_completion(req, result, policy.server)
        return result

    # ---- one call ------------------------------------------------------------------------

    def _judge(self, req: Request, server: str, call: dict) -> tuple[dict | None, str | None]:
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
            svc.record(req.principal, action, d, "held", 202, rid, via="model_answer")
            return None, f"[Seawall held the tool call {name}: it needs a person's approval]"
        svc.record(req.principal, action, d, d.decision, 200, rid, via="model_answer")
        if d.decision == "degrade":
            op = d.tool.split(".", 1)[1] if d.tool.startswith(server + ".") else name
            call = {**call, "function": {**fn, "name": op, "arguments": orjson.dumps(d.arguments).decode()}}
        return call, None

    # ---- complete answers ----------------------------------------------------------------

    def _check_completion(self, req: Request, result: Completion, server: str) -> None:
        body = result.body
        changed = False
        for choice in body.get("choices") or []:
            msg = choice.get("message") or {}
            calls = msg.get("tool_calls")
            if not calls:
                continue
            kept, notes = self._judge_all(req, server, calls)
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

    def _judge_all(self, req, server, calls: list[dict]) -> tuple[list[dict], list[str]]:
        kept, notes = [], []
        for call in calls:
            out, note = self._judge(req, server, call)
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

        def tail():
            by_choice: dict[int, list[tuple[int, dict]]] = {}
            for (ci, ti), call in sorted(calls.items()):
                by_choice.setdefault(ci, []).append((ti, call))
            for ci, items in by_choice.items():
                kept, notes = self._judge_all(req, server, [c for _, c in items])
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
