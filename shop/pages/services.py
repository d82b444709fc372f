"""Pages: saving with revisions, restoring, and the public reads."""

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import defer, load_only

from shop.extensions import db
from shop.markdown import render_markdown
from shop.models import utcnow
from shop.pages.models import Page, PageRevision
from shop.text import strip_control_characters

MAX_BODY_LENGTH = 100_000  # characters; the longest seeded page (terms of sale) is ~6,000
# The pages a trusted supplier has, at short addresses of their own (/about ...), in the footer's order.
# Any other page marketing adds lives under /pages/<slug>.
STANDARD_PAGES = {
    "about": "About us",
    "quality": "Quality and donor consent",
    "shipping": "Shipping and handling",
    "terms": "Terms of sale",
    "privacy": "Privacy",
}


@dataclass
class PageContent:
    """What an editor can change on a page."""

    title: str
    slug: str
    summary: str
    body: str
    published: bool = True


def save_page(page: Page, content: PageContent, actor: str) -> Page:
    """Apply the content, render the body once, and keep a revision. The caller commits."""
    page.title = strip_control_characters(content.title).strip()
    page.slug = content.slug
    page.summary = strip_control_characters(content.summary).strip()
    page.body = strip_control_characters(content.body)
    page.body_html = str(render_markdown(page.body))
    page.published = content.published
    page.updated_at = utcnow()
    page.updated_by = actor
    page.revision = (page.revision or 0) + 1
    if page.id is None:
        db.session.add(page)
    page.revisions.append(
        PageRevision(number=page.revision, title=page.title, summary=page.summary, body=page.body, saved_by=actor)
    )
    return page


def restore_revision(page: Page, revision: PageRevision, actor: str) -> Page:
    """Bring back an earlier revision's text, as a new revision (nothing is lost)."""
    content = PageContent(revision.title, page.slug, revision.summary, revision.body, page.published)
    return save_page(page, content, actor)


def page_url(slug: str) -> str:
    """The public address of a page: /about for the standard pages, /pages/<slug> for the others."""
    if slug in STANDARD_PAGES:
        return url_for("pages.standard_page", slug=slug)
    return url_for("pages.page", slug=slug)


def get_public_page(slug: str) -> Page | None:
    """A published page by slug (without its Markdown: the page shows the HTML rendered at save)."""
    return db.session.scalar(select(Page).where(Page.slug == slug, Page.published).options(defer(Page.body)))


def public_pages() -> list[Page]:
    """Every published page, the standard ones first in the footer's order, then the others by title."""
    pages = db.session.scalars(
        select(Page).where(Page.published).options(load_only(Page.slug, Page.title, Page.summary, Page.updated_at))
    ).all()
    return standard_first(pages)


def standard_first(pages: list[Page]) -> list[Page]:
    """The standard pages in the footer's order, then the others by title."""
    order = list(STANDARD_PAGES)
    return sorted(pages, key=lambda p: (order.index(p.slug) if p.slug in order else len(order), p.title.lower()))


def footer_pages() -> list[dict]:
    """The footer's links to the standard pages (fixed labels, so the footer sends no query)."""
    return [{"label": label, "url": page_url(slug)} for slug, label in STANDARD_PAGES.items()]
