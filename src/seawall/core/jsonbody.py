"""Parse a client's JSON body into exactly what its bytes say, or refuse it.

The raw bytes may be forwarded to the upstream untouched, so the parsed object the stages
inspect must be the only reading of those bytes. JSON parsers disagree about duplicate keys
(orjson keeps the last, some providers the first): a body with one is refused, whatever the
depth, so no reading can differ from ours.

The check costs a regex count over the bytes and a walk over the containers: every key is
followed by a colon, and a colon elsewhere can only be inside a string, so the bytes hold at
least as many colons as the parsed objects hold keys, and exactly as many when no key was
dropped (and no string has a colon). When prose has colons, the count of unescaped quotes
followed by a colon decides the same way. Only when both differ (a duplicate, or a string
that starts with a colon) does the exact, slower check run.
"""
from __future__ import annotations

import json
import re

import orjson

from .errors import GatewayError

_KEY_END = re.compile(rb'"[ \t\r\n]*:')
_ESCAPED_KEY_END = re.compile(rb'\\"[ \t\r\n]*:')  # literal prefix: fast; a capture group is 30x slower


def parse_object(raw: bytes) -> dict:
    """The body as a dict; 400 `invalid_request` for invalid JSON, a non-object or a duplicate key."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise GatewayError("invalid_request", f"the request body is not valid JSON ({e.msg} at position {e.pos})") from None
    if not isinstance(body, dict):
        raise GatewayError("invalid_request", "the request body must be a JSON object")
    keys = count_keys(body)
    # A colon outside a string separates a key from its value: equal counts, no duplicate.
    # Else count key ends: a quote (not escaped) then whitespace and a colon.
    if raw.count(b":") != keys and _key_ends(raw) != keys:
        duplicate = find_duplicate(raw)
        if duplicate is not None:
            name = duplicate[:64]  # a client's key may be anything, of any length: never echo much
            raise GatewayError("invalid_request", f"the request body has the key {name!r} more than once "
                               "in one object; send each key once", param=name)
    return body


def _key_ends(raw: bytes) -> int:
    """`"<ws>:` in the bytes, less those whose quote is escaped (an odd run of backslashes
    before it): at least the number of keys, more only if a string starts with <ws>:."""
    n = len(_KEY_END.findall(raw))
    for m in _ESCAPED_KEY_END.finditer(raw):
        quote = m.start() + 1
        start = quote - 1
        while start > 0 and raw[start - 1] == 0x5C:  # backslash
            start -= 1
        n -= (quote - start) & 1
    return n


def count_keys(value: object) -> int:
    """Keys of every object in a parsed JSON value (iterative: no recursion limit to reach)."""
    n = 0
    stack = [value]
    pop, append = stack.pop, stack.append
    while stack:
        v = pop()
        if type(v) is dict:
            n += len(v)
            v = v.values()
        for x in v:
            t = type(x)
            if t is dict or t is list:
                append(x)
    return n


class _Duplicate(Exception):
    pass


def _no_duplicates(pairs: list) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise _Duplicate(k)
            seen.add(k)
    return out


def find_duplicate(raw: bytes) -> str | None:
    """The first key that appears twice in one object (keys compared after unescaping), or None."""
    try:
        json.loads(raw, object_pairs_hook=_no_duplicates)
    except _Duplicate as d:
        return str(d.args[0])
    except RecursionError:
        raise GatewayError("invalid_request", "the request body is nested too deeply") from None
    except ValueError:
        # orjson accepted what json refuses (it cannot in practice): refuse rather than guess
        raise GatewayError("invalid_request", "the request body is not valid JSON") from None
    return None


def max_depth(value: object, limit: int) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0, `{}` is 1), counted up to limit + 1.
    Level by level, without recursion: no input can reach Python's recursion limit here."""
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return depth
        below = []
        append = below.append
        for v in level:
            for x in (v.values() if type(v) is dict else v):
                t = type(x)
                if t is dict or t is list:
                    append(x)
        level = below
    return depth
