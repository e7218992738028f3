"""A key's default webhook (issue 15: "an optional webhook per job or per key"): set with
`seawall keys create --webhook-url` or the admin API, used for the key's async jobs that name
none, signed per Standard Webhooks and verified here with the `standardwebhooks` library by a
real HTTP server; a job's own x-seawall-webhook still wins, and the URL is checked like a job's."""
import base64
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from standardwebhooks.webhooks import Webhook

from procs import http, start_gateway, start_simulator

ADMIN = "adm-key-webhook-3c1d"
ADMIN_H = {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"}
SECRET = "whsec_" + base64.b64encode(b"seawall-key-webhook-secret-42").decode()
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello from a key webhook"}]}


class _Receiver(BaseHTTPRequestHandler):
    got: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["content-length"]))
        _Receiver.got.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture(scope="module")
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("keyhook")
    sim = start_simulator(seed=31)
    cfg = {"admin_key": ADMIN, "server": {"access_log": False}, "store": {"sql": f"sqlite:///{tmp}/g.db"},
           "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
           "models": [{"name": "gpt-4o-mini", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}],
           "governance": {"refresh_s": 300, "audit": {"spool_dir": str(tmp / "spool")}},
           "jobs": {"enabled": True, "workers": 2, "poll_s": 0.1,
                    "webhooks": {"secret": "${WEBHOOK_SECRET}", "backoff_s": 0.1,
                                 "allow_private_targets": True}}}  # the receiver is on 127.0.0.1
    path = tmp / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    gw = start_gateway(cfg, env={"WEBHOOK_SECRET": SECRET})
    gw.config_path = str(path)
    yield gw
    gw.stop()
    sim.stop()


def run_cli(*argv):
    p = subprocess.run([sys.executable, "-m", "seawall.cli", *argv], capture_output=True, text=True, timeout=120,
                       check=False)
    return p.returncode, p.stdout, p.stderr


def admin(url, method, path, body=None):
    status, _, raw = http(method, url + path, None if body is None else json.dumps(body).encode(), ADMIN_H)
    return status, json.loads(raw)


def submit(stack, key, **headers):
    status, _, body = http("POST", stack.url + "/v1/chat/completions", json.dumps(CHAT).encode(),
                           {"authorization": f"Bearer {key}", "content-type": "application/json",
                            "prefer": "respond-async", **headers})
    assert status == 202, body
    return json.loads(body)["id"]


def received(job_id, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path, headers, body in list(_Receiver.got):
            if json.loads(body)["data"]["id"] == job_id:
                return path, headers, body
        time.sleep(0.05)
    raise AssertionError(f"no webhook for {job_id}")


def wait_usable(stack, key, timeout=15.0):
    """A key made by the CLI reaches the gateway through the SQL change counter. Until the
    gateway knows a key it is open (any key passes, as nobody), so wait for a wrong key to be
    refused too: the directory that refuses it is the one that holds the new key."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _, _ = http("GET", stack.url + "/v1/models", headers={"authorization": f"Bearer {key}"})
        wrong, _, _ = http("GET", stack.url + "/v1/models", headers={"authorization": "Bearer sw-not-a-key"})
        if status == 200 and wrong == 401:
            return
        time.sleep(0.1)
    raise AssertionError("the key never reached the gateway")


def key_secret(stack, key: str) -> str:
    status, _, raw = http("GET", stack.url + "/v1/jobs/webhook-secret", headers={"authorization": f"Bearer {key}"})
    assert status == 200, raw
    return json.loads(raw)["secret"]


def test_a_keys_webhook_set_by_the_cli_is_called_signed_for_its_jobs(stack, receiver):
    rc, out, err = run_cli("keys", "create", "-c", stack.config_path, "--user", "hooked",
                           "--webhook-url", receiver + "/key-hook?token=s3cret")
    assert rc == 0, err
    key = json.loads(out)
    assert key["webhook_url"] == receiver + "/key-hook?[redacted]"  # the query may be a token: never shown
    wait_usable(stack, key["key"])
    job_id = submit(stack, key["key"])
    path, headers, body = received(job_id)
    assert path == "/key-hook?token=s3cret"  # but it is called as configured
    event = Webhook(key_secret(stack, key["key"])).verify(body, headers)  # raises unless the signature is right
    assert event["type"] == "job.completed" and event["data"]["result"]["choices"][0]["message"]["content"]
    for wrong in (SECRET, "whsec_" + base64.b64encode(b"another-secret-entirely-xx").decode()):
        with pytest.raises(Exception):  # the gateway's own secret does not verify a key's delivery
            Webhook(wrong).verify(body, headers)

    # the job's own webhook wins over the key's
    own = submit(stack, key["key"], **{"x-seawall-webhook": receiver + "/job-hook"})
    assert received(own)[0] == "/job-hook"

    # cleared with the CLI (--webhook-url ''): the key's jobs are no longer called back
    rc, out, err = run_cli("keys", "update", key["id"], "-c", stack.config_path, "--webhook-url", "")
    assert rc == 0 and json.loads(out)["webhook_url"] is None, err


def test_the_admin_api_sets_checks_and_clears_a_keys_webhook(stack, receiver):
    status, k = admin(stack.url, "POST", "/admin/keys", {"user": "api-hooked"})
    assert status == 201 and k["webhook_url"] is None
    for bad in ("ftp://example.com/x", "https://user:pw@example.com/x", "http://exa mple.com/"):
        status, err = admin(stack.url, "PATCH", f"/admin/keys/{k['id']}", {"webhook_url": bad})
        assert status == 400 and err["error"]["param"] == "webhook_url", err
    status, view = admin(stack.url, "PATCH", f"/admin/keys/{k['id']}", {"webhook_url": receiver + "/api-hook"})
    assert status == 200 and view["webhook_url"] == receiver + "/api-hook"
    job_id = submit(stack, k["key"])
    path, headers, body = received(job_id)
    assert path == "/api-hook" and Webhook(key_secret(stack, k["key"])).verify(body, headers)["data"]["id"] == job_id
    status, view = admin(stack.url, "PATCH", f"/admin/keys/{k['id']}", {"webhook_url": None})
    assert status == 200 and view["webhook_url"] is None
    quiet = submit(stack, k["key"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status, _, raw = http("GET", f"{stack.url}/v1/jobs/{quiet}", headers={"authorization": f"Bearer {k['key']}"})
        job = json.loads(raw)
        if job["status"] == "completed":
            break
        time.sleep(0.05)
    assert job["status"] == "completed" and "webhook" not in job


@pytest.mark.parametrize("per_key", [True, False])
def test_per_key_secrets_sign_each_tenant_apart_and_can_be_turned_off(per_key):
    from types import SimpleNamespace

    from seawall.jobs.config import WebhookPolicy
    from seawall.jobs.webhook import Deliverer
    from seawall.net.webhooks import derived_secret

    deliverer = Deliverer(WebhookPolicy(secret=SECRET, per_key_secrets=per_key), queue=None, owner="test")
    payload = b'{"type":"job.completed"}'
    a, b = (SimpleNamespace(id=f"job_{t}", tenant=t, finished_at=1.5) for t in ("k:ann", "k:bob"))
    signed_a, signed_b = deliverer.sign(a, payload), deliverer.sign(b, payload)
    if per_key:
        Webhook(derived_secret(SECRET, "k:ann")).verify(payload, signed_a)
        for wrong, headers in ((SECRET, signed_a), (derived_secret(SECRET, "k:ann"), signed_b)):
            with pytest.raises(Exception):
                Webhook(wrong).verify(payload, headers)
    else:
        for headers in (signed_a, signed_b):
            Webhook(SECRET).verify(payload, headers)
    assert deliverer.secret_for("k:ann") == (derived_secret(SECRET, "k:ann") if per_key else SECRET)
