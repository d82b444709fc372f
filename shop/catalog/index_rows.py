"""What the facet index reads from the database: named rows, as plain tuples from the driver.

On 100,000 products the index reads ~300,000 rows; the driver's tuples
(``shop.driver_rows``) take a third of the time of SQLAlchemy rows, and a
NamedTuple over them names each column for the code that lays the index out.
Values come as the driver gives them: SQLite booleans are 0 and 1, its
datetimes ISO text (both sort and test the same way here).
"""

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select

from shop.catalog.freshness import within_window
from shop.catalog.models import Category, Donor, DonorAllele, Lot, Product
from shop.driver_rows import fetch_rows
from shop.extensions import db
from shop.models import utcnow


class CategoryRow(NamedTuple):
    """A category: its slug (the facet value) and its place in the display order."""

    id: int
    slug: str
    position: int


class ProductRow(NamedTuple):
    """An active product's facet values and sort keys."""

    id: int
    category_id: int
    format: str
    grade: str
    price_cents: int | None
    featured: bool
    name: str
    created_at: datetime | str


class StockedLot(NamedTuple):
    """A lot in stock of an active product: which product, from which donor."""

    product_id: int
    donor_id: int


class DonorRow(NamedTuple):
    """A donor's facet values (the age is banded by the index)."""

    id: int
    cmv_status: str
    ebv_status: str
    sex: str
    age: int
    smoking: str
    blood_type: str
    bmi: float | None


class AlleleRow(NamedTuple):
    """One HLA allele of one donor."""

    donor_id: int
    allele: str


class ProductState(NamedTuple):
    """Whether a product is shown (for updating the index in place)."""

    id: int
    active: bool


def in_stock():
    """Condition on Lot and its Product (joined): it can be ordered now (the rule the catalog's pages use too)."""
    return (Lot.status == "available") & (Lot.units_available > 0) & within_window(utcnow())


def categories() -> dict[int, CategoryRow]:
    """Every category, by id."""
    rows = fetch_rows(select(Category.id, Category.slug, Category.position))
    return {row.id: row for row in map(CategoryRow._make, rows)}


def active_products() -> list[ProductRow]:
    """The active products, in id order."""
    query = select(*(getattr(Product, name) for name in ProductRow._fields)).where(Product.active).order_by(Product.id)
    return list(map(ProductRow._make, fetch_rows(query)))


def stocked_lots() -> list[StockedLot]:
    """The lots in stock of the active products, in product id order (then lot id)."""
    query = (
        select(Lot.product_id, Lot.donor_id)
        .join(Product, Product.id == Lot.product_id)
        .where(Product.active, in_stock())
        .order_by(Lot.product_id, Lot.id)
    )
    return list(map(StockedLot._make, fetch_rows(query)))


def donors() -> list[DonorRow]:
    """Every donor's facet values."""
    query = select(*(getattr(Donor, name) for name in DonorRow._fields))
    return list(map(DonorRow._make, fetch_rows(query)))


def alleles() -> list[AlleleRow]:
    """Every donor's HLA alleles."""
    return list(map(AlleleRow._make, fetch_rows(select(DonorAllele.donor_id, DonorAllele.allele))))


def _few(row_type, query) -> list:
    """A few rows, through SQLAlchemy (its types, and lists of ids in IN), as ``row_type``."""
    return [row_type._make(row) for row in db.session.execute(query)]


def product_states(product_ids: Collection[int]) -> list[ProductState]:
    """Whether each of these products is shown (ids that are gone are left out)."""
    query = select(Product.id, Product.active).where(Product.id.in_(sorted(product_ids)))
    return _few(ProductState, query)


def stocked_lots_of(product_ids: Collection[int]) -> list[StockedLot]:
    """The lots in stock of these products, shown or not."""
    query = (
        select(Lot.product_id, Lot.donor_id)
        .join(Product, Product.id == Lot.product_id)
        .where(Lot.product_id.in_(sorted(product_ids)), in_stock())
    )
    return _few(StockedLot, query)


def donors_of(donor_ids: Collection[int]) -> list[DonorRow]:
    """These donors' facet values."""
    query = select(*(getattr(Donor, name) for name in DonorRow._fields)).where(Donor.id.in_(sorted(donor_ids)))
    return _few(DonorRow, query)


def alleles_of(donor_ids: Collection[int]) -> list[AlleleRow]:
    """These donors' HLA alleles."""
    query = select(DonorAllele.donor_id, DonorAllele.allele).where(DonorAllele.donor_id.in_(sorted(donor_ids)))
    return _few(AlleleRow, query)


@dataclass
class StockOf:
    """Some products' stock as it is now: what the index needs to update them in place."""

    shown: dict[int, bool]  # product id -> active (products deleted are left out)
    donors_in_stock: dict[int, set[int]]  # product id -> the donors of its lots in stock
    values_of: dict[int, list[tuple[str, str]]]  # donor id -> its (facet, value) pairs


def stock_of(
    product_ids: Collection[int],
    donors_in_slots: set[int],
    facet_values: Callable[[DonorRow, list[str]], list[tuple[str, str]]],
) -> StockOf:
    """Read these products' visibility and lots in stock, and the facet values of their donors, old
    (``donors_in_slots``: the ones the index has them stand for) and new (four queries)."""
    shown = {row.id: row.active for row in product_states(product_ids)}
    donors_in_stock: dict[int, set[int]] = defaultdict(set)
    for lot in stocked_lots_of(product_ids):
        donors_in_stock[lot.product_id].add(lot.donor_id)
    donor_ids = donors_in_slots.union(*donors_in_stock.values())
    alleles: dict[int, list[str]] = defaultdict(list)
    values_of = {}
    if donor_ids:
        for row in alleles_of(donor_ids):
            alleles[row.donor_id].append(row.allele)
        values_of = {donor.id: facet_values(donor, alleles[donor.id]) for donor in donors_of(donor_ids)}
    return StockOf(shown, dict(donors_in_stock), values_of)
