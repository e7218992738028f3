"""The HTTP edge of a real gateway process: limits, bad input, ids, probes, metrics, heartbeats."""
import json

import pytest

from procs import http, start_gateway, start_simulator


@pytest.fixture(scope="module")
def gw():
    sim = start_simulator(seed=11)
    slow = start_simulator("--chunk-ms", "350", seed=12)
    config = {
        "server": {"max_body_bytes": 4096, "heartbeat_s": 0.1},
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"},
                      {"name": "slow", "base_url": slow.url + "/v1"}],
        "models": [{"name": "gpt-4o-mini", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]},
                   {"name": "slow-model", "targets": [{"provider": "slow", "model": "m"}]}],
    }
    g = start_gateway(config)
    yield g
    for p in (g, sim, slow):
        p.stop()


def post(gw, path, body, headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return http("POST", gw.url + path, data, {"content-type": "application/json", **(headers or {})})


CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


def test_oversized_body_is_413(gw):
    big = {**CHAT, "messages": [{"role": "user", "content": "x" * 10_000}]}
    status, headers, body = post(gw, "/v1/chat/completions", big)
    assert status == 413
    assert json.loads(body)["error"]["code"] == "request_too_large"


def test_malformed_json_is_400(gw):
    status, _, body = post(gw, "/v1/chat/completions", b'{"model": "gpt-4o-mini", "messages": [')
    err = json.loads(body)["error"]
    assert status == 400 and err["code"] == "invalid_request" and "JSON" in err["message"]


@pytest.mark.parametrize("body, param", [
    ({"messages": [{"role": "user", "content": "x"}]}, "model"),
    ({"model": "gpt-4o-mini"}, "messages"),
    ({"model": "gpt-4o-mini", "messages": "hi"}, "messages"),
    ({"model": "gpt-4o-mini", "messages": [{"role": "user"}]}, "messages[0].content"),
    ({"model": "gpt-4o-mini", "messages": [{"role": {"a": 1}, "content": "x"}]}, "messages[0].role"),  # was a 500
    ({"model": "gpt-4o-mini", "messages": [{"role": ["user"], "content": "x"}]}, "messages[0].role"),
    ({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "max_tokens": -1}, "max_tokens"),
    ({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}, "stream"),
    ({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]},
     "tools[0].function.name"),
])
def test_schema_errors_name_the_field(gw, body, param):
    status, _, raw = post(gw, "/v1/chat/completions", body)
    assert status == 400
    assert json.loads(raw)["error"]["param"] == param


@pytest.mark.parametrize("raw", [
    b"[]", b"42", b"null", b'"text"', b"\xff\xfe\x00garbage", b'{"model": 1e999999}',
    b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": {"nested": [1, 2, {"a": null}]}}]}',
    b'{"model": ["x"], "messages": [null]}', b"",
])
def test_no_traceback_ever_reaches_a_client(gw, raw):
    for path in ("/v1/chat/completions", "/v1/embeddings", "/v1/messages"):
        status, _, body = post(gw, path, raw)
        assert 400 <= status < 500, (path, raw, status, body)
        assert b"Traceback" not in body and b'File "' not in body
        parsed = json.loads(body)
        assert "error" in parsed
    assert "Traceback" not in gw.output()


def test_anthropic_route_errors_in_anthropic_shape(gw):
    status, _, raw = post(gw, "/v1/messages", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]})
    body = json.loads(raw)
    assert status == 400
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in body["error"]["message"]


def test_request_id_is_ours_and_the_clients_is_kept_apart(gw):
    # a client's x-request-id could be forged or reused: the gateway's id is always its own
    status, headers, _ = post(gw, "/v1/chat/completions", CHAT, {"x-request-id": "req-test-abc123"})
    assert status == 200
    ours = headers["x-request-id"]
    assert ours != "req-test-abc123" and ours == headers["x-seawall-request-id"]
    assert headers["x-client-request-id"] == "req-test-abc123"
    lines = [json.loads(line) for line in gw.output().splitlines() if "req-test-abc123" in line]
    assert lines and all(line["request_id"] == ours and line["client_request_id"] == "req-test-abc123"
                         for line in lines)
    status, headers, _ = post(gw, "/v1/chat/completions", CHAT)
    assert len(headers["x-request-id"]) >= 16  # made up when the client sends none


def test_every_response_says_what_happened(gw):
    status, headers, _ = post(gw, "/v1/chat/completions", CHAT)
    assert status == 200
    for h in ("x-seawall-request-id", "x-seawall-deployment", "x-seawall-attempts", "x-seawall-latency-ms"):
        assert h in headers
    status, headers, _ = post(gw, "/v1/chat/completions", {**CHAT, "model": "nope"})
    assert status == 404 and headers["x-seawall-error-code"] == "model_not_found"


def test_routes_and_methods(gw):
    assert http("GET", gw.url + "/healthz")[0] == 200
    assert http("GET", gw.url + "/readyz")[0] == 200
    status, _, body = http("GET", gw.url + "/v1/chat/completions")
    assert status == 405 and json.loads(body)["error"]["code"] == "invalid_request"
    status, _, body = http("GET", gw.url + "/v2/nothing")
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"


def test_metrics_count_requests_in_prometheus_format(gw):
    post(gw, "/v1/chat/completions", CHAT)
    status, headers, body = http("GET", gw.url + "/metrics")
    text = body.decode()
    assert status == 200 and headers["content-type"].startswith("text/plain")
    ok = [line for line in text.splitlines()
          if line.startswith("seawall_requests_total{") and 'alias="gpt-4o-mini"' in line and 'outcome="ok"' in line]
    assert ok and float(ok[0].rsplit(" ", 1)[1]) >= 1
    assert "seawall_request_duration_seconds_bucket" in text
    assert 'seawall_tokens_total{alias="gpt-4o-mini"' in text


def test_heartbeat_comments_while_upstream_is_silent(gw):
    body = {"model": "slow-model", "stream": True, "messages": [{"role": "user", "content": "hello"}],
            "max_tokens": 8}
    status, headers, raw = post(gw, "/v1/chat/completions", body)
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    text = raw.decode()
    assert ": keep-alive" in text  # chunks come every 350 ms, heartbeats every 100 ms
    assert text.rstrip().endswith("data: [DONE]")
