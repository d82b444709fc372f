"""add site_state: when public content last changed, for page cache invalidation

Revision ID: d2a7c4e8f1b6
Revises: b5d9e3a1c7f2
Create Date: 2026-11-29 07:00:00

"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "d2a7c4e8f1b6"
down_revision = "b5d9e3a1c7f2"
branch_labels = None
depends_on = None


def upgrade():
    site_state = op.create_table(
        "site_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_state")),
    )
    op.bulk_insert(site_state, [{"id": 1, "content_changed_at": datetime.now(timezone.utc)}])


def downgrade():
    op.drop_table("site_state")
