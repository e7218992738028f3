"""The seccomp policy every sandboxed process runs under, compiled to BPF with libseccomp.

A deny list on top of the namespaces: these calls reach kernel surface that sandboxed code has
no use for and that past escapes went through. Denied calls fail with EPERM (clone3 with
ENOSYS, so libc falls back to clone, whose flags a filter can inspect). Calls of another ABI
(i386 via int 0x80, x32) kill the process: libseccomp's default for foreign architectures.
"""
from __future__ import annotations

import errno
import os

# name -> why. The receipt of every execution lists these names.
DENIED: dict[str, str] = {
    # inspecting or controlling other processes
    "ptrace": "read/write another process's memory and registers",
    "process_vm_readv": "read another process's memory",
    "process_vm_writev": "write another process's memory",
    "pidfd_getfd": "steal another process's file descriptors",
    "kcmp": "probe another process's kernel objects",
    # the filesystem view the sandbox was given
    "mount": "change the filesystem view", "umount2": "uncover what mounts hide",
    "mount_setattr": "make read-only mounts writable", "move_mount": "new mount API",
    "open_tree": "new mount API", "fsopen": "new mount API", "fsconfig": "new mount API",
    "fsmount": "new mount API", "fspick": "new mount API", "pivot_root": "change the root",
    "chroot": "change the root", "open_by_handle_at": "open files by handle, past the mount view",
    "name_to_handle_at": "file handles (pairs with open_by_handle_at)",
    # namespaces: no new ones and no joining others (clone with CLONE_NEW* is denied below)
    "unshare": "new namespaces", "setns": "join another namespace",
    # kernel attack surface with no use in a code runner
    "bpf": "load BPF programs", "perf_event_open": "performance counters (side channels, bugs)",
    "userfaultfd": "a common kernel-exploit primitive", "keyctl": "the kernel keyring",
    "add_key": "the kernel keyring", "request_key": "the kernel keyring",
    "io_uring_setup": "io_uring (large, often-exploited surface)",
    "io_uring_enter": "io_uring", "io_uring_register": "io_uring",
    "fanotify_init": "watch filesystem events", "lookup_dcookie": "kernel profiling",
    "personality": "change execution domain (e.g. disable ASLR)",
    "modify_ldt": "x86 descriptor tables", "iopl": "raw I/O ports", "ioperm": "raw I/O ports",
    "uselib": "obsolete loader call", "vhangup": "terminal hangup", "syslog": "the kernel log",
    "quotactl": "disk quotas", "acct": "process accounting",
    # the machine itself
    "kexec_load": "replace the kernel", "kexec_file_load": "replace the kernel",
    "reboot": "reboot", "init_module": "load kernel modules", "finit_module": "load kernel modules",
    "delete_module": "unload kernel modules", "swapon": "swap", "swapoff": "swap",
    "settimeofday": "the clock", "clock_settime": "the clock", "clock_adjtime": "the clock",
    "adjtimex": "the clock", "sethostname": "host name", "setdomainname": "domain name",
    "migrate_pages": "NUMA placement of other processes", "move_pages": "NUMA placement",
}
# Namespace flags that make clone create namespaces; each one is denied on its own rule.
CLONE_NAMESPACE_FLAGS = {
    "CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000, "CLONE_NEWTIME": 0x00000080,
}
TIOCSTI = 0x5412  # push characters into a terminal's input: denied on ioctl


def policy_names() -> list[str]:
    """What a receipt shows as `syscalls_denied`."""
    return sorted(DENIED) + ["clone(CLONE_NEW*)", "clone3", "ioctl(TIOCSTI)"]


class SeccompUnavailable(RuntimeError):
    pass


def build_bpf() -> tuple[bytes, list[str]]:
    """The compiled filter, and the names this libseccomp did not know (left allowed).

    Raises SeccompUnavailable when libseccomp or its Python binding is missing: the caller
    then refuses to run code rather than run it without the filter.
    """
    try:
        import pyseccomp as sc  # ctypes binding of the system's libseccomp.so.2
    except Exception as exc:  # ImportError, or OSError/TypeError when the library is absent
        raise SeccompUnavailable(f"libseccomp is not usable ({type(exc).__name__}: {exc})") from None
    flt = sc.SyscallFilter(sc.ALLOW)
    deny = sc.ERRNO(errno.EPERM)
    unknown: list[str] = []
    for name in sorted(DENIED):
        try:
            flt.add_rule(deny, name)
        except (OSError, ValueError, RuntimeError):
            unknown.append(name)
    for flag in CLONE_NAMESPACE_FLAGS.values():
        flt.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    flt.add_rule(deny, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, TIOCSTI))
    fd = os.memfd_create("seawall-seccomp")
    try:
        with os.fdopen(os.dup(fd), "r+b", buffering=0) as out:
            flt.export_bpf(out)
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    program = b"".join(chunks)
    if not program or len(program) % 8:
        raise SeccompUnavailable("libseccomp produced no BPF program")
    return program, unknown
