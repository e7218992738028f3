"""Virtual API keys and the directory every request is identified against.

A key is `sw-` + 256 random bits, shown once. The database keeps only its hash: HMAC-SHA256
under the server pepper when one is configured, else SHA-256 (enough for a 256-bit random
secret). Each instance holds the directory (keys, teams, limits, budgets) in memory, reloads
it when an admin change is published and every `governance.refresh_s`: the request path reads
only memory.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..core.types import Principal
from ..store import sql

KEY_PREFIX = "sw-"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(6)


def hash_key(key: str, pepper: bytes | None) -> str:
    data = key.encode("utf-8", "surrogatepass")
    if pepper:
        return hmac.new(pepper, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


def hint(key: str) -> str:
    return key[:5] + "…"


ANONYMOUS = Principal(kind="anonymous")
LIBRARY = Principal(kind="library")


@dataclass(slots=True)
class KeyEntry:
    principal: Principal
    expires_at: float | None
    revoked: bool


@dataclass(slots=True)
class Limit:
    id: str
    scope: str
    scope_id: str
    model: str
    rpm: int | None
    tpm: int | None


@dataclass(slots=True)
class Budget:
    id: str
    scope: str
    scope_id: str
    period: str
    amount_usd: float
    hard: bool


@dataclass(slots=True)
class Directory:
    keys: dict[str, KeyEntry] = field(default_factory=dict)  # hash -> entry (current and in-grace hashes)
    limits: dict[tuple[str, str], list[Limit]] = field(default_factory=dict)  # (scope, id) -> limits
    budgets: dict[tuple[str, str], list[Budget]] = field(default_factory=dict)
    virtual_keys: int = 0
    loaded_at: float = 0.0


def _models(v) -> frozenset[str] | None:
    return frozenset(v) if v else None


async def load_directory(engine) -> Directory:
    now = time.time()
    d = Directory(loaded_at=now)
    async with engine.connect() as conn:
        teams = {r.id: r for r in (await conn.execute(sa.select(sql.teams))).all()}
        for r in (await conn.execute(sa.select(sql.api_keys))).all():
            team = teams.get(r.team_id)
            allowed = _models(r.allowed_models)
            team_allowed = _models(team.allowed_models) if team is not None else None
            if allowed is not None and team_allowed is not None:
                allowed = allowed & team_allowed
            elif allowed is None:
                allowed = team_allowed
            dept = r.department_id or (team.department_id if team is not None else None)
            depts = r.allowed_departments if r.allowed_departments is not None else (
                team.allowed_departments if team is not None else None)
            p = Principal(r.id, r.user_id, r.team_id, dept, allowed, bool(r.allow_department_header),
                          allowed_departments=frozenset(depts or ()), hint=r.hint or None,
                          webhook_url=r.webhook_url or None)
            entry = KeyEntry(p, r.expires_at, r.revoked_at is not None)
            d.keys[r.key_hash] = entry
            d.virtual_keys += 1
            if r.prev_hash and r.prev_until and r.prev_until > now:
                until = r.prev_until if r.expires_at is None else min(r.prev_until, r.expires_at)
                d.keys[r.prev_hash] = KeyEntry(p, until, entry.revoked)
        for r in (await conn.execute(sa.select(sql.limits))).all():
            d.limits.setdefault((r.scope, r.scope_id), []).append(
                Limit(r.id, r.scope, r.scope_id, r.model, r.rpm, r.tpm))
        for r in (await conn.execute(sa.select(sql.budgets))).all():
            d.budgets.setdefault((r.scope, r.scope_id), []).append(
                Budget(r.id, r.scope, r.scope_id, r.period, r.amount_usd, bool(r.hard)))
    return d
