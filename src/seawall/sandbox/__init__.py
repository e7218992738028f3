"""Isolated execution of untrusted (AI-generated) code: bubblewrap, seccomp, rlimits, reaping.

config.py (the `sandbox:` section), service.py (start/close, the pool, results, receipts),
executor.py (one bwrap run), runner.py (inside the sandbox), routes.py (HTTP handlers).
"""
from .config import Limits, SandboxConfig
from .models import ExecutionRequest, ExecutionResult
from .service import SandboxService

__all__ = ["Limits", "SandboxConfig", "ExecutionRequest", "ExecutionResult", "SandboxService"]
