"""The drawings that stand for each category (static/img/categories/<slug>.svg, drawn for the shop)."""

from functools import cache
from pathlib import Path

from flask import current_app, request, url_for

FOLDER = "img/categories"
FALLBACK = "generic"  # for a category staff add before anyone draws it


@cache
def _drawn(static_folder: str) -> frozenset[str]:
    """The category slugs that have a drawing (read once per process: the files ship with the code)."""
    return frozenset(path.stem for path in (Path(static_folder) / FOLDER).glob("*.svg"))


def category_illustration(slug: str) -> str:
    """The URL of a category's drawing, or of the generic one when the category has none."""
    # Asked for by every card without a photo (24 a catalog page: 0.4 ms of its 2.6 ms): kept per app and
    # script root, as a static URL with its fingerprint does not change while the process runs.
    urls = current_app.extensions.setdefault("cellshop.category_drawings", {})
    key = (request.script_root, slug)
    if key not in urls:
        name = slug if slug in _drawn(current_app.static_folder) else FALLBACK
        urls[key] = url_for("static", filename=f"{FOLDER}/{name}.svg")
    return urls[key]
