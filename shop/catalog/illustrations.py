"""The drawings that stand for each category (static/img/categories/<slug>.svg, drawn for the shop)."""

from functools import cache
from pathlib import Path

from flask import current_app, url_for

FOLDER = "img/categories"
FALLBACK = "generic"  # for a category staff add before anyone draws it


@cache
def _drawn(static_folder: str) -> frozenset[str]:
    """The category slugs that have a drawing (read once per process: the files ship with the code)."""
    return frozenset(path.stem for path in (Path(static_folder) / FOLDER).glob("*.svg"))


def category_illustration(slug: str) -> str:
    """The URL of a category's drawing, or of the generic one when the category has none."""
    name = slug if slug in _drawn(current_app.static_folder) else FALLBACK
    return url_for("static", filename=f"{FOLDER}/{name}.svg")
