"""add a version to topics (optimistic locking) and a session version to users

Revision ID: c3e8a1f5d720
Revises: a7e5c1d9b3f4
Create Date: 2026-12-01 07:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c3e8a1f5d720"
down_revision = "a7e5c1d9b3f4"
branch_labels = None
depends_on = None


def upgrade():
    # Staff edit topics in two tabs too: an UPDATE must name the version it read.
    with op.batch_alter_table("topic") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    # Sessions carry the version they were signed in with; logout and a password change move it on,
    # so every earlier session of that user ends.
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    with op.batch_alter_table("user") as batch:
        batch.drop_column("session_version")
    with op.batch_alter_table("topic") as batch:
        batch.drop_column("version")
