"""Checks every request passes before any view, form or query sees it.

PostgreSQL refuses a NUL byte in text (the query fails: a 500), and other
control characters have no place in an address or a form field; refusing
them here, once, means no view has to remember to.
"""

import re

from flask import Flask, abort, request

from shop.urls import RecordIdConverter

# C0 control characters. Form text may hold tab, CR and LF (textareas); an address may not.
_CONTROL = re.compile(r"[\x00-\x1f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
REFUSED = (
    "The request contains a control character (such as a NUL byte) that has no place in an address or a form. "
    "Remove it and try again."
)


def has_control_characters(text: str, pattern: re.Pattern = _CONTROL) -> bool:
    """True when ``text`` holds a character the pattern refuses."""
    return pattern.search(text) is not None


def refuse_control_characters() -> None:
    """400 for a control character in the path, a query parameter or a form field (file contents are not text)."""
    if has_control_characters(request.path):
        abort(400, description=REFUSED)
    for key, value in request.args.items(multi=True):
        if has_control_characters(key) or has_control_characters(value):
            abort(400, description=REFUSED)
    for key, value in request.form.items(multi=True):
        if has_control_characters(key) or has_control_characters(value, _CONTROL_IN_TEXT):
            abort(400, description=REFUSED)


def init_app(app: Flask) -> None:
    """Register the ``<id:...>`` route converter and the control-character check (before any other hook)."""
    app.url_map.converters["id"] = RecordIdConverter
    app.before_request(refuse_control_characters)
