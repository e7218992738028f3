"""Package names that load on first use (PEP 562 module `__getattr__`).

A feature package is imported for its config section (`seawall.sections`) by every command,
the light CLI ones included; its public names (engine, service, server) load only when asked
for, so importing the package stays cheap (tests/test_cli_startup.py)."""
from __future__ import annotations

import importlib
from typing import Any, Callable


def exports(package: str, where: dict[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """`__getattr__` for `package`: each name in `where[module]` comes from that submodule."""
    module_of = {name: module for module, names in where.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module, package), name)

    return __getattr__
