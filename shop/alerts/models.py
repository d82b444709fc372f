"""Donor alerts: who waits for which catalog filters, what they agreed to, and which lots each was sent.

An address (:class:`AlertAddress`) holds alerts; each alert (:class:`DonorAlert`)
waits on one set of catalog filters (:class:`AlertFilter`, shared by every
alert on the same filters, so the back office counts who waits for what). An
alert is pending until its own confirmation link's page is confirmed, then
active until it is stopped (one click in an e-mail, the manage page, a bounce).
A lot is mailed to an alert once: :class:`AlertDelivery` is unique per (alert,
lot) and written in the transaction that queues the e-mail. :class:`LotArrival`
says which lot arrivals (``Lot.entered_stock_at``) are matched already.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func, select, text
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from shop.catalog.models import Lot
from shop.consent import ConsentRecord
from shop.extensions import db
from shop.models import UTCDateTime, utcnow

PENDING, ACTIVE, STOPPED = "pending", "active", "stopped"
STATUSES = {PENDING: "Awaiting confirmation", ACTIVE: "Active", STOPPED: "Stopped"}
MAX_QUERY_LENGTH = 1000  # a catalog query of every facet's ten values fits; a longer one is not a page's
MAX_SENTENCE_LENGTH = 500


class AlertFilter(db.Model):
    """One set of catalog filters researchers wait on, as its catalog query string and in words."""

    __tablename__ = "alert_filter"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The catalog's own query string for the filters (shop.catalog.services.CatalogFilters.query): the same
    # filters, ticked in any order, are one row.
    query: Mapped[str] = mapped_column(String(MAX_QUERY_LENGTH), unique=True)
    # "Lots whose donor is HLA-A*02:01 and CMV negative", as the catalog said it when the first alert was made.
    sentence: Mapped[str] = mapped_column(String(MAX_SENTENCE_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    alerts: Mapped[list["DonorAlert"]] = relationship(back_populates="filter")

    def __str__(self) -> str:
        return self.sentence


class AlertAddress(db.Model):
    """An e-mail address that asked for donor alerts. ``token_key`` is part of every link mailed to it (manage,
    unsubscribe), so a deleted address's links open nothing, even if its id is used again."""

    __tablename__ = "alert_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    token_key: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    alerts: Mapped[list["DonorAlert"]] = relationship(
        back_populates="address", cascade="all, delete-orphan", passive_deletes=True, order_by="DonorAlert.id"
    )
    consents: Mapped[list["AlertConsent"]] = relationship(
        back_populates="address", cascade="all, delete-orphan", passive_deletes=True, order_by="AlertConsent.id"
    )

    def __str__(self) -> str:
        return self.email


class DonorAlert(db.Model):
    """An address waiting on a set of filters: pending until confirmed, active until stopped.

    ``confirmed_at`` is the moment from which lots count as arriving for it:
    a lot that entered stock earlier is not news to its owner.
    ``confirm_nonce`` names the one confirmation link that works.
    """

    __tablename__ = "donor_alert"
    __table_args__ = (
        UniqueConstraint("address_id", "filter_id", name="uq_donor_alert_address_filter"),
        Index("ix_donor_alert_waiting", "filter_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("alert_address.id", ondelete="CASCADE"), index=True)
    filter_id: Mapped[int] = mapped_column(ForeignKey("alert_filter.id"))
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    confirm_nonce: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirm_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    address: Mapped[AlertAddress] = relationship(back_populates="alerts")
    filter: Mapped[AlertFilter] = relationship(back_populates="alerts", lazy="joined")

    def __str__(self) -> str:
        return f"{self.address.email}: {self.filter.sentence}"


class AlertConsent(ConsentRecord, db.Model):
    """One step an address took (asked for an alert, confirmed it, stopped it ...), in the words agreed to."""

    __tablename__ = "alert_consent"

    address_id: Mapped[int] = mapped_column(ForeignKey("alert_address.id", ondelete="CASCADE"), index=True)

    address: Mapped[AlertAddress] = relationship(back_populates="consents")


class AlertDelivery(db.Model):
    """A lot mailed to an alert: unique, so no alert hears of a lot twice (two workers, a lot back in stock)."""

    __tablename__ = "alert_delivery"
    __table_args__ = (UniqueConstraint("alert_id", "lot_id", name="uq_alert_delivery_alert_lot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("donor_alert.id", ondelete="CASCADE"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lot: Mapped[Lot] = relationship()


class LotArrival(db.Model):
    """A lot's latest arrival (its ``entered_stock_at``), noted by the alerts' job; ``done_at`` once every alert
    confirmed before it that it matches has been mailed. A lot back in stock later is noted again."""

    __tablename__ = "alert_lot_arrival"
    __table_args__ = (
        Index(
            "ix_alert_lot_arrival_waiting",
            "entered_stock_at",
            sqlite_where=text("done_at IS NULL"),
            postgresql_where=text("done_at IS NULL"),
        ),
    )

    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id", ondelete="CASCADE"), primary_key=True)
    entered_stock_at: Mapped[datetime] = mapped_column(UTCDateTime)
    noted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def _of_filter(*conditions):
    """A count or max over a filter's alerts, as a column of AlertFilter (loaded only when asked: the back office)."""
    return DonorAlert.filter_id == AlertFilter.id, *conditions


# What the back office lists per filter; deferred, so nothing else pays for them.
AlertFilter.waiting = column_property(
    select(func.count(DonorAlert.id)).where(*_of_filter(DonorAlert.status == ACTIVE)).scalar_subquery(), deferred=True
)
AlertFilter.pending = column_property(
    select(func.count(DonorAlert.id)).where(*_of_filter(DonorAlert.status == PENDING)).scalar_subquery(), deferred=True
)
AlertFilter.newest = column_property(
    select(func.max(DonorAlert.confirmed_at)).where(*_of_filter(DonorAlert.status == ACTIVE)).scalar_subquery(),
    deferred=True,
)
AlertFilter.lots_sent = column_property(
    select(func.count(AlertDelivery.id))
    .join(DonorAlert, DonorAlert.id == AlertDelivery.alert_id)
    .where(*_of_filter())
    .scalar_subquery(),
    deferred=True,
)
