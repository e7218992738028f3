"""Jobs, finished: a key's default webhook URL (used when a job from it names none), a job's
pending charge (the audit record written in the same transaction as its answer, until the
audit log is known to hold it), and the indexes the retention of batches, files and stored
responses scans by.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("webhook_url", sa.String(2048), nullable=True))
    op.add_column("jobs", sa.Column("charge", sa.Text, nullable=True))
    op.add_column("jobs", sa.Column("charge_due", sa.Float, nullable=True))
    op.create_index("ix_jobs_charge_due", "jobs", ["charge_due"])
    op.create_index("ix_batches_created", "batches", ["created_at"])
    op.create_index("ix_files_created", "files", ["purpose", "created_at"])
    op.create_index("ix_files_batch", "files", ["batch_id"])
    op.create_index("ix_responses_created", "responses", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_responses_created", "responses")
    op.drop_index("ix_files_batch", "files")
    op.drop_index("ix_files_created", "files")
    op.drop_index("ix_batches_created", "batches")
    op.drop_index("ix_jobs_charge_due", "jobs")
    with op.batch_alter_table("jobs") as b:
        b.drop_column("charge_due")
        b.drop_column("charge")
    with op.batch_alter_table("api_keys") as b:
        b.drop_column("webhook_url")
