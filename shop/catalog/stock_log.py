"""Which products' stock changed, in order: how every process learns what to update in its facet index.

The catalog's clock says *that* the stock changed ("stock" kind, see
``shop.catalog.clock``); this log says *which* products. A transaction that
changes a lot's units or status, or hides or shows a product, writes one row
per product touched, in the same transaction (so a rolled-back sale logs
nothing). A process whose reading of the clock shows a newer stock change
reads the rows after the last id it applied (:func:`changes_after`) and
updates its index in place (``shop.catalog.index``).

Ids follow commit order: the rows are written after the transaction moved the
stock clock, whose row it then holds locked until it commits (this module's
commit hook is registered after ``shop.content_clock``'s, which moves the
clocks), so a transaction that commits later gets higher ids. Rows older than
``CATALOG_STOCK_LOG_KEEP`` seconds are deleted by the writers, every
``PRUNE_EVERY``-th logging transaction; a process that has not looked for
nearly that long builds a new index instead.

Writes that skip the ORM (``shop.catalog.stock``) call :func:`note_lots`.

Two kinds of the catalog clock come from here. Every stock change moves ``"stock"``; one that puts a lot
in or out of stock, or shows or hides a product, moves ``"availability"`` too. Lists, facets and cards
show availability only, so they key on it; the units of a lot show on its product's page alone, so no
page keys on ``"stock"``: a product page checks its own product against this log instead
(:data:`PRODUCT_STOCK`, through :class:`Follower`), and a unit sold makes that one page stale.
"""

import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask, current_app, has_app_context
from sqlalchemy import Integer, delete, event, func, insert, inspect, literal, select
from sqlalchemy.orm import Mapped, mapped_column

from shop import content_clock, page_cache
from shop.catalog.models import Lot, Product
from shop.content_clock import Clock
from shop.extensions import db
from shop.models import UTCDateTime, utcnow

STOCK = "stock"  # the catalog clock's kind for stock changes (shop.catalog.clock)
AVAILABILITY = "availability"  # the kind for those that put a lot in or out of stock, or show or hide a product
PRODUCT_STOCK = "product-stock"  # the page cache's item check of one product's stock
# The columns whose change is a stock change: a lot in or out of stock, a product shown or hidden.
LOT_STOCK_COLUMNS = frozenset({"units_available", "units_reserved", "status"})
PRODUCT_STOCK_COLUMNS = frozenset({"active"})
_LOTS, _PRODUCTS = "stock_log.lots", "stock_log.products"
PRUNE_EVERY = 100  # transactions that log, per process, between two prunings of old rows
_logged = 0


class StockChange(db.Model):
    """One product whose stock, or whether it is shown, changed in a committed transaction."""

    __tablename__ = "catalog_stock_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def note_lots(lot_ids: Iterable[int], *, availability: bool = True) -> None:
    """The current transaction changed these lots' stock (put one in or out of stock, unless
    ``availability`` is False): log their products when it commits."""
    _pending(_LOTS).update(lot_ids)
    content_clock.mark_content_changed("catalog", STOCK)
    if availability:
        content_clock.mark_content_changed("catalog", AVAILABILITY)


def note_products(product_ids: Iterable[int]) -> None:
    """The current transaction showed or hid these products (or changed their lots' stock)."""
    _pending(_PRODUCTS).update(product_ids)
    content_clock.mark_content_changed("catalog", STOCK)


def _pending(name: str) -> set[int]:
    return db.session().info.setdefault(name, set())


@event.listens_for(db.session, "before_flush")
def _note_stock_changes(session, flush_context, instances) -> None:
    """Lots and products whose stock columns this flush updates (new and deleted rows are content changes)."""
    # shop.content_clock moves the stock clock for these (or the content clock, when more changed: then
    # every process builds a new index anyway, and the order of these rows matters less).
    for obj in session.dirty:
        if isinstance(obj, Lot) and _changed(obj) & LOT_STOCK_COLUMNS:
            _pending(_LOTS).add(obj.id)
            if _in_stock(obj, "deleted") != _in_stock(obj, "added"):
                content_clock.mark_content_changed("catalog", AVAILABILITY)
        elif isinstance(obj, Product) and _changed(obj) & PRODUCT_STOCK_COLUMNS:
            _pending(_PRODUCTS).add(obj.id)
            content_clock.mark_content_changed("catalog", AVAILABILITY)


def _changed(obj) -> set[str]:
    return {attr.key for attr in inspect(obj).attrs if attr.history.has_changes()}


def _in_stock(lot: Lot, side: str) -> bool:
    """Whether the lot was in stock before this flush (``side`` "deleted": the old values) or is after ("added")."""
    state = inspect(lot).attrs

    def value(name):
        history = state[name].history
        changed = getattr(history, side)
        return changed[0] if changed else (history.unchanged or [getattr(lot, name)])[0]

    return value("status") == "available" and (value("units_available") or 0) > 0


@event.listens_for(db.session, "before_commit")
def _write_noted(session) -> None:
    """Write the log rows last before the commit, after the stock clock moved (see the module docstring)."""
    session.flush()
    lots, products = session.info.pop(_LOTS, set()), session.info.pop(_PRODUCTS, set())
    if not lots and not products:
        return
    connection, now = session.connection(), utcnow()
    if products:
        connection.execute(insert(StockChange), [{"product_id": i, "changed_at": now} for i in sorted(products)])
    if lots:
        of_lots = (
            select(Lot.product_id, literal(now, UTCDateTime))
            .where(Lot.id.in_(sorted(lots)), Lot.product_id.not_in(sorted(products) or [-1]))
            .distinct()
        )
        connection.execute(insert(StockChange).from_select(["product_id", "changed_at"], of_lots))
    global _logged
    _logged += 1
    if _logged % PRUNE_EVERY == 0:  # the writers keep the log short; readers only read
        keep = current_app.config["CATALOG_STOCK_LOG_KEEP"] if has_app_context() else 3600
        connection.execute(delete(StockChange).where(StockChange.changed_at < now - timedelta(seconds=keep)))


@event.listens_for(db.session, "after_transaction_end")
def _drop_noted(session, transaction) -> None:
    """A transaction rolled back logs nothing."""
    if transaction.parent is None:
        session.info.pop(_LOTS, None)
        session.info.pop(_PRODUCTS, None)


def last_id() -> int:
    """The id of the latest row (0: none): where a new index starts reading."""
    return db.session.scalar(select(func.coalesce(func.max(StockChange.id), 0)))


def changes_after(seen: int) -> tuple[int, set[int]]:
    """The last id and the products of the rows after ``seen``."""
    rows = rows_after(seen)
    return max((row.id for row in rows), default=seen), {row.product_id for row in rows}


def rows_after(seen: int) -> list:
    """The (id, product_id) rows after ``seen``, in id order."""
    query = select(StockChange.id, StockChange.product_id).where(StockChange.id > seen).order_by(StockChange.id)
    return db.session.execute(query).all()


# Following the log in each process: which products changed, for the pages that show one product's stock


@dataclass
class Follower:
    """How far this process has read the log, and each product's latest change since it started reading.

    Positions are log ids, the same in every process, so a page drawn in one process at position p is
    checked in another by "did the product change after p". A process knows the changes after ``start``
    only: a page drawn before that counts as changed (drawn again once), and so does every page after a
    pause long enough for the rows it missed to be pruned.
    """

    start: int = -1
    seen: int = -1
    clock: Clock | None = None  # the catalog clock's reading the log was last read for
    synced_at: float = 0.0
    changed: dict[int, int] = field(default_factory=dict)  # product id -> log id of its latest change
    lock: threading.Lock = field(default_factory=threading.Lock)

    def position(self) -> int:
        """Where this process has read the log to (reading what the catalog clock says is newer first)."""
        self._catch_up()
        return self.seen

    def changed_since(self, product_id: int, position: int) -> bool:
        """Whether the product's stock changed after ``position`` (or may have: before this process knew)."""
        self._catch_up()
        return position < self.start or self.changed.get(product_id, -1) > position

    def _catch_up(self) -> None:
        clock = content_clock.reading("catalog")
        if self.clock is not None and not clock.newer_than(self.clock, [STOCK]):
            self.synced_at = time.monotonic()  # no change logged since (none that pruning could take yet)
            return
        if not self.lock.acquire(blocking=False):
            return  # another thread is reading the log: what is known now is at most a moment old
        try:
            # Rows after ``seen`` were written after it was read; past half the log's keep, some may be gone.
            if (
                self.clock is None
                or time.monotonic() - self.synced_at >= current_app.config["CATALOG_STOCK_LOG_KEEP"] / 2
            ):
                self.start = self.seen = last_id()  # rows before may be pruned: start afresh from here
                self.changed.clear()
            else:
                rows = rows_after(self.seen)
                for row in rows:  # in id order: each product keeps its latest
                    self.changed[row.product_id] = row.id
                self.seen = rows[-1].id if rows else self.seen
            self.clock, self.synced_at = clock, time.monotonic()
        finally:
            self.lock.release()


_followers: "weakref.WeakKeyDictionary[Flask, Follower]" = weakref.WeakKeyDictionary()
_followers_lock = threading.Lock()


def follower() -> Follower:
    """This process's follower of the log for the current app."""
    with _followers_lock:
        return _followers.setdefault(current_app._get_current_object(), Follower())


def forget_followers() -> None:
    """Forget where every app's follower stands (see ``shop.catalog.index.forget_catalog_indexes``)."""
    with _followers_lock:
        _followers.clear()


def register_product_stock_check() -> None:
    """Product pages follow their own product's stock through this log (``page_cache.page_shows_item``)."""
    page_cache.register_item_check(
        PRODUCT_STOCK,
        page_cache.ItemCheck(
            position=lambda: follower().position(),
            changed_since=lambda product_id, at: follower().changed_since(product_id, at),
        ),
    )
