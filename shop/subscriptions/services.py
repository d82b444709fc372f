"""Subscriptions: the double opt-in, preferences, unsubscribing, export and deletion; every step in the consent log.

Each function changes rows and queues mail in the caller's transaction; the caller commits.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from shop import consent
from shop.blog.models import Topic
from shop.consent import Where
from shop.extensions import db
from shop.mail import queue_email
from shop.mail.models import OutboxMessage
from shop.mail.services import exported_messages, forget_messages_to, mailing_list_headers
from shop.models import utcnow
from shop.signed_links import new_key
from shop.subscriptions import tokens
from shop.subscriptions.models import (
    ACTIVE,
    BOUNCED,
    EACH_POST,
    FREQUENCIES,
    PENDING,
    UNSUBSCRIBED,
    Consent,
    Delivery,
    Subscriber,
)
from shop.templating import absolute_url
from shop.times import export_datetime

TEMPLATES = "subscriptions/"  # every e-mail this feature queues, so its own can be found and forgotten


@dataclass(frozen=True)
class Choice:
    """What a subscriber asks for: every topic (new ones too) or these, and how often."""

    topics: tuple[Topic, ...] = ()
    all_topics: bool = True
    frequency: str = EACH_POST


def find_subscriber(email: str) -> Subscriber | None:
    """The subscriber with this (normalised) address."""
    return db.session.scalar(select(Subscriber).where(Subscriber.email == email))


def statement(email: str, choice: Choice) -> str:
    """The words a person agrees to, as the consent log keeps them."""
    topics = "every topic, new ones too" if choice.all_topics else ", ".join(t.name for t in choice.topics)
    return (
        f"Send {email} {FREQUENCIES[choice.frequency].lower()} of the {current_app.config['SITE_NAME']} blog "
        f"on {topics}. Every e-mail has a link to change this or unsubscribe."
    )


def _log(subscriber: Subscriber, action: str, where: Where, choice: Choice | None = None) -> None:
    words = statement(subscriber.email, choice or current_choice(subscriber))
    subscriber.consents.append(Consent.taken(action, words, where))


def current_choice(subscriber: Subscriber) -> Choice:
    """The subscriber's topics and frequency as they are now."""
    return Choice(tuple(subscriber.topics), subscriber.all_topics, subscriber.frequency)


def _apply(subscriber: Subscriber, choice: Choice) -> None:
    subscriber.all_topics = choice.all_topics
    subscriber.topics = [] if choice.all_topics else list(choice.topics)
    subscriber.frequency = choice.frequency


def request_subscription(email: str, choice: Choice, where: Where) -> Subscriber:
    """Someone asked for the blog by e-mail: send a confirmation link, or to an active subscriber their own link.

    What the form answers is the same either way; only the mailbox's owner
    learns which it was. Nothing is active until the link's page is confirmed.
    """
    subscriber = find_subscriber(email)
    if subscriber is not None and subscriber.status == ACTIVE:
        queue_email(email, "subscriptions/already_subscribed", links(subscriber))
        return subscriber
    if subscriber is None:
        subscriber = Subscriber(email=email, status=PENDING, token_key=new_key())
        db.session.add(subscriber)
    _apply(subscriber, choice)
    subscriber.confirm_nonce = new_key()
    subscriber.confirm_sent_at = utcnow()
    _log(subscriber, "requested", where, choice)
    db.session.flush()  # the id goes into the link
    context = {"confirm_url": absolute_url("subscriptions.confirm", token=tokens.confirm_token(subscriber))}
    context.update(choice_words(choice), days=current_app.config["SUBSCRIPTION_CONFIRM_DAYS"])
    queue_email(email, "subscriptions/confirm", context)
    return subscriber


def choice_words(choice: Choice) -> dict:
    """A choice as e-mails and pages say it."""
    names = [t.name for t in choice.topics]
    return {"topic_names": "every topic" if choice.all_topics else ", ".join(names), "frequency": choice.frequency}


def confirm_subscription(subscriber: Subscriber, choice: Choice, where: Where) -> bool:
    """The confirmation page's button: the subscription is active from now. False if it already was."""
    if subscriber.status == ACTIVE:
        return False
    _apply(subscriber, choice)
    now = utcnow()
    subscriber.status, subscriber.confirmed_at, subscriber.confirm_nonce = ACTIVE, now, None
    subscriber.unsubscribed_at = subscriber.bounced_at = subscriber.paused_at = None
    _log(subscriber, "confirmed", where, choice)
    return True


def change_preferences(subscriber: Subscriber, choice: Choice, where: Where) -> None:
    """New topics or frequency, from the preferences page."""
    _apply(subscriber, choice)
    _log(subscriber, "changed", where, choice)


def pause(subscriber: Subscriber, where: Where) -> None:
    """No e-mail until resumed (posts published meanwhile are not sent later)."""
    subscriber.paused_at = subscriber.paused_at or utcnow()
    _log(subscriber, "paused", where)


def resume(subscriber: Subscriber, where: Where) -> None:
    """E-mail again, from the next post on."""
    subscriber.paused_at = None
    _log(subscriber, "resumed", where)


def unsubscribe(subscriber: Subscriber, where: Where) -> bool:
    """Stop every e-mail to the address (one click, or the preferences page). False if it had already stopped."""
    if subscriber.status in (UNSUBSCRIBED, BOUNCED) or (subscriber.status == PENDING and not subscriber.confirm_nonce):
        return False
    subscriber.status, subscriber.unsubscribed_at, subscriber.confirm_nonce = UNSUBSCRIBED, utcnow(), None
    _log(subscriber, "unsubscribed", where)
    return True


def delete_subscriber(subscriber: Subscriber) -> None:
    """Forget the address: the subscriber, their consent log and deliveries, and every e-mail queued to them here."""
    forget_messages_to(subscriber.email, TEMPLATES)
    db.session.delete(subscriber)


def mark_bounced(message: OutboxMessage) -> None:
    """The mail server refused the address for good: no more e-mail to it (receiver of ``address_refused``)."""
    subscriber = find_subscriber(message.to_address)
    if subscriber is not None and subscriber.status == ACTIVE:
        subscriber.status, subscriber.bounced_at = BOUNCED, utcnow()


def links(subscriber: Subscriber) -> dict:
    """The subscriber's own links, for every e-mail and page: preferences and one-click unsubscribe."""
    return {
        "manage_url": absolute_url("subscriptions.preferences", token=tokens.manage_token(subscriber)),
        "unsubscribe_url": absolute_url("subscriptions.unsubscribe", token=tokens.unsubscribe_token(subscriber)),
    }


def list_headers(unsubscribe_url: str) -> dict[str, str]:
    """The blog's list headers: one-click unsubscribe and the list's id."""
    return mailing_list_headers(unsubscribe_url, "blog", "blog")


def export(subscriber: Subscriber) -> dict:
    """Everything held about the address, as JSON: the subscription, its consent log, posts and e-mails sent."""
    deliveries = db.session.scalars(
        select(Delivery).where(Delivery.subscriber_id == subscriber.id).order_by(Delivery.id)
    ).all()
    return {
        "email": subscriber.email,
        "status": subscriber.status,
        "topics": "all" if subscriber.all_topics else [t.name for t in subscriber.topics],
        "frequency": subscriber.frequency,
        **{name: export_datetime(getattr(subscriber, name)) for name in DATES},
        "consent_log": consent.exported(subscriber.consents),
        "posts_sent": [{"post_id": d.post_id, "as": d.kind, "at": export_datetime(d.created_at)} for d in deliveries],
        "emails": exported_messages(subscriber.email, TEMPLATES),
    }


DATES = (
    "created_at", "confirm_sent_at", "confirmed_at", "unsubscribed_at", "paused_at", "bounced_at", "last_digest_at",
)  # fmt: skip


def topics_by_slug(slugs: list[str]) -> list[Topic]:
    """The topics with these slugs, in name order (unknown slugs are left out)."""
    if not slugs:
        return []
    return list(db.session.scalars(select(Topic).where(Topic.slug.in_(slugs)).order_by(Topic.name)))


def all_topics() -> list[Topic]:
    """Every topic, by name: what the forms offer."""
    return list(db.session.scalars(select(Topic).order_by(Topic.name)))


def expire_unconfirmed(now: datetime | None = None) -> int:
    """Delete sign-ups never confirmed within SUBSCRIPTION_CONFIRM_DAYS (we hold no consent for them)."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["SUBSCRIPTION_CONFIRM_DAYS"])
    stale = db.session.scalars(
        select(Subscriber)
        .where(Subscriber.status == PENDING, Subscriber.confirmed_at.is_(None), Subscriber.confirm_sent_at < cutoff)
        .limit(500)
    ).all()
    for subscriber in stale:
        delete_subscriber(subscriber)
    return len(stale)
