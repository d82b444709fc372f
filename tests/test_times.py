"""Times as people read them and as <time datetime> accepts them (shop/times.py), and the Jinja filters."""

import re
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from shop.times import format_datetime, iso_datetime, parse_iso_datetime

STORED = datetime(2026, 12, 1, 5, 17, 24, 590049, tzinfo=UTC)


def test_a_stored_time_reads_as_people_write_it():
    assert format_datetime(STORED) == "1 Dec 2026, 05:17 UTC"
    assert format_datetime(STORED.replace(tzinfo=None)) == "1 Dec 2026, 05:17 UTC"  # naive values are UTC
    assert format_datetime(STORED.astimezone(timezone(timedelta(hours=-5)))) == "1 Dec 2026, 05:17 UTC"
    assert format_datetime(date(2021, 6, 29)) == "29 Jun 2021"
    assert format_datetime(None) == ""


def test_a_time_in_a_zone_names_the_zone():
    assert format_datetime(STORED, ZoneInfo("America/New_York")) == "1 Dec 2026, 00:17 EST"


def test_the_machine_readable_time_is_valid_html_to_the_second():
    text = iso_datetime(STORED)
    assert text == "2026-12-01T05:17:24Z"
    # HTML's global date and time string: at most three digits of a fraction; here none.
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", text)
    assert iso_datetime(None) == ""


def test_logged_iso_strings_are_recognised_as_times_and_other_text_is_not():
    assert parse_iso_datetime(STORED.isoformat()) == STORED
    for text in ("CT-PBMC-CR-10M", "2026-12-01", "2026-12-01Tnonsense", 17, None, ""):
        assert parse_iso_datetime(text) is None


def test_templates_have_the_filters(app):
    rendered = app.jinja_env.from_string('<time datetime="{{ t|isotime }}">{{ t|datetime }}</time>').render(t=STORED)
    assert rendered == '<time datetime="2026-12-01T05:17:24Z">1 Dec 2026, 05:17 UTC</time>'
