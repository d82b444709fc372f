"""The outbox: one row per e-mail, added in the transaction of the change it reports, delivered by a worker."""

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shop.extensions import db
from shop.models import UTCDateTime, utcnow

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
STATUSES = {QUEUED: "Queued", SENDING: "Sending", SENT: "Sent", FAILED: "Failed"}
# Claimed first: what one person waits for (a confirmation link) goes before a mailing to thousands.
PRIORITY_TRANSACTIONAL, PRIORITY_BULK = 0, 10


class OutboxMessage(db.Model):
    """An e-mail to one address, rendered when it was queued, with its delivery state.

    ``available_at`` is when a worker may take the message: for a queued one its
    next attempt, for one being sent the end of the worker's claim (a worker
    killed mid-batch leaves its claim to run out, and another worker takes over).
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        # The worker's claim reads only messages still to deliver, in the order it sends them.
        Index(
            "ix_outbox_message_due",
            "priority",
            "available_at",
            "id",
            sqlite_where=text("status IN ('queued', 'sending')"),
            postgresql_where=text("status IN ('queued', 'sending')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    to_address: Mapped[str] = mapped_column(String(254), index=True)
    from_address: Mapped[str] = mapped_column(String(320))
    reply_to: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    template: Mapped[str] = mapped_column(String(100), index=True)
    # Kept from the first attempt to the last, so a message sent twice (a worker killed between the
    # server's "250 OK" and its own record of it) is one message to the recipient's mail system.
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    priority: Mapped[int] = mapped_column(Integer, default=PRIORITY_TRANSACTIONAL)
    status: Mapped[str] = mapped_column(String(20), default=QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_address}"
