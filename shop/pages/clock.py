"""What moves the pages' content clock: saving a page (or one of its revisions)."""

from shop import content_clock
from shop.pages.models import Page, PageRevision


def register_pages_clock() -> None:
    """Page saves make the cached pages that show pages stale (the pages themselves and the site map)."""
    content_clock.track("pages", Page, PageRevision)
