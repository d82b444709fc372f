"""The consent log's shape, for every feature that e-mails people on their word (the blog, donor alerts).

Each step a person takes (asked, confirmed, changed, stopped ...) is a row: what
they agreed to in words, when, from which client address and on which form. A
feature's log is a table of its own (the rows belong to its subscriber or
address, and go when they are deleted); the columns, how a step is written and
how the log is exported are the same everywhere, and live here.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shop.models import UTCDateTime, utcnow
from shop.times import export_datetime


@dataclass(frozen=True)
class Where:
    """Where a step was taken: the client's address and the form (for the consent log)."""

    ip_address: str
    form: str


class ConsentRecord:
    """Mixin for a consent log's rows; the feature adds the foreign key to whoever gave the consent."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(30))
    # The words the person agreed to, as they were at that moment.
    statement: Mapped[str] = mapped_column(Text)
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    form: Mapped[str] = mapped_column(String(40), default="")

    @classmethod
    def taken(cls, action: str, statement: str, where: Where):
        """A new row: ``action`` agreed to in these words, here (the client's address cut to the column)."""
        return cls(action=action, statement=statement, ip_address=where.ip_address[:45], form=where.form[:40])


def exported(entries) -> list[dict]:
    """A consent log as a person's data export gives it."""
    names = ("action", "statement", "ip_address", "form")
    return [{"at": export_datetime(c.at), **{name: getattr(c, name) for name in names}} for c in entries]
