"""Blog logic: saving with revisions, publishing and scheduling, and the public queries."""

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import exists, func, select
from sqlalchemy.orm import defer, joinedload, load_only, selectinload

from shop import urls
from shop.blog.models import Post, PostRevision, Topic, post_topic, topic_product
from shop.blog.related import topic_map
from shop.blog.signals import post_published
from shop.catalog.models import Product
from shop.catalog.services import PRODUCT_CARD_COLUMNS
from shop.content_clock import reading
from shop.extensions import cache, db
from shop.fulltext import matches, search_terms
from shop.markdown import render_markdown
from shop.models import utcnow
from shop.text import strip_control_characters

# bm25 weights in post_fts's column order: title, summary, body.
POST_WEIGHTS = (10.0, 4.0, 1.0)
MAX_BODY_LENGTH = 200_000  # characters; a long scientific review is ~60,000
# What a post card or a list entry shows (templates/macros/blog.html): lists load these columns only,
# never the body or its HTML (a long review is ~60 kB of each).
POST_CARD_COLUMNS = (
    Post.id, Post.slug, Post.title, Post.summary, Post.author_name, Post.status, Post.published_at, Post.updated_at,
)  # fmt: skip


def slugify(text: str) -> str:
    """A post or topic slug from its title or name (never empty)."""
    return urls.slugify(text, max_length=80) or "post"


def find_or_create_topics(names: list[str]) -> list[Topic]:
    """Topics by name (any case), creating the ones that don't exist yet."""
    wanted = {strip_control_characters(name).strip(): None for name in names if name.strip()}
    existing = {t.name.lower(): t for t in db.session.scalars(select(Topic))}
    topics = []
    for name in wanted:
        topic = existing.get(name.lower())
        if topic is None:
            topic = Topic(name=name, slug=urls.free_slug(slugify(name), {t.slug for t in existing.values()}, 80))
            db.session.add(topic)
            existing[name.lower()] = topic
        topics.append(topic)
    return topics


@dataclass
class PostContent:
    """What an editor can change on a post."""

    title: str
    slug: str
    summary: str
    body: str
    references: list[str]
    topic_names: list[str]
    related_products: list[Product]
    cover_alt: str = ""
    author_name: str = ""


def save_post(post: Post, content: PostContent, actor: str) -> Post:
    """Apply the content, render the body once, and keep a revision. The caller commits."""
    # One UPDATE per save (so one version step): no flush half-way through, e.g. on the topic query.
    with db.session.no_autoflush:
        return _apply_content(post, content, actor)


def _apply_content(post: Post, content: PostContent, actor: str) -> Post:
    post.title = strip_control_characters(content.title).strip()
    post.slug = content.slug
    post.summary = strip_control_characters(content.summary).strip()
    post.body = strip_control_characters(content.body)
    post.body_html = str(render_markdown(content.body))
    post.references = [strip_control_characters(r).strip() for r in content.references if r.strip()]
    post.topics = find_or_create_topics(content.topic_names)
    post.related_products = list(content.related_products)
    post.cover_alt = content.cover_alt.strip()
    if content.author_name:
        post.author_name = strip_control_characters(content.author_name).strip()
    post.updated_at = utcnow()
    post.revision = (post.revision or 0) + 1
    if post.id is None:
        db.session.add(post)
    post.revisions.append(
        PostRevision(
            number=post.revision,
            title=post.title,
            summary=post.summary,
            body=post.body,
            references=post.references,
            topic_names=[t.name for t in post.topics],
            saved_by=actor,
        )
    )
    return post


def restore_revision(post: Post, revision: PostRevision, actor: str) -> Post:
    """Bring back an earlier revision's text and topics, as a new revision (nothing is lost)."""
    content = PostContent(
        title=revision.title,
        slug=post.slug,
        summary=revision.summary,
        body=revision.body,
        references=list(revision.references),
        topic_names=list(revision.topic_names),
        related_products=list(post.related_products),
        cover_alt=post.cover_alt,
    )
    return save_post(post, content, actor)


def whole_seconds(moment: datetime) -> datetime:
    """A publish time without its fraction of a second: what readers see, and what HTML's <time> allows."""
    return moment.replace(microsecond=0)


def publish_post(post: Post, now: datetime | None = None) -> Post:
    """Make the post public now (to the whole second) and announce it. The caller commits."""
    now = whole_seconds(now or utcnow())
    post.status = "published"
    if post.published_at is None or post.published_at > now:
        post.published_at = now
    _announce(post, now)
    return post


def schedule_post(post: Post, when: datetime) -> Post:
    """Make the post public at ``when`` (in the future). The caller commits."""
    post.status = "scheduled"
    post.published_at = whole_seconds(when)
    return post


def unpublish_post(post: Post) -> Post:
    """Take the post off the site (back to draft). The caller commits."""
    post.status = "draft"
    return post


def publish_due_posts(now: datetime | None = None) -> list[Post]:
    """Scheduled posts whose time has come become published and are announced; returns them.

    The public sees a scheduled post from its time on without this (the
    queries compare with the clock); this records the change and sends the
    ``post_published`` signal once. ``flask blog publish-due`` runs it.
    """
    now = now or utcnow()
    due = db.session.scalars(
        select(Post).where(Post.status == "scheduled", Post.published_at <= now).with_for_update(skip_locked=True)
    ).all()
    for post in due:
        post.status = "published"
        _announce(post, now)
    return list(due)


def _announce(post: Post, now: datetime) -> None:
    """Send ``post_published`` the first time the post is public."""
    if post.announced_at is None and post.is_visible(now):
        post.announced_at = now
        post_published.send(post)


# Public queries ------------------------------------------------------------------------------


@dataclass
class PostPage:
    """One page of posts."""

    posts: list[Post]
    total: int
    page: int
    pages: int


def list_posts(page: int, per_page: int, topic: Topic | None = None) -> PostPage:
    """Visible posts, newest first, one page of them (with their topics)."""
    conditions = _visible_conditions(topic)
    total = db.session.scalar(select(func.count(Post.id)).where(*conditions))
    pages = max(1, -(-total // per_page))
    posts = db.session.scalars(
        _newest_first(select(Post).where(*conditions))
        .options(load_only(*POST_CARD_COLUMNS), selectinload(Post.topics))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return PostPage(list(posts), total, page, pages)


def _visible_conditions(topic: Topic | None) -> list:
    conditions = [Post.visible(utcnow())]
    if topic is not None:
        conditions.append(Post.topics.any(Topic.id == topic.id))
    return conditions


def _newest_first(query):
    return query.order_by(Post.published_at.desc(), Post.id.desc())


def topics_with_counts() -> list[tuple[Topic, int]]:
    """Every topic with its number of visible posts, most posts first."""
    now = utcnow()
    count = func.count(Post.id)
    rows = db.session.execute(
        select(Topic, count)
        .outerjoin(post_topic, post_topic.c.topic_id == Topic.id)
        .outerjoin(Post, (Post.id == post_topic.c.post_id) & Post.visible(now))
        .group_by(Topic.id)
        .order_by(count.desc(), Topic.name)
    ).all()
    return [(topic, n) for topic, n in rows]


def recent_posts(limit: int = 5) -> list[Post]:
    """The newest visible posts."""
    return list(
        db.session.scalars(
            _newest_first(select(Post).where(Post.visible(utcnow())))
            .options(load_only(*POST_CARD_COLUMNS))
            .limit(limit)
        )
    )


def sidebar_context() -> dict:
    """What the sidebar of every blog page shows (cached until the blog's clock moves)."""
    key = f"blog-sidebar:{reading('blog').key}"
    context = cache.get(key)
    if context is None:
        # Plain values, not ORM objects: cached objects must not carry a session along.
        context = {
            "sidebar_topics": [(SimpleNamespace(name=t.name, slug=t.slug), n) for t, n in topics_with_counts()],
            "recent_posts": [
                SimpleNamespace(title=p.title, slug=p.slug, published_at=p.published_at) for p in recent_posts(5)
            ],
        }
        cache.set(key, context)
    return context


def get_topic(slug: str) -> Topic | None:
    """A topic by slug."""
    return db.session.scalar(select(Topic).where(Topic.slug == slug))


def get_public_post(slug: str) -> Post | None:
    """A visible post by slug, with topics and related products loaded."""
    return db.session.scalar(
        select(Post)
        .where(Post.slug == slug, Post.visible(utcnow()))
        .options(
            defer(Post.body),  # the page shows body_html, rendered at save
            selectinload(Post.topics),
            selectinload(Post.related_products).load_only(*PRODUCT_CARD_COLUMNS).joinedload(Product.category),
        )
    )


def related_posts(post: Post, limit: int = 3) -> list[Post]:
    """Other visible posts sharing the most topics with this one, newest first among equals."""
    topic_ids = [t.id for t in post.topics]
    if not topic_ids:
        return []
    ids = topic_map().related(post.id, topic_ids, limit)
    cards = db.session.scalars(select(Post).where(Post.id.in_(ids)).options(load_only(*POST_CARD_COLUMNS)))
    found = {card.id: card for card in cards}
    return [found[i] for i in ids if i in found]


def may_list_products(post: Post) -> bool:
    """Whether the post's page can list products: some are named on it or linked to its topics.

    Read from blog rows only; which of those products show, and how, is the catalog's content.
    """
    if post.related_products:
        return True
    topic_ids = [t.id for t in post.topics]
    return bool(topic_ids) and db.session.scalar(select(exists().where(topic_product.c.topic_id.in_(topic_ids))))


def related_products(post: Post, limit: int = 4) -> list[Product]:
    """Products named on the post first, then products linked to its topics."""
    chosen = [p for p in post.related_products if p.active]
    topic_ids = [t.id for t in post.topics]
    if len(chosen) < limit and topic_ids:
        more = db.session.scalars(
            select(Product)
            .join(topic_product, topic_product.c.product_id == Product.id)
            .where(topic_product.c.topic_id.in_(topic_ids), Product.active, Product.id.not_in([p.id for p in chosen]))
            .options(load_only(*PRODUCT_CARD_COLUMNS), joinedload(Product.category))
            .group_by(Product.id)
            .order_by(Product.featured.desc(), Product.name)
            .limit(limit - len(chosen))
        ).all()
        chosen += more
    return chosen[:limit]


def search_posts(q: str, limit: int = 10) -> list[Post]:
    """Visible posts matching every word of ``q``, best first."""
    terms = search_terms(q)
    if not terms:
        return []
    hits = matches("post", terms, POST_WEIGHTS).subquery()
    return list(
        db.session.scalars(
            select(Post)
            .join(hits, hits.c.id == Post.id)
            .where(Post.visible(utcnow()))
            .options(load_only(*POST_CARD_COLUMNS), selectinload(Post.topics))
            .order_by(hits.c.score.desc(), Post.published_at.desc())
            .limit(limit)
        )
    )


def feed_posts(topic: Topic | None = None, limit: int = 20) -> list[Post]:
    """The newest visible posts for an Atom feed: with their HTML, not their Markdown."""
    query = _newest_first(select(Post).where(*_visible_conditions(topic)))
    query = query.options(defer(Post.body), selectinload(Post.topics)).limit(limit)
    return list(db.session.scalars(query))


def sitemap_posts(limit: int = 50_000) -> list[Post]:
    """The newest visible posts for the sitemap (at most the 50,000 URLs a sitemap may hold): slugs and dates."""
    query = _newest_first(select(Post).where(*_visible_conditions(None)))
    query = query.options(load_only(Post.slug, Post.published_at, Post.updated_at)).limit(limit)
    return list(db.session.scalars(query))
