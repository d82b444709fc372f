"""What the site's URLs are made of: slugs and page numbers, the same rules everywhere."""

import re
import unicodedata

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MESSAGE = "Use lower-case letters, digits and single hyphens only."
_PAGE_NUMBER = re.compile(r"^[0-9]{1,6}$")  # ASCII digits only: str.isdigit() accepts "²"


def is_slug(text: str) -> bool:
    """True when ``text`` is a well-formed slug (so a NUL byte or other junk never reaches a query)."""
    return bool(SLUG.match(text))


def slugify(text: str, max_length: int | None = None) -> str:
    """Lower-case ASCII words joined by hyphens: "CD19+ B cells, 10M" -> "cd19-b-cells-10m" (may be empty)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") if max_length else slug


def page_number(raw: str | None) -> int:
    """A ``page`` query parameter as a positive number; anything else is page 1."""
    raw = raw or "1"
    return int(raw) if _PAGE_NUMBER.match(raw) and int(raw) > 0 else 1
