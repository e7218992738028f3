"""Exact-cache keys: what changes the key and what does not."""
import copy

import pytest

from seawall.cache.keys import canonical_request, exact_key, namespace, split_key
from seawall.cache.policy import AliasCachePolicy, CacheConfig, decide, is_cacheable, response_cacheable

BASE = {
    "model": "gpt-4o",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Convert 5 km to miles"},
    ],
    "temperature": 0,
}


def key(body, scope="team:a", alias="chat"):
    return exact_key(scope, alias, body)


def changed(**kw):
    b = copy.deepcopy(BASE)
    b.update(kw)
    return b


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b["messages"][0].update(content="You are verbose."),
        lambda b: b["messages"][1].update(content="Convert 50 km to miles"),
        lambda b: b["messages"][1].update(role="assistant"),
        lambda b: b["messages"][1].update(name="bob"),
        lambda b: b["messages"].insert(1, {"role": "user", "content": "hi"}),
        lambda b: b.update(temperature=0.2),
        lambda b: b.update(top_p=0.5),
        lambda b: b.update(max_tokens=10),
        lambda b: b.update(max_completion_tokens=11),
        lambda b: b.update(stop=["\n"]),
        lambda b: b.update(seed=7),
        lambda b: b.update(n=2),
        lambda b: b.update(presence_penalty=0.5),
        lambda b: b.update(frequency_penalty=0.5),
        lambda b: b.update(logit_bias={"50256": -100}),
        lambda b: b.update(logprobs=True),
        lambda b: b.update(response_format={"type": "json_object"}),
        lambda b: b.update(tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}]),
        lambda b: b.update(tool_choice="required"),
        lambda b: b.update(some_future_param=1),
    ],
)
def test_key_changes_with_anything_that_matters(mutate):
    b = copy.deepcopy(BASE)
    mutate(b)
    assert key(b) != key(BASE)


@pytest.mark.parametrize(
    "extra",
    [
        {"stream": True},
        {"stream": True, "stream_options": {"include_usage": True}},
        {"user": "alice"},
        {"metadata": {"trace": "x"}},
        {"model": "another-model-name"},  # the alias is the key part, not the wire model
        {"n": 1, "top_p": 1, "presence_penalty": 0},  # documented defaults
        {"temperature": 0.0},
        {"seed": None},
    ],
)
def test_key_ignores_what_cannot_change_the_answer(extra):
    assert key(changed(**extra)) == key(BASE)


def test_equivalent_spellings_share_a_key():
    assert key(changed(stop="\n")) == key(changed(stop=["\n"]))
    assert key(changed(max_tokens=10)) == key(changed(max_completion_tokens=10))
    parts = copy.deepcopy(BASE)
    parts["messages"][1]["content"] = [{"type": "text", "text": "Convert 5 km to miles"}]
    assert key(parts) == key(BASE)


def test_tool_call_ids_are_renumbered_but_links_kept():
    def convo(call_id, result_id, result="12"):
        return {
            "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": "w", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": result_id, "content": result},
            ]
        }
    assert key(convo("call_abc", "call_abc")) == key(convo("call_xyz", "call_xyz"))
    assert key(convo("call_abc", "call_abc")) != key(convo("call_abc", "call_other"))
    assert key(convo("a", "a", "12")) != key(convo("a", "a", "13"))


def test_scope_and_alias_are_part_of_the_key_and_prefix():
    assert key(BASE, scope="team:a") != key(BASE, scope="team:b")
    assert key(BASE, alias="chat") != key(BASE, alias="chat-large")
    k = key(BASE, scope="team:a|x", alias="c|d")
    assert k.startswith(namespace("team:a|x", "c|d"))
    assert split_key(k)[:2] == ("team:a|x", "c|d")
    # an escaped separator cannot make one tenant's prefix match another's keys
    assert not key(BASE, scope="team:a|x").startswith(namespace("team:a"))


def test_canonical_json_is_order_independent():
    a = {"messages": [{"content": "x", "role": "user"}], "temperature": 0}
    b = {"temperature": 0, "messages": [{"role": "user", "content": "x"}]}
    assert canonical_request(a) == canonical_request(b)


def test_is_cacheable():
    p = AliasCachePolicy(max_temperature=0.3)
    assert is_cacheable({"temperature": 0}, p)
    # No temperature (the SDKs' default) on an alias the operator caches: cached (docs/caching.md) ...
    assert is_cacheable({}, p)
    # ... unless the alias says such a request runs at the provider default 1.0
    assert not is_cacheable({}, AliasCachePolicy(max_temperature=0.3, no_temperature="skip"))
    assert not is_cacheable({"temperature": 0.9}, p)
    assert not is_cacheable({"temperature": 0, "n": 3}, p)
    assert is_cacheable({"temperature": 0.9}, AliasCachePolicy(opt_in_any_temperature=True))
    assert is_cacheable({"temperature": 0, "n": 3}, AliasCachePolicy(allow_n_gt_1=True))


def test_embeddings_have_no_temperature_rule():
    cfg = CacheConfig(default=AliasCachePolicy(category="long", max_temperature=0.3))
    body = {"input": ["a", "b"], "temperature": 0.9}  # a chat request like it would not be cached
    assert not decide(cfg, "any", body).write
    d = decide(cfg, "any", body, kind="embeddings")
    assert d.read and d.write and d.ttl_s == cfg.long_ttl_s
    assert not decide(cfg, "any", body, "none", kind="embeddings").active  # the override still applies


@pytest.mark.parametrize("response, ok", [
    ({"choices": [{"finish_reason": "stop", "message": {"content": "x"}}]}, True),
    ({"choices": [{"finish_reason": "length", "message": {"content": "x"}}]}, False),
    ({"stop_reason": "end_turn"}, True),
    ({"stop_reason": "max_tokens"}, False),
    ({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}]}, True),
    ({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": "AAAA"}]}, True),  # base64
    ({"object": "list", "data": []}, False),
    ({"object": "list", "data": [{"object": "embedding", "index": 0}]}, False),
    ({"error": {"message": "boom"}}, False),
])
def test_what_responses_may_be_stored(response, ok):
    assert response_cacheable(response) is ok


def test_a_huge_integral_float_still_makes_a_key():
    # found by tests/abuse/test_schema_fuzz.py: folding 1e30 into an int broke the canonical
    # JSON (past 64 bits) and the request answered 500
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "seed": 1e30}
    assert canonical_request(body) != canonical_request({**body, "seed": 1e31})
    assert canonical_request({**body, "seed": 2.0}) == canonical_request({**body, "seed": 2})


def test_a_request_the_cached_alias_does_not_cache_says_why():
    cfg = CacheConfig(default=AliasCachePolicy(category="long", max_temperature=0.3))
    msgs = [{"role": "user", "content": "x"}]
    assert decide(cfg, "m", {"messages": msgs}).active  # no temperature: cached
    hot = decide(cfg, "m", {"messages": msgs, "temperature": 0.9})
    assert not hot.active and hot.skipped == "skip;reason=temperature"
    assert decide(cfg, "m", {"messages": msgs, "temperature": 0, "n": 2}).skipped == "skip;reason=n"
    assert decide(cfg, "m", {"messages": msgs}, override="none").skipped == "skip;reason=override"
    off = CacheConfig(default=AliasCachePolicy(category="none"))
    assert decide(off, "m", {"messages": msgs, "temperature": 0.9}).skipped is None  # not a cached alias: silent
