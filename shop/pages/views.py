"""The public pages: /about, /quality, /shipping, /terms, /privacy, any other page under /pages/, and /sitemap."""

from flask import Blueprint, abort, redirect, render_template

from shop.blog import services as blog
from shop.catalog import services as catalog
from shop.page_cache import public_page
from shop.pages import services
from shop.urls import is_slug

bp = Blueprint("pages", __name__)
STANDARD_SLUGS = ",".join(services.STANDARD_PAGES)


def _page_or_404(slug: str):
    page = services.get_public_page(slug) if is_slug(slug) else None
    if page is None:
        abort(404, description="There is no such page. The site map lists every page.")
    return page


@bp.get(f"/<any({STANDARD_SLUGS}):slug>")
@public_page(areas=("pages",))
def standard_page(slug: str):
    """One of the standard pages (About, Quality and donor consent, Shipping, Terms, Privacy)."""
    return _render(_page_or_404(slug))


@bp.get("/pages/<slug>")
@public_page(areas=("pages",))
def page(slug: str):
    """Any other page marketing wrote; a standard page asked for here goes to its short address."""
    if slug in services.STANDARD_PAGES:
        return redirect(services.page_url(slug), 301)
    return _render(_page_or_404(slug))


def _render(page):
    return render_template("pages/page.html", page=page, section_pages=services.public_pages())


@bp.get("/sitemap")
@public_page(areas=("catalog", "blog", "pages"))
def sitemap():
    """The site map for people: every category, page, topic and recent post (sitemap.xml is for crawlers)."""
    return render_template(
        "pages/sitemap.html",
        categories=catalog.categories_with_counts(),
        pages=services.public_pages(),
        topics=[topic for topic, count in blog.topics_with_counts() if count],
        posts=blog.recent_posts(20),
    )
