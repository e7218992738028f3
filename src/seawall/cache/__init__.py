"""Response caching: exact (tenant-scoped keys, LRU + TTL + stale) and semantic (embedder,
per-namespace ANN index, verifier against false hits). See docs/caching.md."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .exact import Entry, LocalLRU, Lookup, MemorySharedLevel, SharedLevel, Status, TieredExactCache
    from .keys import canonical_request, exact_key, namespace, normalize_request
    from .policy import (AliasCachePolicy, CacheConfig, Category, Decision, Override, SecondSighting,
                         decide, is_cacheable, response_cacheable)

__all__ = [
    "Entry", "LocalLRU", "Lookup", "MemorySharedLevel", "SharedLevel", "Status", "TieredExactCache",
    "canonical_request", "exact_key", "namespace", "normalize_request",
    "AliasCachePolicy", "CacheConfig", "Category", "Decision", "Override", "SecondSighting",
    "decide", "is_cacheable", "response_cacheable",
]

_WHERE = {name: module for module, names in {
    ".exact": ("Entry", "LocalLRU", "Lookup", "MemorySharedLevel", "SharedLevel", "Status", "TieredExactCache"),
    ".keys": ("canonical_request", "exact_key", "namespace", "normalize_request"),
    ".policy": ("AliasCachePolicy", "CacheConfig", "Category", "Decision", "Override", "SecondSighting",
                "decide", "is_cacheable", "response_cacheable"),
}.items() for name in names}


def __getattr__(name: str) -> Any:
    """Names load on first use: importing the package (for its config section) stays cheap."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
