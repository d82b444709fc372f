"""table alignment in stored post bodies as classes, not style attributes

Revision ID: d9f2b6a4e1c8
Revises: c3e8a1f5d720
Create Date: 2026-12-01 08:05:00

"""

from alembic import op

revision = "d9f2b6a4e1c8"
down_revision = "c3e8a1f5d720"
branch_labels = None
depends_on = None

# Post bodies are rendered once, at save: those saved before the Content-Security-Policy carry
# style="text-align:..." on table cells, which the browser now refuses. The renderer writes a
# class instead; give stored bodies the same markup without re-rendering them.
ALIGNMENTS = ("left", "center", "right")


def _rewrite(old: str, new: str) -> None:
    body = "body_html"
    for align in ALIGNMENTS:
        body = f"REPLACE({body}, '{old.format(align=align)}', '{new.format(align=align)}')"
    op.execute(f"UPDATE post SET body_html = {body} WHERE body_html LIKE '%text-align:%'")


def upgrade():
    _rewrite(' style="text-align:{align}"', ' class="align-{align}"')


def downgrade():
    _rewrite(' class="align-{align}"', ' style="text-align:{align}"')
