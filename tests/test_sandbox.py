"""The sandbox service: result contract, validation, files, receipts, pool, kept results and
reaping (after many runs, and after the gateway's process is SIGKILLed mid-run).
The attack suite lives in tests/abuse/test_sandbox_attacks.py."""
import asyncio
import base64
import hashlib
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
from seawall.sandbox import SandboxConfig, SandboxService
from seawall.sandbox import reaper, routes
from seawall.sandbox.config import LIMIT_NAMES
from seawall.sandbox.models import LIMIT_VALUES, RESULT_FIELDS, ExecutionRequest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(300)


def _config(**over) -> SandboxConfig:
    if "work_root" not in over:  # directly under /tmp: reachable by the sandbox uid
        over["work_root"] = tempfile.mkdtemp(prefix="seawall-sbx-test-", dir="/tmp")
    return SandboxConfig(**{"enabled": True, "workdir_mb": 16, **over})


@pytest.fixture
async def make():
    made = []

    async def start(audit=None, **over):
        svc = SandboxService(_config(**over), audit=audit)
        await svc.start()
        if svc.unavailable_reason and os.environ.get("SEAWALL_REQUIRE_SERVICES") != "1":
            pytest.skip(f"sandbox unavailable here: {svc.unavailable_reason}")
        assert svc.unavailable_reason is None, svc.unavailable_reason
        made.append(svc)
        return svc

    yield start
    for svc in made:
        await svc.aclose()
        shutil.rmtree(svc.config.work_root, ignore_errors=True)


def py(code, **kw):
    return ExecutionRequest(language="python", code=textwrap.dedent(code), **kw)


async def test_result_contract_every_field(make):
    svc = await make()
    body = await routes.create(svc, {"language": "python", "code": "print('hi')"}, "team-a")
    assert tuple(body) == RESULT_FIELDS
    assert body["stdout"] == "hi\n" and body["stderr"] == "" and body["truncated"] is False
    assert body["exit_code"] == 0 and body["signal"] is None and body["limit"] is None
    assert body["duration_ms"] > 0 and body["peak_memory_mb"] > 0 and body["files"] == []
    assert body["id"].startswith("exec_")
    assert await routes.fetch(svc, body["id"]) == body
    # the limit names are one vocabulary across config, request and result
    assert sorted(LIMIT_NAMES.values()) == sorted(LIMIT_VALUES)


async def test_bash_exit_code_and_stderr(make):
    svc = await make()
    body = await routes.create(svc, {"language": "bash", "code": "echo out; echo err >&2; ls / | wc -l; exit 7"}, None)
    assert body["exit_code"] == 7 and body["stdout"].startswith("out\n") and body["stderr"] == "err\n"


async def test_killed_by_signal_is_reported(make):
    svc = await make()
    r = await svc.execute(py("import os, signal\nos.kill(os.getpid(), signal.SIGABRT)"), None)
    assert r.exit_code is None and r.signal == "SIGABRT" and r.limit is None


async def test_input_and_output_files(make):
    svc = await make()
    payload = bytes(range(256))
    r = await svc.execute(py("""
        import os
        import helper
        data = open("in/data.bin", "rb").read()
        assert helper.VALUE == 42
        open("notes.txt").read()
        os.makedirs("out", exist_ok=True)
        open("out/double.bin", "wb").write(data * 2)
        open("answer.txt", "w").write(str(len(data)))
    """, files=[{"name": "in/data.bin", "content": base64.b64encode(payload).decode(), "encoding": "base64"},
                {"name": "notes.txt", "content": "unchanged input"},
                {"name": "helper.py", "content": "VALUE = 42"}]), None)
    assert r.exit_code == 0, r.stderr
    files = {f.name: base64.b64decode(f.content) for f in r.files}
    assert files == {"answer.txt": b"256", "out/double.bin": payload * 2}  # unchanged inputs are not returned


async def test_peak_memory_is_measured(make):
    svc = await make()
    r = await svc.execute(py("x = bytearray(120 << 20)\nx[::4096] = b'1' * len(x[::4096])"), None)
    assert r.exit_code == 0, r.stderr
    assert 120 <= r.peak_memory_mb < 200


async def test_validation_errors_name_the_field(make):
    svc = await make(languages=["python"])
    cases = [
        ({"language": "python", "code": "1", "limits": {"memory_mb": 99999}}, "limits.memory_mb"),
        ({"language": "python", "code": "1", "limits": {"wall_time_s": -1}}, "limits.wall_time_s"),
        ({"language": "python", "code": "1", "limits": {"disk": 1}}, "limits.disk"),
        ({"language": "bash", "code": "echo"}, "language"),
        ({"language": "python", "code": "1", "network": "host"}, "network"),
        ({"language": "python", "code": "1", "files": [{"name": "../x", "content": ""}]}, "files[0].name"),
        ({"language": "python", "code": "1", "files": [{"name": "x", "content": "%%", "encoding": "base64"}]}, "files[0].content"),
        ({"language": "python", "code": "1", "files": [{"name": "x"}, {"name": "x"}]}, "files[1].name"),
        ({"language": "python", "code": "1", "files": [{"name": "a"}, {"name": "a/b"}]}, "files[1].name"),
        ({"language": "python", "code": "1", "files": [{"name": "a/b/c"}, {"name": "a/b"}]}, "files[1].name"),
        ({"code": "1"}, "language"),
        ({"language": "python", "code": "x" * (300 << 10)}, "code"),
    ]
    for body, param in cases:
        with pytest.raises(GatewayError) as err:
            await routes.create(svc, body, None)
        assert (err.value.code, err.value.param, err.value.status) == ("invalid_request", param, 400), body
    assert svc.leftovers() == {"processes": 0, "mounts": 0, "workdirs": 0, "cgroups": 0}


def test_config_rejects_defaults_above_maximums_and_unknown_keys():
    with pytest.raises(ValueError, match="defaults.memory_mb"):
        SandboxConfig(defaults={"memory_mb": 4096}, maximums={"memory_mb": 1024})
    with pytest.raises(ValueError):
        SandboxConfig(enabeld=True)
    with pytest.raises(ValueError, match="max_input_bytes"):
        SandboxConfig(workdir_mb=1, max_input_bytes=2 << 20)
    assert SandboxConfig().enabled is False


async def test_disabled_service_refuses(tmp_path):
    svc = SandboxService(SandboxConfig(work_root=str(tmp_path / "w")))
    await svc.start()
    with pytest.raises(GatewayError) as err:
        await svc.execute(py("print(1)"), None)
    assert err.value.status == 503 and "disabled" in err.value.message
    assert not (tmp_path / "w").exists()


async def test_refuses_a_work_root_others_can_write(tmp_path):
    root = Path(tempfile.mkdtemp(prefix="seawall-sbx-test-", dir="/tmp"))
    os.chmod(root, 0o777)
    try:
        svc = SandboxService(SandboxConfig(enabled=True, work_root=str(root)))
        await svc.start()
        assert "not writable by others" in svc.unavailable_reason
        with pytest.raises(GatewayError):
            await svc.execute(py("print(1)"), None)
    finally:
        shutil.rmtree(root)


async def test_receipt_per_execution(make):
    receipts = []
    svc = await make(audit=receipts.append)
    code = "print('x' * 3)"
    r = await svc.execute(py(code, limits={"memory_mb": 64}), "principal-7")
    await svc.execute(py("while True: pass", limits={"wall_time_s": 0.5, "cpu_time_s": 5}), "principal-7")
    assert len(receipts) == 2
    first, second = receipts
    assert first["id"] == r.id and first["principal_id"] == "principal-7"
    assert first["code_sha256"] == hashlib.sha256(code.encode()).hexdigest()
    assert first["limits"]["memory_mb"] == 64 and first["limits"]["wall_time_s"] == svc.config.defaults.wall_time_s
    assert {"ptrace", "mount", "keyctl", "bpf", "perf_event_open", "unshare", "setns", "kexec_load",
            "reboot", "init_module", "clone(CLONE_NEW*)"} <= set(first["syscalls_denied"])
    assert first["exit_reason"] == "exit:0" and second["exit_reason"] == "limit:wall_time"
    assert first["duration_ms"] > 0 and first["queue_ms"] >= 0 and first["first_output_ms"] > 0
    assert code not in repr(first)  # the code itself is not in the audit trail, only its hash


async def test_pool_is_bounded_and_excess_gets_503(make):
    svc = await make(pool_size=1, queue_wait_s=0.3)
    slow = asyncio.create_task(svc.execute(py("import time; time.sleep(3)"), None))
    await asyncio.sleep(0.5)
    with pytest.raises(GatewayError) as err:
        await svc.execute(py("print(1)"), None)
    assert (err.value.code, err.value.status) == ("overloaded", 503)
    assert err.value.retry_after >= 1 and err.value.headers["Retry-After"]
    assert (await slow).exit_code == 0
    assert (await svc.execute(py("print(1)"), None)).stdout == "1\n"  # the slot came back


async def test_no_queue_wait_still_runs_on_a_free_slot(make):
    svc = await make(pool_size=1, queue_wait_s=0)
    assert (await svc.execute(py("print(1)"), None)).stdout == "1\n"


async def test_kept_results_are_bounded_and_scoped(make):
    svc = await make(results_kept=2)
    ids = [(await svc.execute(py(f"print({i})"), "alice")).id for i in range(3)]
    assert svc.get(ids[0]) is None and svc.get(ids[2]).stdout == "2\n"
    assert await routes.fetch(svc, ids[2], "alice")
    with pytest.raises(GatewayError) as err:
        await routes.fetch(svc, ids[2], "mallory")
    assert err.value.code == "not_found"
    with pytest.raises(GatewayError):
        await routes.fetch(svc, "exec_missing")


async def test_kept_results_are_bounded_in_bytes(make):
    svc = await make(results_max_bytes=600 << 10)
    ids = [(await svc.execute(py("print('x' * (250 << 10))"), None)).id for _ in range(3)]
    assert svc.get(ids[0]) is None  # 3 x 250 KiB do not fit in 600 KiB: the oldest went
    assert svc.get(ids[1]) is not None and svc.get(ids[2]) is not None


async def test_no_leftovers_after_many_runs(make):
    """200 runs here (SEAWALL_SANDBOX_RUNS=1000 for the full count), half of them leaving a
    background process behind."""
    runs = int(os.environ.get("SEAWALL_SANDBOX_RUNS", "200"))
    svc = await make(pool_size=2)
    code = "import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\nprint('ok')"

    async def one(i):
        r = await svc.execute(py(code if i % 2 else "print('ok')"), None)
        assert r.stdout == "ok\n", r.stderr

    for start in range(0, runs, 10):
        await asyncio.gather(*(one(i) for i in range(start, min(runs, start + 10))))
    assert svc.leftovers() == {"processes": 0, "mounts": 0, "workdirs": 0, "cgroups": 0}


_KILLED_GATEWAY = """
import asyncio, sys
from seawall.sandbox import SandboxConfig, SandboxService
from seawall.sandbox.models import ExecutionRequest

async def main():
    svc = SandboxService(SandboxConfig(enabled=True, work_root=sys.argv[1]))
    await svc.start()
    assert svc.unavailable_reason is None, svc.unavailable_reason
    code = ("import subprocess, sys, time\\n"
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', sys.argv[0] + '-{m}'])\\n"
            "print('running', flush=True)\\ntime.sleep(120)").replace("{m}", sys.argv[2])
    task = asyncio.create_task(svc.execute(ExecutionRequest(language="python", code=code,
                                                            limits={"wall_time_s": 60}), None))
    await asyncio.sleep(1.5)
    print("RUNNING", flush=True)
    await task

asyncio.run(main())
"""


def _marked(marker: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker.encode() in open(f"/proc/{pid}/cmdline", "rb").read():
                found.append(int(pid))
        except OSError:
            pass
    return found


async def test_no_leftovers_after_the_gateway_is_sigkilled_mid_run(make):
    config = _config()
    root = Path(config.work_root)
    marker = "sbx-killed-" + os.urandom(6).hex()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    gateway = subprocess.Popen([sys.executable, "-c", _KILLED_GATEWAY, str(root), marker],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        line = gateway.stdout.readline()
        assert line == b"RUNNING\n", gateway.stderr.read()[-2000:]
        deadline = time.monotonic() + 30  # a loaded machine may take a while to get there
        while not _marked(marker) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert _marked(marker), "the sandboxed process should be running"
        assert reaper.sandbox_processes(str(root))
        gateway.send_signal(signal.SIGKILL)
        gateway.wait()
    finally:
        if gateway.poll() is None:
            gateway.kill()
    svc = await make(work_root=str(root))  # a new gateway on the same work root reaps on start
    deadline = time.monotonic() + 10
    while _marked(marker) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert _marked(marker) == []
    assert svc.leftovers() == {"processes": 0, "mounts": 0, "workdirs": 0, "cgroups": 0}
    assert [p.name for p in root.iterdir()] == [svc._instance.name]
    assert (await svc.execute(py("print('after')"), None)).stdout == "after\n"


async def test_reaper_kills_a_sandbox_that_outlived_its_gateway(make):
    """A sandbox whose gateway is gone but which is still running (here: started by this test,
    so --die-with-parent does not fire): a new service's start kills it and removes its files."""
    first = await make()
    root = Path(first.config.work_root)
    job = first._instance / "run-orphan"
    first._executor.stage(job, "python", "import time; time.sleep(120)", [], first.config.defaults)
    r_out, w_out = os.pipe()
    ctl_r, ctl_w = os.pipe()
    info_r, info_w = os.pipe()
    sec_r, sec_w = os.pipe()
    os.write(sec_w, first._executor.bpf)
    os.close(sec_w)
    argv = first._executor.argv(job, sec_r, info_w, ctl_w)
    kw = {"user": 65534, "group": 65534, "extra_groups": []} if os.geteuid() == 0 else {}
    orphan = subprocess.Popen(argv, pass_fds=(sec_r, info_w, ctl_w), stdout=w_out, stderr=w_out, env={}, **kw)
    for fd in (w_out, ctl_w, info_w, sec_r):
        os.close(fd)
    try:
        os.read(info_r, 4096)  # the sandbox is up
        assert orphan.pid in reaper.sandbox_processes(str(root))
        # the first gateway "dies": its lock goes, its sandbox does not
        os.close(first._lock_fd)
        first._lock_fd = None
        second = await make(work_root=str(root))
        assert orphan.wait(timeout=10) is not None
        assert second.leftovers() == {"processes": 0, "mounts": 0, "workdirs": 0, "cgroups": 0}
        assert not first._instance.exists()
    finally:
        if orphan.poll() is None:
            orphan.kill()
        for fd in (r_out, ctl_r, info_r):
            os.close(fd)
        first._instance = None  # already reaped


async def test_a_cancelled_execution_leaves_nothing(make):
    """A client that goes away mid-run: the task is cancelled and the sandbox dies with it."""
    svc = await make()
    marker = "sbx-cancel-" + os.urandom(6).hex()
    task = asyncio.create_task(svc.execute(py(f"""
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", {marker!r}])
        time.sleep(120)
    """, limits={"wall_time_s": 60}), None))
    deadline = time.monotonic() + 20
    while not _marked(marker) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert _marked(marker)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    deadline = time.monotonic() + 10
    while (_marked(marker) or svc.leftovers()["processes"]) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert _marked(marker) == []
    assert svc.leftovers() == {"processes": 0, "mounts": 0, "workdirs": 0, "cgroups": 0}


async def test_workers_sharing_a_work_root_leave_each_other_alone(make):
    """Several gateway workers on one work root: a worker starting reaps only dead instances."""
    first = await make()
    busy = asyncio.create_task(first.execute(py("import time; time.sleep(1.5); print('done')"), None))
    await asyncio.sleep(0.5)
    second, third = await asyncio.gather(make(work_root=first.config.work_root),
                                         make(work_root=first.config.work_root))
    assert (await busy).stdout == "done\n"  # its sandbox was not taken for a leftover
    names = sorted(p.name for p in Path(first.config.work_root).iterdir())
    assert names == sorted(s._instance.name for s in (first, second, third))
    for svc in (first, second, third):
        assert (await svc.execute(py("print('ok')"), None)).stdout == "ok\n"
