"""Runs inside the sandbox as the parent of the untrusted code (standard library only).

It copies the inputs into /work, starts the code under rlimits, watches the process count and
memory of everything the code starts, kills the whole tree when the code's first process ends
or the wall clock runs out, and reports to the host on a pipe the code cannot reach (this
process is made non-dumpable, so its /proc entries and descriptors are closed to the code).
Kept to cheap imports (no json, re, enum): this process starts in every run.
The host trusts none of this for containment: namespaces, seccomp, rlimits and the host's own
wall-clock kill hold even if the code subverts this process; it can only spoil its own report.
"""
import _signal as signal  # the C module: `signal` would import enum, ~15 ms of every start
import binascii
import ctypes
import os
import resource
import select
import sys
import time

JOB = "/.seawall/job"
WORK = "/work"
PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36
POLL_S = 0.02


def _prctl(option, value):
    ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


_INTS = ("memory_mb", "processes", "file_size_bytes", "max_output_files", "max_output_files_bytes")


def _read_spec():
    """`spec`: key<TAB>value lines; `inputs`: names separated by NUL (names cannot hold NUL)."""
    spec = {}
    with open(os.path.join(JOB, "spec"), encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            spec[key] = int(value) if key in _INTS else float(value) if key.endswith("_s") else value
    with open(os.path.join(JOB, "inputs.list"), "rb") as f:
        raw = f.read()
    spec["inputs"] = [n.decode("utf-8") for n in raw.split(b"\0") if n]
    spec["limits"] = spec
    return spec


def _b64(data):
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def _json(value):
    """JSON for the report's own shapes; every string in it is base64 or a fixed key."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, list):
        return "[" + ",".join(_json(v) for v in value) + "]"
    return "{" + ",".join('"%s":%s' % (k, _json(v)) for k, v in value.items()) + "}"


def _copy_inputs(inputs):
    """Inputs were validated by the host (relative, no '..'); O_NOFOLLOW guards the last step."""
    stamps = {}
    for i, name in enumerate(inputs):
        dest = os.path.join(WORK, name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(os.path.join(JOB, "inputs", str(i)), "rb") as src:
            data = src.read()
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        st = os.stat(dest)
        stamps[name] = (st.st_size, st.st_mtime_ns)
    return stamps


def _child(spec, code_path):
    """In the forked child: limits, then exec. Never returns."""
    try:
        lim = spec["limits"]
        cpu = max(1, int(lim["cpu_time_s"] + 0.999))
        mem = lim["memory_mb"] << 20
        for res, soft, hard in (
            (resource.RLIMIT_CPU, cpu, cpu + 1),
            (resource.RLIMIT_AS, mem, mem),
            (resource.RLIMIT_DATA, mem, mem),
            # bwrap's init and this runner share the uid: they count against the same limit
            (resource.RLIMIT_NPROC, lim["processes"] + 2, lim["processes"] + 2),
            (resource.RLIMIT_FSIZE, lim["file_size_bytes"], lim["file_size_bytes"]),
            (resource.RLIMIT_CORE, 0, 0),
            (resource.RLIMIT_NOFILE, 256, 256),
            (resource.RLIMIT_MEMLOCK, 0, 0),
            (resource.RLIMIT_MSGQUEUE, 0, 0),
        ):
            resource.setrlimit(res, (soft, hard))
        for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGXCPU):
            signal.signal(sig, signal.SIG_DFL)
        os.setsid()
        try:  # at a cgroup memory limit the kernel kills the code's processes, not this runner
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("1000")
        except OSError:
            pass
        env = {"PATH": "/usr/bin:/bin", "HOME": WORK, "TMPDIR": "/tmp", "LANG": "C.UTF-8"}
        if spec["language"] == "python":
            # the environment is this one, built here: no -E needed, and PYTHONPATH lets the
            # code import modules it was given as input files
            env["PYTHONPATH"], env["PYTHONDONTWRITEBYTECODE"] = WORK, "1"
            argv = [spec["python"], "-s", code_path]
        else:
            argv = [spec["bash"], "--norc", "--noprofile", code_path]
        os.execve(argv[0], argv, env)
    except BaseException as exc:  # report on stderr, which the host shows the caller
        os.write(2, f"sandbox: cannot start the code: {exc}\n".encode())
    os._exit(127)


def _sample():
    """(processes other than init and this runner, their total RSS in KiB)."""
    me, count, rss = os.getpid(), 0, 0
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in (1, me):
            continue
        count += 1
        try:
            with open(f"/proc/{entry}/statm") as f:
                rss += int(f.read().split()[1]) * page_kb
        except (OSError, IndexError, ValueError):
            pass
    return count, rss


def _kill_all():
    """SIGKILL every process of this pid namespace but init and us, until none is left."""
    for _ in range(1000):
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return
        if _sample()[0] == 0:
            try:
                while True:
                    os.waitpid(-1, 0)
            except ChildProcessError:
                return
        time.sleep(0.001)


def _collect(inputs, max_files, max_bytes):
    """Regular files in /work that the code created or changed; links are never followed."""
    files, budget, skipped = [], max_bytes, 0
    for root, dirs, names in os.walk(WORK, followlinks=False):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, WORK)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:
                continue  # a symlink, a fifo that would block, or gone
            with os.fdopen(fd, "rb") as f:
                st = os.fstat(f.fileno())
                if not (st.st_mode & 0o170000 == 0o100000):
                    continue
                if inputs.get(rel) == (st.st_size, st.st_mtime_ns):
                    continue
                if len(files) >= max_files:
                    skipped += 1
                    continue
                data = f.read(min(st.st_size, budget))
                budget -= len(data)
                files.append({"name_b64": _b64(os.fsencode(rel)), "size": st.st_size,
                              "truncated": len(data) < st.st_size, "content": _b64(data)})
    return files, skipped


def main():
    control = int(sys.argv[1])
    _prctl(PR_SET_DUMPABLE, 0)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    os.closerange(3, control)
    os.closerange(control + 1, 4096)
    spec = _read_spec()
    inputs = _copy_inputs(spec["inputs"])
    code_path = os.path.join(JOB, "code")
    started = time.monotonic()
    deadline = started + spec["limits"]["wall_time_s"]
    pid = os.fork()
    if pid == 0:
        os.close(control)
        _child(spec, code_path)
    try:  # wakes the loop the moment the code's first process ends
        child_fd = os.pidfd_open(pid)
    except OSError:
        child_fd = None
    status, limit, peak_kb, peak_procs, fatal_signals = None, None, 0, 0, set()
    while status is None:
        try:
            while True:
                got, st = os.waitpid(-1, os.WNOHANG)
                if not got:
                    break
                if os.WIFSIGNALED(st):
                    fatal_signals.add(os.WTERMSIG(st))
                if got == pid:
                    status = st
                    break
        except ChildProcessError:
            break
        if status is not None:
            break
        procs, rss = _sample()
        peak_procs, peak_kb = max(peak_procs, procs), max(peak_kb, rss)
        if time.monotonic() >= deadline:
            limit = "wall_time"
            break
        if child_fd is not None:
            select.select([child_fd], [], [], min(POLL_S, max(0.0, deadline - time.monotonic())))
        else:
            time.sleep(POLL_S)
    run_s = time.monotonic() - started
    if status is not None:  # what is still alive coexisted with the first process a moment ago
        peak_procs = max(peak_procs, _sample()[0] + 1)
    _kill_all()  # daemons and stragglers never outlive the run
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kb = max(peak_kb, usage.ru_maxrss)
    files, skipped = _collect(inputs, spec["max_output_files"], spec["max_output_files_bytes"])
    report = {
        "exit_code": os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if status is not None and os.WIFSIGNALED(status) else None,
        "limit": limit,
        "fatal_signals": sorted(fatal_signals),
        "peak_kb": peak_kb,
        "peak_processes": peak_procs + (1 if peak_procs == 0 else 0),
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "run_ms": run_s * 1000.0,
        "files": files,
        "files_skipped": skipped,
    }
    data = _json(report).encode()
    view = memoryview(data)
    while view:
        view = view[os.write(control, view):]
    os.close(control)


if __name__ == "__main__":
    main()
