"""The shipped attack suite: each case runs hostile code in a real sandbox, checks it was
contained, and checks the host afterwards (files, the gateway process, a bystander process,
leftover processes/mounts/workdirs). Run it alone with:
    PYTHONPATH=src pytest -q tests/abuse
"""
import json
import os
import shutil
import socket
import tempfile
import textwrap
from pathlib import Path

import pytest

from seawall.core.errors import GatewayError
from seawall.sandbox.models import ExecutionRequest

pytestmark = pytest.mark.timeout(120)


def py(code: str, **limits) -> ExecutionRequest:
    return ExecutionRequest(language="python", code=textwrap.dedent(code), limits=limits)


def sh(code: str, **limits) -> ExecutionRequest:
    return ExecutionRequest(language="bash", code=textwrap.dedent(code), limits=limits)


def _everything(result) -> str:
    return result.stdout + result.stderr + json.dumps([f.model_dump() for f in result.files])


async def test_fork_bomb_python(sandbox, host):
    r = await sandbox.execute(py("""
        import os, sys, time
        n = 0
        while True:
            try:
                pid = os.fork()
            except OSError as e:
                print("fork refused after", n, "errno", e.errno, flush=True)
                sys.exit(1)
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            n += 1
    """, processes=16, wall_time_s=10), "attacker")
    assert "fork refused after" in r.stdout
    assert int(r.stdout.split()[3]) < 16
    assert r.limit == "processes"
    host.verify_untouched(sandbox, _everything(r))


async def test_fork_bomb_bash(sandbox, host):
    r = await sandbox.execute(sh(":(){ :|:& };:\nsleep 2\n", processes=16, wall_time_s=4), "attacker")
    assert r.limit in ("processes", "wall_time")
    host.verify_untouched(sandbox, _everything(r))


async def test_memory_bomb(sandbox, host):
    r = await sandbox.execute(py("""
        chunks = []
        while True:
            chunks.append(bytearray(8 << 20))
    """, memory_mb=128), "attacker")
    assert r.exit_code == 1 and "MemoryError" in r.stderr
    assert r.limit == "memory"
    assert r.peak_memory_mb < 128 + 16
    host.verify_untouched(sandbox, _everything(r))


async def test_memory_bomb_that_forks(sandbox, host):
    """Six processes of 90 MB each: every one within its rlimit, together past the run's
    cgroup (128 + 2 x 16 + 64 MB), so the kernel kills inside the run."""
    if not sandbox.status()["cgroup"].startswith("applied"):
        pytest.skip(f"no per-run cgroup on this host: {sandbox.status()['cgroup']}")
    r = await sandbox.execute(py("""
        import os, time
        kids = []
        for i in range(6):
            pid = os.fork()
            if pid == 0:
                hold = b"x" * (90 << 20)
                time.sleep(3)
                os._exit(0)
            kids.append(pid)
        print("killed", sum(os.WIFSIGNALED(os.waitpid(k, 0)[1]) for k in kids))
    """, memory_mb=128, processes=16), "attacker")
    assert r.limit == "memory" and int(r.stdout.split()[1]) >= 1, r.stdout + r.stderr
    host.verify_untouched(sandbox, _everything(r))


async def test_disk_fill_one_file(sandbox, host):
    r = await sandbox.execute(py("""
        with open("fill.bin", "wb") as f:
            while True:
                f.write(b"0" * (1 << 20))
    """, file_size_bytes=4 << 20), "attacker")
    assert "File too large" in r.stderr and r.limit == "file_size"
    host.verify_untouched(sandbox, _everything(r))


async def test_disk_fill_many_files(sandbox, host):
    # each file under the file size limit: the workdir's size (workdir_mb=16) stops it
    r = await sandbox.execute(py("""
        i = 0
        while True:
            with open(f"f{i}.bin", "wb") as f:
                f.write(b"0" * (1 << 20))
            i += 1
    """, file_size_bytes=2 << 20), "attacker")
    assert "No space left on device" in r.stderr and r.limit == "file_size"
    assert sum(f.size for f in r.files) <= 16 << 20
    assert sum(p.stat().st_size for p in __import__("pathlib").Path(sandbox.config.work_root).rglob("*") if p.is_file()) < 1 << 20
    host.verify_untouched(sandbox, _everything(r))


async def test_endless_loop_cpu(sandbox, host):
    r = await sandbox.execute(py("while True: pass", cpu_time_s=1, wall_time_s=10), "attacker")
    assert r.limit == "cpu_time" and r.signal in ("SIGXCPU", "SIGKILL")
    host.verify_untouched(sandbox, _everything(r))


async def test_endless_sleep_wall_clock(sandbox, host):
    r = await sandbox.execute(py("import time\nprint('start', flush=True)\ntime.sleep(600)", wall_time_s=1), "attacker")
    assert r.limit == "wall_time" and r.stdout == "start\n" and r.exit_code is None
    host.verify_untouched(sandbox, _everything(r))


def _reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


async def test_network_loopback_services_and_outside(sandbox, host):
    reachable = {p: _reachable(p) for p in (5432, 6379)}
    r = await sandbox.execute(py("""
        import socket, sys
        names = [n for _, n in socket.if_nameindex()]
        print("interfaces", names)
        if names != ["lo"]:
            sys.exit(3)  # not isolated: do not send anything anywhere
        for host, port in (("127.0.0.1", 5432), ("127.0.0.1", 6379), ("192.0.2.1", 80)):
            try:
                socket.create_connection((host, port), timeout=2).close()
                print("CONNECTED", host, port)
            except OSError as e:
                print("refused", host, port, type(e).__name__)
    """), "attacker")
    assert r.exit_code == 0, r.stderr
    assert "CONNECTED" not in r.stdout and r.stdout.count("refused") == 3
    # the same ports answer on the host: the sandbox, not the absence of a server, said no
    assert {p: _reachable(p) for p in (5432, 6379)} == reachable
    host.verify_untouched(sandbox, _everything(r))


async def test_reads_of_secrets(sandbox, host):
    r = await sandbox.execute(py(f"""
        import os
        for path in ("/etc/shadow", {str(host.config)!r}, {str(host.database)!r}, "/proc/1/environ",
                     "/proc/self/environ", "/work/../etc/shadow", "/root/.bash_history"):
            try:
                with open(path, "rb") as f:
                    print(path, "READ", f.read()[:200])
            except OSError as e:
                print(path, "DENIED", type(e).__name__)
        print("env", dict(os.environ))
        # look everywhere outside the runtime for the host's secret
        hits = []
        for root, dirs, files in os.walk("/"):
            if root.startswith(("/proc", "/usr", "/sys", "/dev")):
                dirs[:] = []
                continue
            for name in files:
                try:
                    with open(os.path.join(root, name), "rb") as f:
                        if ({host.secret[:8]!r} + {host.secret[8:]!r}).encode() in f.read(1 << 20):
                            hits.append(os.path.join(root, name))
                except OSError:
                    pass
        print("hits", hits)
    """), "attacker")
    assert r.exit_code == 0, r.stderr
    assert "/etc/shadow DENIED FileNotFoundError" in r.stdout
    assert f"{host.config} DENIED" in r.stdout and f"{host.database} DENIED" in r.stdout
    assert "hits []" in r.stdout
    assert "SEAWALL_TEST_HOST_SECRET" not in r.stdout
    host.verify_untouched(sandbox, _everything(r))


async def test_ptrace_and_namespace_syscalls_denied(sandbox, host):
    r = await sandbox.execute(py("""
        import ctypes, os, time
        libc = ctypes.CDLL(None, use_errno=True)
        def call(name, *args):
            res = libc.syscall(*args)
            print(name, res, ctypes.get_errno(), flush=True)
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        call("ptrace_attach", 101, 16, pid, 0, 0)       # SYS_ptrace, PTRACE_ATTACH
        call("ptrace_traceme", 101, 0, 0, 0, 0)
        call("ptrace_init", 101, 16, 1, 0, 0)
        call("unshare_user", 272, 0x10000000)           # SYS_unshare, CLONE_NEWUSER
        call("clone_newns", 56, 0x00020000 | 17, 0, 0, 0, 0)
        call("mount", 165, b"none", b"/work", b"tmpfs", 0, 0)
        call("keyctl", 250, 0, 0, 0, 0)
        call("bpf", 321, 0, 0, 0)
        call("perf_event_open", 298, 0, 0, -1, -1, 0)
        call("setns", 308, 0, 0)
        call("process_vm_readv", 310, pid, 0, 0, 0, 0, 0)
        os.kill(pid, 9)
    """), "attacker")
    assert r.exit_code == 0, r.stderr
    lines = dict((line.split()[0], line.split()[1:]) for line in r.stdout.splitlines())
    for name in ("ptrace_attach", "ptrace_traceme", "ptrace_init", "unshare_user", "clone_newns",
                 "mount", "keyctl", "bpf", "perf_event_open", "setns", "process_vm_readv"):
        assert lines[name] == ["-1", "1"], (name, lines[name])  # -1, EPERM: the seccomp filter
    host.verify_untouched(sandbox, _everything(r))


async def test_foreign_syscall_abi_is_killed(sandbox, host):
    """i386 system calls (int 0x80) would bypass a filter written for x86-64 numbers; the
    filter's architecture check kills the process instead (the same bytes work on the host)."""
    r = await sandbox.execute(py("""
        import ctypes, mmap
        buf = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        buf.write(bytes([0xb8, 0x14, 0, 0, 0, 0xcd, 0x80, 0xc3]))  # mov eax, 20 (i386 getpid); int 0x80; ret
        call = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(buf)))
        print("i386 getpid returned", call(), flush=True)
    """), "attacker")
    assert r.signal == "SIGSYS" and r.stdout == ""
    host.verify_untouched(sandbox, _everything(r))


async def test_signal_the_gateway(sandbox, host):
    r = await sandbox.execute(py(f"""
        import os, signal
        for sig in (signal.SIGTERM, signal.SIGUSR1, signal.SIGKILL):
            for pid in ({os.getpid()}, {host.bystander.pid}):
                try:
                    os.kill(pid, sig)
                    print("SENT", pid, sig)
                except OSError as e:
                    print("no", pid, type(e).__name__)
        os.kill(-1, signal.SIGUSR1)  # everything it can see: only the sandbox itself
    """), "attacker")
    assert "SENT" not in r.stdout
    host.verify_untouched(sandbox, _everything(r))


async def test_setuid_binaries(sandbox, host):
    r = await sandbox.execute(py("""
        import os, stat
        found = []
        for root, dirs, files in os.walk("/"):
            if root.startswith("/proc"):
                dirs[:] = []
                continue
            for name in files:
                try:
                    st = os.lstat(os.path.join(root, name))
                except OSError:
                    continue
                if st.st_mode & (stat.S_ISUID | stat.S_ISGID) and stat.S_ISREG(st.st_mode):
                    found.append(os.path.join(root, name))
        status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
        print("setuid", found)
        print("nnp", status["NoNewPrivs"].strip(), "capeff", status["CapEff"].strip(), "uid", os.getuid())
        for prog in ("su", "sudo", "mount", "passwd", "newuidmap"):
            print(prog, any(os.path.exists(d + "/" + prog) for d in ("/usr/bin", "/bin", "/usr/sbin", "/sbin")))
    """), "attacker")
    assert r.exit_code == 0, r.stderr
    assert "setuid []" in r.stdout
    assert "nnp 1 capeff 0000000000000000 uid 1000" in r.stdout
    assert " True" not in r.stdout
    host.verify_untouched(sandbox, _everything(r))


async def test_symlink_and_dotdot_escapes(sandbox, host):
    r = await sandbox.execute(py("""
        import os
        os.symlink("/etc/shadow", "shadow")
        os.symlink("/.seawall/job/spec", "spec")
        os.symlink("../../../../../../etc/passwd", "up")
        os.symlink("/", "rootdir")
        for path in ("../../../../etc/shadow", "../.seawall/job/code", "rootdir/etc/shadow"):
            try:
                open(path, "a").write("x")
                print("WROTE", path)
            except OSError as e:
                print("no", path, type(e).__name__)
        with open("real.txt", "w") as f:
            f.write("mine")
    """), "attacker")
    assert "WROTE" not in r.stdout, r.stdout
    assert [f.name for f in r.files] == ["real.txt"]  # links are never followed out
    host.verify_untouched(sandbox, _everything(r))
    # names that climb out of /work are refused before anything is written on the host
    for name in ("../escape.txt", "/etc/cron.d/x", "a/../../b", "./x", "a//b"):
        with pytest.raises(Exception):
            ExecutionRequest(language="python", code="", files=[{"name": name, "content": "x"}])
    host.verify_untouched(sandbox)


async def test_daemon_does_not_outlive_its_run(sandbox, host):
    marker = "sandbox-daemon-" + os.urandom(6).hex()
    r = await sandbox.execute(py(f"""
        import os, sys, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)", {marker!r}])
            os._exit(0)
        time.sleep(0.3)
        print("parent leaves", flush=True)
    """), "attacker")
    assert r.exit_code == 0 and "parent leaves" in r.stdout
    survivors = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker.encode() in open(f"/proc/{pid}/cmdline", "rb").read():
                survivors.append(pid)
        except OSError:
            pass
    assert survivors == []
    host.verify_untouched(sandbox, _everything(r))


async def test_writes_outside_the_workdir(sandbox, host):
    name = "sandbox-escape-" + os.urandom(6).hex()
    r = await sandbox.execute(py(f"""
        for path in ("/usr/bin/{name}", "/etc/{name}", "/{name}", "/.seawall/job/code",
                     "/.seawall/runner.py", "/proc/sys/kernel/hostname", "/dev/{name}"):
            try:
                open(path, "w").write("x")
                print("WROTE", path)
            except OSError as e:
                print("no", path, type(e).__name__)
        open("/tmp/{name}", "w").write("only in the sandbox's own /tmp")
    """), "attacker")
    assert "WROTE" not in r.stdout, r.stdout
    for path in (f"/usr/bin/{name}", f"/etc/{name}", f"/{name}", f"/tmp/{name}", f"/dev/{name}"):
        assert not os.path.exists(path)
    host.verify_untouched(sandbox, _everything(r))


async def test_hundred_megabytes_of_output(sandbox, host):
    r = await sandbox.execute(py("""
        import sys
        chunk = "x" * (1 << 20)
        for _ in range(100):
            sys.stdout.write(chunk)
    """, output_bytes=1 << 20, wall_time_s=30), "attacker")
    assert r.truncated is True and r.limit == "output"
    assert len(r.stdout) + len(r.stderr) <= 1 << 20
    host.verify_untouched(sandbox, r.stdout[:100])


async def test_refuses_without_bubblewrap_and_never_runs_on_host(make_service, tmp_path):
    broken = await make_service(bwrap="/nonexistent/bwrap")
    assert "bubblewrap is not installed" in broken.unavailable_reason
    marker = tmp_path / "ran-on-host"
    with pytest.raises(GatewayError) as err:
        await broken.execute(py(f"open({str(marker)!r}, 'w').write('x')"), "p")
    assert err.value.status == 503 and "bubblewrap" in err.value.message
    assert not marker.exists()


async def test_refuses_without_user_namespaces(make_service):
    """A bwrap that fails the way it does where unprivileged user namespaces are off."""
    fake = Path(tempfile.mkdtemp(prefix="seawall-sbx-fake-", dir="/tmp")) / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace, likely because "
                    "the kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n")
    fake.chmod(0o755)
    os.chmod(fake.parent, 0o755)
    try:
        broken = await make_service(bwrap=str(fake))
        assert "user namespaces" in broken.unavailable_reason
        with pytest.raises(GatewayError) as err:
            await broken.execute(py("print(1)"), "p")
        assert err.value.status == 503 and "user namespaces" in err.value.message
    finally:
        shutil.rmtree(fake.parent)
