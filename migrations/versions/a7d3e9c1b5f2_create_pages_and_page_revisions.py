"""create pages (About, Quality, Shipping, Terms, Privacy ...) and their revisions

Revision ID: a7d3e9c1b5f2
Revises: a1c4e7b2d913
Create Date: 2026-12-02 00:45:00

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "a7d3e9c1b5f2"
down_revision = "a1c4e7b2d913"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=400), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page")),
        sa.UniqueConstraint("slug", name=op.f("uq_page_slug")),
    )
    op.create_table(
        "page_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=400), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["page_id"], ["page.id"], name=op.f("fk_page_revision_page_id_page"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_revision")),
        sa.UniqueConstraint("page_id", "number", name="page_revision_number"),
    )
    op.create_index(op.f("ix_page_revision_page_id"), "page_revision", ["page_id"])
    # The pages' own content clock (shop/content_clock.py), beside the catalog's and the blog's.
    clock = sa.table(
        "content_clock",
        sa.column("area", sa.String),
        sa.column("kind", sa.String),
        sa.column("changes", sa.Integer),
        sa.column("changed_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(clock, [{"area": "pages", "kind": "content", "changes": 1, "changed_at": datetime.now(UTC)}])


def downgrade():
    op.execute("DELETE FROM content_clock WHERE area = 'pages'")
    op.drop_index(op.f("ix_page_revision_page_id"), table_name="page_revision")
    op.drop_table("page_revision")
    op.drop_table("page")
