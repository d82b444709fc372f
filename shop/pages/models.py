"""Pages: Markdown pages marketing keeps (About, Quality, Shipping, Terms, Privacy ...) and their revisions."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.models import UTCDateTime, utcnow


class Page(db.Model):
    """A page of the site written in Markdown; the public sees it while ``published`` is set."""

    __tablename__ = "page"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(400), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # Rendered and sanitised at save, as a post's body is: pages never render Markdown.
    body_html: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(254), default="")
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # Optimistic locking: a save must name the version it read (see shop/admin/locking.py).
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    revisions: Mapped[list["PageRevision"]] = relationship(
        back_populates="page", cascade="all, delete-orphan", order_by="PageRevision.number.desc()"
    )

    def __str__(self) -> str:
        return self.title


class PageRevision(db.Model):
    """A saved state of a page: every save keeps one, and any can be restored."""

    __tablename__ = "page_revision"
    __table_args__ = (UniqueConstraint("page_id", "number", name="page_revision_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("page.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(400), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    saved_by: Mapped[str] = mapped_column(String(254), default="")

    page: Mapped[Page] = relationship(back_populates="revisions")
