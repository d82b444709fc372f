"""Times as people read them, and as HTML's ``<time datetime>`` accepts them: one home for both.

Stored times are UTC (``shop.models.UTCDateTime``). A reader sees "1 Dec 2026, 05:17 UTC", never
``2026-12-01 05:17:24.590049+00:00``; a machine-readable attribute gets at most three digits of a
second (HTML allows no more), here none. The Jinja filters ``datetime`` and ``isotime`` and the back
office's column formatters all call these.
"""

from datetime import UTC, date, datetime, tzinfo


def _in_zone(value: datetime, zone: tzinfo | None) -> datetime:
    """``value`` in ``zone`` (UTC by default); a naive value is taken to be UTC, as stored."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone or UTC)


def format_datetime(value: datetime | date | None, zone: tzinfo | None = None) -> str:
    """A time as people read it, e.g. "1 Dec 2026, 05:17 UTC" (a date alone: "1 Dec 2026"); "" for None."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return f"{value.day} {value:%b %Y}"
    local = _in_zone(value, zone)
    name = "UTC" if local.utcoffset().total_seconds() == 0 and zone in (None, UTC) else local.tzname()
    return f"{local.day} {local:%b %Y, %H:%M} {name}"


def iso_datetime(value: datetime | None) -> str:
    """A UTC time for ``<time datetime>`` and feeds, to the second: "2026-12-01T05:17:24Z"; "" for None."""
    if value is None:
        return ""
    return _in_zone(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_datetime(value: datetime | None) -> str | None:
    """A time as a person's data export writes it (ISO 8601, UTC offset, to the microsecond); None for None."""
    return value.isoformat() if value else None


def parse_iso_datetime(text: object) -> datetime | None:
    """The datetime an ISO 8601 string with a time (as the audit log stores them) names, or None."""
    if not isinstance(text, str) or len(text) < 16 or "T" not in text[:11]:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
