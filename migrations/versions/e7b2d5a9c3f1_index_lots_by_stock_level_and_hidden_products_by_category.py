"""index lots by stock level and products by visibility and category, for the dashboard's catalog panel

Revision ID: e7b2d5a9c3f1
Revises: c5a8e2f4b7d1
Create Date: 2026-12-07 22:40:00

"""

from alembic import op

revision = "e7b2d5a9c3f1"
down_revision = "c5a8e2f4b7d1"
branch_labels = None
depends_on = None


def upgrade():
    # "Running low": available lots by units, then number, read in order (it sorted every available lot:
    # 28 ms on the benchmark's 180,000).
    op.create_index("ix_lot_stock_level", "lot", ["status", "units_available", "lot_number"])
    # Hidden products per category, counted from the index alone (9 ms reading 5,000 rows before).
    op.create_index("ix_product_active_category", "product", ["active", "category_id"])


def downgrade():
    op.drop_index("ix_product_active_category", table_name="product")
    op.drop_index("ix_lot_stock_level", table_name="lot")
