"""Blog subscriptions: double opt-in, preferences, one-click unsubscribe, and an e-mail per post or a weekly digest."""

from flask import Flask

from shop.blog.signals import post_published
from shop.mail import worker
from shop.subscriptions import notices, services

JOBS = (
    notices.publish_scheduled_posts,
    notices.send_post_notices,
    notices.send_weekly_digests,
    notices.forget_unconfirmed,
)


def init_app(app: Flask) -> None:
    """Listen to the blog's publish signal and the outbox's refusals; give the outbox worker this feature's jobs."""
    post_published.connect(notices.note_published_post)
    worker.address_refused.connect(services.mark_bounced)
    for job in JOBS:
        worker.register_job(job)
