"""One execution: bubblewrap around the in-sandbox runner, with the host's own guards.

Layers applied to every run (docs/sandbox.md says what each one stops):
  namespaces     user, pid, net, mount, ipc, uts, cgroup (bwrap), nested user namespaces off
  filesystem     read-only minimal runtime, fresh size-limited tmpfs /work and /tmp, new /proc
                 of the sandbox's own pid namespace, minimal /dev, nothing else of the host
  seccomp        the deny list of seccomp.py, applied by bwrap before the runner starts
  rlimits        cpu, address space, processes, file size, no core dumps (set by the runner)
  cgroup         when the host allows (cgroups.py): memory, pids (and cpu) of the whole tree;
                 the run is born inside its cgroup, which also lists every process to kill
  host guards    an empty environment, an unprivileged uid when the gateway is root, output
                 capped while it is read, a wall-clock SIGKILL of the pid namespace's init
                 (which takes every process of the sandbox with it), --die-with-parent
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .cgroups import RunCgroup
from .config import Limits, SandboxConfig
from .runtime import Runtime

SANDBOX_UID = 1000  # the uid inside; the host uid is run_as_uid (root gateway) or the gateway's own
GRACE_S = 3.0  # the host's wall-clock kill comes this long after the runner's own
NAMESPACES = ("user", "pid", "net", "mount", "ipc", "uts", "cgroup")


@dataclass
class RawRun:
    """What the host saw of one run, before it becomes an ExecutionResult."""

    stdout: bytes = b""
    stderr: bytes = b""
    output_overflow: bool = False
    host_killed: bool = False  # the host's wall-clock backstop fired
    returncode: int | None = None
    report: dict | None = None
    spawn_ms: float = 0.0
    first_output_ms: float | None = None
    total_ms: float = 0.0
    errors: list[str] = field(default_factory=list)
    oom_kills: int = 0  # processes the kernel killed at the run cgroup's memory limit
    cgroup_peak_bytes: int | None = None
    cgroup: dict = field(default_factory=dict)  # the receipt's account of the run's cgroup


class _Budget:
    def __init__(self, left: int) -> None:
        self.left = left
        self.overflow = False


class _Capture(asyncio.Protocol):
    """Reads one pipe into memory, never past the shared budget; past it, stops reading."""

    def __init__(self, budget: _Budget, on_overflow, on_first=None) -> None:
        self.budget, self.on_overflow, self.on_first = budget, on_overflow, on_first
        self.chunks: list[bytes] = []
        self.transport: asyncio.ReadTransport | None = None
        self.closed = asyncio.get_running_loop().create_future()
        self.ready = asyncio.get_running_loop().create_future()  # first complete JSON line (info fd)

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.on_first is not None:
            self.on_first()
            self.on_first = None
        if len(data) > self.budget.left:
            data = data[: self.budget.left]
            self.budget.overflow = True
        self.budget.left -= len(data)
        self.chunks.append(data)
        if not self.ready.done() and data.rstrip().endswith(b"}"):
            self.ready.set_result(None)
        if self.budget.overflow:
            self.on_overflow()

    def connection_lost(self, exc) -> None:
        for fut in (self.closed, self.ready):
            if not fut.done():
                fut.set_result(None)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def data(self) -> bytes:
        return b"".join(self.chunks)


class Executor:
    def __init__(self, config: SandboxConfig, runtime: Runtime, bpf: bytes, instance_dir: Path,
                 bwrap: str, runner_path: Path, etc_dir: Path) -> None:
        self.config, self.runtime, self.bpf = config, runtime, bpf
        self.instance_dir, self.bwrap, self.runner_path, self.etc_dir = instance_dir, bwrap, runner_path, etc_dir
        self._as_root = os.geteuid() == 0
        self._setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"

    def argv(self, job_dir: Path, seccomp_fd: int, info_fd: int, control_fd: int) -> list[str]:
        tmpfs_bytes = str(self.config.workdir_mb << 20)
        return [
            self.bwrap,
            "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup", "--disable-userns", "--die-with-parent", "--new-session",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
            "--clearenv",
            *self.runtime.bwrap_args(),
            "--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev",
            "--perms", "1777", "--size", tmpfs_bytes, "--tmpfs", "/tmp",
            "--perms", "0755", "--size", tmpfs_bytes, "--tmpfs", "/work",
            "--ro-bind", str(self.etc_dir / "passwd"), "/etc/passwd",
            "--ro-bind", str(self.etc_dir / "group"), "/etc/group",
            "--ro-bind", str(self.runner_path), "/.seawall/runner.py",
            "--ro-bind", str(job_dir), "/.seawall/job",
            "--remount-ro", "/",
            "--chdir", "/work",
            "--seccomp", str(seccomp_fd), "--info-fd", str(info_fd),
            "--", self.runtime.python, "-I", "-S", "/.seawall/runner.py", str(control_fd),
        ]

    def stage(self, job_dir: Path, language: str, code: str, inputs: list[tuple[str, bytes]],
              limits: Limits) -> None:
        """The read-only job directory the runner reads: spec, code, inputs (0644 so the
        unprivileged sandbox uid can read them; the instance directory above is 0711)."""
        job_dir.mkdir(mode=0o755)
        os.chmod(job_dir, 0o755)
        (job_dir / "inputs").mkdir(mode=0o755)
        os.chmod(job_dir / "inputs", 0o755)
        lim = limits.model_dump()
        spec = {"language": language, "python": self.runtime.python, "bash": self.runtime.bash,
                "wall_time_s": lim["wall_time_s"], "cpu_time_s": lim["cpu_time_s"],
                "memory_mb": lim["memory_mb"], "processes": lim["processes"],
                "file_size_bytes": lim["file_size_bytes"], "max_output_files": self.config.max_output_files,
                "max_output_files_bytes": self.config.max_output_files_bytes}
        text = "".join(f"{k}\t{v}\n" for k, v in spec.items())
        files = [("spec", text.encode()), ("inputs.list", b"\0".join(n.encode() for n, _ in inputs)),
                 ("code", code.encode())]
        files += [(f"inputs/{i}", data) for i, (_, data) in enumerate(inputs)]
        for rel, data in files:
            fd = os.open(job_dir / rel, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(job_dir / rel, 0o644)

    async def run(self, job_dir: Path, limits: Limits, cgroup: RunCgroup | None = None) -> RawRun:
        loop = asyncio.get_running_loop()
        raw = RawRun()
        t0 = time.monotonic()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        ctl_r, ctl_w = os.pipe()
        info_r, info_w = os.pipe()
        sec_r, sec_w = os.pipe()
        os.write(sec_w, self.bpf)  # a few hundred bytes: fits the pipe buffer
        os.close(sec_w)
        argv = self.argv(job_dir, sec_r, info_w, ctl_w)
        if self._as_root:
            # Drop to the sandbox's host uid before bwrap runs. setpriv (util-linux) rather than
            # Popen's user=/group=: uvloop, the gateway's event loop, does not take those.
            argv = [self._setpriv, f"--reuid={self.config.run_as_uid}", f"--regid={self.config.run_as_gid}",
                    "--clear-groups", "--", *argv]
        if cgroup is not None:  # outermost: joins the cgroup (as the gateway's user) before anything forks
            argv = cgroup.wrap(argv)
        child_fds = (out_w, err_w, ctl_w, info_w, sec_r)
        proc = None
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=subprocess.DEVNULL, stdout=out_w, stderr=err_w,
                pass_fds=(sec_r, info_w, ctl_w), env={}, start_new_session=True,
            )
        finally:
            for fd in child_fds:
                os.close(fd)
            if proc is None:
                for fd in (out_r, err_r, ctl_r, info_r):
                    os.close(fd)
        raw.spawn_ms = (time.monotonic() - t0) * 1000.0

        pidfd: list[int] = []

        def kill_tree() -> None:
            for fd in pidfd:  # init of the sandbox's pid namespace: all of it dies with it
                try:
                    signal.pidfd_send_signal(fd, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if proc.returncode is None:
                try:
                    proc.kill()
                except ProcessLookupError:
                    pass
            if cgroup is not None:  # every process of the run, wherever it went in the tree; one
                cgroup.kill(wait_s=0)  # sweep here (on the event loop), the rest when it is removed

        out_budget = _Budget(limits.output_bytes)
        captures: list[_Capture] = []

        def overflow() -> None:
            # Stop reading: writers get EPIPE and usually end; the wall clock ends the rest.
            raw.output_overflow = True
            for c in captures[:2]:
                c.close()

        def first() -> None:
            raw.first_output_ms = (time.monotonic() - t0) * 1000.0

        control_cap = self.config.max_output_files_bytes * 4 // 3 + (1 << 20)
        captures = [_Capture(out_budget, overflow, first), _Capture(out_budget, overflow),
                    _Capture(_Budget(control_cap), lambda: None), _Capture(_Budget(1 << 16), lambda: None)]
        pending = [out_r, err_r, ctl_r, info_r]
        try:
            for cap in captures:
                fd = pending.pop(0)
                await loop.connect_read_pipe(lambda cap=cap: cap, os.fdopen(fd, "rb", buffering=0))
            deadline = limits.wall_time_s + GRACE_S
            try:
                await asyncio.wait_for(asyncio.shield(captures[3].ready), timeout=deadline)
                pidfd += self._open_init(captures[3].data(), proc.pid)
                await asyncio.wait_for(proc.wait(), timeout=max(0.1, deadline - (time.monotonic() - t0)))
            except asyncio.TimeoutError:
                raw.host_killed = True
                kill_tree()
                await proc.wait()
            kill_tree()  # the sandbox's init has exited already; this is a no-op then
            # Every process of the sandbox is gone, so the pipes reach EOF promptly.
            try:
                await asyncio.wait_for(asyncio.gather(*(c.closed for c in captures[:3])), timeout=5)
            except asyncio.TimeoutError:
                raw.errors.append("pipes still open after the sandbox ended")
        except BaseException:  # cancelled (client gone, shutdown) or broken: nothing may outlive it
            kill_tree()
            raise
        finally:
            for fd in pending:
                os.close(fd)
            for c in captures:
                c.close()
            for fd in pidfd:
                os.close(fd)
        raw.returncode = proc.returncode
        if cgroup is not None:
            raw.oom_kills, raw.cgroup_peak_bytes = cgroup.oom_kills(), cgroup.peak_bytes()
        raw.stdout, raw.stderr = captures[0].data(), captures[1].data()
        raw.output_overflow = raw.output_overflow or out_budget.overflow
        control = captures[2].data()
        if control and not captures[2].budget.overflow:
            try:
                raw.report = json.loads(control)
            except ValueError:
                raw.errors.append("unreadable report from the runner")
        raw.total_ms = (time.monotonic() - t0) * 1000.0
        return raw

    @staticmethod
    def _open_init(info: bytes, bwrap_pid: int) -> list[int]:
        """A pidfd on the sandbox's init, checked to be bwrap's child (no pid-reuse mistakes)."""
        try:
            child = int(json.loads(info)["child-pid"])
            fd = os.pidfd_open(child)
        except (ValueError, KeyError, TypeError, OSError):
            return []
        try:
            with open(f"/proc/{child}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            ppid = -1
        if ppid != bwrap_pid:
            os.close(fd)
            return []
        return [fd]
