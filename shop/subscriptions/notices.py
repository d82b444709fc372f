"""Publish notices and weekly digests: each post reaches each subscriber once.

The blog sends ``post_published`` once per post, inside the publishing
transaction; :func:`note_published_post` records a :class:`PostNotice` there,
so the publish and the promise to tell subscribers commit together. The
outbox worker then runs :func:`send_post_notices` (a job registered with it):
a batch of subscribers at a time, each with a unique (post, subscriber)
delivery row added in the transaction that queues the e-mail. The notice row is
read ``FOR UPDATE SKIP LOCKED``, so two workers take different posts; and the
unique row means no subscriber gets a post twice, even if a post is
unpublished and published again. Weekly subscribers get the week's posts in one
digest (:func:`send_weekly_digests`) through the same delivery rows.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload

from shop.audit import acting_as
from shop.blog.models import Post, Topic
from shop.blog.services import publish_due_posts
from shop.extensions import db
from shop.mail import queue_email
from shop.models import utcnow
from shop.subscriptions.models import ACTIVE, EACH_POST, WEEKLY, Delivery, PostNotice, Subscriber
from shop.subscriptions.services import expire_unconfirmed, links, list_headers
from shop.templating import absolute_url

NOTICE_BATCH = 500  # subscribers per transaction: each commit holds this many e-mails and delivery rows
DIGEST_BATCH = 200


def note_published_post(post: Post, **_) -> None:
    """``post_published`` receiver: promise the post's notices, in the publishing transaction."""
    if post.id is None or db.session.get(PostNotice, post.id) is None:
        db.session.add(PostNotice(post=post, announced_at=utcnow()))


def publish_scheduled_posts() -> int:
    """Posts whose scheduled time has come are published (as ``flask blog publish-due`` does) and so announced."""
    with acting_as("outbox worker: scheduled posts"):
        publish_due_posts()
        db.session.commit()
    return 0


def _wants_post(post: Post):
    """SQL: the subscriber follows one of the post's topics (or every topic)."""
    topic_ids = [t.id for t in post.topics]
    if not topic_ids:
        return Subscriber.all_topics
    return or_(Subscriber.all_topics, Subscriber.topics.any(Topic.id.in_(topic_ids)))


def _receiving(frequency: str):
    return (Subscriber.status == ACTIVE, Subscriber.paused_at.is_(None), Subscriber.frequency == frequency)


def post_summary(post: Post) -> dict:
    """What an e-mail says about a post."""
    return {
        "title": post.title,
        "summary": post.summary,
        "url": absolute_url("blog.post", slug=post.slug),
        "topics": ", ".join(t.name for t in post.topics),
        "published_at": post.published_at,
    }


def send_post_notices() -> int:
    """Queue the next batch of one published post's notices; returns how many were queued (job for the worker)."""
    now = utcnow()
    notice = db.session.scalar(
        select(PostNotice)
        .join(Post, Post.id == PostNotice.post_id)
        .where(PostNotice.done_at.is_(None), Post.visible(now))  # unpublished meanwhile: waits until it is back
        .order_by(PostNotice.announced_at, PostNotice.post_id)
        .limit(1)
        .with_for_update(skip_locked=True, of=PostNotice)
    )
    if notice is None:
        return 0
    post = db.session.scalar(select(Post).where(Post.id == notice.post_id).options(selectinload(Post.topics)))
    not_sent = ~exists().where(Delivery.post_id == post.id, Delivery.subscriber_id == Subscriber.id)
    recipients = db.session.scalars(
        select(Subscriber)
        .where(*_receiving(EACH_POST), Subscriber.confirmed_at <= notice.announced_at, _wants_post(post), not_sent)
        .order_by(Subscriber.id)
        .limit(NOTICE_BATCH)
    ).all()
    about = post_summary(post)
    for subscriber in recipients:
        _queue(subscriber, "subscriptions/post_notice", {"post": about}, [post])
    if len(recipients) < NOTICE_BATCH:
        notice.done_at = now
    db.session.commit()
    return len(recipients)


def _queue(subscriber: Subscriber, template: str, context: dict, posts: list[Post], kind: str = "notice") -> None:
    """One e-mail to a subscriber about these posts, with its delivery rows, in this transaction."""
    own = links(subscriber)
    context = {**context, **own, "subscriber_topics": subscriber.topic_names()}
    queue_email(subscriber.email, template, context, headers=list_headers(own["unsubscribe_url"]), bulk=True)
    db.session.add_all(Delivery(post_id=p.id, subscriber_id=subscriber.id, kind=kind) for p in posts)


def digest_moment(now: datetime) -> datetime:
    """The latest weekly digest time at or before ``now`` (DIGEST_WEEKDAY at DIGEST_HOUR_UTC)."""
    config = current_app.config
    day = now.replace(hour=config["DIGEST_HOUR_UTC"], minute=0, second=0, microsecond=0)
    day -= timedelta(days=(day.weekday() - config["DIGEST_WEEKDAY"]) % 7)
    return day if day <= now else day - timedelta(days=7)


def send_weekly_digests(now: datetime | None = None) -> int:
    """Queue this week's digests for a batch of weekly subscribers who have not had it; returns e-mails queued."""
    now = now or utcnow()
    moment = digest_moment(now)
    due = db.session.scalars(
        select(Subscriber)
        .where(*_receiving(WEEKLY), Subscriber.confirmed_at < moment)
        .where(or_(Subscriber.last_digest_at.is_(None), Subscriber.last_digest_at < moment))
        .order_by(Subscriber.id)
        .limit(DIGEST_BATCH)
        .with_for_update(skip_locked=True, of=Subscriber)
        .options(selectinload(Subscriber.topics))
    ).all()
    if not due:
        return 0
    week = _week_posts(moment)
    sent = _already_sent([s.id for s in due], [p.id for p, _ in week])
    queued = 0
    for subscriber in due:
        posts = [p for p, at in week if _digest_wants(subscriber, p, at) and (p.id, subscriber.id) not in sent]
        if posts:
            context = {"posts": [post_summary(p) for p in posts], "week_end": moment}
            _queue(subscriber, "subscriptions/digest", context, posts, kind="digest")
            queued += 1
        subscriber.last_digest_at = now
    db.session.commit()
    return queued


def _week_posts(moment: datetime) -> list[tuple[Post, datetime]]:
    """(post, when announced) for posts announced in the week before ``moment`` and still public, oldest first."""
    rows = db.session.execute(
        select(Post, PostNotice.announced_at)
        .join(PostNotice, PostNotice.post_id == Post.id)
        .where(PostNotice.announced_at > moment - timedelta(days=7), PostNotice.announced_at <= moment)
        .where(Post.visible(utcnow()))
        .order_by(PostNotice.announced_at)
        .options(selectinload(Post.topics))
    )
    return [(post, at) for post, at in rows]


def _already_sent(subscriber_ids: list[int], post_ids: list[int]) -> set[tuple[int, int]]:
    if not post_ids:
        return set()
    rows = db.session.execute(
        select(Delivery.post_id, Delivery.subscriber_id).where(
            Delivery.subscriber_id.in_(subscriber_ids), Delivery.post_id.in_(post_ids)
        )
    )
    return {(post_id, subscriber_id) for post_id, subscriber_id in rows}


def _digest_wants(subscriber: Subscriber, post: Post, announced: datetime) -> bool:
    """A post on the subscriber's topics, announced after they confirmed (no older posts in a first digest)."""
    topics = {t.id for t in post.topics}
    follows = subscriber.all_topics or bool(topics & {t.id for t in subscriber.topics})
    return follows and announced > subscriber.confirmed_at


def forget_unconfirmed() -> int:
    """Job: delete sign-ups never confirmed in time (it queues nothing)."""
    if expire_unconfirmed():
        db.session.commit()
    return 0
