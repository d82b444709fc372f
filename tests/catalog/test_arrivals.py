"""When a lot entered stock (``Lot.entered_stock_at``), which lots a set of filters matches (``lots_matching``),
and filters kept as one query string: what donor alerts read from the catalog."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from shop.catalog import stock
from shop.catalog.index import catalog_index
from shop.catalog.models import Category, Lot
from shop.catalog.services import (
    describe_filters,
    filters_from_query,
    index_filters,
    lots_matching,
    read_filters,
)
from shop.extensions import db as _db
from shop.models import utcnow
from tests.catalog.conftest import ALLELES
from tests.catalog.test_index import random_selection
from tests.factories import CategoryFactory, DonorFactory, LotFactory, ProductFactory


def entered(lot: Lot):
    _db.session.expire(lot)
    return lot.entered_stock_at


def test_a_lot_added_with_units_entered_stock_then_and_one_without_has_not(db):
    before = utcnow()
    in_stock = LotFactory(units_available=3)
    empty = LotFactory(units_available=0)
    held_back = LotFactory(units_available=4, status="quarantine")
    assert before <= entered(in_stock) <= utcnow()
    assert entered(empty) is None and entered(held_back) is None


@pytest.mark.parametrize(
    ("start", "change", "enters"),
    [
        ({"units_available": 0}, {"units_available": 4}, True),  # restocked
        ({"units_available": 2, "status": "quarantine"}, {"status": "available"}, True),  # released from QC
        ({"units_available": 0, "status": "depleted"}, {"units_available": 5, "status": "available"}, True),
        ({"units_available": 2}, {"units_available": 7}, False),  # more of a lot already in stock
        ({"units_available": 2}, {"units_available": 0}, False),  # leaving stock
        ({"units_available": 0}, {"status": "quarantine", "units_available": 3}, False),
    ],
)
def test_a_save_that_puts_a_lot_back_in_stock_notes_when(db, start, change, enters):
    lot = LotFactory(**start)
    earlier = utcnow() - timedelta(days=3)
    lot.entered_stock_at = earlier if start.get("units_available") else None
    _db.session.commit()
    for name, value in change.items():
        setattr(lot, name, value)
    _db.session.commit()
    moved = entered(lot) not in (earlier, None)
    assert moved is enters


def test_units_released_to_a_lot_that_had_none_free_put_it_back_in_stock(db):
    lot = LotFactory(units_available=2)
    earlier = utcnow() - timedelta(days=3)
    lot.entered_stock_at = earlier
    _db.session.commit()
    stock.hold(lot.id, 1)
    stock.release(lot.id, 1)  # one unit stayed free all along: it never left stock
    assert entered(lot) == earlier
    stock.hold(lot.id, 2)  # the last free units held: out of stock ...
    assert entered(lot) == earlier
    stock.release(lot.id, 2)  # ... and back
    assert entered(lot) > earlier


def test_holds_undone_in_the_same_transaction_are_no_arrival(db):
    taken, short = LotFactory(units_available=1), LotFactory(units_available=1)
    earlier = utcnow() - timedelta(days=3)
    taken.entered_stock_at = short.entered_stock_at = earlier
    _db.session.commit()
    with pytest.raises(stock.OutOfStock):
        stock.hold_all([(taken.id, 1), (short.id, 2)])
    assert (entered(taken), taken.units_available) == (earlier, 1)


def all_lot_ids() -> list[int]:
    return list(_db.session.scalars(select(Lot.id)))


def test_lots_matching_agrees_with_the_facet_index(app, random_catalog):
    """300 random filter sets with donor filters (what an alert holds): the lots ``lots_matching`` picks are
    the ones the catalog page counts, product by product."""
    rng = random_catalog
    lot_ids = all_lot_ids()
    slugs = [c.slug for c in _db.session.scalars(select(Category))]
    with app.test_request_context("/products/"):
        index = catalog_index()
        checked = 0
        for _ in range(300):
            selected = random_selection(rng, slugs)
            donor = rng.choice([{"hla": [rng.choice(ALLELES)]}, {"cmv": ["negative"]}, {"age": ["20-45"]}])
            selected = {**selected, **{k: v for k, v in donor.items() if k not in selected}}
            filters = read_filters(MultiDict([(k, v) for k, vs in selected.items() for v in vs]), [])
            filters.selected = selected  # the random categories are not read from a URL here
            resolved, _notes = index_filters(selected, index)
            found = index.match(resolved)
            ids = index.page(found.products, 0, 1000, "name")
            expected = {p: n for p, n in index.lots_per_product(ids, found.lots).items() if n}
            matched = lots_matching(filters, lot_ids)
            per_product: dict[int, int] = {}
            for lot in _db.session.scalars(select(Lot).where(Lot.id.in_(matched))):
                per_product[lot.product_id] = per_product.get(lot.product_id, 0) + 1
            assert per_product == expected, selected
            checked += bool(expected)
        assert checked > 30  # most sets matched something: the comparison was not of empty sets


def test_lots_matching_reads_the_search_and_leaves_out_lots_not_in_stock(db):
    t_cells = CategoryFactory(slug="t-cells", name="T cells")
    cd8 = ProductFactory(category=t_cells, name="CD8+ T cells 25M", markers="CD8+")
    nk = ProductFactory(category=t_cells, name="NK cells 10M", markers="CD56+")
    fresh = ProductFactory(category=t_cells, name="CD8+ T cells fresh", format="fresh", stability_hours=36)
    donor = DonorFactory(hla=["A*02:01"], cmv_status="negative")
    lots = {
        "cd8": LotFactory(product=cd8, donor=donor),
        "nk": LotFactory(product=nk, donor=donor),
        "cd8 held": LotFactory(product=cd8, donor=donor, units_available=0),
        "expired": LotFactory(product=fresh, donor=donor, collected_on=(utcnow() - timedelta(days=5)).date()),
    }
    _db.session.commit()
    filters = read_filters(MultiDict({"q": "CD8 HLA-A*02:01", "category": "t-cells"}), [t_cells])
    assert filters.text == "CD8" and filters.selected["hla"] == ["A*02:01"]
    assert lots_matching(filters, [lot.id for lot in lots.values()]) == {lots["cd8"].id}
    assert lots_matching(filters, []) == set()


def test_filters_kept_as_one_query_read_back_the_same_whatever_the_order():
    one = read_filters(MultiDict([("cmv", "negative"), ("hla", "B*08:01"), ("hla", "HLA-A*02:01"), ("q", "pbmc")]), [])
    other = read_filters(MultiDict([("hla", "A*02:01"), ("q", " pbmc "), ("hla", "B*08:01"), ("cmv", "negative")]), [])
    assert one.query == other.query == "q=pbmc&hla=A%2A02%3A01&hla=B%2A08%3A01&cmv=negative"


def test_a_stored_query_reads_back_and_is_described_in_words(db):
    CategoryFactory(slug="t-cells", name="T cells")
    filters = filters_from_query("q=cd8&category=t-cells&format=cryopreserved&cmv=negative&hla=A%2A02%3A01")
    assert filters_from_query(filters.query).query == filters.query and not filters.ignored
    assert describe_filters(filters) == (
        "Lots whose donor is HLA-A*02:01 and CMV negative (category: T cells; format: Cryopreserved; search: “cd8”)"
    )
    assert describe_filters(filters_from_query("age=20-35&sex=F")) == "Lots whose donor is female and aged 20–35"


def test_values_a_url_gives_that_cannot_be_read_are_listed(db):
    CategoryFactory(slug="t-cells")
    args = MultiDict([("category", "t-cells"), ("category", "nope"), ("age", "12-200"), ("bmi", "30-20"),
                      ("hla", "A*02:01"), ("hla", "HLA-Z*01"), ("cmv", "maybe")])  # fmt: skip
    filters = read_filters(args, list(_db.session.scalars(select(Category))))
    assert filters.selected == {"category": ["t-cells"], "hla": ["A*02:01"]}
    assert filters.ignored == ["category=nope", "hla=HLA-Z*01", "cmv=maybe", "age=12-200", "bmi=30-20"]
    too_many = read_filters(MultiDict([("hla", f"A*{n:02d}:01") for n in range(1, 13)]), [])
    assert too_many.ignored == ["hla=A*11:01", "hla=A*12:01"]
