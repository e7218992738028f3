"""Async requests against a real `seawall serve` in front of real simulator processes:
Prefer: respond-async -> 202 + Location, polling, the route's own wire format, tenant scope,
idempotency, retries to failed, cancel, and a webhook verified with `standardwebhooks`."""
import base64
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import threading
import time

import openai
import pytest
from standardwebhooks.webhooks import Webhook

from procs import http, start_gateway, start_simulator

KEY_A, KEY_B = "sk-jobs-tenant-a", "sk-jobs-tenant-b"
SECRET = "whsec_" + base64.b64encode(b"seawall-jobs-test-secret-0123").decode()
ASYNC = {"prefer": "respond-async"}


@pytest.fixture(scope="module")
def stack():
    sim = start_simulator(seed=11)
    slow = start_simulator("--latency-ms", "4000", seed=12)
    down = start_simulator("--error-rate", "1", "--error-status", "503", seed=13)
    config = {
        "server": {"api_keys": ["${KEY_A}", "${KEY_B}"]},
        "providers": [
            {"name": "sim", "base_url": sim.url + "/v1"},
            {"name": "slow", "base_url": slow.url + "/v1"},
            {"name": "down", "base_url": down.url + "/v1"},
        ],
        "models": [
            {"name": "gpt-4o-mini", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]},
            {"name": "emb", "kind": "embeddings", "targets": [{"provider": "sim", "model": "text-embedding-3-small"}]},
            {"name": "slow", "targets": [{"provider": "slow", "model": "gpt-4o-mini"}]},
            {"name": "down", "targets": [{"provider": "down", "model": "m"}],
             "retry": {"max_attempts": 1}},
        ],
        "jobs": {"enabled": True, "workers": 2, "poll_s": 0.1, "lease_s": 3,
                 "retry": {"max_attempts": 2, "backoff_s": 0.1},
                 "webhooks": {"secret": "${WEBHOOK_SECRET}", "backoff_s": 0.1,
                              "allow_private_targets": True}},  # the receiver is on 127.0.0.1
    }
    gw = start_gateway(config, env={"KEY_A": KEY_A, "KEY_B": KEY_B, "WEBHOOK_SECRET": SECRET})
    yield gw
    for p in (gw, sim, slow, down):
        p.stop()


def post(stack, path, body, key=KEY_A, **headers):
    return http("POST", stack.url + path, json.dumps(body).encode(),
                {"authorization": f"Bearer {key}", "content-type": "application/json", **headers})


def get_job(stack, job_id, key=KEY_A):
    status, _, body = http("GET", f"{stack.url}/v1/jobs/{job_id}", headers={"authorization": f"Bearer {key}"})
    return status, json.loads(body)


def webhook_secret(stack, key) -> str:
    status, headers, body = http("GET", f"{stack.url}/v1/jobs/webhook-secret", headers={"authorization": f"Bearer {key}"})
    assert status == 200 and headers["cache-control"] == "no-store", body
    secret = json.loads(body)["secret"]
    assert secret.startswith("whsec_") and secret != SECRET
    return secret


def wait_done(stack, job_id, key=KEY_A, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, job = get_job(stack, job_id, key)
        assert status == 200, job
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['status']}")


CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello async"}]}


def test_async_chat_answers_202_and_the_result_is_a_chat_completion(stack):
    status, headers, body = post(stack, "/v1/chat/completions", CHAT, **ASYNC)
    assert status == 202
    job = json.loads(body)
    assert job["status"] in ("queued", "running") and headers["location"] == f"/v1/jobs/{job['id']}"
    done = wait_done(stack, job["id"])
    assert done["status"] == "completed" and done["http_status"] == 200
    completion = openai.types.chat.ChatCompletion.model_validate(done["result"])  # the route's own format
    assert completion.choices[0].message.content


def test_another_tenant_cannot_see_or_cancel_a_job(stack):
    _, _, body = post(stack, "/v1/chat/completions", CHAT, **ASYNC)
    job_id = json.loads(body)["id"]
    assert get_job(stack, job_id, KEY_B)[0] == 404
    status, _, _ = http("DELETE", f"{stack.url}/v1/jobs/{job_id}", headers={"authorization": f"Bearer {KEY_B}"})
    assert status == 404
    assert wait_done(stack, job_id)["status"] == "completed"  # untouched by the other tenant


def test_x_seawall_async_for_embeddings_and_messages_keep_their_wire_format(stack):
    _, _, body = post(stack, "/v1/embeddings", {"model": "emb", "input": ["a", "b"]}, **{"x-seawall-async": "1"})
    emb = wait_done(stack, json.loads(body)["id"])
    assert emb["result"]["object"] == "list" and len(emb["result"]["data"]) == 2
    msg = {"model": "gpt-4o-mini", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
    status, _, body = post(stack, "/v1/messages", msg, **{"x-seawall-async": "1"})
    assert status == 202
    done = wait_done(stack, json.loads(body)["id"])
    assert done["result"]["type"] == "message" and done["result"]["content"][0]["type"] == "text"


def test_an_idempotency_key_returns_the_same_job(stack):
    a = post(stack, "/v1/chat/completions", CHAT, **ASYNC, **{"idempotency-key": "order-77"})
    b = post(stack, "/v1/chat/completions", CHAT, **ASYNC, **{"idempotency-key": "order-77"})
    assert a[0] == b[0] == 202
    assert json.loads(a[2])["id"] == json.loads(b[2])["id"]
    assert b[1].get("x-seawall-idempotent-replay") == "true"
    c = post(stack, "/v1/chat/completions", CHAT, key=KEY_B, **ASYNC, **{"idempotency-key": "order-77"})
    assert json.loads(c[2])["id"] != json.loads(a[2])["id"]  # keys are per tenant


def test_bad_input_is_refused_before_anything_is_queued(stack):
    status, _, body = post(stack, "/v1/chat/completions", {"model": "gpt-4o-mini"}, **ASYNC)
    assert status == 400 and "messages" in body.decode()
    status, _, _ = post(stack, "/v1/chat/completions", CHAT, **ASYNC, **{"x-seawall-webhook": "ftp://x"})
    assert status == 400
    creds = "http://hook-user:hook-pass@127.0.0.1:9/x?sig=q-secret"  # credentials in a URL: refused, not echoed
    status, _, body = post(stack, "/v1/chat/completions", CHAT, **ASYNC, **{"x-seawall-webhook": creds})
    assert status == 400 and b"credentials" in body and b"hook-pass" not in body and b"q-secret" not in body


def test_an_upstream_that_stays_down_fails_the_job_after_its_attempts(stack):
    _, _, body = post(stack, "/v1/chat/completions", {**CHAT, "model": "down"}, **ASYNC)
    done = wait_done(stack, json.loads(body)["id"])
    assert done["status"] == "failed" and done["attempts"] == 2
    assert done["error"]["status"] == 503 and "result" not in done


def test_cancel_a_running_job(stack):
    _, _, body = post(stack, "/v1/chat/completions", {**CHAT, "model": "slow"}, **ASYNC)
    job_id = json.loads(body)["id"]
    for _ in range(100):
        if get_job(stack, job_id)[1]["status"] == "running":
            break
        time.sleep(0.05)
    status, _, body = http("DELETE", f"{stack.url}/v1/jobs/{job_id}", headers={"authorization": f"Bearer {KEY_A}"})
    assert status == 200 and json.loads(body)["status"] == "cancelled"
    time.sleep(4.5)  # past the slow upstream's answer: the worker must not overwrite the cancel
    assert get_job(stack, job_id)[1]["status"] == "cancelled"


class _Receiver(BaseHTTPRequestHandler):
    got: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["content-length"]))
        _Receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
        fail = len(_Receiver.got) == 1  # the first delivery fails: the retry must follow
        self.send_response(500 if fail else 204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def test_a_webhook_is_signed_retried_and_every_attempt_recorded(stack):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        _, _, body = post(stack, "/v1/chat/completions", CHAT, **ASYNC, **{"x-seawall-webhook": url})
        job_id = json.loads(body)["id"]
        deadline = time.monotonic() + 20
        while len(_Receiver.got) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_Receiver.got) == 2
        headers, payload = _Receiver.got[1]
        mine, other = webhook_secret(stack, KEY_A), webhook_secret(stack, KEY_B)
        event = Webhook(mine).verify(payload, headers)  # raises unless the signature is right
        assert event["type"] == "job.completed" and event["data"]["id"] == job_id
        assert event["data"]["result"]["choices"][0]["message"]["content"]
        # signed with the submitting key's own secret: neither the gateway's nor another key's verifies it
        for wrong in (SECRET, other, "whsec_" + base64.b64encode(b"another-secret-entirely-xx").decode()):
            with pytest.raises(Exception):
                Webhook(wrong).verify(payload, headers)
        for _ in range(100):
            job = get_job(stack, job_id)[1]
            if job["webhook"]["state"] == "delivered":
                break
            time.sleep(0.05)
        assert [a.get("status") for a in job["webhook"]["attempts"]] == [500, 204]
    finally:
        server.shutdown()
