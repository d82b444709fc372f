"""render product descriptions at save: product.description_html, filled for existing rows

Revision ID: f3b8d2a6c4e1
Revises: e1a4c7b9d3f2
Create Date: 2026-12-01 08:30:00

"""

import sqlalchemy as sa
from alembic import op

from shop.markdown import render_markdown

revision = "f3b8d2a6c4e1"
down_revision = "e1a4c7b9d3f2"
branch_labels = None
depends_on = None

# Rows are read and written a batch at a time, so 100,000 products never sit in memory at once.
BATCH = 2_000
product = sa.table("product", sa.column("id", sa.Integer), sa.column("description", sa.Text))


def upgrade():
    # Plain ADD COLUMN (no table rebuild on SQLite), so the product_fts triggers stay in place.
    op.add_column("product", sa.Column("description_html", sa.Text(), server_default="", nullable=False))
    # The product page used to render the description on every miss; render the stored ones once,
    # with the same renderer the model uses when a description is written.
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(product.c.id, product.c.description)
            .where(product.c.id > last_id)
            .order_by(product.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            sa.text("UPDATE product SET description_html = :html WHERE id = :id"),
            [{"id": row.id, "html": str(render_markdown(row.description))} for row in rows],
        )
        last_id = rows[-1].id


def downgrade():
    # Native DROP COLUMN (SQLite 3.35+): a batch rebuild would lose the product_fts triggers.
    op.drop_column("product", "description_html")
