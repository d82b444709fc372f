"""Reading product cards off a page, the way a visitor scans them (templates/macros/catalog.html)."""

import re

CARD = re.compile(r'class="card-title"><a href="/products/([^"?]+)[^"]*"')


def card_slugs(html: str) -> list[str]:
    """Slugs of the product cards on the page (or the part of it given), in page order."""
    return CARD.findall(html)
