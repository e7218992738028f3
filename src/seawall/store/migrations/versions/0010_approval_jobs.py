"""Action approvals bound to an async job: the job that waits for the verdict (POST /v1/actions
with `Prefer: respond-async`), and whether that job still has to be woken once a verdict (or the
expiry) is in. The job runs the approved action itself; a request may not use such an approval.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("action_approvals", sa.Column("job_id", sa.String(40), nullable=True))
    op.add_column("action_approvals", sa.Column("job_waiting", sa.Boolean, nullable=True))
    op.create_index("ix_action_approvals_job_waiting", "action_approvals", ["job_waiting"])  # the sweep's look-up


def downgrade() -> None:
    op.drop_index("ix_action_approvals_job_waiting", "action_approvals")
    with op.batch_alter_table("action_approvals") as b:
        b.drop_column("job_waiting")
        b.drop_column("job_id")
