"""The OpenAI Files and Batch APIs through the official `openai` SDK, unmodified, against a real
`seawall serve` in front of the simulator; and a batch that survives kill -9 on SQLite."""
import io
import json
import math
import os
import random
import signal
import sqlite3
import tempfile
import time
from collections import Counter

import openai
import pytest

from procs import Proc, free_port, http, start_gateway, start_simulator

KEY = "sk-batch-tenant-a"
OTHER = "sk-batch-tenant-b"


def config(sim_url: str, **jobs) -> dict:
    return {
        "server": {"api_keys": ["${KEY_A}", "${KEY_B}"]},
        "providers": [{"name": "sim", "base_url": sim_url + "/v1"}],
        "models": [{"name": "gpt-4o-mini", "targets": [{"provider": "sim", "model": "gpt-4o-mini",
                                                            "price": {"input": 1.0, "output": 2.0}}]},
                   {"name": "emb", "kind": "embeddings", "targets": [{"provider": "sim", "model": "e"}]}],
        "jobs": {"enabled": True, "workers": 8, "poll_s": 0.1, **jobs},
    }


ENV = {"KEY_A": KEY, "KEY_B": OTHER}


@pytest.fixture(scope="module")
def stack():
    sim = start_simulator(seed=21)
    gw = start_gateway(config(sim.url), env=ENV)
    yield gw
    gw.stop()
    sim.stop()


def client(stack, key=KEY):
    return openai.OpenAI(base_url=stack.url + "/v1", api_key=key, max_retries=0, timeout=30)


def jsonl(n: int, model: str = "gpt-4o-mini", url: str = "/v1/chat/completions") -> bytes:
    lines = []
    for i in range(n):
        body = ({"model": model, "messages": [{"role": "user", "content": f"question {i}"}]}
                if url.endswith("completions") else {"model": model, "input": f"text {i}"})
        lines.append(json.dumps({"custom_id": f"req-{i}", "method": "POST", "url": url, "body": body}))
    return ("\n".join(lines) + "\n").encode()


def poll(oai, batch_id, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        b = oai.batches.retrieve(batch_id)
        if b.status in ("completed", "failed", "cancelled", "expired"):
            return b
        time.sleep(0.2)
    raise AssertionError(f"batch still {b.status}: {b.request_counts}")


def test_a_500_line_batch_through_the_openai_sdk(stack):
    oai = client(stack)
    f = oai.files.create(file=("input.jsonl", io.BytesIO(jsonl(500))), purpose="batch")
    assert f.purpose == "batch" and f.bytes > 0
    batch = oai.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h",
                               metadata={"run": "nightly"})
    assert batch.status == "in_progress" and batch.request_counts.total == 500
    done = poll(oai, batch.id)
    assert done.status == "completed"
    assert (done.request_counts.completed, done.request_counts.failed) == (500, 0)
    assert done.metadata == {"run": "nightly"} and done.error_file_id is None
    lines = [json.loads(x) for x in oai.files.content(done.output_file_id).text.splitlines()]
    ids = [x["custom_id"] for x in lines]
    assert sorted(ids) == sorted(f"req-{i}" for i in range(500))  # every custom_id exactly once
    assert all(x["response"]["status_code"] == 200 and x["response"]["body"]["choices"] for x in lines)
    assert done.id in [b.id for b in oai.batches.list(limit=10).data]
    # another tenant sees neither the batch nor its files
    with pytest.raises(openai.NotFoundError):
        client(stack, OTHER).batches.retrieve(batch.id)
    with pytest.raises(openai.NotFoundError):
        client(stack, OTHER).files.content(done.output_file_id)


def test_an_embeddings_batch_and_a_failed_line_in_the_error_file(stack):
    oai = client(stack)
    data = jsonl(3, model="emb", url="/v1/embeddings")
    bad = json.dumps({"custom_id": "no-such-model", "method": "POST", "url": "/v1/embeddings",
                      "body": {"model": "nope", "input": "x"}}).encode()
    f = oai.files.create(file=("e.jsonl", io.BytesIO(data + bad + b"\n")), purpose="batch")
    done = poll(oai, oai.batches.create(input_file_id=f.id, endpoint="/v1/embeddings", completion_window="24h").id)
    assert (done.request_counts.completed, done.request_counts.failed) == (3, 1)
    out = [json.loads(x) for x in oai.files.content(done.output_file_id).text.splitlines()]
    assert [x["custom_id"] for x in out] == ["req-0", "req-1", "req-2"]  # input order
    assert out[0]["response"]["body"]["object"] == "list"
    [err] = [json.loads(x) for x in oai.files.content(done.error_file_id).text.splitlines()]
    assert err["custom_id"] == "no-such-model" and err["response"]["status_code"] == 404


def test_bad_batch_input_is_refused_with_the_line(stack):
    oai = client(stack)
    with pytest.raises(openai.BadRequestError, match="line 2"):
        oai.files.create(file=("x.jsonl", io.BytesIO(b'{"custom_id":"a"}\nnot json\n')), purpose="batch")
    dup = jsonl(2).replace(b"req-1", b"req-0")
    f = oai.files.create(file=("d.jsonl", io.BytesIO(dup)), purpose="batch")
    with pytest.raises(openai.BadRequestError, match="used twice"):
        oai.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    with pytest.raises(openai.BadRequestError, match="purpose"):
        oai.files.create(file=("x.jsonl", io.BytesIO(jsonl(1))), purpose="fine-tune")


def test_cancel_a_batch(stack):
    oai = client(stack)
    f = oai.files.create(file=("c.jsonl", io.BytesIO(jsonl(3000))), purpose="batch")
    b = oai.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    c = oai.batches.cancel(b.id)
    assert c.status == "cancelled"
    time.sleep(1.0)
    after = oai.batches.retrieve(b.id)
    assert after.status == "cancelled" and after.request_counts.completed < 3000
    assert after.request_counts.completed == c.request_counts.completed  # nothing ran after the cancel


def _sim_received(sim) -> int:
    status, _, body = http("GET", sim.url + "/_sim/stats")
    return json.loads(body)["received"]


def _running(db) -> int:
    """Leases held when the process died: the lines it had in flight."""
    with sqlite3.connect(db) as c:
        return c.execute("SELECT count(*) FROM jobs WHERE status = 'running'").fetchone()[0]


def test_kill_9_mid_batch_on_sqlite_loses_no_line_and_charges_none_twice(tmp_path):
    """The issue's 2,000-line batch through the official SDK; the gateway SIGKILLed 5 times at
    random moments and restarted on the same SQLite file. Every custom_id is in the output once,
    no line is charged twice in the audit's spend (each charge is its line's stored cost), and
    upstream calls exceed the lines by at most the leases in flight at each kill."""
    rnd = random.Random(15)
    sim = start_simulator("--latency-ms", "30", seed=22)
    db = tmp_path / "seawall.db"
    workers = 4
    cfg = config(sim.url, workers=workers, lease_s=1, charge_settle_s=1)
    cfg["store"] = {"sql": f"sqlite:///{db}"}
    gw = start_gateway(cfg, env=ENV)
    n = 2000
    in_flight: list[int] = []
    try:
        oai = client(gw)
        f = oai.files.create(file=("k.jsonl", io.BytesIO(jsonl(n))), purpose="batch")
        batch = oai.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
        while len(in_flight) < 5:
            time.sleep(rnd.uniform(0.3, 1.5))
            assert oai.batches.retrieve(batch.id).status == "in_progress", "the batch outran the kills"
            os.killpg(gw.proc.pid, signal.SIGKILL)
            gw.proc.wait(5)
            in_flight.append(_running(db))
            gw = start_gateway(cfg, env=ENV)
            oai = client(gw)
        done = poll(oai, batch.id, timeout=120)
        assert done.status == "completed" and done.request_counts.completed == n
        ids = [json.loads(x)["custom_id"] for x in oai.files.content(done.output_file_id).text.splitlines()]
        assert len(ids) == n and set(ids) == {f"req-{i}" for i in range(n)}
        calls = _sim_received(sim)
        assert n <= calls <= n + sum(in_flight), (calls, in_flight)
    finally:
        gw.stop()  # a clean stop writes the audit records still in memory
        sim.stop()
    with sqlite3.connect(db) as c:
        lines = dict(c.execute("SELECT id, cost_usd FROM jobs WHERE batch_id = ?", (batch.id,)).fetchall())
        charges = c.execute("SELECT request_id, cost_usd FROM audit_log WHERE kind = 'request' "
                            "AND request_id LIKE 'job_%' AND cost_usd > 0").fetchall()
    assert len(lines) == n and all(cost and cost > 0 for cost in lines.values())
    assert_charged_once(charges, lines, sum(in_flight))


def assert_charged_once(charges: list, lines: dict, in_flight: int) -> None:
    """Every line charged exactly once, each charge the cost stored with its line: a line
    stored by a process killed before its audit write is charged from the record stored with
    it (jobs.charge_settle_s, 1 s in these tests) by a process that lives on, never twice."""
    charged = Counter(rid.rsplit("-", 1)[0] for rid, _ in charges)
    assert not [j for j, k in charged.items() if k > 1], "a line charged twice"
    assert set(charged) <= set(lines)
    assert all(math.isclose(cost, lines[rid.rsplit("-", 1)[0]], rel_tol=1e-9) for rid, cost in charges)
    print(f"lines {len(lines)}, charged {len(charged)}, in flight at the kills {in_flight}")
    assert set(charged) == set(lines), f"{len(set(lines) - set(charged))} line(s) never charged"
    assert math.isclose(sum(cost for _, cost in charges), sum(lines.values()), rel_tol=1e-9)
