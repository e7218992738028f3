"""The minimal root a sandbox sees: the interpreters, a few tools, and only the libraries they link.

Everything is bound read-only from the host at its own path, so the dynamic loader finds what
it expects; nothing else of the host exists inside (no /etc beyond a generated passwd and the
loader cache, no /home, no /var, no gateway files, no setuid programs).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

_LDD_PATH = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x")
_TOP_LEVEL_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


class RuntimeUnavailable(RuntimeError):
    pass


@dataclass
class Runtime:
    ro_binds: list[str] = field(default_factory=list)  # host paths bound read-only at the same path
    symlinks: list[tuple[str, str]] = field(default_factory=list)  # (target, link path)
    python: str = "/usr/bin/python3"
    bash: str = "/bin/bash"

    def bwrap_args(self) -> list[str]:
        args: list[str] = []
        for path in self.ro_binds:  # binds first: bwrap creates their parent directories
            args += ["--ro-bind", path, path]
        made = {"/"} | {os.path.dirname(p) for p in self.ro_binds}
        for target, link in self.symlinks:
            parent = os.path.dirname(link)
            if parent not in made:
                args += ["--dir", parent]
                made.add(parent)
            args += ["--symlink", target, link]
        return args


def _canonical(path: str) -> str:
    """The path with its directories resolved but its last component kept (it may be a link)."""
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def _add_file(rt: Runtime, path: str, seen: set[str]) -> None:
    """Bind `path` and, when it is a chain of symlinks, recreate each link inside."""
    for _ in range(16):
        canon = _canonical(path)
        if canon in seen:
            return
        seen.add(canon)
        if os.path.islink(canon):
            target = os.readlink(canon)
            rt.symlinks.append((target, canon))
            path = target if os.path.isabs(target) else os.path.join(os.path.dirname(canon), target)
            continue
        rt.ro_binds.append(canon)
        return
    raise RuntimeUnavailable(f"too many symlinks resolving {path}")


def _linked_libraries(elfs: list[str]) -> set[str]:
    """Every shared library the given ELF files load (ldd resolves them transitively)."""
    libs: set[str] = set()
    for start in range(0, len(elfs), 64):
        out = subprocess.run(["ldd", *elfs[start:start + 64]], capture_output=True, text=True,
                             env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"}, timeout=30)
        for line in out.stdout.splitlines():
            m = _LDD_PATH.search(line)
            if m:
                libs.add(m.group(1))
    return libs


def build_runtime(python: str, bash: str, tools: list[str]) -> Runtime:
    if shutil.which("ldd") is None:
        raise RuntimeUnavailable("ldd is not installed: cannot work out which libraries to bind")
    rt = Runtime(python=python, bash=bash)
    for top in _TOP_LEVEL_LINKS:  # merged-/usr systems: /bin -> usr/bin etc.
        if os.path.islink(top):
            rt.symlinks.append((os.readlink(top), top))
    seen: set[str] = set(_TOP_LEVEL_LINKS)
    programs = [python, bash]
    for tool in tools:
        found = shutil.which(tool, path="/usr/bin:/bin")
        if found:
            programs.append(found)
    elfs: list[str] = []
    for program in programs:
        if not os.path.isfile(program) or not os.access(program, os.X_OK):
            raise RuntimeUnavailable(f"{program} is not an executable file")
        _add_file(rt, program, seen)
        elfs.append(os.path.realpath(program))
    # The interpreter's standard library, read-only; site-packages of the host stay outside.
    probe = subprocess.run(
        [python, "-I", "-S", "-c", "import sysconfig;print(sysconfig.get_path('stdlib'));"
         "print(sysconfig.get_path('platstdlib'))"],
        capture_output=True, text=True, env={}, timeout=30)
    if probe.returncode != 0:
        raise RuntimeUnavailable(f"{python} does not run: {probe.stderr.strip()[:200]}")
    stdlib_dirs = sorted({os.path.realpath(p) for p in probe.stdout.split()})
    for d in stdlib_dirs:
        if d not in seen:
            seen.add(d)
            rt.ro_binds.append(d)
        for root, _dirs, files in os.walk(d):
            if "site-packages" in root or "dist-packages" in root:
                continue
            elfs += [os.path.join(root, f) for f in files if ".so" in f]
    for lib in sorted(_linked_libraries(elfs)):
        _add_file(rt, lib, seen)
    if os.path.exists("/etc/ld.so.cache"):
        rt.ro_binds.append("/etc/ld.so.cache")
    rt.symlinks.sort(key=lambda s: (s[1].count("/"), s[1]))
    return rt
