"""Error pages, drawn without the request's URL, the database or the signed-in user; a rollback before a 500.

An error page is often drawn because one of those failed: a Host header werkzeug refuses leaves the
request with no URL adapter, and a database that is down cannot load the user Flask-Login's context
processor would put in every template. So the page is rendered from Jinja directly, with its links built
on a fixed host, and a database that cannot answer gets a 503 that asks to retry, not a 500.
"""

from urllib.parse import urlsplit

from flask import Flask, current_app, request
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError, ServiceUnavailable

from shop.extensions import db

# What each page says in plain words; the status code's own name is the title.
MESSAGES = {
    400: "The request could not be understood. Check the address or the form and try again.",
    403: "You don't have permission to see this page.",
    404: "We couldn't find that page. It may have moved, or the address may be mistyped.",
    405: "That action isn't allowed on this page.",
    413: "What you sent is too large.",
    429: "Too many requests in a short time. Please wait a moment and try again.",
    500: "Something went wrong on our side. We've been notified; please try again shortly.",
    503: "The shop is briefly unavailable. Please try again in a few minutes.",
}
# Down, unreachable, locked ("database is locked"), past its statement timeout, or no pooled connection free.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)
RETRY_AFTER_SECONDS = 30
# The error page's links: (name, endpoint, values).
LINKS = (
    ("home", "main.home", {}),
    ("products", "catalog.product_list", {}),
    ("blog", "blog.index", {}),
    ("search", "main.search", {}),
    ("sitemap", "main.sitemap", {}),
    ("tokens", "static", {"filename": "css/tokens.css"}),
    ("stylesheet", "static", {"filename": "css/site.css"}),
    ("icon_svg", "static", {"filename": "img/favicon.svg"}),
    ("icon_ico", "static", {"filename": "img/favicon.ico"}),
)


def render_error(error: HTTPException):
    """Render an HTTP error with the site's look and the right status."""
    code = error.code or 500
    if getattr(error, "response", None) is not None:
        # The view drew its own page for this error (e.g. the sign-in lockout).
        return error.response
    # A view may pass its own explanation (abort(404, description=...)); keep the generic text when it
    # didn't, since werkzeug's default wording is terse, and for a refused Host, whose text repeats it.
    default = type(error).description
    own = error.description and error.description != default and not isinstance(error, SecurityError)
    message = error.description if own else MESSAGES.get(code, "")
    # Keep headers the error carries (Allow on a 405, Retry-After on a 429 or 503).
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    # Not render_template: its context processors load the signed-in user from the database.
    page = current_app.jinja_env.get_template("errors/error.html")
    links = error_page_links()
    area = area_links(links)
    if area and code == 403 and not own:
        message = area["forbidden"]
    body = page.render(code=code, name=error.name, message=message, links=links, area=area)
    return body, code, headers


def error_page_links() -> dict[str, str]:
    """Paths the error page links to, built on a fixed host: the request's own Host may be what failed."""
    adapter = current_app.url_map.bind("localhost", script_name=request.script_root or "/")
    links = {}
    for name, endpoint, values in LINKS:
        if endpoint in current_app.view_functions:
            values = dict(values)
            current_app.inject_url_defaults(endpoint, values)  # the static files' fingerprint
            links[name] = adapter.build(endpoint, values)
    return links


def register_area(app: Flask, prefix: str, home_endpoint: str, home_label: str, forbidden: str) -> None:
    """A part of the site (the back office) whose error pages lead back into it, not to the catalog.

    ``forbidden`` is what its 403 page says instead of the generic text.
    """
    area = {"prefix": prefix, "endpoint": home_endpoint, "home_label": home_label, "forbidden": forbidden}
    app.extensions.setdefault("error_areas", []).append(area)


def area_links(links: dict[str, str]) -> dict | None:
    """The way back for an error inside a registered area: its home, and the page the visitor came from."""
    for area in current_app.extensions.get("error_areas", ()):
        if _within(request.path, area["prefix"]):
            adapter = current_app.url_map.bind("localhost", script_name=request.script_root or "/")
            home = adapter.build(area["endpoint"], {})
            return {**area, "home": home, "back": _came_from(area["prefix"], home)}
    return None


def _within(path: str, prefix: str) -> bool:
    """True when ``path`` is ``prefix`` or below it ("/admin/x", not "/administrator")."""
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def _came_from(prefix: str, home: str) -> str | None:
    """The Referer's path when it is another page of the same area on this host (never another site)."""
    parts = urlsplit(request.headers.get("Referer", ""))
    try:
        same_host = parts.netloc == request.host
    except SecurityError:  # the Host header is what failed: no way to tell
        return None
    if not same_host or not _within(parts.path, prefix) or parts.path in (request.path, home):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def handle_database_unavailable(error: SQLAlchemyError):
    """The database could not answer: a 503 asking to retry shortly, drawn without touching the database."""
    current_app.logger.error("database unavailable on %s: %s", request.path, error)
    roll_back_quietly()
    return render_error(ServiceUnavailable(retry_after=RETRY_AFTER_SECONDS))


def handle_internal_error(error: Exception):
    """Roll back the failed transaction, then show the 500 page."""
    roll_back_quietly()
    return render_error(InternalServerError())


def roll_back_quietly() -> None:
    """Roll back the request's session; a connection that is already gone must not turn the page into a crash."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        current_app.logger.exception("rollback failed while drawing an error page")


def init_app(app: Flask) -> None:
    """Register the handlers on the app."""
    for code in MESSAGES:
        if code != 500:
            app.register_error_handler(code, render_error)
    app.register_error_handler(500, handle_internal_error)
    for error_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(error_class, handle_database_unavailable)
