"""The cache section of the configuration: `cache:` at the top level (with `cache.default` and
`cache.aliases`) and `models[].cache` per alias, compiled once per alias into its profile
(`profile.cache`).

The policy of an alias is `GATEWAY_DEFAULT`, then `cache.default`, `cache.aliases[name]` and
`models[].cache`: each layer overrides only the fields it sets (config.merge). Embeddings are
cached exactly only: semantic lookups compare conversations."""
from __future__ import annotations

from pydantic import Field

from ..config import Section, merge, register
from .policy import AliasCachePolicy, CacheConfig, Category, SemanticSettings

# Nothing is cached until an alias (or `cache.default`) opts in with a category, and the
# semantic cache stays off until an alias turns it on (it needs the embedder). Upgrading a
# deployment must not start serving stored answers nobody asked for.
# the storage's settings: a running cache keeps them until a restart (api/reload.py)
RESTART_KEYS = ("local_max_entries", "embedder", "embedding_cache_entries", "embedding_cache_ttl_s",
                "semantic_refresh_s", "invalidation_poll_s", "shared")

GATEWAY_DEFAULT = AliasCachePolicy(category=Category.NONE, semantic=SemanticSettings(enabled=False))


def _compile(config, alias) -> AliasCachePolicy:
    cc: CacheConfig = config.cache
    policy = merge(GATEWAY_DEFAULT, cc.default, cc.aliases.get(alias.name), alias.cache)
    if alias.kind == "embeddings":
        policy = policy.model_copy(update={"semantic": policy.semantic.model_copy(update={"enabled": False})})
    return policy


register(Section("cache", CacheConfig, alias_fields={"cache": (AliasCachePolicy | None, Field(None))},
                 compile=_compile))
