"""Fresh means fresh: a lot of a fresh product is in stock only within its product's stability window.

The window is counted from the start of the collection day, UTC (``models.usable_until``); past it the
lot is out of stock, facets and counts without any job: the catalog's pages ask for lots still within
their window (:func:`within_window`), and a rule of the catalog's content clock (:func:`latest_expiry`)
moves the clock the moment a lot in stock expires, so cached pages and the facet index are made again.
"""

from datetime import datetime

from sqlalchemy import BindParameter, ColumnElement, Float, Select, and_, bindparam, cast, func, literal, or_, select

from shop.catalog.models import Lot, Product
from shop.extensions import db


def _usable_until(lot, product) -> ColumnElement:
    """SQL: the end of the lot's window, a timestamp comparable with a UTC datetime on either database."""
    if db.engine.dialect.name == "postgresql":
        start = func.timezone("UTC", cast(lot.collected_on, db.DateTime))
        return start + func.make_interval(0, 0, 0, 0, product.stability_hours)
    # SQLite: Julian days, turned back into the text SQLAlchemy reads as a datetime.
    return func.datetime(func.julianday(lot.collected_on) + cast(product.stability_hours, Float) / 24.0)


# For a statement built once and run many times: the current moment as a bound parameter (see now_value).
NOW = bindparam("now")


def now_value(now: datetime) -> datetime | str:
    """The value to bind to :data:`NOW`: the moment as the database compares it with a window's end."""
    return now if db.engine.dialect.name == "postgresql" else now.strftime("%Y-%m-%d %H:%M:%S")


def _now(now: datetime | BindParameter) -> ColumnElement:
    """A UTC moment (or :data:`NOW`) as the database compares it with :func:`_usable_until`."""
    value = now if isinstance(now, BindParameter) else literal(now_value(now))
    return value if db.engine.dialect.name == "postgresql" else func.datetime(value)


def _windowed(product) -> ColumnElement:
    """SQL: the product's lots have a stability window."""
    return and_(product.format == "fresh", product.stability_hours.is_not(None))


def within_window(now: datetime | BindParameter, lot=Lot, product=Product) -> ColumnElement:
    """Condition on a lot and its product (both in the query): not past the product's stability window."""
    return or_(~_windowed(product), _usable_until(lot, product) > _now(now))


def past_window(now: datetime, lot=Lot, product=Product) -> ColumnElement:
    """Condition on a lot and its product: past the product's stability window (for the back office)."""
    return and_(_windowed(product), _usable_until(lot, product) <= _now(now))


def latest_expiry(now: datetime) -> Select:
    """The content clock's rule: when the latest lot in stock went past its window (the catalog changed then).

    It runs in every process every CONTENT_STAMP_TTL, so it reads the few products that have a window
    (``ix_product_windowed``) and then each one's lots: a lot is the inner, correlated query, so no planner
    can start from the lots (joined plainly, SQLite walked every lot in stock by an index on stock levels:
    0.5 s on the benchmark's 180,000 lots).
    """
    expired = (
        select(func.max(_usable_until(Lot, Product)))
        .where(Lot.product_id == Product.id, Lot.status == "available", Lot.units_available > 0)
        .where(Product.format == "fresh", _usable_until(Lot, Product) <= _now(now))
        .correlate(Product)
        .scalar_subquery()
    )
    # The outer query names the indexed condition alone, so even unanalysed SQLite reads that index.
    return select(func.max(expired)).where(Product.stability_hours.is_not(None))
