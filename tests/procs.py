"""Real processes for tests: the simulator and the gateway, each on a free port."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.update(extra or {})
    return env


def stop_group(proc: subprocess.Popen, grace_s: float) -> None:
    """SIGTERM to the child's process group; SIGKILL if it has not ended within grace_s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


class Proc:
    """A child process serving HTTP on `port`; stopped (and reaped) by `stop()`."""

    def __init__(self, args: list[str], port: int, env: dict | None = None, ready_path: str = "/healthz",
                 timeout: float = 20.0, cwd: str | None = None) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = tempfile.NamedTemporaryFile(prefix="seawall-test-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=_env(env),
                                     start_new_session=True, cwd=cwd)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{args[2:4]} exited early:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + ready_path, timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{args} did not become ready:\n{self.output()}")
            time.sleep(0.05)

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        stop_group(self.proc, 10)


def start_simulator(*flags: str, seed: int = 1) -> Proc:
    port = free_port()
    return Proc([sys.executable, "-m", "seawall.sim", "--port", str(port), "--seed", str(seed), *flags], port)


def start_gateway(config: dict, *, env: dict | None = None, workers: int = 1) -> Proc:
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="seawall-gw-")
    config = {**config, "store": {"sql": f"sqlite:///{workdir}/seawall.db", **config.get("store", {})}}
    fd, path = tempfile.mkstemp(prefix="seawall-cfg-", suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(config, f)
    args = [sys.executable, "-m", "seawall.cli", "serve", "--config", path, "--port", str(port)]
    if workers > 1:
        args += ["--workers", str(workers)]
    proc = Proc(args, port, env=env)
    proc.db_path = f"{workdir}/seawall.db"  # the SQLite file, unless the config names another store
    return proc


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None,
         timeout: float = 10.0) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


class WorkerProc:
    """A `seawall worker` process (no HTTP face): ready when it says so on its output."""

    def __init__(self, config_path: str, env: dict | None = None, wait: bool = True) -> None:
        self.log = tempfile.NamedTemporaryFile(prefix="seawall-worker-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([sys.executable, "-m", "seawall.cli", "worker", "--config", config_path],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=_env(env),
                                     start_new_session=True)
        deadline = time.monotonic() + 30
        while wait and not self.ready():
            assert self.proc.poll() is None and time.monotonic() < deadline, Path(self.log.name).read_text()
            time.sleep(0.1)

    def ready(self) -> bool:
        return "seawall worker:" in Path(self.log.name).read_text(errors="replace")

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)

    def stop(self) -> None:
        stop_group(self.proc, 15)
