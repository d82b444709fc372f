"""What the site's URLs are made of: slugs, page numbers and record ids, the same rules everywhere."""

import re
import unicodedata

from werkzeug.routing import IntegerConverter

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


def free_slug(base: str, taken: set[str], max_length: int) -> str:
    """``base``, or ``base-2``, ``base-3`` ... whichever is not taken, cut to fit ``max_length`` with its suffix."""
    base = base[: max_length - 7].rstrip("-") or "page"  # room for a "-123456" suffix
    candidate, suffix = base, 2
    while candidate in taken:
        candidate, suffix = f"{base}-{suffix}", suffix + 1
    return candidate


def page_number(raw: str | None) -> int:
    """A ``page`` query parameter as a positive number; anything else is page 1."""
    raw = raw or "1"
    return int(raw) if _PAGE_NUMBER.match(raw) and int(raw) > 0 else 1


# PostgreSQL's ``integer``: an id beyond it can't exist, and comparing with it fails the query.
INT4_MAX = 2**31 - 1
_RECORD_ID = re.compile(r"[0-9]{1,10}")  # ASCII digits: int() also takes " 1", "1_0" and "١"
_INDEX = re.compile(r"[0-9]{1,6}")


def record_id(raw: object) -> int | None:
    """A record id from a URL or form as a number within PostgreSQL's integer range; None for anything else."""
    if not isinstance(raw, str) or not _RECORD_ID.fullmatch(raw):
        return None
    value = int(raw)
    return value if 0 < value <= INT4_MAX else None


def looks_like_record_id(raw: object) -> bool:
    """True when ``raw`` is written as a record id (digits), whether or not it is in range."""
    return isinstance(raw, str) and raw.isascii() and raw.isdigit()


def small_index(raw: str | None) -> int | None:
    """A page, page size, sort column or flag from a query string: 0 to 999999; None for anything else."""
    raw = raw or "0"
    return int(raw) if _INDEX.fullmatch(raw) else None


class RecordIdConverter(IntegerConverter):
    """``<id:name>`` in a route: ASCII digits from 1 to PostgreSQL's integer maximum (anything else: 404)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=INT4_MAX)
