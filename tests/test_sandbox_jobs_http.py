"""Sandbox executions as async jobs, through a real `seawall serve` over HTTP: `Prefer:
respond-async` or `x-seawall-async: 1` gives 202 with a job and Location at once; GET
/v1/jobs/{id} then carries the execution's result in the same JSON contract as the sync route.
Bad requests are refused at submission, the job is the submitter's tenant's only."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time

import pytest

from procs import http, start_gateway, start_simulator
from seawall.sandbox.models import RESULT_FIELDS

ADMIN = "adm-sandbox-jobs-4b1c"


@pytest.fixture(scope="module")
def gw():
    sim = start_simulator(seed=37)
    work_root = tempfile.mkdtemp(prefix="seawall-sbx-jobs-", dir="/tmp")
    gateway = start_gateway({
        "admin_key": ADMIN,
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "chat", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}],
        "sandbox": {"enabled": True, "work_root": work_root, "workdir_mb": 16},
        "jobs": {"enabled": True, "workers": 2, "poll_s": 0.1, "lease_s": 5},
    })
    yield gateway
    gateway.stop()
    sim.stop()
    shutil.rmtree(work_root, ignore_errors=True)


def _post(gw, path, body, key, **headers):
    status, h, raw = http("POST", gw.url + path, json.dumps(body).encode(),
                          {"content-type": "application/json", "authorization": f"Bearer {key}", **headers},
                          timeout=30)
    return status, h, json.loads(raw)


def _get(gw, path, key):
    status, _, raw = http("GET", gw.url + path, None, {"authorization": f"Bearer {key}"})
    return status, json.loads(raw)


def _keys(gw) -> list[str]:
    keys = []
    for user in ("alice", "bob"):
        status, _, k = _post(gw, "/admin/keys", {"user": user}, ADMIN)
        assert status == 201, k
        keys.append(k["key"])
    return keys


def _done(gw, location, key, timeout=60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, job = _get(gw, location, key)
        assert status == 200, job
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"{location} still {job['status']}")


def _usable(gw, key) -> None:
    status, _, out = _post(gw, "/v1/sandbox/executions", {"language": "python", "code": "print('up')"}, key)
    if status == 503 and os.environ.get("SEAWALL_REQUIRE_SERVICES") != "1":
        pytest.skip(out["error"]["message"])
    assert status == 200 and out["stdout"] == "up\n", out  # without the header: run now, as before


def test_a_long_run_submitted_async_answers_202_and_its_job_carries_the_result(gw):
    alice, bob = _keys(gw)
    _usable(gw, alice)
    body = {"language": "python", "files": [{"name": "in.txt", "content": "21"}],
            "code": "import time\ntime.sleep(2)\nn = int(open('in.txt').read())\n"
                    "open('out.txt', 'w').write(str(n * 2))\nprint('slept', n)",
            "limits": {"wall_time_s": 20}}
    started = time.monotonic()
    status, headers, job = _post(gw, "/v1/sandbox/executions", body, alice, prefer="respond-async")
    assert status == 202 and time.monotonic() - started < 2  # answered before the code finished
    assert headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["status"] in ("queued", "running") and job["kind"] == "sandbox.execution"
    assert job["model"] == "sandbox" and "result" not in job

    done = _done(gw, headers["location"], alice)
    assert done["status"] == "completed" and done["http_status"] == 200, done
    result = done["result"]
    assert tuple(result) == RESULT_FIELDS  # the executions' own contract, field for field
    assert (result["stdout"], result["exit_code"], result["limit"]) == ("slept 21\n", 0, None)
    assert result["id"].startswith("exec_") and result["duration_ms"] >= 2000
    assert [(f["name"], f["content"]) for f in result["files"]] == [("out.txt", "NDI=")]  # base64 "42"

    status, kept = _get(gw, f"/v1/sandbox/executions/{result['id']}", alice)
    assert status == 200 and kept == result  # the worker kept it like a sync run
    assert _get(gw, headers["location"], bob)[0] == 404  # another tenant's job does not exist
    assert _get(gw, f"/v1/sandbox/executions/{result['id']}", bob)[0] == 404


def test_the_other_header_limits_and_bad_requests_at_submission(gw):
    alice, _ = _keys(gw)
    _usable(gw, alice)
    spin = {"language": "python", "code": "while True: pass", "limits": {"wall_time_s": 1, "cpu_time_s": 30}}
    status, headers, job = _post(gw, "/v1/sandbox/executions", spin, alice, **{"x-seawall-async": "1"})
    assert status == 202, job
    result = _done(gw, headers["location"], alice)["result"]
    assert result["limit"] == "wall_time" and result["exit_code"] is None

    # a wrong request is a 400 naming the field at once; no job is made for it
    bad = {"language": "python", "code": "1", "limits": {"memory_mb": 99999}}
    status, headers, out = _post(gw, "/v1/sandbox/executions", bad, alice, prefer="respond-async")
    assert status == 400 and out["error"]["param"] == "limits.memory_mb" and "location" not in headers

    # Idempotency-Key: the same submission twice is one job
    once = {"language": "bash", "code": "echo once"}
    first = _post(gw, "/v1/sandbox/executions", once, alice, prefer="respond-async", **{"idempotency-key": "k-1"})
    again = _post(gw, "/v1/sandbox/executions", once, alice, prefer="respond-async", **{"idempotency-key": "k-1"})
    assert first[0] == again[0] == 202 and first[2]["id"] == again[2]["id"]
    assert again[1]["x-seawall-idempotent-replay"] == "true"
    assert _done(gw, first[1]["location"], alice)["result"]["stdout"] == "once\n"
