"""The governance section of the configuration (`governance:`): keys, limits and budgets
policy, and the audit log. See docs/governance.md."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..config import Section, register, secret


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class AuditConfig(_Model):
    enabled: bool = True
    content: Literal["none", "hashed", "redacted", "full"] = "hashed"  # prompt/response storage
    queue_size: int = Field(10000, ge=10)
    batch_size: int = Field(500, ge=1)
    flush_interval_s: float = Field(0.2, gt=0)
    spool_dir: str | None = None  # the audit WAL; default: next to a SQLite file, else .seawall/spool
    retention_days: float | None = Field(None, gt=0)  # None: keep forever


class GovernanceConfig(_Model):
    enabled: bool = True
    require_key: bool | None = None  # None: required once static or virtual keys exist
    key_pepper: Any = None  # Secret: HMAC key for key hashes (else SHA-256 of the 256-bit key)
    refresh_s: float = Field(5.0, gt=0)  # full reload of keys/limits/budgets (changes also arrive by pub/sub)
    poll_s: float = Field(0.5, gt=0)  # how often the SQL change counter is read (changes made by the CLI)
    limits_fail: Literal["open", "closed"] = "open"  # state store down: local limits, or 503
    budgets_fail: Literal["open", "closed"] = "closed"
    default_max_tokens: int = Field(1024, ge=1)  # for the budget estimate when a request sets none
    audit: AuditConfig = Field(default_factory=AuditConfig)

    _check_pepper = field_validator("key_pepper", mode="before")(lambda cls, v: secret(v))


register(Section("governance", GovernanceConfig))
