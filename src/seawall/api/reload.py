"""Configuration reload without a restart (SIGHUP, POST /admin/reload).

The file the server started from is read and validated again. An invalid file changes nothing:
the running configuration stays and the answer (or the log line, for SIGHUP) says why. A valid
one applies what is safe to change in a running process:

- `server.log_level` and `server.access_log`;
- the governance directory (keys, teams, limits, budgets), read again from the database;
- the action policies (`actions.policies` files, read again even when the list is the same, and
  `actions.policy_text`), validated first: a set that does not validate refuses the whole
  reload and the running policies stay.

Every other change (aliases, providers, guard, cache, resilience, stores, ...) is named in
`restart_needed` and waits for a restart: swapping the whole pipeline in place would run two
audit writers, two metric registries and two sets of store connections side by side in one
process, which is not yet safe (docs/configuration.md, "Reloading").
"""
from __future__ import annotations

import logging
from typing import Any

import yaml

from ..config import ConfigError, load

log = logging.getLogger("seawall.server")

# what a running process applies: (section, key) pairs
HOT = {("server", "log_level"), ("server", "access_log"), ("actions", "policies"), ("actions", "policy_text")}


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
        if isinstance(a, dict) and isinstance(b, dict):
            for k in set(a) | set(b):
                if a.get(k) != b.get(k):
                    out.add((section, k))
        else:
            out.add((section, None))
    return out


def _raw(path: str) -> dict:
    with open(path) as f:
        data = yaml.safe_load(f)
    return data if isinstance(data, dict) else {}


class Reloader:
    def __init__(self, app, path: str) -> None:
        self.app, self.path = app, path
        self.raw = _raw(path)  # what the running configuration was read from

    async def reload(self) -> dict[str, Any]:
        """Validate and apply; raises ConfigError (nothing changed) when the file is invalid."""
        try:
            new_cfg = load(self.path)
            new_raw = _raw(self.path)
        except ConfigError:
            raise
        except Exception as e:  # noqa: BLE001 - any failure to read it is a refusal, not a crash
            raise ConfigError(f"{self.path}: {type(e).__name__}: {e}") from None
        changed = _changes(self.raw, new_raw)
        actions = self.app.gw.actions
        policies_changed = False
        if actions.cfg.enabled and new_cfg.actions.enabled:  # first: a refusal here must change nothing
            from ..actions.policy import PolicyError

            try:
                out = actions.reload_policies("admin", "config_reload", new_cfg.actions.policies,
                                              new_cfg.actions.policy_text)
            except PolicyError as e:
                raise ConfigError(f"actions policies: {e}") from None
            policies_changed = out["status"] == "applied"
        applied, restart = [], []
        for section, key in sorted(changed, key=lambda c: (c[0], c[1] or "")):
            name = section if key is None else f"{section}.{key}"
            (applied if (section, key) in HOT else restart).append(name)
        if policies_changed and not {"actions.policies", "actions.policy_text"} & set(applied):
            applied.append("actions.policies")  # the files changed, not the configuration
        server = new_cfg.server
        if "server.log_level" in applied:
            logging.getLogger().setLevel(server.log_level.upper())
        if "server.access_log" in applied:
            self.app.set_access_log(server.access_log)
        gov = self.app.gw.governance
        if gov.enabled:
            await gov.reload()  # keys, teams, limits and budgets as the database has them now
        # what was applied is now the running configuration; what needs a restart is not
        for name in applied:
            section, key = name.split(".", 1)
            self.raw.setdefault(section, {})[key] = new_raw.get(section, {}).get(key)
        status = "restart_needed" if restart else ("applied" if applied else "unchanged")
        return {"status": status, "applied": applied, "restart_needed": restart}

    async def on_signal(self) -> None:
        """SIGHUP: the same, told in the log."""
        try:
            out = await self.reload()
        except ConfigError as e:
            log.error("configuration reload refused, the running configuration is kept: %s", e)
            return
        log.info("configuration reloaded: %s", out["status"], extra=out)
