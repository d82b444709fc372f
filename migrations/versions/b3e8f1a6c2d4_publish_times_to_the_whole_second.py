"""publish times to the whole second (a post published with "Publish now" had microseconds)

HTML's <time datetime> allows at most three digits of a second's fraction, and
readers never see one: existing rows lose theirs, as new ones are stored.

Revision ID: b3e8f1a6c2d4
Revises: a7d3e9c1b5f2
Create Date: 2026-12-02 00:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b3e8f1a6c2d4"
down_revision = "a7d3e9c1b5f2"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("UPDATE post SET published_at = date_trunc('second', published_at) WHERE published_at IS NOT NULL")
        return
    # SQLite keeps the time as text ("2026-12-01 07:00:58.853818"), read and written back by the same type.
    post = sa.table("post", sa.column("id", sa.Integer), sa.column("published_at", sa.DateTime(timezone=True)))
    rows = bind.execute(sa.select(post.c.id, post.c.published_at).where(post.c.published_at.is_not(None))).all()
    for row in rows:
        if row.published_at.microsecond:
            whole = row.published_at.replace(microsecond=0)
            bind.execute(sa.update(post).where(post.c.id == row.id).values(published_at=whole))


def downgrade():
    pass  # the fractions are gone, and nothing needs them back
