"""add lot.entered_stock_at: when a lot last entered stock (new, restocked, released from a hold)

Revision ID: 725c3a2ac5ed
Revises: e7b2d5a9c3f1
Create Date: 2026-12-03 09:00:00

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "725c3a2ac5ed"
down_revision = "e7b2d5a9c3f1"
branch_labels = None
depends_on = None

lot = sa.table(
    "lot",
    sa.column("entered_stock_at", sa.DateTime(timezone=True)),
    sa.column("status", sa.String),
    sa.column("units_available", sa.Integer),
)


def upgrade():
    # A plain ADD COLUMN on both databases: a batch rebuild of the lot table on SQLite would have to carry its
    # partial in-stock index and CHECK constraints across by hand (as a3c6e9f2b8d4 notes).
    op.add_column("lot", sa.Column("entered_stock_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_lot_entered_stock_at"), "lot", ["entered_stock_at"])
    # When the lots in stock now came in is not known: from now, as far as anyone waiting for a lot can tell.
    op.execute(
        lot.update()
        .where(lot.c.status == "available", lot.c.units_available > 0)
        .values(entered_stock_at=datetime.now(UTC))
    )


def downgrade():
    op.drop_index(op.f("ix_lot_entered_stock_at"), table_name="lot")
    op.drop_column("lot", "entered_stock_at")  # native DROP COLUMN (SQLite 3.35+), no rebuild
