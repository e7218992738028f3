"""The shared Redis and PostgreSQL for governance/store tests, and the backend matrix.

`backend` parametrizes a test over memory + SQLite and Redis + PostgreSQL. Unreachable
services skip the distributed case, except with SEAWALL_REQUIRE_SERVICES=1 (CI), where they
fail it. Each test gets its own PostgreSQL database and Redis key prefix, removed after.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

REDIS = os.environ.get("SEAWALL_TEST_REDIS", "redis://127.0.0.1:6379/0")
PG_HOST, PG_PORT = "127.0.0.1", 5432


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_services() -> None:
    missing = [n for n, p in (("redis", 6379), ("postgresql", PG_PORT)) if not _reachable("127.0.0.1", p)]
    if missing:
        msg = f"services unreachable on 127.0.0.1: {', '.join(missing)}"
        if os.environ.get("SEAWALL_REQUIRE_SERVICES") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


def psql(sql: str, port: int = PG_PORT, db: str = "postgres") -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", db, "-qc", sql],
                   check=True, capture_output=True)


def redis_cleanup(url: str, prefix: str) -> None:
    import redis

    r = redis.Redis.from_url(url)
    try:
        keys = list(r.scan_iter(match=prefix + "*", count=1000))
        if keys:
            r.delete(*keys)
    finally:
        r.close()


@pytest.fixture(params=["memory", "redis"])
def backend(request, tmp_path):
    """Store settings for one test: {'state', 'sql', 'prefix'} plus the spool directory."""
    if request.param == "memory":
        yield {"state": "memory", "sql": f"sqlite:///{tmp_path}/seawall.db", "prefix": "t:",
               "spool": str(tmp_path / "spool"), "kind": "memory"}
        return
    require_services()
    name = "sw_t_" + uuid.uuid4().hex[:10]
    prefix = f"swt:{name}:"
    psql(f"CREATE DATABASE {name}")
    try:
        yield {"state": REDIS, "sql": f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}", "prefix": prefix,
               "spool": str(tmp_path / "spool"), "kind": "redis", "db": name}
    finally:
        redis_cleanup(REDIS, prefix)
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of our own on a free port, for tests that stop it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="sw-redis-")
        self.proc = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if _reachable("127.0.0.1", self.port):
                return
            time.sleep(0.05)
        raise RuntimeError("private redis did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivatePostgres:
    """initdb + pg_ctl in a temp dir on a free port, for tests that stop it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="sw-pg-")
        self.data = os.path.join(self.dir, "data")
        env = dict(os.environ)
        cmd = ["initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync"]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as nobody
            os.chown(self.dir, *_nobody())
            cmd = ["runuser", "-u", "nobody", "--"] + cmd
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        self.start()

    def _ctl(self, *args: str) -> None:
        cmd = ["pg_ctl", "-D", self.data, *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "nobody", "--"] + cmd
        subprocess.run(cmd, check=True, capture_output=True)

    def start(self) -> None:
        self._ctl("-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                  "-l", os.path.join(self.dir, "log"), "-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def close(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def _nobody() -> tuple[int, int]:
    import pwd

    pw = pwd.getpwnam("nobody")
    return pw.pw_uid, pw.pw_gid
