"""Subscription test data: topics, subscribers made as the forms make them, and the links mailed to them."""

import pytest
from sqlalchemy import select

from shop.blog.models import Topic
from shop.extensions import db as _db
from shop.mail.worker import link_context
from shop.models import utcnow
from shop.subscriptions import services, tokens
from shop.subscriptions.models import ACTIVE, Subscriber
from shop.subscriptions.services import Choice, Where
from tests.outbox import link_in, queued  # noqa: F401  (link_in: the tests import it from here)
from tests.visitor_forms import SAME_ORIGIN

TOPICS = {"cancer": "Cancer", "car-t": "CAR-T", "gene-editing": "Gene editing"}


@pytest.fixture
def topics(db) -> dict[str, Topic]:
    """Three topics, by slug."""
    made = {slug: Topic(name=name, slug=slug) for slug, name in TOPICS.items()}
    _db.session.add_all(made.values())
    _db.session.commit()
    return made


def subscribe(client, email: str, headers: dict | None = None, **data):
    """POST the sidebar's box as a browser on our own page does."""
    form = {"email": email, "form": "sidebar", **data}
    return client.post("/subscribe", data=form, headers=SAME_ORIGIN if headers is None else headers)


messages = queued  # to one address and/or of one template


def subscriber(email: str) -> Subscriber | None:
    """The subscriber with this address, read afresh."""
    _db.session.expire_all()
    return _db.session.scalar(select(Subscriber).where(Subscriber.email == email))


def make_subscriber(email: str, topics=(), frequency: str = "each", status: str = ACTIVE, **values) -> Subscriber:
    """A subscriber who went through the opt-in (or stopped at ``status``), committed."""
    choice = Choice(tuple(topics), not topics, frequency)
    with link_context():  # the confirmation e-mail's links, as a request would build them
        made = services.request_subscription(email, choice, Where("192.0.2.1", "test"))
    if status == ACTIVE:
        services.confirm_subscription(made, choice, Where("192.0.2.1", "test"))
        made.confirmed_at = values.pop("confirmed_at", made.confirmed_at)
    else:
        made.status = status
    for name, value in values.items():
        setattr(made, name, value)
    _db.session.commit()
    return made


def manage_path(who: Subscriber) -> str:
    return f"/subscription/{tokens.manage_token(who)}"


def unsubscribe_path(who: Subscriber) -> str:
    return f"/unsubscribe/{tokens.unsubscribe_token(who)}"


@pytest.fixture
def now():
    return utcnow()
