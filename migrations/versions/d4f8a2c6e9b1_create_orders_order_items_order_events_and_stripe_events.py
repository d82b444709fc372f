"""create orders (shop_order), their items and timeline (order_event), and the Stripe events the webhook took

Revision ID: d4f8a2c6e9b1
Revises: a3c7e9f1b2d4
Create Date: 2026-12-02 00:44:01

"""

import sqlalchemy as sa
from alembic import op

revision = "d4f8a2c6e9b1"
down_revision = "a3c7e9f1b2d4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "shop_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("quote_reference", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("institution", sa.String(length=200), nullable=False),
        sa.Column("shipping_address", sa.Text(), nullable=False),
        sa.Column("research_use_acknowledged", sa.Boolean(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("amount_refunded_cents", sa.Integer(), nullable=False),
        sa.Column("hold", sa.String(length=10), nullable=False),
        sa.Column("stripe_session_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_payment_intent", sa.String(length=255), nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount_refunded_cents >= 0", name=op.f("ck_shop_order_order_refund_not_negative")),
        sa.CheckConstraint("total_cents >= 0", name=op.f("ck_shop_order_order_total_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_order")),
        sa.UniqueConstraint("reference", name=op.f("uq_shop_order_reference")),
        sa.UniqueConstraint("stripe_session_id", name=op.f("uq_shop_order_stripe_session_id")),
    )
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_order_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_order_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_order_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_order_paid_at"), ["paid_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_order_quote_reference"), ["quote_reference"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_order_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_shop_order_stripe_payment_intent"), ["stripe_payment_intent"], unique=False
        )

    op.create_table(
        "order_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("via", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["shop_order.id"], name=op.f("fk_order_event_order_id_shop_order"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_event")),
    )
    with op.batch_alter_table("order_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_event_order_id"), ["order_id"], unique=False)

    op.create_table(
        "stripe_event",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("handled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["shop_order.id"], name=op.f("fk_stripe_event_order_id_shop_order"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_event")),
    )
    with op.batch_alter_table("stripe_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stripe_event_order_id"), ["order_id"], unique=False)

    op.create_table(
        "order_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("catalog_number", sa.String(length=40), nullable=False),
        sa.Column("lot_number", sa.String(length=40), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("held_here", sa.Boolean(), nullable=False),
        sa.CheckConstraint("unit_price_cents >= 0", name=op.f("ck_order_item_order_item_price_not_negative")),
        sa.CheckConstraint("units > 0", name=op.f("ck_order_item_order_item_units_positive")),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_order_item_lot_id_lot")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["shop_order.id"], name=op.f("fk_order_item_order_id_shop_order"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_item")),
    )
    with op.batch_alter_table("order_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_item_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_item_order_id"), ["order_id"], unique=False)


def downgrade():
    with op.batch_alter_table("order_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_item_order_id"))
        batch_op.drop_index(batch_op.f("ix_order_item_lot_id"))

    op.drop_table("order_item")
    with op.batch_alter_table("stripe_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stripe_event_order_id"))

    op.drop_table("stripe_event")
    with op.batch_alter_table("order_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_event_order_id"))

    op.drop_table("order_event")
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_order_stripe_payment_intent"))
        batch_op.drop_index(batch_op.f("ix_shop_order_status"))
        batch_op.drop_index(batch_op.f("ix_shop_order_quote_reference"))
        batch_op.drop_index(batch_op.f("ix_shop_order_paid_at"))
        batch_op.drop_index(batch_op.f("ix_shop_order_expires_at"))
        batch_op.drop_index(batch_op.f("ix_shop_order_email"))
        batch_op.drop_index(batch_op.f("ix_shop_order_created_at"))

    op.drop_table("shop_order")
