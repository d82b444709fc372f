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
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import Integer, delete, event, func, insert, inspect, literal, select
from sqlalchemy.orm import Mapped, mapped_column

from shop import content_clock
from shop.catalog.models import Lot, Product
from shop.extensions import db
from shop.models import UTCDateTime, utcnow

STOCK = "stock"  # the catalog clock's kind for stock changes (shop.catalog.clock)
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


def note_lots(lot_ids: Iterable[int]) -> None:
    """The current transaction changed these lots' stock: log their products when it commits."""
    _pending(_LOTS).update(lot_ids)
    content_clock.mark_content_changed("catalog", STOCK)


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
        elif isinstance(obj, Product) and _changed(obj) & PRODUCT_STOCK_COLUMNS:
            _pending(_PRODUCTS).add(obj.id)


def _changed(obj) -> set[str]:
    return {attr.key for attr in inspect(obj).attrs if attr.history.has_changes()}


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
    rows = db.session.execute(select(StockChange.id, StockChange.product_id).where(StockChange.id > seen)).all()
    return max((row.id for row in rows), default=seen), {row.product_id for row in rows}
