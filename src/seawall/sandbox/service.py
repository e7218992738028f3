"""The sandbox service: checks the host can isolate, runs code in a bounded pool, keeps results.

It never runs code on the host: when bubblewrap, unprivileged user namespaces or libseccomp
are missing, `execute` refuses with the reason found at start.
"""
from __future__ import annotations

import asyncio
import base64
import fcntl
import hashlib
import inspect
import logging
import math
import os
import secrets
import shutil
import signal as _signal
import stat
import subprocess
import time
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ..core.errors import GatewayError, invalid
from . import reaper
from .cgroups import Cgroups, CgroupUnavailable, RunCgroup, memory_limit_bytes, pids_limit
from .config import Limits, SandboxConfig
from .executor import NAMESPACES, Executor, RawRun
from .models import ExecutionRequest, ExecutionResult, OutputFile
from .runtime import RuntimeUnavailable, build_runtime
from .seccomp import SeccompUnavailable, build_bpf, policy_names

log = logging.getLogger("seawall.sandbox")
RUNNER = Path(__file__).with_name("runner.py")
UNAVAILABLE = "sandbox_unavailable"  # 503: the host cannot isolate code, so none is run

# stderr tails that tell which limit made the code fail when no signal says it
_MEMORY_HINTS = (b"MemoryError", b"Cannot allocate memory", b"xmalloc", b"out of memory")
_FILE_HINTS = (b"File too large", b"No space left on device")
_PROCESS_HINTS = (b"Resource temporarily unavailable", b"BlockingIOError", b"can't start new thread")
_FORK_REFUSED = (b"fork: retry", b"fork: Resource temporarily unavailable")  # bash, even on exit 0


_BUILT: dict[tuple, tuple] = {}  # the host's runtime and filter do not change within a process


def _built(config: SandboxConfig) -> tuple[bytes, list[str], object]:
    key = (config.python, config.bash, tuple(config.tools))
    if key not in _BUILT:
        bpf, unknown = build_bpf()
        _BUILT[key] = (bpf, unknown, build_runtime(config.python, config.bash, config.tools))
    return _BUILT[key]


class SandboxService:
    def __init__(self, config: SandboxConfig, audit: Callable[[dict], Any] | None = None,
                 bwrap: str = "bwrap") -> None:
        self.config = config
        self.audit = audit
        self.bwrap = bwrap
        self.unavailable_reason: str | None = "not started"
        self.cgroup = "not checked"  # status(): applied where, or why not
        self._cgroups: Cgroups | None = None
        self._executor: Executor | None = None
        self._sem: asyncio.Semaphore | None = None
        self._results: OrderedDict[str, tuple[str | None, float, ExecutionResult, int]] = OrderedDict()
        self._kept_bytes = 0
        self._lock_fd: int | None = None
        self._instance: Path | None = None
        self._active: set[asyncio.Task] = set()
        self._avg_run_s = 1.0
        self.policy = policy_names()

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if not self.config.enabled:
            self.unavailable_reason = "the sandbox is disabled (sandbox.enabled is false)"
            return
        self._sem = asyncio.Semaphore(self.config.pool_size)
        try:
            root = self._work_root()
            reaped = await asyncio.to_thread(reaper.reap, root)
            if reaped["instances_removed"]:
                log.warning("sandbox: reaped leftovers of earlier runs: %s", reaped)
            self._instance = self._claim_instance(root)
            self.unavailable_reason = await asyncio.to_thread(self._prepare)
            if self.unavailable_reason is None:
                self.unavailable_reason = await asyncio.to_thread(self._prepare_cgroups, root)
            if self.unavailable_reason is None:
                self.unavailable_reason = await self._probe()
                if self.unavailable_reason and self._cgroups is not None and self.config.cgroups == "auto":
                    # the host let us make cgroups but a run in one failed: without them rather than none
                    self._drop_cgroups(f"a probe run inside a cgroup failed ({self.unavailable_reason})")
                    self.unavailable_reason = await self._probe()
        except OSError as exc:
            self.unavailable_reason = f"cannot prepare {self.config.work_root}: {exc.strerror or exc}"
        if self.unavailable_reason:
            log.error("sandbox: code execution refused: %s", self.unavailable_reason)

    async def aclose(self) -> None:
        for task in list(self._active):
            task.cancel()  # the executor kills each sandbox's process tree on cancellation
        if self._active:
            await asyncio.gather(*self._active, return_exceptions=True)
        if self._instance is not None:
            await asyncio.to_thread(reaper.kill_sandboxes, str(self._instance))
            if self._cgroups is not None:
                await asyncio.to_thread(self._cgroups.close)
            await asyncio.to_thread(shutil.rmtree, self._instance, True)
            self._instance = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self._executor = None
        self.unavailable_reason = "closed"

    def _work_root(self) -> Path:
        """Our own, private directory; refuse one somebody else controls (e.g. planted in /tmp)."""
        root = Path(self.config.work_root)
        root.mkdir(mode=0o711, parents=True, exist_ok=True)
        st = os.lstat(root)
        if not stat.S_ISDIR(st.st_mode):
            raise OSError(0, "work_root is not a directory (a symlink?)")
        if st.st_uid != os.geteuid() or st.st_mode & 0o022:
            raise OSError(0, "work_root must be owned by the gateway's user and not writable by others")
        os.chmod(root, 0o711)
        return root

    def _claim_instance(self, root: Path) -> Path:
        """Made under a name the reaper ignores, locked, then renamed: another worker starting
        at the same moment never sees it unlocked (and so never takes it for dead)."""
        token = secrets.token_hex(8)
        making = root / f"{reaper.NEW_PREFIX}{token}"
        making.mkdir(mode=0o711)
        os.chmod(making, 0o711)
        fd = os.open(making / "lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._lock_fd = fd
        inst = root / f"{reaper.INSTANCE_PREFIX}{token}"
        os.rename(making, inst)
        return inst

    def _prepare(self) -> str | None:
        """Everything that can be checked without running: the reason to refuse, or None."""
        bwrap = shutil.which(self.bwrap)
        if bwrap is None:
            return f"bubblewrap is not installed ({self.bwrap} not found; Debian: apt-get install bubblewrap)"
        try:
            bpf, unknown, runtime = _built(self.config)
        except SeccompUnavailable as exc:
            return f"the seccomp filter cannot be built: {exc}"
        except (RuntimeUnavailable, OSError, ValueError, subprocess.SubprocessError) as exc:
            return f"the sandbox runtime cannot be assembled: {exc}"
        if unknown:
            log.warning("sandbox: this libseccomp does not know %s; they stay allowed", unknown)
        assert self._instance is not None
        etc = self._instance / "etc"
        etc.mkdir(mode=0o755)
        for name, text in (("passwd", "sandbox:x:1000:1000:sandbox:/work:/bin/sh\n"),
                           ("group", "sandbox:x:1000:\n")):
            (etc / name).write_text(text)
            os.chmod(etc / name, 0o644)
        runner = self._instance / "runner.py"  # a copy the unprivileged uid can surely read
        shutil.copyfile(RUNNER, runner)
        os.chmod(runner, 0o644)
        os.chmod(etc, 0o755)
        self._executor = Executor(self.config, runtime, bpf, self._instance, bwrap, runner, etc)
        return None

    def _prepare_cgroups(self, root: Path) -> str | None:
        """Per-run cgroups as `sandbox.cgroups` asks; reaps dead instances' cgroups first. The
        reason to refuse (only under `required`), or None."""
        try:
            cgroups = Cgroups.detect(root, self.config.cgroup_parent, self.config.cgroup_cpus)
            # reaped even under `off`: an earlier gateway on this work root may have used them
            reaped = cgroups.reap(lambda name: reaper.instance_is_dead(root / name))
            if reaped:
                log.warning("sandbox: removed %d cgroups of runs whose gateway died", reaped)
            if self.config.cgroups == "off":
                self.cgroup = "not applied: sandbox.cgroups is off"
                return None
            assert self._instance is not None
            cgroups.prepare(self._instance.name)
        except CgroupUnavailable as exc:
            if self.config.cgroups == "off":
                self.cgroup = "not applied: sandbox.cgroups is off"
                return None
            self._drop_cgroups(str(exc))
            if self.config.cgroups == "required":
                return f"cgroup limits are required (sandbox.cgroups: required) but unavailable: {exc}"
            log.warning("sandbox: runs get rlimits but no cgroup limits: %s", exc)
            return None
        self._cgroups = cgroups
        self.cgroup = f"applied: {cgroups.describe()}"
        return None

    def _drop_cgroups(self, reason: str) -> None:
        if self._cgroups is not None:
            self._cgroups.close()
        self._cgroups = None
        self.cgroup = f"not applied: {reason}"

    async def _probe(self) -> str | None:
        """Run a trivial program through every layer; its failure is the reason to refuse."""
        request = ExecutionRequest(language="python", code="print('ok')")
        limits = self.config.defaults.model_copy(update={"wall_time_s": max(10.0, self.config.defaults.wall_time_s)})
        try:
            raw = await self._run(request, limits)
        except Exception as exc:  # anything at all: refuse rather than guess
            return f"the sandbox probe failed: {type(exc).__name__}: {exc}"
        if raw.report is not None and raw.report.get("exit_code") == 0 and raw.stdout.strip() == b"ok":
            return None
        err = raw.stderr.decode(errors="replace").strip()[-300:]
        if "namespace" in err or "uid map" in err or "Operation not permitted" in err:
            return ("unprivileged user namespaces are not available to the sandbox uid "
                    f"(bwrap said: {err}); see user.max_user_namespaces and "
                    "kernel.apparmor_restrict_unprivileged_userns")
        return f"the sandbox probe did not run (exit {raw.returncode}): {err or 'no output'}"

    # ---- executions ------------------------------------------------------------------------

    def status(self) -> dict:
        return {"available": self.unavailable_reason is None, "reason": self.unavailable_reason,
                "namespaces": list(NAMESPACES), "seccomp_denied": self.policy, "cgroup": self.cgroup,
                "pool_size": self.config.pool_size}

    def limits_for(self, request: ExecutionRequest) -> Limits:
        """The request's limits over the defaults; a value past the maximum is refused, not cut."""
        values = self.config.defaults.model_dump()
        for name, value in request.limits.model_dump(exclude_none=True).items():
            maximum = getattr(self.config.maximums, name)
            if value > maximum:
                raise invalid(f"limits.{name} is {value}; the maximum here is {maximum}", f"limits.{name}")
            values[name] = value
        return Limits(**values)

    def _validate(self, request: ExecutionRequest) -> list[tuple[str, bytes]]:
        if request.language not in self.config.languages:
            raise invalid(f"language must be one of {self.config.languages}", "language")
        if len(request.code.encode()) > self.config.max_code_bytes:
            raise invalid(f"code is longer than {self.config.max_code_bytes} bytes", "code")
        inputs, total, names = [], 0, set()
        for i, f in enumerate(request.files):
            try:
                data = f.data()
            except ValueError as exc:
                raise invalid(str(exc), f"files[{i}].content") from None
            if f.name in names:
                raise invalid(f"duplicate file name {f.name!r}", f"files[{i}].name")
            parents = {f.name.rsplit("/", n)[0] for n in range(1, f.name.count("/") + 1)}
            if parents & names or any(other.startswith(f.name + "/") for other in names):
                raise invalid(f"{f.name!r} is both a file and a directory", f"files[{i}].name")
            names.add(f.name)
            total += len(data)
            if total > self.config.max_input_bytes:
                raise invalid(f"input files pass {self.config.max_input_bytes} bytes together", "files")
            inputs.append((f.name, data))
        if request.network != "none":
            raise invalid("only network 'none' is supported", "network")
        return inputs

    def check(self, request: ExecutionRequest) -> tuple[list[tuple[str, bytes]], Limits]:
        """Whether this request could run here: 503 when the sandbox cannot run code, 400 naming
        the field when the request is wrong; its decoded inputs and limits otherwise."""
        if self.unavailable_reason is not None or self._executor is None or self._sem is None:
            raise GatewayError(UNAVAILABLE, f"code execution is not available: {self.unavailable_reason}",
                               status=503)
        return self._validate(request), self.limits_for(request)

    async def execute(self, request: ExecutionRequest, principal_id: str | None) -> ExecutionResult:
        inputs, limits = self.check(request)
        queued = time.monotonic()
        try:
            if self._sem.locked():
                await asyncio.wait_for(self._sem.acquire(), timeout=self.config.queue_wait_s)
            else:  # a free slot: no timer (wait_for with 0 s would refuse even a free slot)
                await self._sem.acquire()
        except asyncio.TimeoutError:
            retry = max(1, math.ceil(self._avg_run_s))
            raise GatewayError("overloaded", "every sandbox is busy; retry later", status=503,
                               retry_after=retry, headers={"Retry-After": str(retry)}) from None
        queue_ms = (time.monotonic() - queued) * 1000.0
        task = asyncio.current_task()
        if task is not None:
            self._active.add(task)
        try:
            raw = await self._run(request, limits, inputs)
        finally:
            if task is not None:
                self._active.discard(task)
            self._sem.release()
        self._avg_run_s = 0.8 * self._avg_run_s + 0.2 * raw.total_ms / 1000.0
        result = self._result(raw, limits)
        self._keep(principal_id, result)
        await self._receipt(request, principal_id, limits, raw, result, queue_ms)
        return result

    async def _run(self, request: ExecutionRequest, limits: Limits,
                   inputs: list[tuple[str, bytes]] | None = None) -> RawRun:
        assert self._executor is not None and self._instance is not None
        inputs = inputs or []
        job = self._instance / f"run-{secrets.token_hex(12)}"
        cgroup, note = await self._run_cgroup(job.name, limits)
        try:
            await asyncio.to_thread(self._executor.stage, job, request.language, request.code, inputs, limits)
            raw = await self._executor.run(job, limits, cgroup)
        finally:
            await asyncio.to_thread(shutil.rmtree, job, True)
            if cgroup is not None and not await asyncio.to_thread(cgroup.remove):
                log.warning("sandbox: cgroup of %s not removed; the next start reaps it", job.name)
        raw.cgroup = note
        return raw

    async def _run_cgroup(self, name: str, limits: Limits) -> tuple[RunCgroup | None, dict]:
        """The run's own cgroup and what the receipt says of it; under `required`, no cgroup is
        no run."""
        if self._cgroups is None:
            if self.config.cgroups == "required":
                raise GatewayError(UNAVAILABLE, "code execution is not available: cgroup limits are required "
                                   f"but {self.cgroup}", status=503)
            return None, {"applied": False, "reason": self.cgroup.removeprefix("not applied: ")}
        memory, pids = memory_limit_bytes(limits.memory_mb, self.config.workdir_mb), pids_limit(limits.processes)
        try:
            cgroup = await asyncio.to_thread(self._cgroups.create, name, memory, pids)
        except OSError as exc:
            if self.config.cgroups == "required":
                raise GatewayError(UNAVAILABLE, "code execution is not available: this run's cgroup "
                                   f"could not be made ({exc.strerror or exc})", status=503) from None
            log.warning("sandbox: %s runs without a cgroup: %s", name, exc)
            return None, {"applied": False, "reason": f"the run's cgroup could not be made: {exc.strerror or exc}"}
        return cgroup, {"applied": True, "memory_bytes": memory, "pids": pids, "cpus": self.config.cgroup_cpus}

    def _result(self, raw: RawRun, limits: Limits) -> ExecutionResult:
        rep = raw.report or {}
        sig = rep.get("signal")
        exit_code = rep.get("exit_code")
        if raw.report is None:  # the runner never reported: killed by the host, or by the code
            exit_code, sig = None, int(_signal.SIGKILL) if raw.host_killed or raw.output_overflow else None
            if not (raw.host_killed or raw.output_overflow):
                exit_code = raw.returncode
        files = []
        for f in rep.get("files", []):
            try:
                name = base64.b64decode(f["name_b64"]).decode(errors="replace")
                files.append(OutputFile(name=name, size=int(f["size"]), truncated=bool(f["truncated"]),
                                        content=str(f["content"])))
            except (KeyError, TypeError, ValueError):
                continue  # a malformed entry: the report is the code's to spoil, not ours to trust
        peak_mb = round(rep.get("peak_kb", 0) / 1024.0, 2)
        return ExecutionResult(
            id="exec_" + secrets.token_hex(12),
            stdout=raw.stdout.decode(errors="replace"),
            stderr=raw.stderr.decode(errors="replace"),
            truncated=raw.output_overflow,
            exit_code=exit_code,
            signal=_signal.Signals(sig).name if sig else None,
            limit=self._which_limit(raw, rep, limits, exit_code, sig),
            duration_ms=round(raw.total_ms, 2),
            peak_memory_mb=peak_mb,
            files=files,
        )

    @staticmethod
    def _which_limit(raw: RawRun, rep: dict, limits: Limits, exit_code, sig) -> str | None:
        """Which limit ended the run. The kernel enforces them all; this only names the one hit,
        from signals where there is one and from the failing program's last words otherwise."""
        if raw.output_overflow:
            return "output"
        if raw.oom_kills:  # the run's cgroup reached its memory limit: the kernel killed in it
            return "memory"
        if raw.host_killed or rep.get("limit") == "wall_time":
            return "wall_time"
        signals = set(rep.get("fatal_signals", [])) | ({sig} if sig else set())
        if _signal.SIGXCPU in signals or (_signal.SIGKILL in signals and rep.get("cpu_s", 0) >= limits.cpu_time_s):
            return "cpu_time"
        if _signal.SIGXFSZ in signals:
            return "file_size"
        if rep.get("peak_processes", 0) >= limits.processes or any(h in raw.stderr for h in _FORK_REFUSED):
            return "processes"  # the tree reached its cap: a further fork was refused
        if exit_code == 0 and not sig:
            return None
        tail = raw.stderr[-2048:]
        if any(h in tail for h in _FILE_HINTS):
            return "file_size"
        if any(h in tail for h in _MEMORY_HINTS):
            return "memory"
        if any(h in tail for h in _PROCESS_HINTS):
            return "processes"
        return None

    # ---- results and receipts --------------------------------------------------------------

    def _keep(self, principal_id: str | None, result: ExecutionResult) -> None:
        size = len(result.stdout) + len(result.stderr) + sum(len(f.content) for f in result.files) + 512
        if self.config.results_kept <= 0 or size > self.config.results_max_bytes:
            return
        self._results[result.id] = (principal_id, time.monotonic(), result, size)
        self._kept_bytes += size
        self._prune()

    def _prune(self) -> None:
        cutoff = time.monotonic() - self.config.results_ttl_s
        while self._results:
            oldest_id, (_, at, _, size) = next(iter(self._results.items()))
            if (len(self._results) > self.config.results_kept or at < cutoff
                    or self._kept_bytes > self.config.results_max_bytes):
                del self._results[oldest_id]
                self._kept_bytes -= size
            else:
                break

    def get(self, id: str, principal_id: str | None = None) -> ExecutionResult | None:
        """A kept result; with a principal, only that principal's (others see nothing)."""
        self._prune()
        kept = self._results.get(id)
        if kept is None or (principal_id is not None and kept[0] != principal_id):
            return None
        return kept[2]

    async def _receipt(self, request, principal_id, limits, raw: RawRun, result, queue_ms) -> None:
        if self.audit is None:
            return
        if result.limit:
            reason = f"limit:{result.limit}"
        elif result.signal:
            reason = f"signal:{result.signal}"
        elif raw.report is None:
            reason = "no_report"
        else:
            reason = f"exit:{result.exit_code}"
        receipt = {
            "type": "sandbox.execution",
            "id": result.id,
            "at": datetime.now(timezone.utc).isoformat(),
            "principal_id": principal_id,
            "language": request.language,
            "code_sha256": hashlib.sha256(request.code.encode()).hexdigest(),
            "code_bytes": len(request.code.encode()),
            "input_files": len(request.files),
            "network": request.network,
            "limits": limits.model_dump(),
            "isolation": {"namespaces": list(NAMESPACES), "seccomp": True, "rlimits": True,
                          "cgroup": {**raw.cgroup, **({"oom_kills": raw.oom_kills, "peak_memory_mb": round(
                              raw.cgroup_peak_bytes / 1048576, 2)} if raw.cgroup_peak_bytes is not None else {})}},
            "syscalls_denied": self.policy,
            "exit_reason": reason,
            "exit_code": result.exit_code,
            "signal": result.signal,
            "limit": result.limit,
            "truncated": result.truncated,
            "queue_ms": round(queue_ms, 2),
            "duration_ms": result.duration_ms,
            "run_ms": round((raw.report or {}).get("run_ms", 0.0), 2),
            "first_output_ms": None if raw.first_output_ms is None else round(raw.first_output_ms, 2),
            "peak_memory_mb": result.peak_memory_mb,
        }
        try:
            out = self.audit(receipt)
            if inspect.isawaitable(out):
                await out
        except Exception:  # the run happened; a failing sink must not hide its result
            log.exception("sandbox: the audit sink failed for %s", result.id)

    def leftovers(self) -> dict:
        """Processes, mounts, workdirs and cgroups of finished runs (and of dead gateways)."""
        root = Path(self.config.work_root)
        found = reaper.leftovers(root, self._instance)
        cgroups = self._cgroups
        if cgroups is None:  # off or unavailable here: still count what an earlier gateway left
            try:
                cgroups = Cgroups.detect(root, self.config.cgroup_parent, self.config.cgroup_cpus)
            except CgroupUnavailable:
                cgroups = None
        found["cgroups"] = 0 if cgroups is None else cgroups.leftovers(lambda n: reaper.instance_is_dead(root / n))
        return found
