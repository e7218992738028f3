"""Governance schema: departments, teams, keys, limits, budgets, audit log and its head.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("department_id", sa.String(64), sa.ForeignKey("departments.id"), nullable=True),
        sa.Column("allowed_models", sa.JSON, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("hint", sa.String(16), nullable=False, server_default=""),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("user_id", sa.String(128), nullable=True),
        sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), nullable=True),
        sa.Column("department_id", sa.String(64), sa.ForeignKey("departments.id"), nullable=True),
        sa.Column("allowed_models", sa.JSON, nullable=True),
        sa.Column("allow_department_header", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("expires_at", sa.Float, nullable=True),
        sa.Column("revoked_at", sa.Float, nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=True),
        sa.Column("prev_until", sa.Float, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "limits",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("scope_id", sa.String(128), nullable=False),
        sa.Column("model", sa.String(128), nullable=False, server_default="*"),
        sa.Column("rpm", sa.Integer, nullable=True),
        sa.Column("tpm", sa.Integer, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("scope", "scope_id", "model", name="uq_limits_scope"),
    )
    op.create_table(
        "budgets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("scope_id", sa.String(128), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("amount_usd", sa.Float, nullable=False),
        sa.Column("hard", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("scope", "scope_id", "period", name="uq_budgets_scope"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=False),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
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
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("prompt", sa.Text, nullable=True),
        sa.Column("response", sa.Text, nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_ts", "audit_log", ["ts"])
    op.create_index("ix_audit_day_dept", "audit_log", ["day", "department_id"])
    op.create_index("ix_audit_dept_day", "audit_log", ["department_id", "day"])
    op.create_index("ix_audit_team_day", "audit_log", ["team_id", "day"])
    op.create_index("ix_audit_key_day", "audit_log", ["key_id", "day"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("base_seq", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("base_hash", sa.String(64), nullable=False, server_default=GENESIS),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS, "base_seq": 0, "base_hash": GENESIS}])


def downgrade() -> None:
    for name in ("audit_head", "audit_log", "budgets", "limits", "api_keys", "teams", "departments"):
        op.drop_table(name)
