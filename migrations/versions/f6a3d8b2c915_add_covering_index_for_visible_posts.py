"""add a covering index for visible posts (status, published_at)

Revision ID: f6a3d8b2c915
Revises: e4b1f6c9a2d3
Create Date: 2026-11-29 09:15:00

"""

from alembic import op

revision = "f6a3d8b2c915"
down_revision = "e4b1f6c9a2d3"
branch_labels = None
depends_on = None


def upgrade():
    # "Which posts are public now" without reading post rows: on SQLite a row's status and date sit
    # after its body, so reading them walks the body's overflow pages (10 ms for 2,000 posts).
    op.create_index("ix_post_visible", "post", ["status", "published_at"])


def downgrade():
    op.drop_index("ix_post_visible", table_name="post")
