"""Start-up, reload and shutdown as an operator meets them (issue 13, item 19), through real
`seawall serve` processes: a taken port is one clean line, the banner says what runs, the first
start is quiet, a reload applies what it can and refuses an invalid file without changing
anything, and the last line says the gateway stopped."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from procs import Proc, _env, free_port, http, start_simulator

ADMIN = "adm-start-test-61c9"
H = {"authorization": f"Bearer {ADMIN}"}


@pytest.fixture(scope="module")
def sim():
    s = start_simulator(seed=44)
    yield s
    s.stop()


def config(sim, **server) -> dict:
    return {"admin_key": ADMIN, "server": {"access_log": False, **server},
            "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
            "models": [{"name": "m", "targets": [{"provider": "sim", "model": "m"}], "cache": {"category": "long"}}]}


def serve(cfg: dict, port: int | None = None):
    work = Path(tempfile.mkdtemp(prefix="seawall-start-"))
    cfg = {**cfg, "store": {"sql": f"sqlite:///{work}/g.db"}}
    path = work / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    port = port or free_port()
    proc = Proc([sys.executable, "-m", "seawall.cli", "serve", "--config", str(path), "--port", str(port)], port)
    return proc, path, cfg


def lines(proc) -> list[dict]:
    out = []
    for line in proc.output().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            out.append({"raw": line})
    return out


def test_banner_quiet_start_reload_and_shutdown(sim):
    proc, path, cfg = serve(config(sim))
    try:
        msgs = [x.get("msg", x.get("raw")) for x in lines(proc)]
        assert any(m.startswith("aliases: m") for m in msgs), msgs
        for what in ("guard: ", "cache: m", "governance: ", "stores: ", "models: "):
            assert any(m.startswith(what) for m in msgs), (what, msgs)
        assert not any("alembic" in json.dumps(x) for x in lines(proc))  # migrations ran, quietly
        assert len(msgs) <= 10, msgs

        # an invalid file is refused and changes nothing
        good = path.read_text()
        path.write_text(good + "\nmodels: nope: [\n")
        status, _, raw = http("POST", proc.url + "/admin/reload", b"", H)
        err = json.loads(raw)["error"]
        assert status == 400 and "running one is kept" in err["message"] and "YAML" in err["message"]
        path.write_text(yaml.safe_dump({**cfg, "models": [{"name": "m", "targets": "not a list"}]}))
        status, _, raw = http("POST", proc.url + "/admin/reload", b"", H)
        assert status == 400 and "models" in json.loads(raw)["error"]["message"]
        assert http("POST", proc.url + "/v1/chat/completions", json.dumps(
            {"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode(),
            {"content-type": "application/json"})[0] == 200

        # a valid one: the log level, the access log and the new alias apply now; what is bound to
        # the stores is named for a restart (tests/test_reload.py has the rest)
        new = {**cfg, "server": {"access_log": True, "log_level": "info"},
               "store": {**cfg["store"], "state_timeout_s": 0.1},
               "models": cfg["models"] + [{"name": "m2", "targets": [{"provider": "sim", "model": "m"}]}]}
        path.write_text(yaml.safe_dump(new))
        status, _, raw = http("POST", proc.url + "/admin/reload", b"", H)
        out = json.loads(raw)
        assert status == 200 and out["status"] == "restart_needed"
        assert out["applied"] == ["models", "server.access_log", "server.log_level"]
        assert out["restart_needed"] == ["store.state_timeout_s"]
        assert not any(x.get("msg") == "request" for x in lines(proc))  # the access log was off
        _, headers, _ = http("POST", proc.url + "/v1/chat/completions", json.dumps(
            {"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode(),
            {"content-type": "application/json"})
        assert any(x.get("msg") == "request" and x.get("request_id") == headers["x-request-id"]
                   for x in lines(proc))  # and now it is on, without a restart
        assert http("POST", proc.url + "/v1/chat/completions", json.dumps(
            {"model": "m2", "messages": [{"role": "user", "content": "hi"}]}).encode(),
            {"content-type": "application/json"})[0] == 200
        assert http("POST", proc.url + "/admin/reload", b"")[0] == 401  # admin only

        # SIGHUP does the same; an invalid file is refused in the log
        path.write_text(good + "\nmodels: nope: [\n")
        os.kill(proc.proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reload refused" not in proc.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "configuration reload refused, the running configuration is kept" in proc.output()
        assert http("GET", proc.url + "/readyz")[0] == 200
    finally:
        proc.stop()
    last = [x for x in lines(proc) if x.get("msg")][-1]
    assert last["msg"].startswith("seawall stopped after")


def test_a_taken_port_is_one_clean_line(sim):
    proc, path, _ = serve(config(sim))
    try:
        r = subprocess.run([sys.executable, "-m", "seawall.cli", "serve", "--config", str(path), "--port",
                            str(proc.port)], capture_output=True, text=True, env=_env(), timeout=60)
    finally:
        proc.stop()
    assert r.returncode == 1
    out = [line for line in (r.stdout + r.stderr).splitlines() if line.strip()]
    assert "Traceback" not in r.stderr
    errors = [json.loads(line) for line in out if '"level":"error"' in line]
    assert len(errors) == 1 and "already in use" in errors[0]["msg"] and str(proc.port) in errors[0]["msg"]


def test_no_open_gateway_warning_when_keys_are_required(caplog):
    from seawall.gateway import Gateway
    from seawall.observe import banner

    base = {"providers": [{"name": "p", "base_url": "http://127.0.0.1:9/v1"}],
            "models": [{"name": "m", "targets": [{"provider": "p", "model": "m"}]}],
            "store": {"sql": "sqlite:///:memory:"}}
    caplog.set_level(logging.INFO, logger="seawall.server")
    banner.show(Gateway.from_config({**base, "governance": {"require_key": True}}), "0.0.0.0")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    banner.show(Gateway.from_config(base), "0.0.0.0")
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 1 and "anyone who can reach 0.0.0.0" in warned[0]
    assert "client keys required" in " ".join(banner.lines(Gateway.from_config(
        {**base, "server": {"api_keys": ["static-key-0123456789"]}})))
