"""Isolated execution of untrusted (AI-generated) code: bubblewrap, seccomp, rlimits, reaping.

config.py (the `sandbox:` section), service.py (start/close, the pool, results, receipts),
executor.py (one bwrap run), runner.py (inside the sandbox), routes.py (HTTP handlers).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.lazy import exports

if TYPE_CHECKING:
    from .config import Limits, SandboxConfig
    from .models import ExecutionRequest, ExecutionResult
    from .service import SandboxService

__all__ = ["Limits", "SandboxConfig", "ExecutionRequest", "ExecutionResult", "SandboxService"]

__getattr__ = exports(__name__, {
    ".config": ("Limits", "SandboxConfig"),
    ".models": ("ExecutionRequest", "ExecutionResult"),
    ".service": ("SandboxService",),
})
