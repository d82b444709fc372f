"""Inquiries (requests for a quote), their items, their timeline, and the quotes sales send.

States of an inquiry (``Inquiry.status``)::

    new ──> in_review ──> quoted ──> accepted ──> (paid: the payments feature)
                ^            │  └──> declined
                └────────────┘  └──> expired      (the quote's validity date passed)
    cancelled: from new, in_review, quoted or accepted (an accepted quote's held lots are released)

``OPEN`` states can still change; ``declined``, ``expired`` and ``cancelled``
are final. A :class:`Quote` belongs to an inquiry; the one sent last is the
inquiry's current quote (an earlier one is ``superseded``). Its lines are in
integer cents of the quote's currency; a line may name a lot, and accepting
the quote holds that lot's units (``shop.catalog.stock``) until the quote is
paid, declined, cancelled or expired. ``Quote.held`` says whether the hold is
in place. Payments read the accepted quote through
:func:`shop.inquiries.services.accepted_quote_for_token`.
"""

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.models import UTCDateTime, utcnow

NEW, IN_REVIEW, QUOTED, ACCEPTED, DECLINED, EXPIRED, CANCELLED = (
    "new", "in_review", "quoted", "accepted", "declined", "expired", "cancelled",
)  # fmt: skip
STATUSES = {
    NEW: "New",
    IN_REVIEW: "In review",
    QUOTED: "Quoted",
    ACCEPTED: "Accepted",
    DECLINED: "Declined",
    EXPIRED: "Expired",
    CANCELLED: "Cancelled",
}
# Which state may follow which: anything else is refused (services.change_status).
TRANSITIONS = {
    NEW: {IN_REVIEW, CANCELLED},
    IN_REVIEW: {QUOTED, CANCELLED},
    QUOTED: {IN_REVIEW, ACCEPTED, DECLINED, EXPIRED, CANCELLED},
    ACCEPTED: {CANCELLED},
    DECLINED: set(),
    EXPIRED: set(),
    CANCELLED: set(),
}
OPEN = frozenset(state for state, following in TRANSITIONS.items() if following)

INSTITUTION_TYPES = {
    "academic": "Academic / university",
    "biotech": "Biotech / pharma",
    "cdmo": "CDMO / CRO",
    "government": "Government / hospital",
    "other": "Other",
}
INTENDED_USES = {
    "basic_research": "Basic research",
    "process_development": "Process development",
    "assay_development": "Assay development",
    "qc_reference": "QC reference material",
    "gmp_manufacturing": "GMP manufacturing",
}
RECURRING = {"once": "One-time order", "monthly": "Monthly", "quarterly": "Quarterly", "project": "Over a project"}
PREFERRED_FORMATS = {"": "No preference", "fresh": "Fresh", "cryopreserved": "Cryopreserved"}
DONOR_SEX = {"": "Any", "F": "Female", "M": "Male"}
DONOR_CMV = {"": "Any", "positive": "CMV positive", "negative": "CMV negative"}
DONOR_SMOKING = {"": "Any", "none": "Non-smoker only"}

# Quote states
DRAFT, SENT, SUPERSEDED = "draft", "sent", "superseded"
QUOTE_STATUSES = {
    DRAFT: "Draft",
    SENT: "Sent",
    ACCEPTED: "Accepted",
    DECLINED: "Declined",
    EXPIRED: "Expired",
    SUPERSEDED: "Superseded",
    CANCELLED: "Cancelled",
}


class Inquiry(db.Model):
    """A researcher's request for a quote: who, what (items or a custom request), donor criteria, and its state."""

    __tablename__ = "inquiry"
    __table_args__ = (
        CheckConstraint("donor_count IS NULL OR (donor_count >= 1 AND donor_count <= 100)", name="donor_count_range"),
        Index("ix_inquiry_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    # One per rendered form: a double click or a resent form finds the inquiry it already made.
    submit_key: Mapped[str] = mapped_column(String(64), unique=True)
    token_key: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20), default=NEW, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    ip_address: Mapped[str] = mapped_column(String(45), default="")

    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    institution: Mapped[str] = mapped_column(String(200))
    institution_type: Mapped[str] = mapped_column(String(20))
    department: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(80))
    shipping_address: Mapped[str] = mapped_column(Text, default="")

    custom_request: Mapped[str] = mapped_column(Text, default="")
    intended_use: Mapped[str] = mapped_column(String(30))
    needed_by: Mapped[date | None]
    recurring: Mapped[str] = mapped_column(String(20), default="once")
    donor_sex: Mapped[str] = mapped_column(String(1), default="")
    donor_age_min: Mapped[int | None] = mapped_column(Integer)
    donor_age_max: Mapped[int | None] = mapped_column(Integer)
    donor_bmi_max: Mapped[float | None] = mapped_column(Float)
    donor_cmv: Mapped[str] = mapped_column(String(10), default="")
    donor_hla: Mapped[str] = mapped_column(String(200), default="")
    donor_smoking: Mapped[str] = mapped_column(String(10), default="")
    same_donor: Mapped[bool] = mapped_column(Boolean, default=False)
    donor_count: Mapped[int | None] = mapped_column(Integer)
    po_number: Mapped[str] = mapped_column(String(60), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    ruo_acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)

    assignee = relationship("User", lazy="joined")
    items: Mapped[list["InquiryItem"]] = relationship(
        back_populates="inquiry", cascade="all, delete-orphan", order_by="InquiryItem.id"
    )
    events: Mapped[list["InquiryEvent"]] = relationship(
        back_populates="inquiry", cascade="all, delete-orphan", order_by="InquiryEvent.id"
    )
    quotes: Mapped[list["Quote"]] = relationship(
        back_populates="inquiry", cascade="all, delete-orphan", order_by="Quote.id"
    )

    @property
    def is_open(self) -> bool:
        """Whether the inquiry's state can still change."""
        return self.status in OPEN

    @property
    def current_quote(self) -> "Quote | None":
        """The quote sent last (what the researcher can accept), else the newest draft."""
        sent = [q for q in self.quotes if q.status != DRAFT]
        return sent[-1] if sent else (self.quotes[-1] if self.quotes else None)

    @property
    def draft_quote(self) -> "Quote | None":
        """The quote being written, not yet sent."""
        return next((q for q in reversed(self.quotes) if q.status == DRAFT), None)

    def __str__(self) -> str:
        return self.reference or f"inquiry {self.id}"


class InquiryItem(db.Model):
    """One product asked for (with the name and number it had then), a quantity, a format, maybe a lot."""

    __tablename__ = "inquiry_item"
    __table_args__ = (CheckConstraint("quantity >= 1", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiry.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id", ondelete="SET NULL"))
    product_name: Mapped[str] = mapped_column(String(200))
    catalog_number: Mapped[str] = mapped_column(String(40))
    lot_number: Mapped[str] = mapped_column(String(40), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    preferred_format: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(String(500), default="")

    inquiry: Mapped[Inquiry] = relationship(back_populates="items")
    product = relationship("Product")
    lot = relationship("Lot")


class InquiryEvent(db.Model):
    """A line of the timeline: a state change, a note, an assignment, a quote or an e-mail; who and when."""

    __tablename__ = "inquiry_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiry.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))  # status, note, assigned, quote, email, stock
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(120))  # "jo@cellshop.example", "researcher", "system"
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")

    inquiry: Mapped[Inquiry] = relationship(back_populates="events")


class Quote(db.Model):
    """A priced offer for an inquiry: lines in cents, lead time, validity, terms; sent, then accepted or not."""

    __tablename__ = "quote"
    __table_args__ = (CheckConstraint("lead_time_days IS NULL OR lead_time_days >= 0", name="lead_time_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiry.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=DRAFT, index=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    lead_time_days: Mapped[int | None] = mapped_column(Integer)
    valid_until: Mapped[date | None]
    terms: Mapped[str] = mapped_column(Text, default="")
    held: Mapped[bool] = mapped_column(Boolean, default=False)  # its lots' units are held for it now
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    inquiry: Mapped[Inquiry] = relationship(back_populates="quotes")
    lines: Mapped[list["QuoteLine"]] = relationship(
        back_populates="quote", cascade="all, delete-orphan", order_by="QuoteLine.position"
    )

    @property
    def total_cents(self) -> int:
        """The sum of the lines, in cents."""
        return sum(line.total_cents for line in self.lines)

    def holds(self) -> list[tuple[int, int]]:
        """(lot id, units) this quote holds when accepted, one pair per lot."""
        units: dict[int, int] = {}
        for line in self.lines:
            if line.lot_id is not None:
                units[line.lot_id] = units.get(line.lot_id, 0) + line.units
        return sorted(units.items())


class QuoteLine(db.Model):
    """A priced line: a description, units at a unit price in cents, optionally a product and a lot."""

    __tablename__ = "quote_line"
    __table_args__ = (
        CheckConstraint("units >= 1", name="units_positive"),
        CheckConstraint("unit_price_cents >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quote.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(300))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id", ondelete="RESTRICT"))
    units: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)

    quote: Mapped[Quote] = relationship(back_populates="lines")
    product = relationship("Product")
    lot = relationship("Lot")

    @property
    def total_cents(self) -> int:
        """Units times the unit price, in cents."""
        return self.units * self.unit_price_cents
