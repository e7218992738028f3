"""Exact-cache keys: tenant scope + alias + the normalized request, hashed.

Two requests get the same key only if an upstream would see the same question asked the
same way. So the key covers *every* field of the body except a short list of fields that
cannot change the answer (stream, stream_options, user, metadata, ...). Unknown fields are
kept: a field we do not understand makes the key more specific, never less (a cache that
misses is a cost; a cache that serves the wrong answer is a bug).

Normalizations applied (each one provably does not change what the upstream answers):

- ``None`` values are dropped (absent and null mean the same in the OpenAI API).
- Parameters equal to the API's documented default are dropped (``n=1``, ``top_p=1``,
  ``presence_penalty=0`` ...), so ``{"n": 1}`` and ``{}`` share a key.
- ``max_tokens`` and ``max_completion_tokens`` are one parameter.
- ``stop: "x"`` equals ``stop: ["x"]``; integral floats equal ints (``0`` == ``0.0``).
- A message whose content is a list holding a single text part equals the plain string.
- Tool-call ids (random per upstream call) are renumbered by order of appearance, in the
  assistant's ``tool_calls`` and in the ``tool`` messages that answer them, so a replayed
  agent conversation still hits while the call -> result links stay part of the key.

The key is ``<scope>|<alias>|<blake2b-128 hex>`` with ``|`` and ``%`` escaped in scope and
alias, so invalidation by tenant (``scope|``) or by tenant + alias (``scope|alias|``) is a
prefix delete (Redis SCAN MATCH, SQL ``LIKE``).
"""
from __future__ import annotations

from hashlib import blake2b
from typing import Any, Mapping

import orjson

# Fields that never change the content of the answer.
EXCLUDED_FIELDS: frozenset[str] = frozenset(
    {
        "stream",
        "stream_options",
        "user",
        "metadata",
        "store",  # OpenAI: keep the completion for distillation; not an input
        "service_tier",
        "model",  # replaced by the alias, which is part of the key explicitly
        "safety_identifier",
        "prompt_cache_key",
        "parallel_tool_calls_hint",
    }
)

# Documented defaults: a parameter at its default value is the same as the parameter absent.
DEFAULTS: dict[str, Any] = {
    "n": 1,
    "top_p": 1,
    "presence_penalty": 0,
    "frequency_penalty": 0,
    "logprobs": False,
    "logit_bias": {},
    "stop": [],
    "tools": [],
    "encoding_format": "float",  # embeddings
}

KEY_SEP = "|"


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace(KEY_SEP, "%7C")


def unescape(part: str) -> str:
    return part.replace("%7C", KEY_SEP).replace("%25", "%")


def namespace(scope: str, alias: str | None = None) -> str:
    """The key prefix for a tenant scope (and optionally one alias within it)."""
    if alias is None:
        return _escape(scope) + KEY_SEP
    return _escape(scope) + KEY_SEP + _escape(alias) + KEY_SEP


def split_key(key: str) -> tuple[str, str, str]:
    """(scope, alias, digest) of a key made by :func:`exact_key`."""
    scope, alias, digest = key.split(KEY_SEP)
    return unescape(scope), unescape(alias), digest


def _num(v: Any) -> Any:
    # 2.0 and 2 are the same request; past 2**63 an integer would not fit JSON's 64 bits
    # (orjson refuses it), so such a float stays a float
    if isinstance(v, float) and v.is_integer() and -2**63 <= v < 2**63:
        return int(v)
    return v


def _clean(obj: Any) -> Any:
    """Drop None values recursively and fold integral floats, keeping structure."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    if isinstance(obj, float):
        return _num(obj)
    return obj


def _norm_content(content: Any) -> Any:
    if isinstance(content, list) and len(content) == 1:
        part = content[0]
        if isinstance(part, dict) and part.get("type") == "text" and set(part) <= {"type", "text"}:
            return part.get("text", "")
    return content


def _norm_messages(messages: list[Any]) -> list[Any]:
    ids: dict[str, str] = {}

    def renumber(call_id: Any) -> Any:
        if not isinstance(call_id, str):
            return call_id
        if call_id not in ids:
            ids[call_id] = f"#{len(ids)}"
        return ids[call_id]

    out: list[Any] = []
    for m in messages:
        if not isinstance(m, dict):
            out.append(m)
            continue
        m = dict(m)
        if "content" in m:
            m["content"] = _norm_content(m["content"])
        calls = m.get("tool_calls")
        if isinstance(calls, list):
            new_calls = []
            for c in calls:
                if isinstance(c, dict) and "id" in c:
                    c = dict(c)
                    c["id"] = renumber(c["id"])
                new_calls.append(c)
            m["tool_calls"] = new_calls
        if "tool_call_id" in m:
            m["tool_call_id"] = renumber(m["tool_call_id"])
        # Anthropic shape: tool_use / tool_result blocks inside content.
        content = m.get("content")
        if isinstance(content, list):
            blocks = []
            for b in content:
                if isinstance(b, dict):
                    if b.get("type") == "tool_use" and "id" in b:
                        b = dict(b)
                        b["id"] = renumber(b["id"])
                    elif b.get("type") == "tool_result" and "tool_use_id" in b:
                        b = dict(b)
                        b["tool_use_id"] = renumber(b["tool_use_id"])
                blocks.append(b)
            m["content"] = blocks
        out.append(m)
    return out


def normalize_request(body: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a chat request that decides the answer, in canonical form."""
    out: dict[str, Any] = {}
    for k, v in body.items():
        if k in EXCLUDED_FIELDS or v is None:
            continue
        out[k] = v
    if "max_tokens" in out and "max_completion_tokens" not in out:
        out["max_completion_tokens"] = out.pop("max_tokens")
    elif "max_tokens" in out:
        out.pop("max_tokens")  # max_completion_tokens wins upstream
    stop = out.get("stop")
    if isinstance(stop, str):
        out["stop"] = [stop]
    out = _clean(out)
    for k, default in DEFAULTS.items():
        if k in out and out[k] == default:
            del out[k]
    if isinstance(out.get("messages"), list):
        out["messages"] = _norm_messages(out["messages"])
    return out


def canonical_request(body: Mapping[str, Any]) -> bytes:
    """Canonical JSON (sorted keys) of the normalized request."""
    return orjson.dumps(normalize_request(body), option=orjson.OPT_SORT_KEYS)


def exact_key(scope: str, alias: str, body: Mapping[str, Any], salt: str | None = None) -> str:
    """The exact-cache key: ``<scope>|<alias>|<digest>``.

    ``scope`` is the tenant scope string the pipeline derives from the principal
    (``key:<id>``, ``team:<id>``, ``dept:<id>``, or ``global`` where opted in). ``salt`` (the
    digest of a rewritten request's original content) keeps apart requests that look the same
    only after the guard masked or tokenized them.
    """
    h = blake2b(canonical_request(body), digest_size=16)
    if salt:
        h.update(salt.encode())
    return namespace(scope, alias) + h.hexdigest()


def temperature_of(body: Mapping[str, Any], default: float = 1.0) -> float:
    """The sampling temperature the upstream will use (OpenAI's default is 1)."""
    t = body.get("temperature")
    if t is None:
        return default
    try:
        return float(t)
    except (TypeError, ValueError):
        return default
