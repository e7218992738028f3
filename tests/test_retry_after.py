"""An upstream's Retry-After is bounded and never strands an alias (issue 13, item 6).

Real processes: a gateway in front of simulators (fault injection over their control API) and
of a tiny upstream that answers `Retry-After: inf`, which the simulator cannot send.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from procs import http, start_gateway, start_simulator
from seawall.providers import classify

MAX = 300.0  # classify.MAX

HI = [{"role": "user", "content": "Hello there"}]


@pytest.mark.parametrize("headers, expected", [
    ({"retry-after": "inf"}, None), ({"retry-after": "nan"}, None), ({"retry-after": "-3"}, None),
    ({"retry-after": "1e400"}, None), ({"retry-after": "soon"}, None), ({"retry-after-ms": "-5"}, None),
    ({"retry-after": "86400"}, MAX), ({"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"}, MAX),
    ({"x-ratelimit-reset-requests": "9999h"}, MAX), ({"retry-after": "2.5"}, 2.5),
    ({"retry-after-ms": "inf", "retry-after": "4"}, 4.0),
])
def test_retry_after_is_clamped_and_garbage_ignored(headers, expected):
    assert classify.MAX_RETRY_AFTER_S == MAX
    assert classify.retry_after_seconds(headers) == expected


class _Upstream(BaseHTTPRequestHandler):
    """OpenAI-shaped: 429 with `Retry-After: inf` while `limited`, else a small completion."""
    limited = True
    calls = 0

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("content-length") or 0))
        type(self).calls += 1
        if type(self).limited:
            body = json.dumps({"error": {"message": "slow down", "type": "rate_limit_error", "code": None}}).encode()
            self.send_response(429)
            self.send_header("Retry-After", "inf")
        else:
            body = json.dumps({"id": "c", "object": "chat.completion", "created": 0, "model": "m",
                               "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
                                            "finish_reason": "stop"}],
                               "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()
            self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def stack():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cooling = start_simulator("--error-rate", "1", "--error-status", "429", "--retry-after-s", "60", seed=21)
    briefly = start_simulator("--error-rate", "1", "--error-status", "429", "--retry-after-s", "5", seed=22)
    healthy = start_simulator(seed=23)
    config = {
        "server": {"access_log": False},
        "providers": [{"name": "inf", "base_url": f"http://127.0.0.1:{server.server_port}/v1"},
                      {"name": "cooling", "base_url": cooling.url + "/v1"},
                      {"name": "briefly", "base_url": briefly.url + "/v1"},
                      {"name": "healthy", "base_url": healthy.url + "/v1"}],
        "models": [
            {"name": "inf", "targets": [{"provider": "inf", "model": "m"}], "retry": {"backoff_base_s": 0.01},
             "breaker": {"enabled": False}},
            {"name": "cooling", "targets": [{"provider": "cooling", "model": "m"}], "fallbacks": ["backup"]},
            {"name": "briefly", "targets": [{"provider": "briefly", "model": "m"}], "fallbacks": ["backup"]},
            {"name": "backup", "targets": [{"provider": "healthy", "model": "m"}]},
        ],
    }
    gw = start_gateway(config)
    yield gw, {"cooling": cooling, "briefly": briefly, "healthy": healthy}
    gw.stop()
    for s in (cooling, briefly, healthy):
        s.stop()
    server.shutdown()


def chat(gw, model: str):
    return http("POST", gw.url + "/v1/chat/completions", json.dumps({"model": model, "messages": HI}).encode(),
                {"content-type": "application/json"}, timeout=30)


def received(sim) -> int:
    return json.loads(http("GET", sim.url + "/_sim/stats")[2])["received"]


def test_retry_after_inf_is_no_server_error_and_the_deployment_comes_back(stack):
    gw, _ = stack
    for _ in range(5):
        status, headers, body = chat(gw, "inf")
        assert status in (429, 503), body  # the upstream's rate limit, passed on; never a 500
        assert json.loads(body)["error"]["code"] in ("rate_limited", "upstream_unavailable")
        assert 1 <= int(headers["retry-after"]) <= MAX
    _Upstream.limited = False
    try:
        status, _, body = chat(gw, "inf")  # not parked forever: the next request reaches it
        assert status == 200, body
    finally:
        _Upstream.limited = True


def test_a_long_retry_after_sends_the_alias_to_its_fallback_for_every_request(stack):
    """One deployment's 60 s Retry-After: every request (far more than the retry budget's
    share) is answered by the healthy fallback alias, none with 503."""
    gw, sims = stack
    answers = [chat(gw, "cooling") for _ in range(60)]
    assert [s for s, _, _ in answers] == [200] * 60, [b for s, _, b in answers if s != 200][:2]
    assert {h.get("x-seawall-fallback-alias") for _, h, _ in answers} == {"backup"}
    assert received(sims["cooling"]) == 1  # asked once, then left alone while it cools down


def test_a_short_wait_is_not_served_when_a_fallback_is_ready(stack):
    """A 5 s Retry-After is within max_wait_s (30 s), but the fallback is ready now: go there
    at once instead of sleeping and asking the same deployment again."""
    gw, sims = stack
    status, headers, body = chat(gw, "briefly")
    assert status == 200, body
    assert headers["x-seawall-fallback-alias"] == "backup"
    assert received(sims["briefly"]) == 1
    assert headers["x-seawall-attempts"] == "2"
