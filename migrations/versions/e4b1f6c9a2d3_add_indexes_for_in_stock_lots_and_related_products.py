"""add indexes: lots in stock (partial), products by category in display order

Revision ID: e4b1f6c9a2d3
Revises: d2a7c4e8f1b6
Create Date: 2026-11-29 07:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = "e4b1f6c9a2d3"
down_revision = "d2a7c4e8f1b6"
branch_labels = None
depends_on = None

IN_STOCK = sa.text("status = 'available' AND units_available > 0")


def upgrade():
    # "Has a lot in stock" (availability facet, donor facets, product pages) reads only these rows.
    op.create_index(
        "ix_lot_in_stock", "lot", ["product_id", "donor_id"], sqlite_where=IN_STOCK, postgresql_where=IN_STOCK
    )
    # Related products: same category, featured first, then by name, without sorting the category.
    op.create_index("ix_product_category_display", "product", ["category_id", sa.text("featured DESC"), "name"])


def downgrade():
    op.drop_index("ix_product_category_display", table_name="product")
    op.drop_index("ix_lot_in_stock", table_name="lot")
