"""create inquiries with their items and timeline, and quotes with their lines

Revision ID: a1c4e7b2d913
Revises: a3c6e9f2b8d4
Create Date: 2026-12-02 00:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a1c4e7b2d913"
down_revision = "a3c6e9f2b8d4"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "inquiry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=True),
        sa.Column("submit_key", sa.String(length=64), nullable=False),
        sa.Column("token_key", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("ip_address", sa.String(length=45), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("institution", sa.String(length=200), nullable=False),
        sa.Column("institution_type", sa.String(length=20), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=80), nullable=False),
        sa.Column("shipping_address", sa.Text(), nullable=False),
        sa.Column("custom_request", sa.Text(), nullable=False),
        sa.Column("intended_use", sa.String(length=30), nullable=False),
        sa.Column("needed_by", sa.Date(), nullable=True),
        sa.Column("recurring", sa.String(length=20), nullable=False),
        sa.Column("donor_sex", sa.String(length=1), nullable=False),
        sa.Column("donor_age_min", sa.Integer(), nullable=True),
        sa.Column("donor_age_max", sa.Integer(), nullable=True),
        sa.Column("donor_bmi_max", sa.Float(), nullable=True),
        sa.Column("donor_cmv", sa.String(length=10), nullable=False),
        sa.Column("donor_hla", sa.String(length=200), nullable=False),
        sa.Column("donor_smoking", sa.String(length=10), nullable=False),
        sa.Column("same_donor", sa.Boolean(), nullable=False),
        sa.Column("donor_count", sa.Integer(), nullable=True),
        sa.Column("po_number", sa.String(length=60), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("ruo_acknowledged", sa.Boolean(), nullable=False),
        sa.CheckConstraint("donor_count IS NULL OR (donor_count >= 1 AND donor_count <= 100)", name=op.f("ck_inquiry_donor_count_range")),
        sa.ForeignKeyConstraint(["assignee_id"], ["user.id"], name=op.f("fk_inquiry_assignee_id_user"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiry")),
        sa.UniqueConstraint("reference", name=op.f("uq_inquiry_reference")),
        sa.UniqueConstraint("submit_key", name=op.f("uq_inquiry_submit_key")),
    )
    with op.batch_alter_table("inquiry") as batch:
        batch.create_index("ix_inquiry_status_created", ["status", "created_at"])
        batch.create_index(batch.f("ix_inquiry_status"), ["status"])
        batch.create_index(batch.f("ix_inquiry_created_at"), ["created_at"])
        batch.create_index(batch.f("ix_inquiry_assignee_id"), ["assignee_id"])
        batch.create_index(batch.f("ix_inquiry_email"), ["email"])
    op.create_table(
        "inquiry_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("catalog_number", sa.String(length=40), nullable=False),
        sa.Column("lot_number", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("preferred_format", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_inquiry_item_quantity_positive")),
        sa.ForeignKeyConstraint(["inquiry_id"], ["inquiry.id"], name=op.f("fk_inquiry_item_inquiry_id_inquiry"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_inquiry_item_product_id_product"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_inquiry_item_lot_id_lot"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiry_item")),
    )
    with op.batch_alter_table("inquiry_item") as batch:
        batch.create_index(batch.f("ix_inquiry_item_inquiry_id"), ["inquiry_id"])
        batch.create_index(batch.f("ix_inquiry_item_product_id"), ["product_id"])
    op.create_table(
        "inquiry_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=120), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["inquiry_id"], ["inquiry.id"], name=op.f("fk_inquiry_event_inquiry_id_inquiry"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"], name=op.f("fk_inquiry_event_actor_id_user"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiry_event")),
    )
    with op.batch_alter_table("inquiry_event") as batch:
        batch.create_index(batch.f("ix_inquiry_event_inquiry_id"), ["inquiry_id"])
    op.create_table(
        "quote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.CheckConstraint("lead_time_days IS NULL OR lead_time_days >= 0", name=op.f("ck_quote_lead_time_positive")),
        sa.ForeignKeyConstraint(["inquiry_id"], ["inquiry.id"], name=op.f("fk_quote_inquiry_id_inquiry"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote")),
    )
    with op.batch_alter_table("quote") as batch:
        batch.create_index(batch.f("ix_quote_inquiry_id"), ["inquiry_id"])
        batch.create_index(batch.f("ix_quote_status"), ["status"])
    op.create_table(
        "quote_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quote_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.CheckConstraint("units >= 1", name=op.f("ck_quote_line_units_positive")),
        sa.CheckConstraint("unit_price_cents >= 0", name=op.f("ck_quote_line_price_not_negative")),
        sa.ForeignKeyConstraint(["quote_id"], ["quote.id"], name=op.f("fk_quote_line_quote_id_quote"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_quote_line_product_id_product"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_quote_line_lot_id_lot"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_line")),
    )
    with op.batch_alter_table("quote_line") as batch:
        batch.create_index(batch.f("ix_quote_line_quote_id"), ["quote_id"])


def downgrade():
    op.drop_table("quote_line")
    op.drop_table("quote")
    op.drop_table("inquiry_event")
    op.drop_table("inquiry_item")
    op.drop_table("inquiry")
