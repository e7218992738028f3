"""Reloading the configuration without a restart (issue 13, item 19), through real `seawall serve`
processes and the official openai SDK: a new alias, a new price, a new fallback and a new guard
policy apply to the next request; a request in flight finishes on the configuration it entered;
/metrics and the audit chain carry on; an invalid file changes nothing; with `--workers 2` a
SIGHUP to the supervisor and a POST /admin/reload to one worker reach both workers, and a worker
restarted after a crash runs the reloaded configuration."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import openai
import pytest
import yaml

from procs import Proc, _env, free_port, http, start_simulator

ADMIN = "adm-reload-test-5d21"
H = {"authorization": f"Bearer {ADMIN}"}
HI = [{"role": "user", "content": "hi"}]
BREAKER = {"consecutive_failures": 3, "open_s": 120}
GUARD = {"injection_classifier": False, "pattern_budget_s": 5.0}  # a loaded test machine is no guard timeout


@pytest.fixture(scope="module")
def sims():
    good, dead = start_simulator(seed=5), start_simulator("--error-rate", "1", "--error-status", "503", seed=6)
    slow = start_simulator("--latency-ms", "2500", seed=7)
    yield good, dead, slow
    for s in (good, dead, slow):
        s.stop()


def base(good, dead, slow) -> dict:
    return {
        "admin_key": ADMIN, "server": {"access_log": False},
        "guard": GUARD,
        "providers": [{"name": "good", "base_url": good.url + "/v1"}, {"name": "dead", "base_url": dead.url + "/v1"},
                      {"name": "slow", "base_url": slow.url + "/v1"}],
        "models": [
            {"name": "chat", "targets": [{"provider": "good", "model": "m", "price": {"input": 1, "output": 1}}]},
            {"name": "flaky", "targets": [{"provider": "dead", "model": "m"}], "retry": {"max_attempts": 1},
             "breaker": BREAKER},
            {"name": "slow", "targets": [{"provider": "slow", "model": "m"}]},
        ],
    }


def serve(cfg: dict, workers: int = 1) -> tuple[Proc, Path]:
    work = Path(tempfile.mkdtemp(prefix="seawall-reload-"))
    cfg = {**cfg, "store": {"sql": f"sqlite:///{work}/g.db"}}
    path = work / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    port = free_port()
    args = [sys.executable, "-m", "seawall.cli", "serve", "--config", str(path), "--port", str(port)]
    return Proc(args + (["--workers", str(workers)] if workers > 1 else []), port), path


def write(path: Path, cfg: dict) -> None:
    old = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**cfg, "store": old["store"]}))


def client(proc: Proc) -> openai.OpenAI:
    return openai.OpenAI(base_url=proc.url + "/v1", api_key="unused", max_retries=0, timeout=30)


def cost(c: openai.OpenAI, model: str, messages=HI) -> float:
    raw = c.chat.completions.with_raw_response.create(model=model, messages=messages)
    raw.parse()
    return float(raw.headers["x-seawall-cost-usd"])


def audit_verify(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seawall.cli", "audit", "verify", "-c", str(path)],
                          capture_output=True, text=True, env=_env(), timeout=60)


def until(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if out := check():
                return out
        except Exception:  # noqa: BLE001 - not yet
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("condition not met")
        time.sleep(0.1)


def test_reload_applies_aliases_prices_fallbacks_and_guard_without_a_restart(sims):
    cfg = base(*sims)
    proc, path = serve(cfg)
    c = client(proc)
    try:
        cheap = cost(c, "chat")
        with pytest.raises(openai.NotFoundError):
            c.chat.completions.create(model="chat2", messages=HI)
        for _ in range(3):  # three failures in a row open the dead deployment's breaker
            with pytest.raises(openai.APIStatusError) as e:
                c.chat.completions.create(model="flaky", messages=HI)
            assert e.value.status_code == 503
        long = [{"role": "user", "content": "a question much longer than forty characters, surely"}]
        assert c.chat.completions.create(model="chat", messages=long).choices[0].message.content
        _, _, raw = http("GET", proc.url + "/admin/deployments", headers=H)
        deps = {d["id"]: d for d in json.loads(raw)["deployments"]}
        calls_before = deps["good/m"]["calls"]
        assert deps["dead/m"]["breaker"] == "open"

        # a request in flight on the slow alias, which the new file removes
        answer: dict = {}
        flight = threading.Thread(target=lambda: answer.update(
            r=c.chat.completions.create(model="slow", messages=HI)))
        flight.start()
        time.sleep(0.5)  # it reached the slow upstream (2.5 s to answer)

        new = base(*sims)
        new["providers"] = new["providers"][:2]
        new["guard"] = {**GUARD, "max_input_chars": 40}
        new["models"] = [
            {"name": "chat", "targets": [{"provider": "good", "model": "m", "price": {"input": 1000, "output": 1000}}]},
            {"name": "flaky", "targets": [{"provider": "dead", "model": "m"}], "retry": {"max_attempts": 1},
             "breaker": BREAKER, "fallbacks": ["chat"]},
            {"name": "chat2", "targets": [{"provider": "good", "model": "m2"}], "cache": {"category": "long"}},
        ]
        write(path, new)
        assert flight.is_alive()
        status, _, raw = http("POST", proc.url + "/admin/reload", b"", H)
        out = json.loads(raw)
        assert status == 200 and out == {"status": "applied", "applied": ["guard", "models", "providers"],
                                         "restart_needed": []}, out

        flight.join(30)
        assert answer["r"].choices[0].message.content  # it finished on the configuration it entered
        assert c.chat.completions.create(model="chat2", messages=HI).choices[0].message.content
        again = c.chat.completions.with_raw_response.create(model="chat2", messages=HI)
        assert again.headers["x-seawall-cache"] == "hit-exact"  # the new alias's cache policy
        assert cost(c, "chat") > 100 * cheap  # the new price
        raw_fb = c.chat.completions.with_raw_response.create(model="flaky", messages=HI)
        assert raw_fb.parse().choices[0].message.content and raw_fb.headers["x-seawall-fallback-alias"] == "chat"
        with pytest.raises(openai.APIStatusError) as e:  # the new guard policy blocks it
            c.chat.completions.create(model="chat", messages=long)
        assert e.value.status_code == 413 and "limit 40" in e.value.message
        with pytest.raises(openai.NotFoundError):
            c.chat.completions.create(model="slow", messages=HI)
        assert [m.id for m in c.models.list().data] == ["chat", "flaky", "chat2"]

        # the deployment that stayed kept its state; the removed one is gone
        _, _, raw = http("GET", proc.url + "/admin/deployments", headers=H)
        deps = {d["id"]: d for d in json.loads(raw)["deployments"]}
        assert set(deps) == {"good/m", "dead/m", "good/m2"} and deps["good/m"]["calls"] > calls_before
        assert deps["dead/m"]["breaker"] == "open" and deps["dead/m"]["failures"] == 3  # not reset, not retried
        status, _, raw = http("GET", proc.url + "/metrics")
        assert status == 200 and b'seawall_requests_total{alias="chat2"' in raw

        # an invalid file changes nothing and says why
        bad = json.loads(json.dumps(new))
        bad["models"][1]["fallbacks"] = ["nowhere"]
        write(path, bad)
        status, _, raw = http("POST", proc.url + "/admin/reload", b"", H)
        err = json.loads(raw)["error"]
        assert status == 400 and "running one is kept" in err["message"] and "nowhere" in err["message"]
        assert c.chat.completions.with_raw_response.create(model="flaky", messages=HI).headers[
            "x-seawall-fallback-alias"] == "chat"

        # what a running process cannot apply is named, and the rest applies
        write(path, {**new, "server": {"access_log": False, "workers": 3},
                     "models": new["models"] + [{"name": "chat3", "targets": [{"provider": "good", "model": "m3"}]}]})
        status, _, raw = http("POST", proc.url + "/admin/reload", b"", H)
        out = json.loads(raw)
        assert out == {"status": "restart_needed", "applied": ["models"], "restart_needed": ["server.workers"]}, out
        assert c.chat.completions.create(model="chat3", messages=HI).choices[0].message.content
    finally:
        proc.stop()
    assert "Traceback" not in proc.output()
    r = audit_verify(path)
    assert r.returncode == 0, r.stdout + r.stderr


def _workers(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _everyone_answers(proc: Proc, model: str) -> bool:
    body = json.dumps({"model": model, "messages": HI}).encode()
    # each request on a new connection: the kernel spreads them over both workers
    return all(http("POST", proc.url + "/v1/chat/completions", body, {"content-type": "application/json"})[0] == 200
               for _ in range(24))


def test_with_workers_sighup_and_one_post_reach_every_worker(sims):
    cfg = base(*sims)
    proc, path = serve(cfg, workers=2)
    try:
        assert len(until(lambda: len(w := _workers(proc.proc.pid)) == 2 and w)) == 2
        write(path, {**cfg, "models": cfg["models"] + [{"name": "chat2", "targets": [{"provider": "good",
                                                                                       "model": "m2"}]}]})
        os.kill(proc.proc.pid, signal.SIGHUP)  # the supervisor passes it to every worker
        until(lambda: proc.output().count("configuration reloaded") >= 2)
        assert _everyone_answers(proc, "chat2")

        write(path, {**cfg, "models": cfg["models"] + [{"name": "chat3", "targets": [{"provider": "good",
                                                                                       "model": "m3"}]}]})
        status, _, raw = http("POST", proc.url + "/admin/reload", b"", H)  # one worker answers
        assert status == 200 and json.loads(raw)["applied"] == ["models"]
        until(lambda: proc.output().count("configuration reloaded") >= 5)  # both, and that one again
        assert _everyone_answers(proc, "chat3")

        # a worker that dies is restarted on what runs now, not on the file the supervisor started from
        victim, survivor = _workers(proc.proc.pid)
        os.kill(victim, signal.SIGKILL)
        until(lambda: len(_workers(proc.proc.pid)) == 2 and victim not in _workers(proc.proc.pid))
        os.kill(survivor, signal.SIGSTOP)  # only the new worker can take a connection now
        try:
            until(lambda: http("GET", proc.url + "/readyz", timeout=2)[0] == 200, timeout=30)
            assert _everyone_answers(proc, "chat3")
        finally:
            os.kill(survivor, signal.SIGCONT)

        # an invalid file: every worker refuses it and keeps running what it ran
        path.write_text(path.read_text() + "\nmodels: nope: [\n")
        os.kill(proc.proc.pid, signal.SIGHUP)
        until(lambda: proc.output().count("reload refused") >= 2)
        assert _everyone_answers(proc, "chat3")
        assert http("GET", proc.url + "/metrics")[0] == 200
    finally:
        proc.stop()
    assert "Traceback" not in proc.output()
    good = yaml.safe_load(path.read_text().split("\nmodels: nope")[0])
    path.write_text(yaml.safe_dump(good))
    r = audit_verify(path)
    assert r.returncode == 0, r.stdout + r.stderr


async def test_a_deployment_keeps_its_breaker_until_its_upstream_changes(tmp_path):
    """In process: the open breaker of a deployment survives a reload that leaves it alone, and
    is closed by one that points it at another base URL (another upstream, not the same one)."""
    from seawall.config import parse
    from seawall.core.errors import GatewayError
    from seawall.gateway import Gateway
    from seawall.sim import Simulator

    async with Simulator(seed=9) as dead, Simulator(seed=10) as alive:
        dead.set_faults(error_rate=1.0, error_status=503)

        def cfg(url: str, price: float) -> dict:
            return {"store": {"sql": f"sqlite:///{tmp_path}/g.db"}, "guard": {"enabled": False},
                    "providers": [{"name": "p", "base_url": url + "/v1"}],
                    "models": [{"name": "m", "retry": {"max_attempts": 1}, "breaker": BREAKER,
                                "targets": [{"provider": "p", "model": "x", "price": {"input": price}}]}]}

        gw = Gateway(parse(cfg(dead.url, 1)))
        try:
            for _ in range(3):
                with pytest.raises(GatewayError):
                    await gw.chat(model="m", messages=HI)
            provider = gw.router.providers["p"]
            assert gw.resilience.states["p/x"].breaker.state == "open"
            await gw.reconfigure(parse(cfg(dead.url, 2)))  # a new price, the same upstream
            assert gw.router.providers["p"] is provider and gw.resilience.states["p/x"].breaker.state == "open"
            assert gw.router.deployments["p/x"].price.input == 2
            received = dead.stats["received"]
            with pytest.raises(GatewayError):
                await gw.chat(model="m", messages=HI)
            assert dead.stats["received"] == received  # the open breaker kept the call from it
            new = cfg(alive.url, 2)  # another upstream under the same name, and a client key
            new["server"] = {"api_keys": ["sk-reload-client-key-1"]}
            await gw.reconfigure(parse(new))
            assert gw.router.providers["p"] is not provider and provider in gw.assembly.retired
            assert gw.resilience.states["p/x"].breaker.state == "closed"
            assert (await gw.chat(model="m", messages=HI)).text
            gw.authenticate({"authorization": "Bearer sk-reload-client-key-1"})
            with pytest.raises(GatewayError):
                gw.authenticate({"authorization": "Bearer sk-some-other-key"})
        finally:
            await gw.aclose()


async def test_a_replaced_provider_is_closed_once_its_requests_must_have_ended(tmp_path):
    """A reload that replaces a provider keeps it while requests that started before may still
    use it (their deadline, `timeouts.total`), then closes its pooled connections."""
    from seawall.config import parse
    from seawall.gateway import Gateway
    from seawall.sim import Simulator

    async with Simulator(seed=11) as first, Simulator(seed=12) as second:
        def cfg(url: str) -> dict:
            return {"store": {"sql": f"sqlite:///{tmp_path}/g.db"}, "guard": {"enabled": False},
                    "providers": [{"name": "p", "base_url": url + "/v1", "timeouts": {"total": 0.5}}],
                    "models": [{"name": "m", "targets": [{"provider": "p", "model": "x"}]}]}

        gw = Gateway(parse(cfg(first.url)))
        try:
            assert (await gw.chat(model="m", messages=HI)).text  # a pooled connection to the first
            old = gw.router.providers["p"]
            await gw.reconfigure(parse(cfg(second.url)))
            assert old in gw.assembly.retired and not old.session.closed
            await asyncio.sleep(2.0)  # total 0.5 s + the 1 s margin
            assert old not in gw.assembly.retired and old._session.closed
            assert (await gw.chat(model="m", messages=HI)).text
        finally:
            await gw.aclose()
