"""Shared by the sandbox attack suite: a real service, and the host's state to compare after."""
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from seawall.sandbox import SandboxConfig, SandboxService


def sandbox_config(**over) -> SandboxConfig:
    """A work root directly under /tmp: pytest's tmp dirs are 0700, and the sandbox's
    unprivileged uid must be able to reach its read-only job directory."""
    values = dict(enabled=True, pool_size=2, workdir_mb=16)
    values.update(over)
    if "work_root" not in values:
        values["work_root"] = tempfile.mkdtemp(prefix="seawall-sbx-test-", dir="/tmp")
    return SandboxConfig(**values)


@pytest.fixture
async def make_service():
    made = []

    async def make(**over):
        receipts = over.pop("receipts", None)
        bwrap = over.pop("bwrap", "bwrap")
        svc = SandboxService(sandbox_config(**over), audit=None if receipts is None else receipts.append,
                             bwrap=bwrap)
        await svc.start()
        made.append(svc)
        return svc

    yield make
    for svc in made:
        await svc.aclose()
        shutil.rmtree(svc.config.work_root, ignore_errors=True)


@pytest.fixture
async def sandbox(make_service):
    svc = await make_service()
    if svc.unavailable_reason and os.environ.get("SEAWALL_REQUIRE_SERVICES") != "1":
        pytest.skip(f"sandbox unavailable here: {svc.unavailable_reason}")
    assert svc.unavailable_reason is None, svc.unavailable_reason
    return svc


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Host:
    """The gateway's side: its files, its process, a bystander process; checked after each attack."""

    def __init__(self, root: Path) -> None:
        self.secret = "host-secret-" + os.urandom(8).hex()
        self.dir = root
        self.config = root / "seawall.yaml"
        self.config.write_text(f"master_key: {self.secret}\n")
        self.database = root / "seawall.db"
        self.database.write_bytes(b"SQLite format 3\x00" + self.secret.encode())
        os.environ["SEAWALL_TEST_HOST_SECRET"] = self.secret  # must not reach a sandbox
        self.digests = {p: _digest(p) for p in (self.config, self.database)}
        self.signals: list[int] = []
        self._old = {s: signal.signal(s, lambda n, f: self.signals.append(n)) for s in (signal.SIGTERM, signal.SIGUSR1, signal.SIGHUP)}
        self.bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        self.tmp_before = set(os.listdir("/tmp"))

    def verify_untouched(self, svc: SandboxService, *outputs: str) -> None:
        for path, digest in self.digests.items():
            assert _digest(path) == digest, f"{path} changed"
        assert sorted(os.listdir(self.dir)) == sorted(p.name for p in self.digests)
        assert not self.signals, f"the gateway received signals {self.signals}"
        assert self.bystander.poll() is None, "a host process was killed"
        for text in outputs:
            assert self.secret not in text
        new_tmp = set(os.listdir("/tmp")) - self.tmp_before
        assert not [n for n in new_tmp if n.startswith("sandbox-escape")], new_tmp
        assert svc.leftovers() == {"processes": 0, "mounts": 0, "workdirs": 0, "cgroups": 0}

    def close(self) -> None:
        self.bystander.kill()
        self.bystander.wait()
        for s, old in self._old.items():
            signal.signal(s, old)
        os.environ.pop("SEAWALL_TEST_HOST_SECRET", None)


@pytest.fixture
def host(tmp_path):
    h = Host(tmp_path)
    yield h
    h.close()
