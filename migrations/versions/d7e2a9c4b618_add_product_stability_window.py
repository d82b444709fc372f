"""add product.stability_hours: how long a fresh product's lot stays usable after collection

Revision ID: d7e2a9c4b618
Revises: b3e8f1a6c2d4
Create Date: 2026-12-02 01:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d7e2a9c4b618"
down_revision = "b3e8f1a6c2d4"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no table rebuild on SQLite), so the product_fts triggers stay in place; the
    # rule (1 hour to 30 days) is checked by shop/catalog/rules.py wherever a value is written.
    op.add_column("product", sa.Column("stability_hours", sa.Integer(), nullable=True))


def downgrade():
    # Native DROP COLUMN (SQLite 3.35+): a batch rebuild would lose the product_fts triggers.
    op.drop_column("product", "stability_hours")
