"""Subscribers to the blog, what they agreed to (the consent log), and which posts each was sent."""

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.blog.models import Post, Topic
from shop.consent import ConsentRecord
from shop.extensions import db
from shop.models import UTCDateTime, utcnow

PENDING, ACTIVE, UNSUBSCRIBED, BOUNCED = "pending", "active", "unsubscribed", "bounced"
STATUSES = {PENDING: "Pending", ACTIVE: "Active", UNSUBSCRIBED: "Unsubscribed", BOUNCED: "Bounced"}
EACH_POST, WEEKLY = "each", "weekly"
FREQUENCIES = {EACH_POST: "An e-mail for each new post", WEEKLY: "A weekly digest"}

subscriber_topic = Table(
    "subscriber_topic",
    db.metadata,
    Column("subscriber_id", ForeignKey("subscriber.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topic.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Subscriber(db.Model):
    """An e-mail address that asked for the blog's posts: pending until it confirms, then active.

    ``all_topics`` follows every topic, new ones too; otherwise ``topics`` says
    which. ``token_key`` is part of every link mailed to the address, so a link
    outlives nothing: a deleted subscriber's links open nothing, even if the id
    is used again. ``confirm_nonce`` names the one confirmation link that works.
    """

    __tablename__ = "subscriber"
    __table_args__ = (Index("ix_subscriber_sending", "status", "frequency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    all_topics: Mapped[bool] = mapped_column(Boolean, default=True)
    frequency: Mapped[str] = mapped_column(String(20), default=EACH_POST)
    token_key: Mapped[str] = mapped_column(String(32))
    confirm_nonce: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    confirm_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    topics: Mapped[list[Topic]] = relationship(secondary=subscriber_topic, order_by=Topic.name)
    consents: Mapped[list["Consent"]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", passive_deletes=True, order_by="Consent.id"
    )

    @property
    def left_at(self) -> datetime | None:
        """When the address stopped getting posts (unsubscribed or bounced)."""
        return {UNSUBSCRIBED: self.unsubscribed_at, BOUNCED: self.bounced_at}.get(self.status)

    def topic_names(self) -> str:
        """The topics as a reader says them: "every topic" or "Cancer, CAR-T"."""
        return "every topic" if self.all_topics else ", ".join(t.name for t in self.topics) or "no topic"

    def __str__(self) -> str:
        return self.email


class Consent(ConsentRecord, db.Model):
    """One step of a subscription, as agreed: what (with the topics and frequency then), when, from where."""

    __tablename__ = "subscription_consent"

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id", ondelete="CASCADE"), index=True)

    subscriber: Mapped[Subscriber] = relationship(back_populates="consents")


class PostNotice(db.Model):
    """A published post whose notices are still to go out (``done_at`` once every subscriber has one)."""

    __tablename__ = "subscription_post_notice"

    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), primary_key=True)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    post: Mapped[Post] = relationship()


class Delivery(db.Model):
    """A post sent to a subscriber, alone or in a digest: unique, so no one gets a post twice."""

    __tablename__ = "subscription_delivery"
    __table_args__ = (UniqueConstraint("post_id", "subscriber_id", name="uq_subscription_delivery_post_subscriber"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "notice" or "digest"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
