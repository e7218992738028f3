"""Configuration: one YAML file, validated at start, secrets by ${ENV_VAR} reference.

Errors name the file, the key path and what is wrong, e.g.
    seawall.yaml: models[0].targets[0].provider: unknown provider 'sim-b' (known: sim-a)
Secrets stay references: a `Secret` resolves its variable once, keeps the value private and
shows only `${NAME}` in reprs, dumps and errors.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(Exception):
    """A configuration problem, already phrased for a person: file, key path, what is wrong."""


class Secret:
    """A value that came from the environment (or the file) and must never be shown."""

    __slots__ = ("ref", "_value")

    def __init__(self, ref: str, value: str | None) -> None:
        self.ref = ref
        self._value = value

    @classmethod
    def parse(cls, raw: str) -> "Secret":
        m = _ENV_REF.fullmatch(raw.strip())
        if m:
            name, default = m.group(1), m.group(2)
            return cls("${%s}" % name, os.environ.get(name, default))
        return cls("<inline>", raw)

    def get(self) -> str | None:
        return self._value or None

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret({self.ref})"

    __str__ = __repr__


def _secret(v: Any) -> Secret | None:
    if v is None or isinstance(v, Secret):
        return v
    if not isinstance(v, str):
        raise ValueError("must be a string, e.g. ${MY_API_KEY}")
    return Secret.parse(v)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class Price(_Model):
    """USD per one million tokens."""

    input: float = Field(0.0, ge=0)
    output: float = Field(0.0, ge=0)
    cached_input: float | None = Field(None, ge=0)


class Timeouts(_Model):
    """Seconds. `total` is the deadline every retry, hedge and fallback respects."""

    connect: float = Field(5.0, gt=0)
    first_token: float = Field(60.0, gt=0)
    total: float = Field(600.0, gt=0)
    stream_stall: float = Field(60.0, gt=0)


ProviderKind = Literal["openai", "azure", "vllm", "tgi", "ollama", "llamacpp", "anthropic"]


class ProviderConfig(_Model):
    name: str = Field(min_length=1)
    kind: ProviderKind = "openai"
    base_url: str
    api_key: Any = None  # Secret after validation
    api_version: str | None = None  # azure
    headers: dict[str, str] = Field(default_factory=dict)
    region: str | None = None
    tags: list[str] = Field(default_factory=list)
    max_connections: int = Field(256, ge=1)
    timeouts: Timeouts | None = None

    _check_key = field_validator("api_key", mode="before")(lambda cls, v: _secret(v))

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _azure(self) -> "ProviderConfig":
        if self.kind == "azure" and not self.api_version:
            raise ValueError("kind azure needs api_version (e.g. 2024-10-21)")
        return self


class Target(_Model):
    """One deployment of an alias: a provider plus the model name at that provider."""

    provider: str
    model: str
    weight: float = Field(1.0, gt=0)
    priority: int = 0  # lower is preferred; higher priorities are spill-over
    region: str | None = None
    tags: list[str] = Field(default_factory=list)
    price: Price = Field(default_factory=Price)
    timeouts: Timeouts | None = None


class ModelAlias(_Model):
    """The public model name clients ask for, and where it may go."""

    name: str = Field(min_length=1)
    kind: Literal["chat", "embeddings"] = "chat"
    targets: list[Target] = Field(min_length=1)
    timeouts: Timeouts | None = None


class ServerConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    heartbeat_s: float = Field(15.0, gt=0)
    access_log: bool = True
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    api_keys: list[Any] = Field(default_factory=list)  # static client keys (Secrets); empty = open

    @field_validator("api_keys", mode="before")
    @classmethod
    def _keys(cls, v: Any) -> Any:
        if not isinstance(v, list):
            raise ValueError("must be a list of key references, e.g. [${APP_KEY}]")
        return [_secret(x) for x in v]


class StoreConfig(_Model):
    state: str = "memory"
    sql: str = "sqlite:///seawall.db"


class Config(_Model):
    server: ServerConfig = Field(default_factory=ServerConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    admin_key: Any = None
    timeouts: Timeouts = Field(default_factory=Timeouts)
    providers: list[ProviderConfig] = Field(min_length=1)
    models: list[ModelAlias] = Field(min_length=1)

    _check_admin = field_validator("admin_key", mode="before")(lambda cls, v: _secret(v))

    @model_validator(mode="after")
    def _references(self) -> "Config":
        _unique([p.name for p in self.providers], "providers", "provider")
        _unique([m.name for m in self.models], "models", "model")
        known = {p.name for p in self.providers}
        for i, alias in enumerate(self.models):
            for j, t in enumerate(alias.targets):
                if t.provider not in known:
                    raise _PathError(
                        f"models[{i}].targets[{j}].provider",
                        f"unknown provider {t.provider!r} (known: {', '.join(sorted(known))})",
                    )
        if not self.admin_key and os.environ.get("SEAWALL_ADMIN_KEY"):
            self.admin_key = Secret("${SEAWALL_ADMIN_KEY}", os.environ["SEAWALL_ADMIN_KEY"])
        return self

    def provider(self, name: str) -> ProviderConfig:
        return next(p for p in self.providers if p.name == name)


class _PathError(ValueError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


def _unique(names: list[str], section: str, what: str) -> None:
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            raise _PathError(f"{section}[{i}].name", f"duplicate {what} name {n!r}")
        seen.add(n)


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def parse(data: Any, source: str = "<config>") -> Config:
    """Validate a config mapping; raise ConfigError naming source, key path and problem."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping with providers and models")
    try:
        return Config.model_validate(data)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            ctx_err = (err.get("ctx") or {}).get("error")
            if isinstance(ctx_err, _PathError):
                lines.append(f"{source}: {ctx_err.path}: {ctx_err.message}")
                continue
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; see docs/configuration.md)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            lines.append(f"{source}: {_path(err['loc'])}: {msg}")
        raise ConfigError("\n".join(lines)) from None


def load(path: str | os.PathLike) -> Config:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise ConfigError(f"{p}: cannot read: {e.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
        raise ConfigError(f"{p}: not valid YAML{at}: {getattr(e, 'problem', e)}") from None
    return parse(data, str(p))
