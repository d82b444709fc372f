"""Orders: what was bought (frozen when the checkout began), its payment state, and a timeline of what happened."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.models import UTCDateTime, utcnow

PENDING, PROCESSING, PAID, FAILED, EXPIRED = "pending", "processing", "paid", "payment_failed", "expired"
REFUNDED, PARTIALLY_REFUNDED = "refunded", "partially_refunded"
STATUSES = {
    PENDING: "Awaiting payment",
    PROCESSING: "Payment processing",
    PAID: "Paid",
    FAILED: "Payment failed",
    EXPIRED: "Expired",
    PARTIALLY_REFUNDED: "Partly refunded",
    REFUNDED: "Refunded",
}
# States from which a confirmed payment moves the order to paid (once: see services.fulfil_checkout).
PAYABLE = (PENDING, PROCESSING, FAILED)
# Whose the order's units are: held for the open checkout, given back, or sold.
HOLD_NONE, HOLD_HELD, HOLD_RELEASED, HOLD_SOLD = "none", "held", "released", "sold"
SOURCES = {"cart": "Cart", "quote": "Accepted quote"}


class Order(db.Model):
    """One purchase: the buyer, the amounts in cents, the Stripe session that pays it, and its state."""

    __tablename__ = "shop_order"
    __table_args__ = (
        CheckConstraint("total_cents >= 0", name="order_total_not_negative"),
        CheckConstraint("amount_refunded_cents >= 0", name="order_refund_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    source: Mapped[str] = mapped_column(String(10), default="cart")
    # The accepted quote this order pays (issue 13's inquiry reference), when it came from one.
    quote_reference: Mapped[str | None] = mapped_column(String(40), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    institution: Mapped[str] = mapped_column(String(200), default="")
    shipping_address: Mapped[str] = mapped_column(Text, default="")
    research_use_acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    currency: Mapped[str] = mapped_column(String(3))
    total_cents: Mapped[int] = mapped_column(Integer)
    amount_refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    hold: Mapped[str] = mapped_column(String(10), default=HOLD_NONE)
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_payment_intent: Mapped[str | None] = mapped_column(String(255), index=True)
    checkout_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # When the checkout closes (Stripe's expires_at): past it, a pending order's units go back.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    items: Mapped[list["OrderItem"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    events: Mapped[list["OrderEvent"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id"
    )

    @property
    def status_label(self) -> str:
        """The state as people read it."""
        return STATUSES.get(self.status, self.status)

    @property
    def refundable_cents(self) -> int:
        """What may still be refunded."""
        return self.total_cents - self.amount_refunded_cents if self.status in (PAID, PARTIALLY_REFUNDED) else 0

    def __str__(self) -> str:
        return self.reference


class OrderItem(db.Model):
    """A line of an order: units of one lot at the price of the moment the checkout began."""

    __tablename__ = "order_item"
    __table_args__ = (
        CheckConstraint("units > 0", name="order_item_units_positive"),
        CheckConstraint("unit_price_cents >= 0", name="order_item_price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_order.id", ondelete="CASCADE"), index=True)
    # None for a quote's line that names no lot (custom donor work, shipping): no stock moves for it.
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id"), index=True)
    product_name: Mapped[str] = mapped_column(String(200))
    catalog_number: Mapped[str] = mapped_column(String(40))
    lot_number: Mapped[str] = mapped_column(String(40))
    units: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    # The order holds these units itself (a cart); False when an accepted quote held them before the order.
    held_here: Mapped[bool] = mapped_column(Boolean, default=True)

    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def total_cents(self) -> int:
        """Units times the unit price."""
        return self.units * self.unit_price_cents


class OrderEvent(db.Model):
    """One step in an order's timeline: created, sent to Stripe, paid, refunded ... with who or what did it."""

    __tablename__ = "order_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_order.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text, default="")
    # The Stripe event that caused it, or "redirect", "back office: <email>", "worker".
    via: Mapped[str] = mapped_column(String(255), default="")

    order: Mapped[Order] = relationship(back_populates="events")


class StripeEvent(db.Model):
    """A Stripe event the webhook took, by Stripe's id: recorded with its effect, so a replay changes nothing."""

    __tablename__ = "stripe_event"

    # Stripe's id (evt_...), not a counter: no sequence (tests' setval over serial ids must leave it alone).
    id: Mapped[str] = mapped_column(String(255), primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("shop_order.id", ondelete="SET NULL"), index=True)
    handled: Mapped[bool] = mapped_column(Boolean, default=False)
