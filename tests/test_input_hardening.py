"""Client input that once got past or broke the gateway (issue 13, items 1, 9 and 10).

Real processes (a simulator and `seawall serve`): a body with a duplicate key is refused and
nothing reaches the upstream; nesting deeper than the limit is a 400 and a body at the limit
goes through the guard; a table walks every field the gateway reads with wrong values, on
the chat, embeddings and Anthropic routes, and none of them is a 500. In process: the
duplicate check agrees with an exact parser on generated bodies.
"""
from __future__ import annotations

import copy
import json
import random

import pytest

from procs import http, start_gateway, start_simulator
from seawall import Gateway
from seawall.config import parse
from seawall.core.errors import GatewayError
from seawall.core.jsonbody import find_duplicate, parse_object
from seawall.sim import Simulator

SSN_AND_KEY = "my ssn is 123-45-6789 and my key AKIAIOSFODNN7EXAMPLE"


@pytest.fixture(scope="module")
def stack():
    sim = start_simulator(seed=13)
    config = {
        "server": {"access_log": False},
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        # alias == upstream model: the raw bytes are forwarded untouched
        # no breaker: an upstream that refuses one odd (but valid) body must not hide the next cases
        "models": [{"name": "echo", "targets": [{"provider": "sim", "model": "echo"}],
                    "breaker": {"enabled": False}, "retry": {"max_attempts": 1}},
                   {"name": "emb", "kind": "embeddings", "targets": [{"provider": "sim", "model": "emb"}]}],
    }
    gw = start_gateway(config)
    yield gw, sim
    gw.stop()
    sim.stop()


def post(gw, path: str, body) -> tuple[int, dict, bytes]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return http("POST", gw.url + path, data, {"content-type": "application/json"})


def received(sim) -> int:
    return json.loads(http("GET", sim.url + "/_sim/stats")[2])["received"]


# ---- item 1: duplicate keys -----------------------------------------------------------------

DUPLICATES = [
    # top level: the guard would see the harmless last copy, the upstream the first
    b'{"model":"echo","messages":[{"role":"user","content":"%s"}],'
    b'"messages":[{"role":"user","content":"hello"}]}' % SSN_AND_KEY.encode(),
    # deep inside a message
    b'{"model":"echo","messages":[{"role":"user","content":"%s","content":"hello"}]}' % SSN_AND_KEY.encode(),
    # the same key spelled with an escape, and whitespace before the colon
    b'{"model":"echo","messages":[{"role":"user","content":"%s"}],'
    b'"mess\\u0061ges" :[{"role":"user","content":"hello"}]}' % SSN_AND_KEY.encode(),
]


@pytest.mark.parametrize("raw", DUPLICATES)
def test_duplicate_keys_are_refused_and_nothing_is_forwarded(stack, raw):
    gw, sim = stack
    before = received(sim)
    status, _, body = post(gw, "/v1/chat/completions", raw)
    err = json.loads(body)["error"]
    assert status == 400 and err["code"] == "invalid_request"
    assert err["param"] in ("messages", "content") and err["param"] in err["message"]
    assert received(sim) == before


def test_colons_and_quotes_in_text_are_not_duplicates(stack):
    gw, _ = stack
    content = 'Note: the JSON {"a": 1, "a" : 2} and a path C:\\\\ then \\": end'
    args = json.dumps({"city": "Paris", "note": 'say "hi": twice'})
    body = {"model": "echo", "messages": [
        {"role": "user", "content": content},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": args}}]},
        {"role": "tool", "tool_call_id": "c1", "content": ": starts with a colon"},
        {"role": "user", "content": "ok"}]}
    status, _, raw = post(gw, "/v1/chat/completions", body)
    assert status == 200, raw


def _random_json(rng: random.Random, depth: int = 0):
    r = rng.random()
    if depth > 3 or r < 0.3:
        return rng.choice(["a", 'q":', "x\\", 1, 2.5, True, None, ": y", 'k\\":'])
    if r < 0.6:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["a", "b", "a\\", 'c"', "d:"]): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def _dump(value, rng: random.Random, dup: list) -> str:
    """JSON text of value; sometimes an object gets one key twice (recorded in dup)."""
    if isinstance(value, dict):
        items = [(json.dumps(k), _dump(v, rng, dup)) for k, v in value.items()]
        if items and rng.random() < 0.15:
            items.append((items[0][0], '"dup"'))
            dup.append(True)
        ws = rng.choice(["", " ", "\n\t"])
        return "{" + ",".join(f"{k}{ws}:{ws}{v}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v, rng, dup) for v in value) + "]"
    return json.dumps(value)


def test_duplicate_check_agrees_with_an_exact_parser():
    rng = random.Random(7)
    seen = {True: 0, False: 0}
    for _ in range(3000):
        dup: list = []
        text = _dump({"root": _random_json(rng)}, rng, dup)
        raw = text.encode()
        exact = find_duplicate(raw) is not None
        assert exact == bool(dup), text
        seen[exact] += 1
        if exact:
            with pytest.raises(GatewayError) as e:
                parse_object(raw)
            assert e.value.code == "invalid_request"
        else:
            assert parse_object(raw) == json.loads(raw)
    assert seen[True] > 100 and seen[False] > 100


# ---- item 9: depth --------------------------------------------------------------------------

def _nested(levels: int) -> dict:
    """A JSON schema `levels` objects deep."""
    schema: dict = {"type": "string"}
    for _ in range(levels - 1):
        schema = {"x": schema}
    return schema


def _deep_tool_body(levels_of_schema: int) -> dict:
    # the body, tools, [0], function, parameters: the schema starts at level 5
    return {"model": "echo", "messages": [{"role": "user", "content": SSN_AND_KEY}],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": _nested(levels_of_schema)}}]}


def test_nesting_past_the_limit_is_400_and_at_the_limit_the_guard_still_scans(stack):
    gw, sim = stack
    before = received(sim)
    status, _, raw = post(gw, "/v1/chat/completions", _deep_tool_body(500 // 2))
    assert status == 400 and "levels deep" in json.loads(raw)["error"]["message"]
    status, _, raw = post(gw, "/v1/chat/completions", _deep_tool_body(64 - 4 + 1))  # 65 levels
    assert status == 400
    assert received(sim) == before
    # exactly at the limit: the guard scans it and blocks the secret (no guard_error, no 500)
    status, _, raw = post(gw, "/v1/chat/completions", _deep_tool_body(64 - 4))
    assert status == 400 and json.loads(raw)["error"]["code"] == "guard_blocked", raw
    ok = _deep_tool_body(64 - 4)
    ok["messages"][0]["content"] = "hello"
    assert post(gw, "/v1/chat/completions", ok)[0] == 200


def test_deep_json_inside_tool_call_arguments_is_refused(stack):
    gw, _ = stack
    args = '{"a":' * 300 + "1" + "}" * 300
    body = {"model": "echo", "messages": [
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": args}}]},
        {"role": "user", "content": "go"}]}
    status, _, raw = post(gw, "/v1/chat/completions", body)
    assert status == 400 and json.loads(raw)["error"]["param"] == "messages[0].tool_calls[0].function.arguments"


def test_deep_anthropic_body_is_400(stack):
    gw, _ = stack
    text = ('{"model":"echo","max_tokens":5,"messages":[{"role":"user","content":"x"}],'
            '"tools":[{"name":"f","input_schema":' + '{"x":' * 300 + '1' + '}' * 300 + '}]}')
    status, _, body = post(gw, "/v1/messages", text.encode())
    assert status == 400 and "levels deep" in json.loads(body)["error"]["message"]


async def test_guard_scans_bodies_at_the_highest_configurable_depth():
    """max_json_depth may be raised to 128: the guard must still scan such a body (no
    RecursionError, so no guard_error and no fail-open), tool arguments included."""
    async with Simulator(seed=3) as sim:
        gw = Gateway(parse({
            "server": {"max_json_depth": 128},
            "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
            "models": [{"name": "m", "targets": [{"provider": "sim", "model": "echo"}]}],
        }))
        async with gw:
            args = json.dumps({"deep": _nested(128 - 1), "note": SSN_AND_KEY})
            msgs = [{"role": "assistant", "content": None,
                     "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": args}}]},
                    {"role": "tool", "tool_call_id": "c", "content": "done"},
                    {"role": "user", "content": "thanks"}]
            tools = [{"type": "function", "function": {"name": "f", "parameters": _nested(128 - 4)}}]
            with pytest.raises(GatewayError) as e:
                await gw.chat(model="m", messages=msgs, tools=tools)
            assert e.value.code == "guard_blocked"
            with pytest.raises(GatewayError) as e:
                await gw.chat(model="m", messages=msgs, tools=[{"type": "function", "function": {
                    "name": "f", "parameters": _nested(128 - 3)}}])
            assert e.value.code == "invalid_request" and "128 levels" in e.value.message


# ---- item 10: every field, wrong values -----------------------------------------------------

WRONG = [None, True, 0, -1, 1.5, 1e308, "", "x", [], [1], ["x"], {}, {"a": {}}, [{}], [[]]]

CHAT = {
    "model": "echo",
    "messages": [
        {"role": "system", "content": "be brief", "name": "s"},
        {"role": "user", "content": [{"type": "text", "text": "hello"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "user", "content": "and tomorrow?"},
    ],
    "temperature": 0.5, "top_p": 1, "presence_penalty": 0, "frequency_penalty": 0, "max_tokens": 20,
    "max_completion_tokens": 20, "n": 1, "stream": False, "stop": ["\n\n"], "seed": 1, "user": "u1",
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "d",
                                                 "parameters": {"type": "object", "properties": {}}, "strict": False}}],
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}}, "parallel_tool_calls": True,
    "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"}}},
    "logprobs": False, "top_logprobs": 0, "logit_bias": {"50256": -100}, "metadata": {"k": "v"},
}
STREAMING = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}

EMBED = {"model": "emb", "input": ["hello", "world"], "encoding_format": "float", "dimensions": 8, "user": "u"}

MESSAGES = {
    "model": "echo", "max_tokens": 20, "system": [{"type": "text", "text": "be brief"}],
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "weather?"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "sunny"}]},
    ],
    "tools": [{"name": "get_weather", "description": "d", "input_schema": {"type": "object", "properties": {}}}],
    "tool_choice": {"type": "tool", "name": "get_weather"}, "stop_sequences": ["\n\n"], "temperature": 0.5,
    "top_p": 1, "top_k": 5, "stream": False, "metadata": {"user_id": "u"},
    "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}},
}


OPAQUE = {"parameters", "schema", "input_schema", "input"}  # the upstream's to judge: not walked into


def _paths(value, prefix=()):
    """Every path into a JSON value (keys and list indexes), containers included."""
    if prefix and prefix[-1] in OPAQUE:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


def _with(body: dict, path: tuple, value) -> dict:
    out = copy.deepcopy(body)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return out


def _cases():
    for route, base in (("/v1/chat/completions", CHAT), ("/v1/chat/completions", STREAMING),
                        ("/v1/embeddings", EMBED), ("/v1/messages", MESSAGES)):
        for path in _paths(base):
            for value in WRONG:
                yield route, path, _with(base, path, value)
        for extra in ("stream_options", "unknown_field"):
            for value in WRONG:
                yield route, (extra,), {**base, extra: value}


def test_every_field_with_wrong_values_is_never_a_server_error(stack):
    gw, _ = stack
    for route, base in (("/v1/chat/completions", CHAT), ("/v1/embeddings", EMBED), ("/v1/messages", MESSAGES)):
        status, _, raw = post(gw, route, base)
        assert status == 200, (route, raw)  # the bases are valid: wrong values are what fail
    failures = []
    n = 0
    for route, path, body in _cases():
        n += 1
        status, _, raw = post(gw, route, body)
        if status == 500 or b"internal_error" in raw or b"api_error" in raw:
            failures.append((route, path, body_at(body, path), status, raw[:160]))
    assert n > 2000
    assert not failures, failures[:10]


def body_at(body, path):
    for step in path:
        body = body[step]
    return body
