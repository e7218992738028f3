"""Finding and removing what earlier runs left: processes, mounts, staging directories.

Each service holds an flock on `<work_root>/inst-<id>/lock` for its life. A directory whose
lock can be taken belongs to a service that is gone (closed, crashed or SIGKILLed): its
sandboxes are killed and its files removed. Directories of live services (other workers of the
same gateway) are never touched. Sandboxes are recognised by their bwrap command line, which
names the instance directory; killing the pid namespace's init ends every process inside.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import signal
import time
from pathlib import Path

INSTANCE_PREFIX = "inst-"
NEW_PREFIX = ".new-"  # an instance being created (locked, then renamed to inst-)


def _instances(work_root: Path) -> list[Path]:
    return sorted([*work_root.glob(INSTANCE_PREFIX + "*"), *work_root.glob(NEW_PREFIX + "*")])


def _cmdline(pid: str) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def sandbox_processes(under: str) -> list[int]:
    """bwrap processes (outer and the pid namespace's init) whose arguments name `under`."""
    prefix = under.rstrip("/") + "/"
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        argv = _cmdline(entry)
        if argv and os.path.basename(argv[0]) == "bwrap" and any(a.startswith(prefix) for a in argv):
            found.append(int(entry))
    return found


def _kill(pid: int, under: str) -> None:
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return
    try:  # the pid is pinned now: check it is still one of ours before the signal
        if sandbox_processes_for(pid, under):
            signal.pidfd_send_signal(fd, signal.SIGKILL)
    except ProcessLookupError:
        pass
    finally:
        os.close(fd)


def sandbox_processes_for(pid: int, under: str) -> bool:
    argv = _cmdline(str(pid))
    prefix = under.rstrip("/") + "/"
    return bool(argv) and os.path.basename(argv[0]) == "bwrap" and any(a.startswith(prefix) for a in argv)


def kill_sandboxes(under: str, wait_s: float = 5.0) -> int:
    """SIGKILL every sandbox under `under`; returns how many processes were signalled."""
    pids = sandbox_processes(under)
    for pid in pids:
        _kill(pid, under)
    end = time.monotonic() + wait_s
    while sandbox_processes(under) and time.monotonic() < end:
        time.sleep(0.01)
    return len(pids)


def mounts_under(root: str) -> list[str]:
    prefix = root.rstrip("/") + "/"
    found = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                point = line.split()[4].replace("\\040", " ")
                if point == root.rstrip("/") or point.startswith(prefix):
                    found.append(point)
    except OSError:
        pass
    return found


def _unmount(points: list[str]) -> None:
    """Sandboxes mount only inside their own namespace; this is for anything an older or
    foreign tool left on the host. Needs privilege; failures are left for leftovers() to show."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for point in sorted(points, key=len, reverse=True):
        libc.umount2(point.encode(), 2)  # MNT_DETACH


def instance_is_dead(inst: Path) -> bool:
    try:
        fd = os.open(inst / "lock", os.O_RDWR | os.O_NOFOLLOW)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # releases the probe lock


def reap(work_root: Path, keep: Path | None = None) -> dict:
    """Remove every dead instance under work_root (never `keep`, never a live one)."""
    killed = removed = 0
    for inst in _instances(work_root):
        if keep is not None and inst == keep:
            continue
        if not inst.is_dir() or inst.is_symlink() or not instance_is_dead(inst):
            continue
        killed += kill_sandboxes(str(inst))
        _unmount(mounts_under(str(inst)))
        shutil.rmtree(inst, ignore_errors=True)
        removed += 1
    return {"processes_killed": killed, "instances_removed": removed}


def leftovers(work_root: Path, live: Path | None = None) -> dict:
    """What is left of finished runs: sandbox processes and mounts anywhere under work_root,
    run directories of the live instance, and directories of dead instances."""
    root = str(work_root)
    workdirs = 0
    for inst in _instances(work_root):
        if live is not None and inst == live:
            workdirs += sum(1 for p in inst.glob("run-*"))
        elif instance_is_dead(inst):
            workdirs += 1
    return {"processes": len(sandbox_processes(root)), "mounts": len(mounts_under(root)),
            "workdirs": workdirs}
