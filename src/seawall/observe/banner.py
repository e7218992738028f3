"""The start-up banner: a few lines that tell an operator what this gateway is about to do
(aliases, guard, cache and governance modes, stores, where models live), and the quiet start
(third-party libraries log only warnings)."""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path

log = logging.getLogger("seawall.server")

# Libraries whose info lines (migrations applied, model files loaded, ONNX graph notes) are noise
# at every start; their warnings still show.
NOISY = ("alembic", "onnxruntime", "torch", "transformers", "sentence_transformers", "huggingface_hub",
         "filelock", "urllib3", "presidio-analyzer", "presidio_analyzer", "spacy", "asyncio", "aiosqlite")


def quiet() -> None:
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("ORT_LOGGING_LEVEL", "3")


def _safe_url(url: str) -> str:
    """A store URL without its password."""
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)


def lines(gateway) -> list[str]:
    """What the banner says, one fact per line (also what the tests read)."""
    cfg = gateway.config
    out = []
    aliases = ", ".join(f"{m.name}" + (f" ({m.kind})" if getattr(m, "kind", "chat") != "chat" else "")
                        for m in cfg.models)
    out.append(f"aliases: {aliases}")
    g = cfg.guard
    if g.enabled:
        parts = [p for p, on in (("pii", g.pii_enabled), ("secrets", g.secrets_enabled),
                                 ("injection=" + g.injection_model, g.injection_enabled),
                                 ("output", g.output_enabled)) if on]
        out.append(f"guard: on ({', '.join(parts) or 'no detectors'}; fails {'open' if g.fail_open else 'closed'})")
    else:
        out.append("guard: off")
    profiles = cfg.profiles
    cached = [a for a, p in profiles.items() if p.cache.category.value != "none"]
    semantic = [a for a in cached if profiles[a].cache.semantic.enabled]
    if not cfg.cache.enabled or not cached:
        out.append("cache: off" + ("" if cfg.cache.enabled else " (cache.enabled: false)"))
    else:
        out.append(f"cache: {', '.join(cached)}" + (f"; semantic: {', '.join(semantic)}" if semantic else ""))
    gov = gateway.governance
    if not cfg.governance.enabled:
        out.append("governance: off (no keys, limits, budgets or audit)")
    else:
        keys = "required" if gov.key_required else "not required (open: no keys yet)"
        out.append(f"governance: on; client keys {keys}; audit content {cfg.governance.audit.content}")
    out.append(f"stores: state {_safe_url(cfg.store.state)}, sql {_safe_url(cfg.store.sql)}")
    models = os.environ.get("SEAWALL_MODEL_DIR") or str(Path.home() / ".cache" / "seawall" / "models")
    out.append(f"models: {models}")
    return out


def show(gateway, host: str) -> None:
    for line in lines(gateway):
        log.info(line)
    static = bool(gateway.config.server.api_keys)
    open_gateway = not static and (not gateway.config.governance.enabled or not gateway.governance.key_required)
    if open_gateway and host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("no client keys are required: anyone who can reach %s can use the gateway "
                    "(set server.api_keys or create a key: seawall keys create)", host)
