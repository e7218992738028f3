"""Configuration: one YAML file, validated at start, secrets by ${ENV_VAR} reference.

Errors name the file, the key path and what is wrong, e.g.
    seawall.yaml: models[0].targets[0].provider: unknown provider 'sim-b' (known: sim-a)
Secrets stay references: a `Secret` resolves its variable once, keeps the value private and
shows only `${NAME}` in reprs, dumps and errors.
"""
from __future__ import annotations

import functools
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import yaml
from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, create_model, field_validator,
                      model_validator)

from .net.limits import ServerLimits

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


def secret(v: Any) -> Secret | None:
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
    api: Literal["chat", "responses"] = "chat"  # kind openai: which OpenAI API the upstream is called through
    headers: dict[str, str] = Field(default_factory=dict)
    region: str | None = None
    tags: list[str] = Field(default_factory=list)
    max_connections: int = Field(256, ge=1)
    max_response_bytes: int = Field(64 << 20, ge=1024)  # an upstream body (inflated) or stream, in all
    timeouts: Timeouts | None = None

    _check_key = field_validator("api_key", mode="before")(lambda cls, v: secret(v))

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
        if self.api == "responses" and self.kind != "openai":
            raise ValueError(f"api: responses is for kind openai, not {self.kind}")
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


_DEPLOYMENT_KEYS = ("price", "weight", "priority", "region", "tags", "timeouts")


class CoreAlias(_Model):
    """The public model name clients ask for, and where it may go. Each feature adds the keys
    it owns (`guard`, `cache`, `retry`, `fallbacks`, ...) through its registered Section."""

    name: str = Field(min_length=1)
    kind: Literal["chat", "embeddings"] = "chat"
    targets: list[Target] = Field(min_length=1)
    timeouts: Timeouts | None = None


class ServerConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    max_json_depth: int = Field(64, ge=8, le=128)  # deeper request bodies are a 400 (core/validate.py)
    heartbeat_s: float = Field(15.0, gt=0)
    access_log: bool = True
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    api_keys: list[Any] = Field(default_factory=list)  # static client keys (Secrets); empty = open
    metrics_token: Any = None  # a Secret: /metrics then needs "Authorization: Bearer <token>"; None = open
    limits: ServerLimits = Field(default_factory=ServerLimits)  # timeouts and connection caps (net.limits)

    _check_metrics_token = field_validator("metrics_token", mode="before")(lambda cls, v: secret(v))

    @field_validator("api_keys", mode="before")
    @classmethod
    def _keys(cls, v: Any) -> Any:
        if not isinstance(v, list):
            raise ValueError("must be a list of key references, e.g. [${APP_KEY}]")
        return [secret(x) for x in v]


class StoreConfig(_Model):
    state: str = "memory"  # or redis://host:6379/0
    sql: str = "sqlite:///seawall.db"  # or postgresql://user@host/db
    prefix: str = "seawall:"  # state store key prefix (several deployments can share one Redis)
    state_timeout_s: float = Field(0.05, gt=0)  # every state call; a hung Redis never hangs a request
    sql_timeout_s: float = Field(5.0, gt=0)
    breaker_failures: int = Field(3, ge=1)  # consecutive failures that open a store's breaker
    breaker_reset_s: float = Field(1.0, gt=0)
    migrate: bool = True  # run migrations at start (else: seawall db upgrade)


class CoreConfig(_Model):
    """What the core itself needs. The feature sections (`governance`, `guard`, `cache`,
    `resilience`, ...) are added by the features (see `Section`); `Config` is the whole model."""

    server: ServerConfig = Field(default_factory=ServerConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    admin_key: Any = None
    timeouts: Timeouts = Field(default_factory=Timeouts)
    providers: list[ProviderConfig] = Field(min_length=1)

    _check_admin = field_validator("admin_key", mode="before")(lambda cls, v: secret(v))
    _profiles: dict = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> "CoreConfig":
        _unique([p.name for p in self.providers], "providers", "provider")
        _unique([m.name for m in self.models], "models", "model")
        known = {p.name for p in self.providers}
        # aliases that name the same provider/model share one deployment (its health, breaker
        # and price): two targets that disagree about it would be billed or routed by whichever
        # alias came first, so they must agree
        first: dict[tuple[str, str], tuple[str, Target]] = {}
        for i, alias in enumerate(self.models):
            for j, t in enumerate(alias.targets):
                if t.provider not in known:
                    raise PathError(
                        f"models[{i}].targets[{j}].provider",
                        f"unknown provider {t.provider!r} (known: {', '.join(sorted(known))})",
                    )
                where, seen = first.setdefault((t.provider, t.model), (f"models[{i}].targets[{j}]", t))
                if seen is not t and (diff := [k for k in _DEPLOYMENT_KEYS if getattr(seen, k) != getattr(t, k)]):
                    raise PathError(
                        f"models[{i}].targets[{j}]",
                        f"{t.provider}/{t.model} is also {where}, with another {', '.join(diff)}; one "
                        f"deployment has one {diff[0]}: give both targets the same values",
                    )
        for section in SECTIONS.values():
            if section.check is not None:
                section.check(self)
        if not self.admin_key and os.environ.get("SEAWALL_ADMIN_KEY"):
            self.admin_key = Secret("${SEAWALL_ADMIN_KEY}", os.environ["SEAWALL_ADMIN_KEY"])
        self._profiles = {alias.name: AliasProfile(self, alias) for alias in self.models}
        return self

    def provider(self, name: str) -> ProviderConfig:
        return next(p for p in self.providers if p.name == name)

    def profile(self, alias: str) -> "AliasProfile":
        return self._profiles[alias]

    @property
    def profiles(self) -> dict[str, "AliasProfile"]:
        return self._profiles


# ---- feature sections ---------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A feature's part of the configuration, registered by the feature when it is imported.

    name          the top-level key (`guard:`), validated by `model` (its defaults when absent)
    alias_fields  the keys the feature owns on each `models[]` entry: name -> (type, default)
    compile       (config, alias) -> the alias's effective policy, stored in its profile
                  under `name`; called once when the configuration loads
    check         (config) -> None, cross-references; raise PathError to point at a key
    """

    name: str
    model: type[BaseModel]
    alias_fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    compile: Callable[[Any, Any], Any] | None = None
    check: Callable[[Any], None] | None = None


SECTIONS: dict[str, Section] = {}


def register(section: Section) -> None:
    SECTIONS[section.name] = section
    _models.cache_clear()


@functools.cache
def _models() -> tuple[type[CoreConfig], type[CoreAlias]]:
    alias_fields: dict[str, Any] = {}
    for s in SECTIONS.values():
        alias_fields.update(s.alias_fields)
    alias_model = create_model("ModelAlias", __base__=CoreAlias, **alias_fields)
    sections = {s.name: (s.model, Field(default_factory=s.model)) for s in SECTIONS.values()}
    config_model = create_model("Config", __base__=CoreConfig, **sections,
                                models=(list[alias_model], Field(min_length=1)))
    return config_model, alias_model


def __getattr__(name: str) -> Any:
    """`Config` and `ModelAlias` are built from the core and the registered sections."""
    if name == "Config":
        return _models()[0]
    if name == "ModelAlias":
        return _models()[1]
    raise AttributeError(name)


class AliasProfile:
    """An alias's effective policy for every feature, compiled once when the config loads:
    `profile.guard`, `profile.cache`, `profile.resilience`, ... Stages read it from
    `Request.profile` instead of each merging the layers again."""

    def __init__(self, config: CoreConfig, alias: CoreAlias) -> None:
        self.name, self.kind = alias.name, alias.kind
        for s in SECTIONS.values():
            if s.compile is not None:
                setattr(self, s.name, s.compile(config, alias))


def merge(base: BaseModel, *layers: BaseModel | None) -> BaseModel:
    """The one merge rule of layered policies: each layer overrides only the fields it set;
    mappings merge key by key and nested models merge field by field."""
    for layer in layers:
        if layer is not None:
            base = _merge(base, layer)
    return base


def _merge(base: BaseModel, layer: BaseModel) -> BaseModel:
    update = {}
    for name in layer.model_fields_set:
        new, old = getattr(layer, name), getattr(base, name)
        if isinstance(new, dict) and isinstance(old, dict):
            new = {**old, **new}
        elif isinstance(new, BaseModel) and isinstance(old, BaseModel):
            new = _merge(old, new)
        update[name] = new
    return base.model_copy(update=update)


class PathError(ValueError):
    """A validation problem at a key path other than where pydantic found it."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


def _unique(names: list[str], section: str, what: str) -> None:
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            raise PathError(f"{section}[{i}].name", f"duplicate {what} name {n!r}")
        seen.add(n)


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def parse(data: Any, source: str = "<config>") -> CoreConfig:
    """Validate a config mapping; raise ConfigError naming source, key path and problem."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping with providers and models")
    try:
        return _models()[0].model_validate(data)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            ctx_err = (err.get("ctx") or {}).get("error")
            if isinstance(ctx_err, PathError):
                lines.append(f"{source}: {ctx_err.path}: {ctx_err.message}")
                continue
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; see docs/configuration.md)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            lines.append(f"{source}: {_path(err['loc'])}: {msg}")
        raise ConfigError("\n".join(lines)) from None


def load(path: str | os.PathLike) -> CoreConfig:
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


def load_or_exit(path: str | os.PathLike) -> CoreConfig:
    """For commands: the configuration, or the problem on stderr and exit status 2."""
    try:
        return load(path)
    except ConfigError as e:
        print(f"configuration error:\n{e}", file=sys.stderr)
        raise SystemExit(2) from None
