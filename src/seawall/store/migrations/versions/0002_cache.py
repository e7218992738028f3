"""Cache shared levels: exact entries and semantic entries (cache/sqlshared.py).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _key():
    # Byte-wise comparison on PostgreSQL, so a key prefix is a range on the primary key.
    return sa.String(1024).with_variant(sa.String(1024, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "cache_entries",
        sa.Column("key", _key(), primary_key=True),
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("alias", sa.String(256), nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("stale_until", sa.Float, nullable=False),
    )
    op.create_index("ix_cache_entries_stale", "cache_entries", ["stale_until"])
    op.create_index("ix_cache_entries_alias", "cache_entries", ["alias", "scope"])
    op.create_table(
        "cache_semantic",
        sa.Column("ns_id", _key(), primary_key=True),
        sa.Column("uid", sa.String(64), primary_key=True),
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("alias", sa.String(256), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("stale_until", sa.Float, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index("ix_cache_semantic_ns", "cache_semantic", ["ns_id", "created_at"])
    op.create_index("ix_cache_semantic_stale", "cache_semantic", ["stale_until"])
    op.create_index("ix_cache_semantic_alias", "cache_semantic", ["alias", "scope"])


def downgrade() -> None:
    op.drop_table("cache_semantic")
    op.drop_table("cache_entries")
