"""Indexes for browsing the audit log newest first (GET /admin/audit), and a one-row change
counter that gateways poll so a change made by the CLI reaches them without pub/sub.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # keyset pagination: WHERE <filter> = ? AND seq < ? ORDER BY seq DESC LIMIT n
    op.create_index("ix_audit_key_seq", "audit_log", ["key_id", "seq"])
    op.create_index("ix_audit_team_seq", "audit_log", ["team_id", "seq"])
    # outcome and kind: only the rare values (the bulk is ok / request: the primary key finds it)
    op.create_index("ix_audit_outcome_seq", "audit_log", ["outcome", "seq"], sqlite_where=sa.text("outcome != 'ok'"),
                    postgresql_where=sa.text("outcome != 'ok'"))
    op.create_index("ix_audit_kind_seq", "audit_log", ["kind", "seq"], sqlite_where=sa.text("kind != 'request'"),
                    postgresql_where=sa.text("kind != 'request'"))
    op.create_table(
        "governance_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO governance_version (id, version) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("governance_version")
    for name in ("ix_audit_kind_seq", "ix_audit_outcome_seq", "ix_audit_team_seq", "ix_audit_key_seq"):
        op.drop_index(name, table_name="audit_log")
