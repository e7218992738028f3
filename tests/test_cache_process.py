"""The cache through a real gateway process in front of simulator processes: exact hits never
reach the upstream, streamed hits replay through the official openai SDK, look-alike prompts
are refused by the semantic cache end to end, the fallback cascade serves a stale answer when
the upstream is down, and the admin routes."""
from __future__ import annotations

import json
import time

import openai
import pytest

from procs import http, start_gateway, start_simulator

ADMIN = "adm-cache-test-9d2f"
ADMIN_H = {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"}


@pytest.fixture(scope="module")
def stack():
    main = start_simulator(seed=7)
    flaky = start_simulator(seed=8)
    config = {
        "admin_key": ADMIN,
        "server": {"access_log": False},
        "cache": {"short_ttl_s": 1.0, "stale_for_s": 600},
        "providers": [{"name": "main", "base_url": main.url + "/v1"},
                      {"name": "flaky", "base_url": flaky.url + "/v1"}],
        "models": [
            {"name": "chat", "targets": [{"provider": "main", "model": "gpt-4o-mini",
                                          "price": {"input": 0.15, "output": 0.6}}],
             "cache": {"category": "long"}},
            # threshold far below the default so that only the verifier stands between
            # look-alike prompts and a false hit
            {"name": "sem", "targets": [{"provider": "main", "model": "gpt-4o-mini",
                                         "price": {"input": 0.15, "output": 0.6}}],
             "cache": {"category": "long", "semantic": {"enabled": True, "threshold": 0.5}}},
            {"name": "flaky", "targets": [{"provider": "flaky", "model": "gpt-4o-mini"}],
             "retry": {"max_attempts": 1}, "cache": {"category": "short"}},
        ],
    }
    gw = start_gateway(config)
    yield gw, main, flaky
    for p in (gw, main, flaky):
        p.stop()


def received(sim) -> int:
    return json.loads(http("GET", sim.url + "/_sim/stats")[2])["received"]


def chat(gw, content: str, model: str = "chat", headers: dict | None = None, **extra):
    body = {"model": model, "temperature": 0, "messages": [{"role": "user", "content": content}], **extra}
    return http("POST", gw.url + "/v1/chat/completions", json.dumps(body).encode(),
                {"content-type": "application/json", **(headers or {})})


def stats(gw) -> dict:
    status, _, body = http("GET", gw.url + "/admin/cache/stats", headers=ADMIN_H)
    assert status == 200
    return json.loads(body)


def wait_semantic(gw, n: int) -> None:
    """Semantic entries are indexed in the background, after the answer went out."""
    deadline = time.monotonic() + 10
    while (stats(gw)["semantic"] or {}).get("entries", 0) < n:
        assert time.monotonic() < deadline, "semantic entry never indexed"
        time.sleep(0.05)


def test_exact_hit_does_not_reach_the_upstream(stack):
    gw, main, _ = stack
    s1, h1, b1 = chat(gw, "Name the largest planet.")
    assert s1 == 200 and h1["x-seawall-cache"] == "miss"
    n = received(main)
    s2, h2, b2 = chat(gw, "Name the largest planet.")
    assert s2 == 200 and h2["x-seawall-cache"] == "hit-exact"
    assert received(main) == n  # the upstream never saw it
    assert json.loads(b2)["choices"] == json.loads(b1)["choices"]
    assert h2["x-seawall-cost-usd"] == "0.000000" and float(h1["x-seawall-cost-usd"]) > 0
    st = stats(gw)["by_alias"]["chat"]
    assert st["hit_exact"] >= 1 and st["saved_tokens"] > 0 and st["saved_usd"] > 0


def test_streaming_hits_replay_through_the_openai_sdk(stack):
    gw, main, _ = stack
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key="unused", max_retries=0)
    msgs = [{"role": "user", "content": "Describe the tide in one sentence."}]
    full = client.chat.completions.create(model="chat", messages=msgs, temperature=0)
    n = received(main)
    raw = client.chat.completions.with_raw_response.create(model="chat", messages=msgs, temperature=0, stream=True,
                                                           stream_options={"include_usage": True})
    assert raw.headers["x-seawall-cache"] == "hit-exact"
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == full.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage.total_tokens == full.usage.total_tokens
    # a streamed miss is stored once it completes, and served to the next caller (streamed or not)
    msgs2 = [{"role": "user", "content": "Describe the moon in one sentence."}]
    streamed = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model="chat", messages=msgs2, temperature=0, stream=True) if c.choices)
    n = received(main)
    again = client.chat.completions.with_raw_response.create(model="chat", messages=msgs2, temperature=0)
    assert again.headers["x-seawall-cache"] == "hit-exact"
    assert again.parse().choices[0].message.content == streamed
    assert received(main) == n


PAIRS = [
    ("turn on the lights in the kitchen", "turn off the lights in the kitchen"),
    ("cancel my order", "do not cancel my order"),
    ("convert 5 km to miles", "convert 50 km to miles"),
    ("what is the weather in Paris today", "what is the weather in London today"),
]


def test_semantic_refuses_look_alikes_and_serves_paraphrases(stack):
    gw, main, _ = stack
    base = (stats(gw)["semantic"] or {}).get("entries", 0)
    for i, (stored, _) in enumerate(PAIRS):
        assert chat(gw, stored, model="sem")[1]["x-seawall-cache"] == "miss"
    wait_semantic(gw, base + len(PAIRS))
    for stored, other in PAIRS:
        n = received(main)
        s, h, _ = chat(gw, other, model="sem")
        assert s == 200 and h["x-seawall-cache"] == "miss", (other, h["x-seawall-cache"])
        assert received(main) == n + 1  # answered by the upstream, not by the look-alike's entry
    assert sum(stats(gw)["semantic"]["refusals"].values()) >= len(PAIRS)
    # the positive control: a paraphrase is served from the semantic cache
    chat(gw, "What is the capital of France?", model="sem")
    wait_semantic(gw, base + 2 * len(PAIRS) + 1)
    n = received(main)
    s, h, _ = chat(gw, "What's the capital of France?", model="sem")
    assert h["x-seawall-cache"].startswith("hit-semantic;score=0.9")
    assert received(main) == n


def test_stale_answer_when_the_upstream_is_down(stack):
    gw, _, flaky = stack
    s, h, body = chat(gw, "What is the status of order 77?", model="flaky")
    assert s == 200 and h["x-seawall-cache"] == "miss"
    time.sleep(1.2)  # past the 1 s TTL of the short category: only the stale level may use it
    http("POST", flaky.url + "/_sim/faults", json.dumps({"error_rate": 1.0, "error_status": 503}).encode(),
         {"content-type": "application/json"})
    try:
        s, h, stale = chat(gw, "What is the status of order 77?", model="flaky")
        assert s == 200, stale
        assert h["x-seawall-cache"].startswith("stale;age=") and int(h["x-seawall-cache"].split("=")[1]) >= 1
        assert h["x-seawall-fallback-level"] == "stale"
        assert json.loads(stale)["choices"] == json.loads(body)["choices"]
        s, h, _ = chat(gw, "A question never asked before", model="flaky")
        assert s == 503  # nothing stale to serve
    finally:
        http("DELETE", flaky.url + "/_sim/faults")


def test_admin_stats_and_invalidate(stack):
    gw, _, _ = stack
    assert http("GET", gw.url + "/admin/cache/stats")[0] == 401
    chat(gw, "Invalidate me")
    assert chat(gw, "Invalidate me")[1]["x-seawall-cache"] == "hit-exact"
    s, _, body = http("POST", gw.url + "/admin/cache/invalidate", b'{"alias": "chat"}', ADMIN_H)
    assert s == 200 and json.loads(body)["deleted"]["local"] >= 1
    assert chat(gw, "Invalidate me")[1]["x-seawall-cache"] == "miss"
    assert http("POST", gw.url + "/admin/cache/invalidate", b'{}', ADMIN_H)[0] == 400
    st = stats(gw)
    assert st["aliases"]["sem"]["semantic"] is True and 0 < st["hit_rate"] < 1
