"""The `sandbox:` section: is code execution on, which limits a request gets and may ask for.

Limits have one name each, the same in the config, in a request's `limits` and (without the
unit) in a result's `limit` field: wall_time, cpu_time, memory, processes, output, file_size.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..config import Section, register

Language = Literal["python", "bash"]

# The unit-less name of each limit field, as a result's `limit` reports it.
LIMIT_NAMES: dict[str, str] = {
    "wall_time_s": "wall_time",
    "cpu_time_s": "cpu_time",
    "memory_mb": "memory",
    "processes": "processes",
    "output_bytes": "output",
    "file_size_bytes": "file_size",
}


class Limits(BaseModel):
    """What one execution may use. The kernel enforces each; `limit` in a result says which was hit."""

    model_config = ConfigDict(extra="forbid")

    wall_time_s: float = Field(10.0, gt=0, le=3600, description="wall clock, then the whole process tree is killed")
    cpu_time_s: float = Field(10.0, gt=0, le=3600, description="CPU seconds per process (RLIMIT_CPU)")
    memory_mb: int = Field(256, ge=16, le=65536, description="address space per process (RLIMIT_AS)")
    processes: int = Field(32, ge=1, le=4096, description="processes and threads at once (RLIMIT_NPROC)")
    output_bytes: int = Field(1 << 20, ge=1024, le=1 << 30, description="stdout + stderr together")
    file_size_bytes: int = Field(16 << 20, ge=1024, le=1 << 34, description="largest file the code may write (RLIMIT_FSIZE)")


class SandboxConfig(BaseModel):
    """Runs untrusted code in bubblewrap; off unless enabled, and never on the host itself."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    defaults: Limits = Field(default_factory=Limits)
    maximums: Limits = Field(
        default_factory=lambda: Limits(
            wall_time_s=60, cpu_time_s=60, memory_mb=1024, processes=128,
            output_bytes=16 << 20, file_size_bytes=128 << 20,
        )
    )
    pool_size: int = Field(2, ge=1, le=256, description="executions running at once")
    queue_wait_s: float = Field(5.0, ge=0, le=600, description="how long excess requests wait for a slot before 503")
    results_kept: int = Field(1000, ge=0, description="finished results kept for GET, newest first")
    results_ttl_s: float = Field(3600.0, ge=0, description="how long a kept result stays readable")
    results_max_bytes: int = Field(256 << 20, ge=0, description="memory for kept results (output and files), oldest dropped first")
    work_root: str = Field("/tmp/seawall-sandbox", description="host directory for per-run staging; reaped at start")
    languages: list[Language] = Field(default_factory=lambda: ["python", "bash"])
    workdir_mb: int = Field(64, ge=1, le=65536, description="size of the tmpfs /work (and of /tmp) inside a sandbox")
    max_code_bytes: int = Field(256 << 10, ge=1, description="largest `code` accepted")
    max_input_bytes: int = Field(8 << 20, ge=0, description="input files together, decoded")
    max_output_files: int = Field(64, ge=0, description="files returned from /work")
    max_output_files_bytes: int = Field(8 << 20, ge=0, description="their contents together")
    run_as_uid: int = Field(65534, ge=1, description="host uid the sandbox runs as when the gateway is root")
    run_as_gid: int = Field(65534, ge=1)
    python: str = Field("/usr/bin/python3", description="the interpreter bound into the sandbox (the host's system python)")
    bash: str = Field("/bin/bash")
    tools: list[str] = Field(
        default_factory=lambda: [
            "sh", "cat", "ls", "head", "tail", "wc", "grep", "sed", "awk", "sort", "uniq", "cut", "tr",
            "mkdir", "rm", "cp", "mv", "touch", "env", "sleep", "date", "seq", "expr", "basename",
            "dirname", "find", "xargs", "true", "false", "test", "id", "pwd", "stat", "printf", "echo",
        ],
        description="host programs bound read-only for bash scripts (each with only the libraries it links)",
    )
    cgroups: Literal["auto", "off", "required"] = Field(
        "auto", description="per-run cgroup limits: where the host allows (auto), never, or refuse to run without")
    cgroup_parent: str | None = Field(
        None, description="a delegated cgroup v2 directory (no processes of its own) for the per-run cgroups; "
        "unset: the gateway's own cgroup in each hierarchy")
    cgroup_cpus: float | None = Field(
        None, gt=0, le=1024, description="CPU cores each run may use (cgroup cpu quota); unset: no cpu limit")

    @model_validator(mode="after")
    def _defaults_within_maximums(self) -> "SandboxConfig":
        for field in Limits.model_fields:
            if getattr(self.defaults, field) > getattr(self.maximums, field):
                raise ValueError(f"defaults.{field} is above maximums.{field}")
        if self.max_input_bytes > self.workdir_mb << 20:
            raise ValueError("max_input_bytes is larger than the workdir (workdir_mb)")
        return self


register(Section("sandbox", SandboxConfig))
