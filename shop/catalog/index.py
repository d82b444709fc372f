"""Which facet index each app serves in this process, and how it follows the catalog without stalling.

The first request in a process builds the index (``shop.catalog.facet_index``)
and waits for it; no other request ever waits for a build:

- A **stock change** (a lot's units or status, a product hidden or shown)
  moves the catalog clock's "stock" kind. A request whose reading shows a
  stock change newer than the index's reads which products changed from the
  stock-change log (``shop.catalog.stock_log``, after the last id the index
  applied) and updates the index in place: a few small queries, no rebuild.
  Every process does so within ``CONTENT_STAMP_TTL`` of the change.
- **Any other catalog change** (a price, a new lot, a donor's typing...)
  moves the "content" kind: a new index is built beside the old one in a
  background thread while requests keep using the old one (which still follows
  stock changes), then it takes the old one's place. So does a stock change
  the layout cannot hold (a product shown that had no slots, more donors in
  stock than a product has slots), more than ``CATALOG_INDEX_FOLLOW_LIMIT``
  products at once, or a process that has not followed the log for nearly
  ``CATALOG_STOCK_LOG_KEEP`` seconds (its rows may be pruned).

Readings are compared by recency (``Clock.newer_than``), never by equality: a
blog save, or a reading older than the index's, leaves the index be.
``CATALOG_INDEX_BACKGROUND_BUILD = False`` builds in the request instead (the
test suite's default: its requests share one connection that no other thread may use).
"""

import contextlib
import ctypes
import threading
import time
import weakref
from dataclasses import dataclass, field

from flask import Flask, current_app

from shop.catalog import index_rows, stock_log
from shop.catalog.donor_filters import donor_values
from shop.catalog.facet_index import CatalogIndex, Matches, SearchHits
from shop.catalog.facets import DONOR_FACETS, PRODUCT_FACETS
from shop.content_clock import Clock, read_now, reading
from shop.extensions import db

STOCK = stock_log.STOCK
# The facets as the index's tests name them (one list: shop.catalog.facets).
PRODUCT_LEVEL = PRODUCT_FACETS
DONOR_LEVEL = DONOR_FACETS
# Seconds before CATALOG_STOCK_LOG_KEEP at which a process that has not followed the log builds anew.
_KEEP_MARGIN = 60

__all__ = [
    "DONOR_LEVEL",
    "PRODUCT_LEVEL",
    "CatalogIndex",
    "Matches",
    "SearchHits",
    "catalog_index",
    "forget_catalog_indexes",
    "index_counts",
]


@dataclass
class _Served:
    """One app's index in this process, the build under way beside it, and what it has done."""

    index: CatalogIndex | None = None
    builds: int = 0  # indexes built (the first included)
    updates: int = 0  # stock changes followed in place
    building: threading.Thread | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)  # the first build; starting a build
    following: threading.Lock = field(default_factory=threading.Lock)  # one thread updates in place at once

    def install(self, index: CatalogIndex) -> None:
        self.index, self.builds = index, self.builds + 1
        _return_freed_memory()


_served_by_app: "weakref.WeakKeyDictionary[Flask, _Served]" = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def _served(app: Flask) -> _Served:
    with _registry_lock:
        return _served_by_app.setdefault(app, _Served())


def catalog_index() -> CatalogIndex:
    """This process's index for the current app, as up to date as the request's reading of the catalog clock."""
    clock = reading("catalog")
    app = current_app._get_current_object()
    served = _served(app)
    if served.index is None:
        with served.lock:  # the very first request in a process waits for the build; no other does
            if served.index is None:
                served.install(_build(app))
        return served.index
    index = served.index
    if _content_newer(clock, index.clock):
        if app.config["CATALOG_INDEX_BACKGROUND_BUILD"]:
            _build_beside(app, served)
        else:
            with served.lock:
                served.install(_build(app))
            return served.index
    if clock.newer_than(index.clock, [STOCK]):
        _follow_stock(app, served, index, clock)
    else:
        index.synced_at = time.monotonic()
    return served.index  # the same one, unless a change it could not follow was built in this request


def index_counts(app: Flask) -> tuple[int, int]:
    """(indexes built, stock changes followed in place) by this process for ``app``: for tests and the benchmark."""
    served = _served(app)
    return served.builds, served.updates


def _content_newer(clock: Clock, held: Clock) -> bool:
    """Whether the reading has a change other than of stock after the one the index was built on."""
    return clock.newer_than(held, (set(clock.kinds) | set(held.kinds)) - {STOCK, stock_log.AVAILABILITY})


def _build(app: Flask) -> CatalogIndex:
    """A new index: the clock read first, then where the stock log stands, then the rows, so any change the
    rows might miss is newer than the clock and in the log after that point."""
    clock = read_now("catalog")
    seen = stock_log.last_id()
    index = CatalogIndex.build(clock, app.config["CATALOG_SEARCH_CACHE_SIZE"])
    index.stock_log_seen, index.synced_at = seen, time.monotonic()
    return index


def _build_beside(app: Flask, served: _Served) -> None:
    """Start building a new index in a thread of its own, unless one is being built."""
    with served.lock:
        if served.building is not None:
            return
        served.building = threading.Thread(
            target=_build_in_thread, args=(app, served), name="catalog-index-build", daemon=True
        )
        served.building.start()


def _build_in_thread(app: Flask, served: _Served) -> None:
    try:
        with app.app_context():
            try:
                index = _build(app)
            finally:
                db.session.remove()
        served.install(index)  # requests already holding the old index finish with it
    except Exception:
        app.logger.exception("building the catalog index failed; the old one stays in use")
    finally:
        served.building = None


def _follow_stock(app: Flask, served: _Served, index: CatalogIndex, clock: Clock) -> None:
    """Apply the stock changes logged since the index's last id, in place; or build anew when it can't."""
    if not served.following.acquire(blocking=False):
        return  # another request is updating it: serve what there is, it will be current in a moment
    try:
        if time.monotonic() - index.synced_at > app.config["CATALOG_STOCK_LOG_KEEP"] - _KEEP_MARGIN:
            _rebuild(app, served)
            return
        seen, products = stock_log.changes_after(index.stock_log_seen)
        if products:
            if len(products) > app.config["CATALOG_INDEX_FOLLOW_LIMIT"]:
                _rebuild(app, served)
                return
            stock = index_rows.stock_of(products, index.donors_in_slots(products), donor_values)
            if not index.follow_stock(stock):
                _rebuild(app, served)
                return
            served.updates += 1
        index.stock_log_seen, index.synced_at = seen, time.monotonic()
        index.clock = Clock(index.clock.area, {**index.clock.kinds, STOCK: clock.kinds[STOCK]})
    finally:
        served.following.release()


def _rebuild(app: Flask, served: _Served) -> None:
    """A change the index can't follow in place: a new index, beside the old one unless builds are synchronous."""
    if app.config["CATALOG_INDEX_BACKGROUND_BUILD"]:
        _build_beside(app, served)
    else:
        served.install(_build(app))


def _return_freed_memory() -> None:
    """Hand the heap a build freed (its rows: ~30 MB on 100,000 products) back to the system; glibc only."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: the process reuses it instead
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def forget_catalog_indexes() -> None:
    """Drop every app's index and what it read of the stock log, so the next request builds one and reads
    the log afresh (for tests that empty the database or roll it back: the log's ids count again)."""
    with _registry_lock:
        _served_by_app.clear()
    stock_log.forget_followers()
