"""a log of which products' stock changed, so every worker updates its facet index in place

Revision ID: a3c7e9f1b2d4
Revises: d7e2a9c4b618
Create Date: 2026-12-02 00:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a3c7e9f1b2d4"
down_revision = "d7e2a9c4b618"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "catalog_stock_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_stock_change")),
    )
    op.create_index(op.f("ix_catalog_stock_change_changed_at"), "catalog_stock_change", ["changed_at"])


def downgrade():
    op.drop_index(op.f("ix_catalog_stock_change_changed_at"), table_name="catalog_stock_change")
    op.drop_table("catalog_stock_change")
