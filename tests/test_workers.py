"""`seawall serve --workers 2` (issue 13, items 13 and 16), through real processes: a fresh
SQLite file starts every time (migrations run once, in the parent), a worker killed with
SIGKILL is restarted and the reason logged, SIGTERM stops them all, /metrics merges the
workers, and the metrics directory is removed at shutdown."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from procs import http, start_gateway, start_simulator

BODY = json.dumps({"model": "m", "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]}).encode()


@pytest.fixture(scope="module")
def sim():
    s = start_simulator()
    yield s
    s.stop()


def config(sim) -> dict:
    return {"providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
            "models": [{"name": "m", "targets": [{"provider": "sim", "model": "m"}]}]}


def workers_of(pid: int) -> set[int]:
    out = subprocess.run(["ps", "--ppid", str(pid), "-o", "pid="], capture_output=True, text=True).stdout
    return {int(x) for x in out.split()}


def wait_workers(pid: int, n: int, timeout: float = 20.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while len(kids := workers_of(pid)) != n:
        assert time.monotonic() < deadline, f"expected {n} workers, found {kids}"
        time.sleep(0.05)
    return kids


def wait_catches_sigterm(pid: int, timeout: float = 20.0) -> None:
    """Until the worker's loop has its SIGTERM handler: before that, SIGTERM's default action ends a
    starting worker at once, even one already sent SIGSTOP (the kernel delivers the lower signal first)."""
    deadline = time.monotonic() + timeout
    while True:
        with open(f"/proc/{pid}/status") as f:
            caught = int(next(line for line in f if line.startswith("SigCgt:")).split()[1], 16)
        if caught & (1 << (signal.SIGTERM - 1)):
            return
        assert time.monotonic() < deadline, f"worker {pid} never installed its SIGTERM handler"
        time.sleep(0.05)


def test_fresh_sqlite_with_two_workers_starts_five_times_in_a_row(sim, tmp_path):
    for i in range(5):
        gw = start_gateway(config(sim), workers=2, env={"TMPDIR": str(tmp_path)})
        try:
            wait_workers(gw.proc.pid, 2)
            # both workers take requests: every one of them is answered
            for _ in range(20):
                assert http("POST", gw.url + "/v1/chat/completions", BODY, {"content-type": "application/json"})[0] == 200
            time.sleep(0.5)  # a worker that lost a migration race died by now
            assert len(workers_of(gw.proc.pid)) == 2
        finally:
            gw.stop()
        out = gw.output()
        assert "already exists" not in out and "restarting" not in out, out
        assert gw.proc.returncode == 0, out  # -9: it did not stop within procs' 10 s; the log says what held it


def test_a_killed_worker_is_restarted_and_sigterm_stops_all(sim, tmp_path):
    gw = start_gateway(config(sim), workers=2, env={"TMPDIR": str(tmp_path)})
    try:
        first = wait_workers(gw.proc.pid, 2)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while (kids := workers_of(gw.proc.pid)) == first or len(kids) != 2:
            assert time.monotonic() < deadline, "the killed worker was not restarted"
            time.sleep(0.05)
        assert victim not in kids
        for _ in range(10):  # the replacement serves too
            assert http("POST", gw.url + "/v1/chat/completions", BODY, {"content-type": "application/json"})[0] == 200
        os.kill(gw.proc.pid, signal.SIGTERM)  # the parent alone: it forwards to the workers
        gw.proc.wait(20)
        assert gw.proc.returncode == 0
        assert not any(_alive(p) for p in kids)
    finally:
        gw.stop()
    out = gw.output()
    assert f"worker {victim} was killed by signal SIGKILL" in out, out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_metrics_with_two_workers_merge_and_leave_no_directory(sim, tmp_path):
    gw = start_gateway(config(sim), workers=2, env={"TMPDIR": str(tmp_path)})
    try:
        wait_workers(gw.proc.pid, 2)
        assert len(list(tmp_path.glob("seawall-metrics-*"))) == 1
        n = 40
        for _ in range(n):
            assert http("POST", gw.url + "/v1/chat/completions", BODY, {"content-type": "application/json"})[0] == 200
        # whichever worker answers /metrics reports all 40 requests, from both workers
        for _ in range(4):
            status, _, body = http("GET", gw.url + "/metrics")
            assert status == 200
            total = sum(float(line.rsplit(" ", 1)[1]) for line in body.decode().splitlines()
                        if line.startswith("seawall_requests_total{"))
            assert total == n, body.decode()[:2000]
    finally:
        gw.stop()
    assert gw.proc.returncode == 0
    assert not list(tmp_path.glob("seawall-metrics-*")), "the metrics directory is removed at shutdown"


def test_a_worker_that_does_not_stop_is_killed_and_the_stop_says_so(sim, tmp_path):
    # a frozen worker (SIGSTOP: it cannot see SIGTERM) must not hang the whole gateway's stop
    gw = start_gateway({**config(sim), "server": {"limits": {"drain_timeout_s": 0.5}}}, workers=2,
                       env={"TMPDIR": str(tmp_path)})
    try:
        frozen = min(wait_workers(gw.proc.pid, 2))
        assert http("GET", gw.url + "/healthz")[0] == 200  # served by whichever worker is up first
        wait_catches_sigterm(frozen)
        os.kill(frozen, signal.SIGSTOP)
        os.kill(gw.proc.pid, signal.SIGTERM)  # the supervisor alone, as an init system would
        gw.proc.wait(25)
    finally:
        gw.stop()
    assert gw.proc.returncode == 1
    assert f"workers [{frozen}] did not stop" in gw.output()
    with pytest.raises(ProcessLookupError):
        os.kill(frozen, 0)
