"""Which facet index each app serves in this process, and when a new one is built.

The index (``shop.catalog.facet_index``) is built the first time it is asked
for after the catalog's clock moved (:mod:`shop.content_clock`), once per
process; a blog save, or a reading older than the one it was built on, leaves
it be.
"""

import contextlib
import ctypes
import threading
import weakref

from flask import current_app

from shop.catalog.facet_index import CatalogIndex, Matches, SearchHits
from shop.catalog.facets import DONOR_FACETS, PRODUCT_FACETS
from shop.content_clock import reading

# The facets as the index's tests name them (one list: shop.catalog.facets).
PRODUCT_LEVEL = PRODUCT_FACETS
DONOR_LEVEL = DONOR_FACETS

__all__ = [
    "DONOR_LEVEL",
    "PRODUCT_LEVEL",
    "CatalogIndex",
    "Matches",
    "SearchHits",
    "catalog_index",
    "forget_catalog_indexes",
]

_build_lock = threading.Lock()
_indexes: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # app -> its index


def catalog_index() -> CatalogIndex:
    """This process's index, built again only when the catalog changed after the reading it was built on."""
    clock = reading("catalog")
    app = current_app._get_current_object()
    index = _indexes.get(app)
    if index is None or clock.newer_than(index.clock):
        with _build_lock:
            index = _indexes.get(app)
            if index is None or clock.newer_than(index.clock):
                _indexes.pop(app, None)  # one index at a time: let the old one go before building
                index = CatalogIndex.build(clock, current_app.config["CATALOG_SEARCH_CACHE_SIZE"])
                _indexes[app] = index
                _return_freed_memory()
    return index


def _return_freed_memory() -> None:
    """Hand the heap a build freed (its rows: ~30 MB on 100,000 products) back to the system; glibc only."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: the process reuses it instead
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def forget_catalog_indexes() -> None:
    """Drop every app's index, so the next request builds one (for tests that empty the database)."""
    _indexes.clear()
