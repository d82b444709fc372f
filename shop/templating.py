"""Jinja filters and globals shared by every feature's templates."""

from datetime import date, datetime

from flask import Flask, current_app, has_request_context, request, url_for

from shop.markdown import render_markdown, render_markdown_inline
from shop.models import utcnow
from shop.times import format_datetime, iso_datetime

SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def format_money(cents: int | None, currency: str = "USD") -> str:
    """Format integer cents as a price, e.g. 190000 -> "$1,900.00"."""
    if cents is None:
        return ""
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    return f"{symbol}{cents / 100:,.2f}"


def format_cells(count: int | None) -> str:
    """Format a cell count in scientific notation, e.g. 25000000 -> "2.5 × 10⁷"."""
    if not count:
        return "Varies"
    exponent = len(str(int(count))) - 1
    mantissa = count / 10**exponent
    text = f"{mantissa:.1f}".removesuffix(".0")
    return f"{text} × 10{str(exponent).translate(SUPERSCRIPTS)}"


def format_percent(value: float | None) -> str:
    """Format a percentage, dropping a trailing ".0"; empty for unknown."""
    if value is None:
        return "–"
    return f"{value:.1f}".removesuffix(".0") + "%"


def format_date(value: date | datetime | None) -> str:
    """Format a date the way a reader expects, e.g. "29 Jun 2021"."""
    if value is None:
        return ""
    return f"{value.day} {value:%b %Y}"


def site_root() -> str:
    """Scheme and host that every absolute URL starts with, e.g. "https://shop.example".

    SITE_URL when it is set. Otherwise the request's own scheme and host, which
    Flask has already checked against TRUSTED_HOSTS (an untrusted Host is a 400
    before any view runs); with neither set, as in development and tests, any
    host. Never ``url_for(..., _external=True)``: that takes the Host header on
    trust. The page cache keys on this too, so hosts never share a page.
    """
    if not has_request_context() and not current_app.config.get("SITE_URL"):
        raise RuntimeError("SITE_URL is needed to build absolute URLs outside a request.")
    return site_root_of(current_app.config, request)


def site_root_of(config, request) -> str:
    """SITE_URL, or the request's scheme and host (``request.host`` raises for a host outside TRUSTED_HOSTS)."""
    return config.get("SITE_URL") or f"{request.scheme}://{request.host}"


def absolute_url(endpoint: str, **values) -> str:
    """An absolute URL on the site's root (canonical links, sitemap, feeds, structured data)."""
    return site_root() + url_for(endpoint, **values)


# The header's sections. The Quote and Contact pages arrive with the inquiries
# feature; until an endpoint exists its link is left out (Contact falls back to
# e-mail), so the header never leads to a missing page.
NAV = (
    ("Products", "catalog.product_list"),
    ("Blog", "blog.index"),
    ("Quote", "inquiries.basket"),
    ("Contact", "inquiries.contact"),
)


def main_nav() -> list[dict]:
    """The header navigation: label, URL and whether it is the current section."""
    endpoints = current_app.view_functions
    current = (request.endpoint or "").split(".")[0]
    items = []
    for label, endpoint in NAV:
        if endpoint in endpoints:
            url = url_for(endpoint)
        elif label == "Contact":
            url = f"mailto:{current_app.config['CONTACT_EMAIL']}"
        else:
            continue
        items.append({"label": label, "url": url, "current": _is_current(endpoint, current),
                      # The quote basket's count is filled in by static/js/basket.js from a cookie: cached pages
                      # stay the same for every visitor.
                      "counter": label == "Quote"})  # fmt: skip
    return items


def _is_current(endpoint: str, current_blueprint: str) -> bool:
    """A section is current on its own page, or anywhere in its blueprint when no other section shares it."""
    blueprint = endpoint.split(".")[0]
    sharing = [e for _, e in NAV if e.split(".")[0] == blueprint]
    if len(sharing) > 1 and request.endpoint in sharing:
        return request.endpoint == endpoint
    return blueprint == current_blueprint and (len(sharing) == 1 or endpoint == sharing[0])


def has_endpoint(name: str) -> bool:
    """True when the app has this endpoint (a feature that later issues add may not exist yet)."""
    return name in current_app.view_functions


def current_year() -> int:
    """This year, for the footer."""
    return datetime.now().year


def init_app(app: Flask) -> None:
    """Register the filters and globals."""
    app.jinja_env.filters.update(
        money=format_money,
        cells=format_cells,
        percent=format_percent,
        date=format_date,
        datetime=format_datetime,
        isotime=iso_datetime,
        markdown=render_markdown,
        markdown_inline=render_markdown_inline,
    )
    app.jinja_env.globals.update(
        absolute_url=absolute_url,
        main_nav=main_nav,
        current_year=current_year,
        has_endpoint=has_endpoint,
        now_utc=utcnow,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
