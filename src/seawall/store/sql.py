"""SQL: the schema, the async engine and migrations.

SQLite (default `sqlite:///seawall.db`, WAL, through aiosqlite) or PostgreSQL (through
asyncpg). Plain URLs are accepted and given their async driver. Alembic migrations in
`migrations/` run at start (`store.migrate: true`) or with `seawall db upgrade`; on
PostgreSQL an advisory lock lets several instances start at once.
"""
from __future__ import annotations

import asyncio
import functools
import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

metadata = sa.MetaData()

departments = sa.Table(
    "departments", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_at", sa.Float, nullable=False),
)

teams = sa.Table(
    "teams", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("department_id", sa.String(64), sa.ForeignKey("departments.id"), nullable=True),
    sa.Column("allowed_models", sa.JSON, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("allowed_departments", sa.JSON, nullable=True),  # for x-seawall-department (0004)
)

api_keys = sa.Table(
    "api_keys", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("hint", sa.String(16), nullable=False, server_default=""),  # "sw-ab…": never enough to use
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("user_id", sa.String(128), nullable=True),
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), nullable=True),
    sa.Column("department_id", sa.String(64), sa.ForeignKey("departments.id"), nullable=True),
    sa.Column("allowed_models", sa.JSON, nullable=True),
    sa.Column("allow_department_header", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("allowed_departments", sa.JSON, nullable=True),  # else the team's (0004)
    sa.Column("expires_at", sa.Float, nullable=True),
    sa.Column("revoked_at", sa.Float, nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=True),  # the rotated-out secret, valid until prev_until
    sa.Column("prev_until", sa.Float, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("webhook_url", sa.String(2048), nullable=True),  # jobs from this key that name none (0009)
)

limits = sa.Table(
    "limits", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("scope", sa.String(16), nullable=False),  # key | team | department | model
    sa.Column("scope_id", sa.String(128), nullable=False),
    sa.Column("model", sa.String(128), nullable=False, server_default="*"),
    sa.Column("rpm", sa.Integer, nullable=True),
    sa.Column("tpm", sa.Integer, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("scope", "scope_id", "model", name="uq_limits_scope"),
)

budgets = sa.Table(
    "budgets", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("scope", sa.String(16), nullable=False),  # key | team | department
    sa.Column("scope_id", sa.String(128), nullable=False),
    sa.Column("period", sa.String(8), nullable=False),  # daily | monthly | total
    sa.Column("amount_usd", sa.Float, nullable=False),
    sa.Column("hard", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("scope", "scope_id", "period", name="uq_budgets_scope"),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False),
    sa.Column("id", sa.String(36), nullable=False, unique=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # request | admin
    sa.Column("request_id", sa.String(128), nullable=True),
    sa.Column("key_id", sa.String(32), nullable=True),
    sa.Column("user_id", sa.String(128), nullable=True),
    sa.Column("team_id", sa.String(64), nullable=True),
    sa.Column("department_id", sa.String(64), nullable=True),
    sa.Column("alias", sa.String(128), nullable=True),
    sa.Column("deployment", sa.String(256), nullable=True),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("prompt_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("completion_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),
    sa.Column("latency_ms", sa.Float, nullable=False, server_default="0"),
    sa.Column("detail", sa.Text, nullable=True),  # JSON: attempts, guard/policy decisions, admin change
    sa.Column("prompt", sa.Text, nullable=True),
    sa.Column("response", sa.Text, nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_ts", "ts"),
    sa.Index("ix_audit_day_dept", "day", "department_id"),
    sa.Index("ix_audit_dept_day", "department_id", "day"),
    sa.Index("ix_audit_team_day", "team_id", "day"),
    sa.Index("ix_audit_key_day", "key_id", "day"),
    # browsing newest first (GET /admin/audit, 0007). Outcome and kind are indexed only where
    # rare (not ok, not request): the bulk is found by walking the primary key, and each index
    # costs the writer (govern/browse.py adds the predicate so SQLite uses them).
    sa.Index("ix_audit_key_seq", "key_id", "seq"),
    sa.Index("ix_audit_team_seq", "team_id", "seq"),
    sa.Index("ix_audit_outcome_seq", "outcome", "seq", sqlite_where=sa.text("outcome != 'ok'"),
             postgresql_where=sa.text("outcome != 'ok'")),
    sa.Index("ix_audit_kind_seq", "kind", "seq", sqlite_where=sa.text("kind != 'request'"),
             postgresql_where=sa.text("kind != 'request'")),
)

# One row, bumped by every governance change (0007): gateways poll it, so a change the CLI made
# on a store without pub/sub (memory state) reaches them in well under a second.
governance_version = sa.Table(
    "governance_version", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
)

# One row: the head of the hash chain. Writers lock it in their transaction, so every
# instance appends after the true head: the chain cannot fork.
audit_head = sa.Table(
    "audit_head", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("base_seq", sa.BigInteger, nullable=False, server_default="0"),  # retention moved the start here
    sa.Column("base_hash", sa.String(64), nullable=False, server_default="0" * 64),
)

# Cache shared levels (cache/sqlshared.py). Keys compare byte by byte: a prefix delete is a range
# on the primary key plus LIKE, so PostgreSQL gets the "C" collation (SQLite's default is binary).
CACHE_KEY = sa.String(1024).with_variant(sa.String(1024, collation="C"), "postgresql")

cache_entries = sa.Table(
    "cache_entries", metadata,
    sa.Column("key", CACHE_KEY, primary_key=True),  # <scope>|<alias>|<hash>, scope and alias escaped
    sa.Column("scope", sa.String(512), nullable=False),  # unescaped, for invalidation by alias
    sa.Column("alias", sa.String(256), nullable=False),
    sa.Column("value", sa.LargeBinary, nullable=False),  # Entry.to_bytes()
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("stale_until", sa.Float, nullable=False),  # reads ignore the row after it; purge deletes it
    sa.Index("ix_cache_entries_stale", "stale_until"),
    sa.Index("ix_cache_entries_alias", "alias", "scope"),
)

cache_semantic = sa.Table(
    "cache_semantic", metadata,
    sa.Column("ns_id", CACHE_KEY, primary_key=True),  # <scope>|<alias>|<context fingerprint>
    sa.Column("uid", sa.String(64), primary_key=True),
    sa.Column("scope", sa.String(512), nullable=False),
    sa.Column("alias", sa.String(256), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("stale_until", sa.Float, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),  # float32
    sa.Column("record", sa.Text, nullable=False),  # JSON: query, history, response, instants, meta
    sa.Index("ix_cache_semantic_ns", "ns_id", "created_at"),
    sa.Index("ix_cache_semantic_stale", "stale_until"),
    sa.Index("ix_cache_semantic_alias", "alias", "scope"),
)

# Cache invalidations told to the other instances through the database, for deployments
# without Redis pub/sub (cache/broadcast.py): each instance polls for rows newer than it has seen.
cache_invalidations = sa.Table(
    "cache_invalidations", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("message", sa.Text, nullable=False),  # JSON: from (instance), alias, tenant, prefix
    sa.Index("ix_cache_invalidations_at", "at"),
)

GENESIS = "0" * 64


def async_url(url: str) -> str:
    if url.startswith("sqlite:///") or url == "sqlite://":
        return "sqlite+aiosqlite" + url[len("sqlite"):]
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, timeout_s: float = 5.0, pool_size: int = 5) -> AsyncEngine:
    url = async_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": timeout_s})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):  # WAL: readers never block the writer
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_timeout=timeout_s,
        connect_args={"timeout": timeout_s, "command_timeout": max(timeout_s, 5.0)},
    )


MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config(connection=None):
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


_REVISION_LINE = re.compile(r'^(revision|down_revision) = (None|"[^"\n]*")$', re.M)


@functools.cache
def head_revision() -> str | None:
    """The newest migration, read from the files as text; None unless they form one plain
    chain (then alembic itself decides). Importing alembic costs each CLI command ~0.15 s."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(m.groups() for m in _REVISION_LINE.finditer(path.read_text()))
        if set(found) != {"revision", "down_revision"} or found["revision"] == "None":
            return None
        revisions.add(found["revision"].strip('"'))
        if found["down_revision"] != "None":
            parents.add(found["down_revision"].strip('"'))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def _at_head(sync_conn) -> bool:
    head = head_revision()
    if head is None or not sa.inspect(sync_conn).has_table("alembic_version"):
        return False
    return [r[0] for r in sync_conn.execute(sa.text("SELECT version_num FROM alembic_version"))] == [head]


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision`. Safe with several instances starting together. A schema
    already at the head is left alone without loading alembic."""

    def upgrade(sync_conn):
        if sync_conn.dialect.name == "postgresql":
            sync_conn.execute(sa.text("SELECT pg_advisory_xact_lock(727274001)"))
        if revision == "head" and _at_head(sync_conn):
            return
        from alembic import command

        command.upgrade(_alembic_config(sync_conn), revision)

    async with engine.begin() as conn:
        await conn.run_sync(upgrade)


def migrate_url(url: str) -> None:
    """Blocking helper for the CLI: `seawall db upgrade`."""

    async def go():
        engine = make_engine(url)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(go())
