"""Blog models: Topic, Post (with topics and related products) and PostRevision."""

from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint, and_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import Product
from shop.extensions import db
from shop.models import UTCDateTime, utcnow

STATUSES = {"draft": "Draft", "scheduled": "Scheduled", "published": "Published"}

post_topic = Table(
    "post_topic",
    db.metadata,
    Column("post_id", ForeignKey("post.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topic.id", ondelete="CASCADE"), primary_key=True, index=True),
)

post_product = Table(
    "post_product",
    db.metadata,
    Column("post_id", ForeignKey("post.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("product.id", ondelete="CASCADE"), primary_key=True),
)

topic_product = Table(
    "topic_product",
    db.metadata,
    Column("topic_id", ForeignKey("topic.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("product.id", ondelete="CASCADE"), primary_key=True),
)


class Topic(db.Model):
    """A subject posts are filed under (Cancer, CAR-T, ...), with products that go with it."""

    __tablename__ = "topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Optimistic locking: an UPDATE must name the version it read (see shop/admin).
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    posts: Mapped[list["Post"]] = relationship(secondary=post_topic, back_populates="topics")
    products: Mapped[list[Product]] = relationship(secondary=topic_product, order_by=Product.name)

    def __str__(self) -> str:
        return self.name


class Post(db.Model):
    """A blog post. It is public once its status is scheduled or published and its time has come."""

    __tablename__ = "post"
    __table_args__ = (Index("ix_post_visible", "status", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    summary: Mapped[str] = mapped_column(String(400), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # The body rendered and sanitised when it was saved (never per request); see services.save_post.
    body_html: Mapped[str] = mapped_column(Text, default="")
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    cover_image: Mapped[str | None] = mapped_column(String(200))
    cover_alt: Mapped[str] = mapped_column(String(300), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Set when the publish notice went out (the signal fired), so it fires once per post.
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    topics: Mapped[list[Topic]] = relationship(secondary=post_topic, back_populates="posts", order_by=Topic.name)
    related_products: Mapped[list[Product]] = relationship(secondary=post_product, order_by=Product.name)
    revisions: Mapped[list["PostRevision"]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="PostRevision.number.desc()"
    )

    @classmethod
    def visible(cls, now: datetime):
        """SQL condition: the public may see the post at ``now``."""
        return and_(cls.status.in_(("scheduled", "published")), cls.published_at <= now)

    def is_visible(self, now: datetime) -> bool:
        """True when the public may see the post at ``now``."""
        return self.status in ("scheduled", "published") and self.published_at is not None and self.published_at <= now

    @property
    def modified_at(self) -> datetime:
        """When the public version last changed: publication, or a later edit."""
        return max(self.updated_at, self.published_at) if self.published_at else self.updated_at

    def __str__(self) -> str:
        return self.title


class PostRevision(db.Model):
    """A saved state of a post: every save keeps one, and any can be restored."""

    __tablename__ = "post_revision"
    __table_args__ = (UniqueConstraint("post_id", "number", name="post_revision_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(400), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    topic_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    saved_by: Mapped[str] = mapped_column(String(254), default="")

    post: Mapped[Post] = relationship(back_populates="revisions")
