"""Numbers for the back office: subscribers by state and topic, and active subscribers per day."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from shop.blog.models import Topic
from shop.extensions import db
from shop.models import utcnow
from shop.subscriptions.models import ACTIVE, BOUNCED, STATUSES, UNSUBSCRIBED, Subscriber, subscriber_topic


@dataclass(frozen=True)
class TopicCount:
    """Active subscribers who get a topic: those who chose it, plus those who get every topic."""

    name: str
    slug: str
    chosen: int
    total: int


def counts_by_status() -> dict[str, int]:
    """Subscribers in each state, every state named."""
    rows = db.session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status))
    return {**dict.fromkeys(STATUSES, 0), **dict(rows.all())}


def counts_by_topic() -> list[TopicCount]:
    """Every topic with its active subscribers, most first."""
    active = Subscriber.status == ACTIVE
    every = db.session.scalar(select(func.count()).where(active, Subscriber.all_topics)) or 0
    chosen = dict(
        db.session.execute(
            select(subscriber_topic.c.topic_id, func.count())
            .join(Subscriber, Subscriber.id == subscriber_topic.c.subscriber_id)
            .where(active)
            .group_by(subscriber_topic.c.topic_id)
        ).all()
    )
    topics = db.session.execute(select(Topic.id, Topic.name, Topic.slug).order_by(Topic.name))
    counts = [TopicCount(name, slug, chosen.get(tid, 0), chosen.get(tid, 0) + every) for tid, name, slug in topics]
    return sorted(counts, key=lambda c: -c.total)


def _utc_day(column):
    """SQL: the UTC calendar day of a timestamp column, as text or a date, on either database."""
    if db.engine.dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _per_day(column, *conditions, since: datetime) -> dict[date, int]:
    day = _utc_day(column)
    rows = db.session.execute(select(day, func.count()).where(column >= since, *conditions).group_by(day))
    return {(d if isinstance(d, date) else date.fromisoformat(d)): n for d, n in rows}


def active_per_day(days: int = 90, today: date | None = None) -> list[tuple[date, int]]:
    """(day, subscribers active at its end) for the last ``days`` days: confirmed, and not gone by then."""
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=utcnow().tzinfo)
    left = {UNSUBSCRIBED: Subscriber.unsubscribed_at, BOUNCED: Subscriber.bounced_at}
    before = db.session.scalar(select(func.count()).where(Subscriber.confirmed_at < since)) or 0
    for status, column in left.items():
        before -= db.session.scalar(select(func.count()).where(Subscriber.status == status, column < since)) or 0
    joined = _per_day(Subscriber.confirmed_at, since=since)
    gone = [_per_day(column, Subscriber.status == status, since=since) for status, column in left.items()]
    points, running = [], before
    for offset in range(days):
        day = first + timedelta(days=offset)
        running += joined.get(day, 0) - sum(g.get(day, 0) for g in gone)
        points.append((day, running))
    return points
