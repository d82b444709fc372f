"""create blog subscribers with their topics, the consent log, post notices and (post, subscriber) deliveries

Revision ID: c9d5f3b8a204
Revises: b8c4e2a7f193
Create Date: 2026-12-02 09:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c9d5f3b8a204"
down_revision = "b8c4e2a7f193"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "subscriber",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("all_topics", sa.Boolean(), nullable=False),
        sa.Column("frequency", sa.String(length=20), nullable=False),
        sa.Column("token_key", sa.String(length=32), nullable=False),
        sa.Column("confirm_nonce", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirm_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bounced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_digest_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriber")),
        sa.UniqueConstraint("email", name=op.f("uq_subscriber_email")),
    )
    with op.batch_alter_table("subscriber") as batch:
        batch.create_index("ix_subscriber_sending", ["status", "frequency"])
        batch.create_index(batch.f("ix_subscriber_created_at"), ["created_at"])
        batch.create_index(batch.f("ix_subscriber_confirmed_at"), ["confirmed_at"])
        batch.create_index(batch.f("ix_subscriber_unsubscribed_at"), ["unsubscribed_at"])
    op.create_table(
        "subscriber_topic",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"], name=op.f("fk_subscriber_topic_subscriber_id_subscriber"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["topic_id"], ["topic.id"], name=op.f("fk_subscriber_topic_topic_id_topic"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscriber_id", "topic_id", name=op.f("pk_subscriber_topic")),
    )
    with op.batch_alter_table("subscriber_topic") as batch:
        batch.create_index(batch.f("ix_subscriber_topic_topic_id"), ["topic_id"])
    op.create_table(
        "subscription_consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("ip_address", sa.String(length=45), nullable=False),
        sa.Column("form", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"], name=op.f("fk_subscription_consent_subscriber_id_subscriber"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_consent")),
    )
    with op.batch_alter_table("subscription_consent") as batch:
        batch.create_index(batch.f("ix_subscription_consent_subscriber_id"), ["subscriber_id"])
    op.create_table(
        "subscription_post_notice",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"], name=op.f("fk_subscription_post_notice_post_id_post"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_subscription_post_notice")),
    )
    with op.batch_alter_table("subscription_post_notice") as batch:
        batch.create_index(batch.f("ix_subscription_post_notice_announced_at"), ["announced_at"])
    op.create_table(
        "subscription_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"], name=op.f("fk_subscription_delivery_post_id_post"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"], name=op.f("fk_subscription_delivery_subscriber_id_subscriber"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_delivery")),
        sa.UniqueConstraint("post_id", "subscriber_id", name="uq_subscription_delivery_post_subscriber"),
    )
    with op.batch_alter_table("subscription_delivery") as batch:
        batch.create_index(batch.f("ix_subscription_delivery_subscriber_id"), ["subscriber_id"])


def downgrade():
    op.drop_table("subscription_delivery")
    op.drop_table("subscription_post_notice")
    op.drop_table("subscription_consent")
    op.drop_table("subscriber_topic")
    op.drop_table("subscriber")
