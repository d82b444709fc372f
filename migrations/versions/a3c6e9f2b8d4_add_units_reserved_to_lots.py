"""add units_reserved to lots: units held for a quote or an open checkout, not yet sold

Revision ID: a3c6e9f2b8d4
Revises: c9d5f3b8a204
Create Date: 2026-12-02 00:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a3c6e9f2b8d4"
down_revision = "c9d5f3b8a204"
branch_labels = None
depends_on = None

CHECK = "units_reserved >= 0"


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # A plain ADD COLUMN with its own CHECK: a batch rebuild of the lot table would have to carry its
        # partial in-stock index across by hand.
        op.execute(
            "ALTER TABLE lot ADD COLUMN units_reserved INTEGER NOT NULL DEFAULT 0 "
            f"CONSTRAINT reserved_not_negative CHECK ({CHECK})"
        )
    else:
        op.add_column("lot", sa.Column("units_reserved", sa.Integer(), server_default="0", nullable=False))
        op.create_check_constraint("reserved_not_negative", "lot", CHECK)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("reserved_not_negative", "lot", type_="check")
    op.drop_column("lot", "units_reserved")  # SQLite drops the column's own CHECK with it
