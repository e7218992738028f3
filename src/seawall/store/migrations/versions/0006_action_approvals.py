"""Action approvals (actions/approvals.py): one row per escalated action, single-use.

Revision ID: 0006
Revises: 0004 (0005 is another branch's; the chain is joined when both land)
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action_approvals",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("binding", sa.String(64), nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(256), nullable=False),
        sa.Column("tool", sa.String(512), nullable=False),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("approver", sa.String(256), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("decided_at", sa.Float, nullable=True),
        sa.Column("executed_at", sa.Float, nullable=True),
        sa.Column("result", sa.Text, nullable=True),
    )
    op.create_index("ix_action_approvals_status", "action_approvals", ["status", "created_at"])


def downgrade() -> None:
    op.drop_table("action_approvals")
