"""Per-run cgroups: memory, pids (and optionally cpu) limits on a sandbox's whole process tree.

rlimits bound each process; a tree of processes can still use `memory_mb` × `processes`. A
per-run cgroup bounds the tree as a whole, and gives the host a complete list of the run's
processes to kill. Works on cgroup v2 (a delegated subtree) and on v1 / hybrid hosts (one
directory per controller hierarchy), choosing per controller where it is mounted.

Layout, in each hierarchy used:
    <base>/seawall-sandbox-<hash of work_root>/inst-<id>/run-<id>
`base` is the gateway's own cgroup there (or `sandbox.cgroup_parent` for v2); `inst-<id>`
matches the service's instance directory under work_root, so a service starting reaps the
cgroups of instances whose lock is free (their gateway is gone), exactly like their files.

A run is placed before bubblewrap starts: a tiny `sh` writes its own pid into each run
cgroup's `cgroup.procs`, then execs the rest of the command, so every process the run ever
has is born inside. Only the host writes these files: the sandbox has its own cgroup
namespace and no cgroup filesystem.
"""
from __future__ import annotations

import hashlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

GROUP_PREFIX = "seawall-sandbox-"
RUN_PREFIX = "run-"
# What a run's own machinery (bwrap's init, the runner, page tables, namespaces) needs on top
# of the code's memory_mb and the two tmpfs (whose pages are charged to the run's cgroup).
OVERHEAD_MB = 64
_PLACE = ('n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; '
          'exec "$@"')


class CgroupUnavailable(RuntimeError):
    pass


@dataclass
class Hierarchy:
    base: Path  # the gateway's cgroup (or the configured parent) in this hierarchy
    controllers: list[str]  # those of memory/pids/cpu this hierarchy serves
    v2: bool


def _mounts() -> tuple[tuple[str, str] | None, dict[str, tuple[str, str]]]:
    """(the cgroup2 mount as (point, root), {v1 controller: (point, root)})."""
    v2, v1 = None, {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            parts, fs = left.split(), right.split()
            if not fs:
                continue
            if fs[0] == "cgroup2" and v2 is None:
                v2 = (parts[4], parts[3])
            elif fs[0] == "cgroup":
                for opt in fs[2].split(",") if len(fs) > 2 else ():
                    if opt in ("memory", "pids", "cpu"):
                        v1.setdefault(opt, (parts[4], parts[3]))
    return v2, v1


def _own_paths() -> tuple[str | None, dict[str, str]]:
    v2, v1 = None, {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            hid, ctrls, path = line.rstrip("\n").split(":", 2)
            if hid == "0" and ctrls == "":
                v2 = path
            for c in ctrls.split(","):
                v1[c] = path
    return v2, v1


def _join(point: str, root: str, path: str) -> Path:
    """The directory of cgroup `path` under a mount whose root is `root` (cgroup namespaces)."""
    if root != "/" and (path == root or path.startswith(root.rstrip("/") + "/")):
        path = path[len(root):]
    return Path(point) / path.lstrip("/")


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _read(path: Path) -> str:
    with open(path) as f:
        return f.read()


def _enable(directory: Path, controllers: list[str]) -> None:
    """cgroup v2: let children of `directory` use the controllers (a no-op when already on)."""
    have = set(_read(directory / "cgroup.subtree_control").split())
    for c in controllers:
        if c not in have:
            _write(directory / "cgroup.subtree_control", f"+{c}")


class Cgroups:
    """The hierarchies this host offers for the three controllers; built by `detect`."""

    def __init__(self, hierarchies: list[Hierarchy], work_root: Path, cpus: float | None) -> None:
        self.hierarchies = hierarchies
        self.work_root = work_root
        self.cpus = cpus
        digest = hashlib.sha256(str(work_root.resolve()).encode()).hexdigest()[:12]
        self.group = GROUP_PREFIX + digest
        self.instance: str | None = None

    @classmethod
    def detect(cls, work_root: Path, parent: str | None, cpus: float | None) -> "Cgroups":
        """The hierarchies to use, or CgroupUnavailable saying why there are none."""
        try:
            (v2_mount, v1_mounts), (v2_path, v1_paths) = _mounts(), _own_paths()
        except (OSError, ValueError) as exc:
            raise CgroupUnavailable(f"cannot read this process's cgroups: {exc}") from None
        wanted = ["memory", "pids"] + (["cpu"] if cpus else [])
        v2_base, v2_has = None, set()
        if parent is not None:
            v2_base = Path(parent)
        elif v2_mount is not None and v2_path is not None:
            v2_base = _join(*v2_mount, v2_path)
        if v2_base is not None:
            try:
                v2_has = set(_read(v2_base / "cgroup.controllers").split())
            except OSError:
                v2_has = set()
        v2_ctrls = [c for c in wanted if c in v2_has]
        by_base: dict[Path, Hierarchy] = {}
        if v2_ctrls:
            by_base[v2_base] = Hierarchy(v2_base, v2_ctrls, True)
        missing = []
        for c in wanted:
            if c in v2_ctrls:
                continue
            if parent is None and c in v1_mounts and c in v1_paths:
                base = _join(*v1_mounts[c], v1_paths[c])
                by_base.setdefault(base, Hierarchy(base, [], False)).controllers.append(c)
            else:
                missing.append(c)
        if missing:
            where = f"cgroup_parent {parent}" if parent else "this host (neither cgroup v2 nor v1 offers it)"
            raise CgroupUnavailable(f"no {', '.join(missing)} controller at {where}")
        for h in by_base.values():
            if not os.access(h.base, os.W_OK):
                raise CgroupUnavailable(f"{h.base} is not writable by the gateway (delegate it, or run as root)")
        return cls(list(by_base.values()), work_root, cpus)

    def describe(self) -> str:
        parts = [f"{'v2' if h.v2 else 'v1'} {'+'.join(h.controllers)} at {h.base / self.group}"
                 for h in self.hierarchies]
        return "; ".join(parts)

    # ---- this service's subtree -------------------------------------------------------------

    def prepare(self, instance: str) -> None:
        """Make <group>/<instance> in every hierarchy (v2: with the controllers enabled down to
        it). Raises CgroupUnavailable with the reason."""
        try:
            for h in self.hierarchies:
                group = h.base / self.group
                if h.v2:
                    _enable(h.base, h.controllers)
                for attempt in range(3):  # another service may remove an empty group meanwhile
                    group.mkdir(exist_ok=True)
                    if h.v2:
                        _enable(group, h.controllers)
                    try:
                        (group / instance).mkdir(exist_ok=True)
                        break
                    except FileNotFoundError:
                        if attempt == 2:
                            raise
                if h.v2:
                    _enable(group / instance, h.controllers)
        except OSError as exc:
            hint = (" (cgroup v2 lets a cgroup with processes of its own give no controllers to children:"
                    " set sandbox.cgroup_parent to a delegated cgroup without processes)")
            busy = exc.errno == 16
            raise CgroupUnavailable(f"cannot set up the sandbox cgroups: {exc}{hint if busy else ''}") from None
        self.instance = instance

    def close(self) -> None:
        """Remove this service's instance cgroups (its runs have ended)."""
        if self.instance is None:
            return
        for h in self.hierarchies:
            inst = h.base / self.group / self.instance
            for run in _children(inst, RUN_PREFIX):
                _remove(run)
            _remove(inst)
            _remove(h.base / self.group, wait_s=0)  # the last service on this work root
        self.instance = None

    def create(self, name: str, memory_bytes: int, pids: int) -> "RunCgroup":
        """A fresh cgroup for one run, its limits set. OSError when the host refuses."""
        assert self.instance is not None
        made: list[tuple[Hierarchy, Path]] = []
        try:
            for h in self.hierarchies:
                d = h.base / self.group / self.instance / name
                d.mkdir()
                made.append((h, d))
                if "memory" in h.controllers:
                    if h.v2:
                        _write(d / "memory.max", str(memory_bytes))
                        if (d / "memory.swap.max").exists():
                            _write(d / "memory.swap.max", "0")
                    else:
                        _write(d / "memory.limit_in_bytes", str(memory_bytes))
                        if (d / "memory.memsw.limit_in_bytes").exists():  # no swapping around the limit
                            _write(d / "memory.memsw.limit_in_bytes", str(memory_bytes))
                if "pids" in h.controllers:
                    _write(d / "pids.max", str(pids))
                if "cpu" in h.controllers and self.cpus:
                    if h.v2:
                        _write(d / "cpu.max", f"{int(self.cpus * 100000)} 100000")
                    else:
                        _write(d / "cpu.cfs_period_us", "100000")
                        _write(d / "cpu.cfs_quota_us", str(int(self.cpus * 100000)))
        except OSError:
            RunCgroup(made).remove()
            raise
        return RunCgroup(made)

    # ---- leftovers --------------------------------------------------------------------------

    def reap(self, is_dead: Callable[[str], bool]) -> int:
        """Kill and remove the cgroups of every dead instance of this work root (never a live
        one's): what a gateway killed mid-run left. Returns how many run cgroups went."""
        removed = 0
        for h in self.hierarchies:
            for inst in _children(h.base / self.group, ""):
                if inst.name == self.instance or not is_dead(inst.name):
                    continue
                for run in _children(inst, RUN_PREFIX):
                    removed += RunCgroup([(h, run)]).remove()
                _remove(inst)
            if self.instance is None:  # nothing of ours in it yet: an empty group goes too
                _remove(h.base / self.group, wait_s=0)
        return removed

    def leftovers(self, is_dead: Callable[[str], bool]) -> int:
        """Run cgroups that exist (those of a run in progress included) plus instance cgroups
        of dead instances, counted once across hierarchies."""
        found: set[tuple[str, str]] = set()
        for h in self.hierarchies:
            for inst in _children(h.base / self.group, ""):
                runs = _children(inst, RUN_PREFIX)
                found |= {(inst.name, r.name) for r in runs}
                if inst.name != self.instance and is_dead(inst.name):
                    found.add((inst.name, ""))
        return len(found)


def _children(d: Path, prefix: str) -> list[Path]:
    try:
        return sorted(p for p in d.iterdir() if p.is_dir() and p.name.startswith(prefix))
    except OSError:
        return []


def _remove(d: Path, wait_s: float = 2.0) -> bool:
    """rmdir, retried while the last processes finish exiting (EBUSY)."""
    end = time.monotonic() + wait_s
    while True:
        try:
            d.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError as exc:
            if exc.errno == 39:  # ENOTEMPTY: child cgroups (another service's), not ours to wait for
                return False
            if time.monotonic() >= end:
                return False
            time.sleep(0.005)


@dataclass
class RunCgroup:
    dirs: list[tuple[Hierarchy, Path]] = field(default_factory=list)

    def wrap(self, argv: list[str]) -> list[str]:
        """argv, started inside this cgroup: sh joins it, then execs argv (same pid)."""
        files = [str(d / "cgroup.procs") for _, d in self.dirs]
        return ["/bin/sh", "-c", _PLACE, "sh", str(len(files)), *files, *argv]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for _, d in self.dirs:
            try:
                found |= {int(p) for p in _read(d / "cgroup.procs").split()}
            except (OSError, ValueError):
                pass
        return found

    def kill(self, wait_s: float = 2.0) -> None:
        """SIGKILL every process of the run: cgroup.kill on v2, else each listed process (pinned
        by a pidfd and checked to be still in this cgroup) until none is left."""
        for h, d in self.dirs:
            if h.v2 and (d / "cgroup.kill").exists():
                try:
                    _write(d / "cgroup.kill", "1")
                except OSError:
                    pass
        end = time.monotonic() + wait_s
        while pids := self.pids():  # at least one sweep; more until empty or wait_s is spent
            for pid in pids:
                self._kill_one(pid)
            if time.monotonic() >= end:
                break
            time.sleep(0.002)

    def _kill_one(self, pid: int) -> None:
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            return
        try:
            mine = {"/".join(d.parts[-3:]) for _, d in self.dirs}  # group/inst/run
            with open(f"/proc/{pid}/cgroup") as f:
                theirs = f.read()
            if any(m in theirs for m in mine):
                signal.pidfd_send_signal(fd, signal.SIGKILL)
        except (OSError, ProcessLookupError):
            pass
        finally:
            os.close(fd)

    def oom_kills(self) -> int:
        """Processes the kernel killed because the run reached its memory limit."""
        for h, d in self.dirs:
            if "memory" not in h.controllers:
                continue
            try:
                text = _read(d / ("memory.events" if h.v2 else "memory.oom_control"))
            except OSError:
                return 0
            for line in text.splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        return 0

    def peak_bytes(self) -> int | None:
        for h, d in self.dirs:
            if "memory" in h.controllers:
                try:
                    return int(_read(d / ("memory.peak" if h.v2 else "memory.max_usage_in_bytes")))
                except (OSError, ValueError):
                    return None
        return None

    def remove(self) -> int:
        """Kill what is left, then remove the directories; 1 when all went, else 0."""
        self.kill()
        return int(all([_remove(d) for _, d in self.dirs]))


def memory_limit_bytes(memory_mb: int, workdir_mb: int) -> int:
    """The run as a whole: the code's memory_mb, its two tmpfs (/work, /tmp), and OVERHEAD_MB."""
    return (memory_mb + 2 * workdir_mb + OVERHEAD_MB) << 20


def pids_limit(processes: int) -> int:
    """The code's processes plus the run's own: sh/setpriv/bwrap, bwrap's init, the runner."""
    return processes + 4
