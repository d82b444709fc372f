"""The public blog: post list, topics, posts and Atom feeds."""

from flask import Blueprint, Response, abort, current_app, render_template, request

from shop.blog import services
from shop.blog.feeds import atom_feed
from shop.blog.models import Post, Topic
from shop.page_cache import page_shows, public_page
from shop.templating import absolute_url
from shop.times import iso_datetime
from shop.urls import is_slug, page_number

bp = Blueprint("blog", __name__, url_prefix="/blog")


def _topic_or_404(slug: str) -> Topic:
    topic = services.get_topic(slug) if is_slug(slug) else None
    if topic is None:
        abort(404, description="There is no such topic. See all topics on the blog.")
    return topic


@bp.context_processor
def sidebar():
    """What the sidebar of every blog page shows."""
    return services.sidebar_context()


def _post_list(template: str, topic: Topic | None = None, **context):
    page = services.list_posts(page_number(request.args.get("page")), current_app.config["POSTS_PER_PAGE"], topic)
    if page.page > page.pages:
        abort(404, description=f"The blog has {page.pages} page(s) here; page {page.page} is past the end.")
    return render_template(template, page=page, topic=topic, **context)


@bp.get("/")
@public_page(params=("page",), areas=("blog",))
def index():
    """Posts, newest first."""
    return _post_list("blog/index.html")


@bp.get("/topics/")
@public_page(areas=("blog",))
def topics():
    """Every topic with its number of posts ("see all")."""
    return render_template("blog/topics.html", topics=services.topics_with_counts())


@bp.get("/topics/<slug>")
@public_page(params=("page",), areas=("blog",))
def topic(slug: str):
    """One topic's posts."""
    return _post_list("blog/index.html", _topic_or_404(slug))


@bp.get("/<slug>")
@public_page(areas=("blog",))  # and the catalog when it lists products
def post(slug: str):
    """One post with its topics, references, related posts and products."""
    found = services.get_public_post(slug) if is_slug(slug) else None
    if found is None:
        abort(404, description="We couldn't find that post. It may have been moved or unpublished.")
    if services.may_list_products(found):
        page_shows("catalog")
    return render_template(
        "blog/post.html",
        post=found,
        related_posts=services.related_posts(found),
        related_products=services.related_products(found),
        post_json_ld=post_json_ld(found),
    )


@bp.get("/feed.xml")
@public_page(areas=("blog",))
def feed():
    """The Atom feed of the newest posts."""
    return _atom(services.feed_posts(), None)


@bp.get("/topics/<slug>/feed.xml")
@public_page(areas=("blog",))
def topic_feed(slug: str):
    """The Atom feed of one topic."""
    topic = _topic_or_404(slug)
    return _atom(services.feed_posts(topic), topic)


def _atom(posts: list[Post], topic: Topic | None) -> Response:
    return Response(atom_feed(posts, topic), mimetype="application/atom+xml")


def post_json_ld(post: Post) -> dict:
    """schema.org BlogPosting data for search engines."""
    url = absolute_url("blog.post", slug=post.slug)
    data = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.title,
        "description": post.summary,
        "datePublished": iso_datetime(post.published_at),
        "dateModified": iso_datetime(post.modified_at),
        "author": {"@type": "Person", "name": post.author_name},
        "publisher": {"@type": "Organization", "name": current_app.config["SITE_NAME"]},
        "mainEntityOfPage": url,
        "url": url,
        "keywords": ", ".join(t.name for t in post.topics),
    }
    if post.cover_image:
        data["image"] = absolute_url("main.upload", name="posts/" + post.cover_image)
    return data
