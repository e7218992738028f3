"""Per-run cgroups: a tree of processes is bounded as a whole, the wall-clock kill reaches every
process through the cgroup, nothing of a run's cgroup is left (after a run, after the gateway is
SIGKILLed), and `sandbox.cgroups` auto/off/required behave as documented.

Needs a writable cgroup hierarchy with the memory and pids controllers (v2 or v1): root on this
host. Skipped, with the reason, only where the host has none."""
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from seawall.core.errors import GatewayError
from seawall.sandbox import SandboxConfig, SandboxService, reaper
from seawall.sandbox.cgroups import Cgroups, CgroupUnavailable
from seawall.sandbox.models import ExecutionRequest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(300)
CLEAN = {"processes": 0, "mounts": 0, "workdirs": 0, "cgroups": 0}

# Six processes, each holding 90 MB: every one is within memory_mb=128 (RLIMIT_AS), together
# they need 540 MB, past the run's cgroup limit (128 + 2 x 16 + 64 = 224 MB).
FORKING_MEMORY_BOMB = textwrap.dedent("""
    import os, time
    kids = []
    for i in range(6):
        pid = os.fork()
        if pid == 0:
            hold = b"x" * (90 << 20)
            time.sleep(3)
            os._exit(0)
        kids.append(pid)
    killed = sum(os.WIFSIGNALED(os.waitpid(k, 0)[1]) for k in kids)
    print("killed", killed)
""")


def _root() -> str:
    return tempfile.mkdtemp(prefix="seawall-sbx-test-", dir="/tmp")


def _cgroups_here(root: str) -> Cgroups:
    try:
        return Cgroups.detect(Path(root), None, None)
    except CgroupUnavailable as exc:
        pytest.skip(f"no writable cgroup hierarchy with memory and pids here: {exc}")


@pytest.fixture
async def make():
    made = []

    async def start(audit=None, **over):
        over.setdefault("work_root", _root())
        if over.get("cgroups", "auto") != "off" and "cgroup_parent" not in over:
            _cgroups_here(over["work_root"])
        svc = SandboxService(SandboxConfig(**{"enabled": True, "workdir_mb": 16, **over}), audit=audit)
        await svc.start()
        made.append(svc)
        return svc

    yield start
    for svc in made:
        await svc.aclose()
        shutil.rmtree(svc.config.work_root, ignore_errors=True)


def _usable(svc: SandboxService) -> None:
    if svc.unavailable_reason and os.environ.get("SEAWALL_REQUIRE_SERVICES") != "1":
        pytest.skip(f"sandbox unavailable here: {svc.unavailable_reason}")
    assert svc.unavailable_reason is None, svc.unavailable_reason


def py(code: str, **limits) -> ExecutionRequest:
    return ExecutionRequest(language="python", code=textwrap.dedent(code), limits=limits)


async def test_a_forking_memory_bomb_is_stopped_by_the_cgroup(make):
    receipts = []
    svc = await make(audit=receipts.append)
    _usable(svc)
    assert svc.status()["cgroup"].startswith("applied: ")
    r = await svc.execute(py(FORKING_MEMORY_BOMB, memory_mb=128, processes=16, wall_time_s=30), "attacker")
    assert r.limit == "memory"
    assert "killed" in r.stdout and int(r.stdout.split()[1]) >= 1, r.stdout + r.stderr
    cgroup = receipts[-1]["isolation"]["cgroup"]
    assert cgroup["applied"] is True and cgroup["memory_bytes"] == (128 + 2 * 16 + 64) << 20
    assert cgroup["oom_kills"] >= 1 and cgroup["peak_memory_mb"] <= 224
    assert receipts[-1]["exit_reason"] == "limit:memory"
    assert svc.leftovers() == CLEAN


async def test_without_cgroups_rlimits_alone_let_the_tree_through(make):
    """The gap the cgroup closes: under `off` the same tree holds all its memory."""
    receipts = []
    svc = await make(audit=receipts.append, cgroups="off")
    _usable(svc)
    r = await svc.execute(py(FORKING_MEMORY_BOMB, memory_mb=128, processes=16, wall_time_s=30), None)
    assert (r.stdout, r.limit) == ("killed 0\n", None)
    assert receipts[-1]["isolation"]["cgroup"] == {"applied": False, "reason": "sandbox.cgroups is off"}
    assert svc.leftovers() == CLEAN


async def test_the_process_cap_is_on_the_whole_tree(make):
    svc = await make()
    _usable(svc)
    r = await svc.execute(py("""
        import os, time
        n = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(20); os._exit(0)
                n += 1
        except OSError:
            print("refused after", n)
    """, processes=8, wall_time_s=20), None)
    assert r.stdout.startswith("refused after") and int(r.stdout.split()[2]) < 8
    assert r.limit == "processes"


async def test_auto_without_a_usable_cgroup_keeps_rlimits_and_says_so(make, tmp_path):
    receipts = []
    svc = await make(audit=receipts.append, cgroup_parent=str(tmp_path))  # not a cgroup at all
    _usable(svc)
    assert svc.status()["cgroup"].startswith("not applied: no memory, pids controller")
    r = await svc.execute(py("x = bytearray(200 << 20)", memory_mb=64), None)
    assert r.limit == "memory" and "MemoryError" in r.stderr  # the rlimit still holds
    cgroup = receipts[-1]["isolation"]["cgroup"]
    assert cgroup["applied"] is False and "controller" in cgroup["reason"]


async def test_required_refuses_to_run_without_cgroups(make, tmp_path):
    svc = await make(cgroups="required", cgroup_parent=str(tmp_path))
    assert "cgroup limits are required (sandbox.cgroups: required) but unavailable" in svc.unavailable_reason
    with pytest.raises(GatewayError) as err:
        await svc.execute(py("print(1)"), None)
    assert (err.value.code, err.value.status) == ("sandbox_unavailable", 503)
    assert "no memory, pids controller" in err.value.message


async def test_required_runs_where_the_host_allows(make):
    svc = await make(cgroups="required", cgroup_cpus=0.5)
    _usable(svc)
    assert "cpu" in svc.status()["cgroup"]
    r = await svc.execute(py("print(sum(range(10**6)))"), None)
    assert r.exit_code == 0 and r.stdout == f"{sum(range(10**6))}\n"
    assert svc.leftovers() == CLEAN


def test_the_cgroup_kills_a_whole_tree_and_goes_away():
    """The mechanism on its own: a process tree started inside a run cgroup (no namespaces),
    one member detached into its own session; kill() ends all of them and remove() the cgroup."""
    root = _root()
    try:
        cgroups = _cgroups_here(root)
        cgroups.prepare("inst-test" + os.urandom(4).hex())
        run = cgroups.create("run-tree", 64 << 20, 16)
        script = "sleep 60 & setsid sleep 60 & sleep 60"
        proc = subprocess.Popen(run.wrap(["/bin/sh", "-c", script]))
        deadline = time.monotonic() + 10
        while len(run.pids()) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        members = run.pids()
        assert proc.pid in members and len(members) >= 4
        run.kill()
        proc.wait(timeout=10)
        assert run.pids() == set()
        for pid in members:
            assert not Path(f"/proc/{pid}").exists() or _zombie(pid)
        assert run.remove() == 1 and all(not d.exists() for _, d in run.dirs)
        cgroups.close()
        assert all(not (h.base / cgroups.group).exists() for h in cgroups.hierarchies)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


_KILLED_GATEWAY = """
import asyncio, sys
from seawall.sandbox import SandboxConfig, SandboxService
from seawall.sandbox.models import ExecutionRequest

async def main():
    svc = SandboxService(SandboxConfig(enabled=True, work_root=sys.argv[1], cgroups="required"))
    await svc.start()
    assert svc.unavailable_reason is None, svc.unavailable_reason
    task = asyncio.create_task(svc.execute(ExecutionRequest(
        language="python", code="import time\\nprint('running', flush=True)\\ntime.sleep(120)",
        limits={"wall_time_s": 60}), None))
    await asyncio.sleep(1.5)
    print("RUNNING", flush=True)
    await task

asyncio.run(main())
"""


async def test_cgroups_of_a_sigkilled_gateway_are_reaped_on_start(make):
    root = _root()
    cgroups = _cgroups_here(root)
    dead = lambda name: reaper.instance_is_dead(Path(root) / name)  # noqa: E731
    gateway = subprocess.Popen([sys.executable, "-c", _KILLED_GATEWAY, root], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    try:
        line = gateway.stdout.readline()
        assert line == b"RUNNING\n", gateway.stderr.read()[-2000:]
        assert cgroups.leftovers(dead) == 1  # the run in progress
        gateway.send_signal(signal.SIGKILL)
        gateway.wait()
    finally:
        if gateway.poll() is None:
            gateway.kill()
    deadline = time.monotonic() + 10  # --die-with-parent ends the sandbox; its cgroup stays
    while reaper.sandbox_processes(root) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert cgroups.leftovers(dead) == 2  # the dead instance's cgroup and its run's
    svc = await make(work_root=root)
    _usable(svc)
    assert svc.leftovers() == CLEAN
    assert (await svc.execute(py("print('after')"), None)).stdout == "after\n"


async def test_off_still_reaps_what_an_earlier_gateway_left(make):
    """A gateway that ran with cgroups and died, restarted with `cgroups: off`: its leftovers go."""
    root = _root()
    cgroups = _cgroups_here(root)
    cgroups.prepare("inst-" + os.urandom(8).hex())  # no lock file: its gateway is gone
    cgroups.create("run-left", 64 << 20, 8)
    cgroups.instance = None
    dead = lambda name: reaper.instance_is_dead(Path(root) / name)  # noqa: E731
    assert cgroups.leftovers(dead) == 2
    svc = await make(work_root=root, cgroups="off")
    _usable(svc)
    assert svc.leftovers() == CLEAN
    assert all(not (h.base / cgroups.group).exists() for h in cgroups.hierarchies)
