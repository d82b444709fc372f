"""Inquiry numbers for the back office: per week, by state, the most requested products."""

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from shop.extensions import db
from shop.inquiries.models import STATUSES, Inquiry, InquiryItem
from shop.models import utcnow


def counts_by_status() -> dict[str, int]:
    """How many inquiries are in each state (every state listed, zeros too)."""
    rows = dict(db.session.execute(select(Inquiry.status, func.count()).group_by(Inquiry.status)).all())
    return {status: rows.get(status, 0) for status in STATUSES}


def per_week(weeks: int = 12, today: date | None = None) -> list[tuple[date, int]]:
    """(Monday, inquiries received that week), oldest first, ending with this week."""
    today = today or utcnow().date()
    this_monday = today - timedelta(days=today.weekday())
    start = this_monday - timedelta(weeks=weeks - 1)
    since = datetime(start.year, start.month, start.day, tzinfo=utcnow().tzinfo)
    counts = [0] * weeks
    for (created_at,) in db.session.execute(select(Inquiry.created_at).where(Inquiry.created_at >= since)):
        index = (created_at.date() - start).days // 7
        if 0 <= index < weeks:
            counts[index] += 1
    return [(start + timedelta(weeks=i), counts[i]) for i in range(weeks)]


def top_products(limit: int = 8) -> list[tuple[str, str, int, int]]:
    """(name, catalog number, inquiries, units) of the products asked for most."""
    rows = db.session.execute(
        select(
            InquiryItem.product_name,
            InquiryItem.catalog_number,
            func.count(func.distinct(InquiryItem.inquiry_id)).label("inquiries"),
            func.sum(InquiryItem.quantity).label("units"),
        )
        .group_by(InquiryItem.catalog_number, InquiryItem.product_name)
        .order_by(func.count(func.distinct(InquiryItem.inquiry_id)).desc(), InquiryItem.catalog_number)
        .limit(limit)
    )
    return [(r.product_name, r.catalog_number, r.inquiries, int(r.units or 0)) for r in rows]
