"""Departments a key (or its team) may name in x-seawall-department (govern/service.py).

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable JSON lists: NULL (every existing row) allows no other department
    op.add_column("teams", sa.Column("allowed_departments", sa.JSON, nullable=True))
    op.add_column("api_keys", sa.Column("allowed_departments", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("allowed_departments")
    with op.batch_alter_table("teams") as batch:
        batch.drop_column("allowed_departments")
