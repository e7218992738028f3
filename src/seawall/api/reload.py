"""Configuration reload without a restart (SIGHUP, POST /admin/reload).

The file the server started from is read and validated again. An invalid file changes nothing:
the running configuration stays and the answer (or the log line, for SIGHUP) says why. A valid
one applies, at once, every change listed in `HOT`: the aliases and their targets (prices,
weights, timeouts, fallbacks, per-alias guard, cache, resilience and actions policies), the
providers, the default timeouts, the guard, cache and resilience sections, the client keys, the
admin key, the metrics token, the log level and the access log. The gateway builds a new
pipeline over its long-lived parts (stores, audit writer, metric registry, cache storage,
guard models, kept upstream connections, job workers) and swaps it in (Assembly.reconfigure);
requests in flight finish on the one they entered, and an unchanged deployment keeps its
breaker, health and latency. The governance directory and the action policies are read again.

What is bound to those long-lived parts (the listening socket and its limits, workers, stores,
governance and audit settings, the sandbox and jobs sections, the cache's storage) is named in
`restart_needed`: the running values stay until a restart. With `--workers N` a reload reaches
every worker: SIGHUP to the supervisor is passed to each, and a POST /admin/reload answered by
one worker asks the supervisor to pass it on to the others (`notify_peers`).
"""
from __future__ import annotations

import asyncio
import copy
import logging
from dataclasses import dataclass
from typing import Any, Callable

import yaml

from ..cache.config import RESTART_KEYS as CACHE_RESTART_KEYS
from ..config import Config, ConfigError, load, parse

log = logging.getLogger("seawall.server")

ALL = "*"
# what a running process applies: section -> its keys (ALL: the whole section; a top-level value
# that is not a mapping is its own section)
HOT: dict[str, set[str] | str] = {
    "models": ALL, "providers": ALL, "timeouts": ALL, "guard": ALL, "admin_key": ALL,
    "server": {"log_level", "access_log", "api_keys", "metrics_token", "heartbeat_s"},
    "actions": {"policies", "policy_text"},
}
# sections whose keys apply except these (their storage or their history is the running one's)
HOT_EXCEPT: dict[str, set[str]] = {"cache": set(CACHE_RESTART_KEYS), "resilience": {"events_kept"}}


def _hot(section: str, key: str | None) -> bool:
    if section in HOT_EXCEPT:
        return key is not None and key not in HOT_EXCEPT[section]
    keys = HOT.get(section)
    return keys == ALL or (key is not None and keys is not None and key in keys)


def _changes(old: dict, new: dict) -> set[tuple[str, str | None]]:
    """(section, key) pairs that differ; key None when a whole top-level value differs."""
    out: set[tuple[str, str | None]] = set()
    for section in set(old) | set(new):
        a, b = old.get(section), new.get(section)
        if a == b:
            continue
        if a is None and isinstance(b, dict):
            a = {}
        elif b is None and isinstance(a, dict):
            b = {}
        if isinstance(a, dict) and isinstance(b, dict) and HOT.get(section) != ALL:
            for k in set(a) | set(b):
                if a.get(k) != b.get(k):
                    out.add((section, k))
        else:
            out.add((section, None))
    return out


def read_raw(path: str) -> dict:
    with open(path) as f:
        data = yaml.safe_load(f)
    return data if isinstance(data, dict) else {}


def _merge(running: dict, new: dict, hot: list[tuple[str, str | None]]) -> dict:
    """The running file's values with the applicable changes on top: what now runs."""
    out = copy.deepcopy(running)
    for section, key in hot:
        if key is None:
            if section in new:
                out[section] = copy.deepcopy(new[section])
            else:
                out.pop(section, None)
            continue
        sec = out.get(section)
        if not isinstance(sec, dict):
            sec = out[section] = {}
        if key in (new.get(section) or {}):
            sec[key] = copy.deepcopy(new[section][key])
        else:
            sec.pop(key, None)
    return out


@dataclass(frozen=True)
class Next:
    """What a reload would run: the configuration, the file's values it was made from (the
    running ones where a change needs a restart), and the changes by kind."""

    config: Config
    raw: dict
    hot: list[tuple[str, str | None]]
    restart: list[tuple[str, str | None]]


def read_next(path: str, running: dict) -> Next:
    """Read and validate the file against what runs; ConfigError (nothing to change) when invalid.
    The supervisor of N workers calls it too, so that a worker it restarts starts from this."""
    try:
        load(path)  # the whole file must be valid, also where it needs a restart
        new_raw = read_raw(path)
    except ConfigError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure to read it is a refusal, not a crash
        raise ConfigError(f"{path}: {type(e).__name__}: {e}") from None
    changed = sorted(_changes(running, new_raw), key=lambda c: (c[0], c[1] or ""))
    hot = [c for c in changed if _hot(*c)]
    restart = [c for c in changed if not _hot(*c)]
    merged = _merge(running, new_raw, hot)
    try:
        cfg = parse(merged, path)  # what will run: the new values, the restart-bound ones as they are
    except ConfigError as e:
        raise ConfigError(f"these changes cannot apply without the ones that need a restart "
                          f"({', '.join(_name(c) for c in restart)}): {e}") from None
    return Next(cfg, merged, hot, restart)


class Reloader:
    def __init__(self, app, path: str, raw: dict | None = None) -> None:
        self.app, self.path = app, path
        self.raw = read_raw(path) if raw is None else raw  # what the running configuration was read from
        self.notify_peers: Callable[[], None] | None = None  # under a supervisor: reload the other workers
        self._lock: asyncio.Lock | None = None

    async def reload(self) -> dict[str, Any]:
        """Validate and apply; raises ConfigError (nothing changed) when the file is invalid."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # a SIGHUP and a POST at once: one after the other
            return await self._reload()

    async def _reload(self) -> dict[str, Any]:
        nxt = read_next(self.path, self.raw)
        cfg, hot = nxt.config, nxt.hot
        gw = self.app.gw
        actions = gw.actions
        policies_changed = False

        def policies() -> None:  # before anything changes: a refusal here must change nothing
            nonlocal policies_changed
            if actions.cfg.enabled and cfg.actions.enabled:
                from ..actions.policy import PolicyError

                try:
                    out = actions.reload_policies("admin", "config_reload", cfg.actions.policies,
                                                  cfg.actions.policy_text)
                except PolicyError as e:
                    raise ConfigError(f"actions policies: {e}") from None
                policies_changed = out["status"] == "applied"

        if hot:
            try:  # a new pipeline; the requests in flight keep theirs
                await gw.reconfigure(cfg, before_swap=policies)
            except ConfigError:
                raise
            except Exception as e:  # noqa: BLE001 - e.g. a model the new guard policy needs fails to load
                log.exception("configuration reload failed")
                raise ConfigError(f"could not apply it: {type(e).__name__}: {e}") from None
            self.app.reconfigured(cfg)
            if ("server", "log_level") in hot:
                logging.getLogger().setLevel(cfg.server.log_level.upper())
        else:
            policies()
        applied = [_name(c) for c in hot]
        if policies_changed and not {"actions.policies", "actions.policy_text"} & set(applied):
            applied.append("actions.policies")  # the files changed, not the configuration
        if gw.governance.enabled:
            await gw.governance.reload()  # keys, teams, limits and budgets as the database has them now
        self.raw = nxt.raw  # what needs a restart is not running: it is reported again next time
        status = "restart_needed" if nxt.restart else ("applied" if applied else "unchanged")
        return {"status": status, "applied": applied, "restart_needed": [_name(c) for c in nxt.restart]}

    async def on_signal(self) -> None:
        """SIGHUP: the same, told in the log."""
        try:
            out = await self.reload()
        except ConfigError as e:
            log.error("configuration reload refused, the running configuration is kept: %s", e)
            return
        log.info("configuration reloaded: %s", out["status"], extra=out)


def _name(change: tuple[str, str | None]) -> str:
    section, key = change
    return section if key is None else f"{section}.{key}"
