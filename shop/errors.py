"""Error pages in the site's layout, and a rollback before a 500 page is drawn."""

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

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


def render_error(error: HTTPException):
    """Render an HTTP error with the site's layout and the right status."""
    code = error.code or 500
    if getattr(error, "response", None) is not None:
        # The view drew its own page for this error (e.g. the sign-in lockout).
        return error.response
    # A view may pass its own explanation (abort(404, description=...)); keep the
    # generic text when it didn't, since werkzeug's default wording is terse.
    default = type(error).description
    message = error.description if error.description and error.description != default else MESSAGES.get(code, "")
    # Keep headers the error carries (Allow on a 405, Retry-After on a 429).
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return render_template("errors/error.html", code=code, name=error.name, message=message), code, headers


def handle_internal_error(error: Exception):
    """Roll back the failed transaction, then show the 500 page."""
    db.session.rollback()
    return render_error(InternalServerError())


def init_app(app: Flask) -> None:
    """Register the handlers on the app."""
    for code in MESSAGES:
        if code != 500:
            app.register_error_handler(code, render_error)
    app.register_error_handler(500, handle_internal_error)
