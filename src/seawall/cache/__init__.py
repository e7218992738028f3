"""Response caching: exact (tenant-scoped keys, LRU + TTL + stale) and semantic (embedder,
per-namespace ANN index, verifier against false hits). See docs/caching.md."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.lazy import exports

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

__getattr__ = exports(__name__, {
    ".exact": ("Entry", "LocalLRU", "Lookup", "MemorySharedLevel", "SharedLevel", "Status", "TieredExactCache"),
    ".keys": ("canonical_request", "exact_key", "namespace", "normalize_request"),
    ".policy": ("AliasCachePolicy", "CacheConfig", "Category", "Decision", "Override", "SecondSighting",
                "decide", "is_cacheable", "response_cacheable"),
})
