"""Checks every request passes before any view, form or query sees it.

PostgreSQL refuses a NUL byte in text (the query fails: a 500), and other
control characters have no place in an address or a form field; refusing
them here, once, means no view has to remember to.
"""

from flask import Flask, abort, request
from werkzeug.datastructures import MultiDict

from shop.text import CONTROL_IN_LINE, CONTROL_IN_TEXT
from shop.urls import RecordIdConverter

REFUSED = (
    "The request contains a control character (such as a NUL byte) that has no place in an address or a form. "
    "Remove it and try again."
)


def address_has_control_characters(path: str, args: MultiDict) -> bool:
    """Whether the path or a query parameter (name or value) holds a control character."""
    return bool(CONTROL_IN_LINE.search(path)) or any(
        CONTROL_IN_LINE.search(key) or CONTROL_IN_LINE.search(value) for key, value in args.items(multi=True)
    )


def refuse_control_characters() -> None:
    """400 for a control character in the path, a query parameter or a form field (file contents are not text)."""
    if address_has_control_characters(request.path, request.args):
        abort(400, description=REFUSED)
    # Form text may hold tab, CR and LF (textareas).
    for key, value in request.form.items(multi=True):
        if CONTROL_IN_LINE.search(key) or CONTROL_IN_TEXT.search(value):
            abort(400, description=REFUSED)


def init_app(app: Flask) -> None:
    """Register the ``<id:...>`` route converter and the control-character check (before any other hook)."""
    app.url_map.converters["id"] = RecordIdConverter
    app.before_request(refuse_control_characters)
