"""What moves the blog's content clock: saving posts and topics, and a scheduled post's time coming."""

from datetime import datetime

from sqlalchemy import Select, func, select

from shop import content_clock
from shop.blog.models import Post, Topic


def register_blog_clock() -> None:
    """Blog saves move the blog's clock (and only the blog's), and so does a scheduled post going live."""
    content_clock.track("blog", Post, Topic)
    content_clock.add_rule("blog", latest_scheduled_post_gone_live)


def latest_scheduled_post_gone_live(now: datetime) -> Select:
    """When the newest scheduled post whose time has come went live: the blog changed then, without a save."""
    return select(func.max(Post.published_at)).where(Post.status == "scheduled", Post.published_at <= now)
