"""create the mail outbox: one row per e-mail, queued in the transaction it reports, delivered by a worker

Revision ID: b8c4e2a7f193
Revises: f3b8d2a6c4e1
Create Date: 2026-12-02 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b8c4e2a7f193"
down_revision = "f3b8d2a6c4e1"
branch_labels = None
depends_on = None

STILL_TO_SEND = "status IN ('queued', 'sending')"


def upgrade():
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("from_address", sa.String(length=320), nullable=False),
        sa.Column("reply_to", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_message_id")),
    )
    with op.batch_alter_table("outbox_message") as batch:
        batch.create_index(batch.f("ix_outbox_message_created_at"), ["created_at"])
        batch.create_index(batch.f("ix_outbox_message_to_address"), ["to_address"])
        batch.create_index(batch.f("ix_outbox_message_template"), ["template"])
        batch.create_index(batch.f("ix_outbox_message_status"), ["status"])
    op.create_index(
        "ix_outbox_message_due",
        "outbox_message",
        ["priority", "available_at", "id"],
        sqlite_where=sa.text(STILL_TO_SEND),
        postgresql_where=sa.text(STILL_TO_SEND),
    )


def downgrade():
    op.drop_index("ix_outbox_message_due", table_name="outbox_message")
    op.drop_table("outbox_message")
