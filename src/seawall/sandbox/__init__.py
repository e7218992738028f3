"""Isolated execution of untrusted (AI-generated) code: bubblewrap, seccomp, rlimits, reaping.

config.py (the `sandbox:` section), service.py (start/close, the pool, results, receipts),
executor.py (one bwrap run), runner.py (inside the sandbox), routes.py (HTTP handlers).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import Limits, SandboxConfig
    from .models import ExecutionRequest, ExecutionResult
    from .service import SandboxService

__all__ = ["Limits", "SandboxConfig", "ExecutionRequest", "ExecutionResult", "SandboxService"]

_WHERE = {name: module for module, names in {
    ".config": ("Limits", "SandboxConfig"),
    ".models": ("ExecutionRequest", "ExecutionResult"),
    ".service": ("SandboxService",),
}.items() for name in names}


def __getattr__(name: str) -> Any:
    """Names load on first use: importing the package (for its config section) stays cheap."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
