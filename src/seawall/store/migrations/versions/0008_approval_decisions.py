"""Action approvals, continued: the conversation a held model tool call came from (so the
approved call is released on the next attempt), the approver's verdict (approve, deny, edit,
expire) and edited arguments, whether the verdict has been counted in the override metric,
and the approvers' webhook deliveries. Plus a one-row policy generation, bumped by a policy
reload through the admin route, that every worker and instance polls to reload too.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("action_approvals", sa.Column("conversation", sa.String(64), nullable=True))
    op.add_column("action_approvals", sa.Column("verdict", sa.String(16), nullable=True))
    op.add_column("action_approvals", sa.Column("edited", sa.Text, nullable=True))
    op.add_column("action_approvals", sa.Column("counted", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("action_approvals", sa.Column("webhook_state", sa.String(16), nullable=True))
    op.add_column("action_approvals", sa.Column("webhook_attempts", sa.Text, nullable=True))
    op.create_index("ix_action_approvals_conversation", "action_approvals", ["conversation", "binding"])
    op.create_index("ix_action_approvals_counted", "action_approvals", ["counted"])  # the sweep's look-up
    op.create_table(
        "action_policy_generation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("generation", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO action_policy_generation (id, generation) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("action_policy_generation")
    op.drop_index("ix_action_approvals_counted", "action_approvals")
    op.drop_index("ix_action_approvals_conversation", "action_approvals")
    for name in ("webhook_attempts", "webhook_state", "counted", "edited", "verdict", "conversation"):
        with op.batch_alter_table("action_approvals") as b:
            b.drop_column(name)
