"""content clocks per area (the catalog, its stock, the blog) replace the one site_state stamp

Revision ID: e1a4c7b9d3f2
Revises: d9f2b6a4e1c8
Create Date: 2026-12-01 08:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e1a4c7b9d3f2"
down_revision = "d9f2b6a4e1c8"
branch_labels = None
depends_on = None

CLOCKS = (("catalog", "content"), ("catalog", "stock"), ("blog", "content"))


def upgrade():
    op.create_table(
        "content_clock",
        sa.Column("area", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("area", "kind", name=op.f("pk_content_clock")),
    )
    # Every clock starts from the one stamp: when the public content last changed carries over.
    for area, kind in CLOCKS:
        op.execute(
            sa.text(
                "INSERT INTO content_clock (area, kind, changes, changed_at)"
                " SELECT :area, :kind, 1, content_changed_at FROM site_state WHERE id = 1"
            ).bindparams(area=area, kind=kind)
        )
    op.drop_table("site_state")


def downgrade():
    op.create_table(
        "site_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_state")),
    )
    # The one stamp is the latest change of any area.
    op.execute(
        "INSERT INTO site_state (id, content_changed_at)"
        " SELECT 1, MAX(changed_at) FROM content_clock HAVING COUNT(*) > 0"
    )
    op.drop_table("content_clock")
