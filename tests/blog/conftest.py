"""Blog test data: posts made the way the back office makes them, the demo posts as files say, and signals."""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from shop.blog.models import Post
from shop.blog.services import PostContent, publish_post, save_post, schedule_post, slugify
from shop.blog.signals import post_published
from shop.extensions import db
from shop.models import utcnow
from shop.seeds import read_front_matter

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SEED_SLUG = "stat5-proteins-anti-tumor-immune-response"
SEED_URL = f"/blog/{SEED_SLUG}"
SEED_TITLE = "STAT5 Proteins May Play a Critical Role in Effective Anti-Tumor Immune Response"


def create_post(
    title: str,
    *,
    status: str = "published",
    published_at: datetime | None = None,
    body: str = "Some text about T cells.",
    summary: str | None = None,
    topics: tuple[str, ...] | list[str] = (),
    references: tuple[str, ...] | list[str] = (),
    author: str = "Dr. Test Author",
    slug: str | None = None,
    related_products=(),
) -> Post:
    """Save a post through the service (so body_html is rendered as in production), then publish,
    schedule or leave it a draft, and commit.

    ``published``: public now, or at ``published_at`` (in the past) when given.
    ``scheduled``: public at ``published_at`` (in the future). ``draft``: not public.
    """
    content = PostContent(
        title=title,
        slug=slug or slugify(title),
        summary=summary if summary is not None else f"What {title} is about.",
        body=body,
        references=list(references),
        topic_names=list(topics),
        related_products=list(related_products),
        author_name=author,
    )
    post = save_post(Post(), content, actor="test")
    if status == "published":
        publish_post(post, now=published_at)
    elif status == "scheduled":
        assert published_at is not None, "a scheduled post needs its time"
        schedule_post(post, published_at)
    else:
        assert status == "draft", status
    db.session.commit()
    return post


@pytest.fixture
def make_post(db):
    """``make_post("Title", status="draft", topics=["CAR-T"], ...)``: see :func:`create_post`."""
    return create_post


@pytest.fixture
def published_signals(db):
    """Slugs of the posts ``post_published`` was sent for while the test ran, in order."""
    received: list[str] = []

    def receiver(sender, **extra):
        received.append(sender.slug)

    post_published.connect(receiver)
    try:
        yield received
    finally:
        post_published.disconnect(receiver)


@dataclass(frozen=True)
class SeedPost:
    """A demo post as its file under seeds/posts describes it."""

    slug: str
    title: str
    author: str
    summary: str
    topics: tuple[str, ...]
    published_at: datetime

    @property
    def url(self) -> str:
        return f"/blog/{self.slug}"


def _aware(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=value.tzinfo or UTC).astimezone(UTC)


def seed_topics() -> dict[str, str]:
    """Topic name -> slug, from seeds/topics.yaml."""
    return {item["name"]: item["slug"] for item in yaml.safe_load((SEEDS / "topics.yaml").read_text())}


def seed_posts() -> list[SeedPost]:
    """The demo posts that are public now, newest first, read from the seed files (not from the app)."""
    posts = []
    for path in (SEEDS / "posts").glob("*.md"):
        meta, _ = read_front_matter(path)
        posts.append(
            SeedPost(
                slug=meta["slug"],
                title=meta["title"],
                author=meta["author"],
                summary=meta["summary"],
                topics=tuple(meta["topics"]),
                published_at=_aware(meta["published_at"]),
            )
        )
    now = utcnow()
    return sorted((p for p in posts if p.published_at <= now), key=lambda p: p.published_at, reverse=True)


def seed_topic_counts() -> dict[str, int]:
    """Topic name -> number of public demo posts filed under it."""
    counts = dict.fromkeys(seed_topics(), 0)
    for post in seed_posts():
        for name in post.topics:
            counts[name] += 1
    return counts
