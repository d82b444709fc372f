"""Numbers about orders for the back office: revenue per week."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from shop.extensions import db
from shop.models import utcnow
from shop.payments.models import PAID, PARTIALLY_REFUNDED, REFUNDED, Order


def revenue_per_week(weeks: int = 12, currency: str = "USD") -> list[tuple[date, int]]:
    """(Monday, cents) for the last ``weeks`` weeks, oldest first: what orders paid that week brought in, net of
    their refunds. Summed here, not in SQL, so the week is the same on SQLite and PostgreSQL."""
    today = utcnow().date()
    this_monday = today - timedelta(days=today.weekday())
    first = this_monday - timedelta(weeks=weeks - 1)
    totals = dict.fromkeys((first + timedelta(weeks=n) for n in range(weeks)), 0)
    rows = db.session.execute(
        select(Order.paid_at, Order.total_cents, Order.amount_refunded_cents).where(
            Order.status.in_((PAID, PARTIALLY_REFUNDED, REFUNDED)),
            Order.currency == currency,
            Order.paid_at >= datetime.combine(first, time(), UTC),
        )
    )
    for paid_at, total, refunded in rows:
        day = paid_at.date()
        totals[day - timedelta(days=day.weekday())] += total - refunded
    return sorted(totals.items())
