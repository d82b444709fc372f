"""create donor alerts: filters, addresses, alerts, their consent log, (alert, lot) deliveries and lot arrivals

Revision ID: 70696ddcb8b0
Revises: 725c3a2ac5ed
Create Date: 2026-12-03 09:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "70696ddcb8b0"
down_revision = "725c3a2ac5ed"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "alert_filter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("sentence", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_filter")),
        sa.UniqueConstraint("query", name=op.f("uq_alert_filter_query")),
    )
    op.create_table(
        "alert_address",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("token_key", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bounced_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_address")),
        sa.UniqueConstraint("email", name=op.f("uq_alert_address_email")),
    )
    op.create_table(
        "donor_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("filter_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("confirm_nonce", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirm_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["address_id"], ["alert_address.id"], name=op.f("fk_donor_alert_address_id_alert_address"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["filter_id"], ["alert_filter.id"], name=op.f("fk_donor_alert_filter_id_alert_filter")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donor_alert")),
        sa.UniqueConstraint("address_id", "filter_id", name="uq_donor_alert_address_filter"),
    )
    with op.batch_alter_table("donor_alert") as batch:
        batch.create_index(batch.f("ix_donor_alert_address_id"), ["address_id"])
        batch.create_index(batch.f("ix_donor_alert_status"), ["status"])
        batch.create_index(batch.f("ix_donor_alert_confirmed_at"), ["confirmed_at"])
        batch.create_index("ix_donor_alert_waiting", ["filter_id", "status"])
    op.create_table(
        "alert_consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("ip_address", sa.String(length=45), nullable=False),
        sa.Column("form", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["address_id"], ["alert_address.id"], name=op.f("fk_alert_consent_address_id_alert_address"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_consent")),
    )
    with op.batch_alter_table("alert_consent") as batch:
        batch.create_index(batch.f("ix_alert_consent_address_id"), ["address_id"])
    op.create_table(
        "alert_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["donor_alert.id"], name=op.f("fk_alert_delivery_alert_id_donor_alert"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_alert_delivery_lot_id_lot"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_delivery")),
        sa.UniqueConstraint("alert_id", "lot_id", name="uq_alert_delivery_alert_lot"),
    )
    with op.batch_alter_table("alert_delivery") as batch:
        batch.create_index(batch.f("ix_alert_delivery_lot_id"), ["lot_id"])
    op.create_table(
        "alert_lot_arrival",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("entered_stock_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("noted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_alert_lot_arrival_lot_id_lot"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("lot_id", name=op.f("pk_alert_lot_arrival")),
    )
    with op.batch_alter_table("alert_lot_arrival") as batch:
        batch.create_index(
            "ix_alert_lot_arrival_waiting",
            ["entered_stock_at"],
            sqlite_where=sa.text("done_at IS NULL"),
            postgresql_where=sa.text("done_at IS NULL"),
        )


def downgrade():
    op.drop_table("alert_lot_arrival")
    op.drop_table("alert_delivery")
    op.drop_table("alert_consent")
    op.drop_table("donor_alert")
    op.drop_table("alert_address")
    op.drop_table("alert_filter")
