"""The facet index follows stock changes in place, in every app of the process, and builds anew beside itself.

Stock changes (a lot's units, a lot in or out of stock, a product hidden or
shown) are logged per product in the writing transaction (shop.catalog.stock_log)
and applied to the running index without a rebuild; the counts stay what the
catalog's rules say (the oracle of test_index.py). Any other catalog change
builds a new index in a background thread while requests keep the old one.
"""

import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from shop.catalog import facet_index, stock_log
from shop.catalog.index import catalog_index, index_counts
from shop.catalog.models import Category, Lot, Product
from shop.catalog.stock_log import StockChange
from shop.extensions import db as _db
from shop.models import utcnow
from tests.apps import app_with, new_request, statements_sent
from tests.blog.conftest import create_post
from tests.catalog.conftest import STATUSES
from tests.catalog.test_index import expected, random_selection
from tests.factories import CategoryFactory, DonorFactory, LotFactory, ProductFactory


def _index(app):
    with new_request(app, "/products/"):
        return catalog_index()


def _counts_agree(app, rng, rounds: int = 40) -> None:
    with new_request(app, "/products/"):
        index = catalog_index()
        products = _db.session.query(Product).filter(Product.active).all()
        slugs = [c.slug for c in _db.session.query(Category)]
        for _ in range(rounds):
            selected = random_selection(rng, slugs)
            found = index.match(selected)
            counts, total = expected(products, selected)
            nonzero = {f: {v: n for v, n in found.counts[f].items() if n} for f in found.counts}
            differ = {f: (nonzero[f], counts.get(f)) for f in nonzero if nonzero[f] != counts.get(f, {})}
            assert (differ, found.total) == ({}, total), selected
        listed = set(index.page(index.listed, 0, 10_000, "name"))
        assert listed == {p.id for p in products}


def test_stock_changes_are_followed_in_place_and_counts_stay_true(app, random_catalog):
    """Ten rounds of random stock changes (units to 0 and back, statuses, products hidden and shown): one
    index, one build, and after each round every count is what the rules say."""
    rng = random_catalog
    first = _index(app)
    builds, updates = index_counts(app)
    lots = _db.session.scalars(select(Lot)).all()
    products = _db.session.scalars(select(Product)).all()
    for _ in range(10):
        for lot in rng.sample(lots, 8):
            lot.units_available = rng.choice([0, 0, 2, 7])
            lot.status = rng.choice(STATUSES)
        for product in rng.sample(products, 3):
            product.active = not product.active
        _db.session.commit()
        _counts_agree(app, rng)
    # Each round was followed in place, or built anew when a donor new to a product found no free slot.
    now_built, now_updated = index_counts(app)
    assert (now_built - builds) + (now_updated - updates) == 10
    assert now_updated - updates >= 5
    assert (_index(app) is first) == (now_built == builds)


def test_a_lot_out_of_and_back_in_stock_needs_no_build(app, db):
    """The one lot of a product goes out of stock and comes back: the index is the same object throughout."""
    product = ProductFactory()
    lot = LotFactory(product=product, donor=DonorFactory(cmv_status="positive"), units_available=3)
    db.session.commit()
    index = _index(app)
    builds, _updates = index_counts(app)
    for units, shown in ((0, 0), (4, 1), (0, 0), (1, 1)):
        lot.units_available = units
        db.session.commit()
        assert _index(app) is index
        assert index.match({"cmv": ["positive"]}).total == shown
        assert index.match({"stock": ["in"]}).total == shown
    assert index_counts(app)[0] == builds


def test_another_app_follows_the_change_in_place(app, database_url, db, client, auth):
    """A sale through the back office of one app (one worker) reaches the index of another app (another
    worker) by the log: same index object, no build, the count moves."""
    other = app_with(database_url)
    product = ProductFactory(format="fresh")
    lot = LotFactory(product=product, units_available=1, status="available")
    db.session.commit()
    index = _index(other)
    builds, updates = index_counts(other)
    assert index.match({"format": ["fresh"], "stock": ["in"]}).total == 1
    auth.login("admin")
    response = client.get(f"/admin/lot/edit/?id={lot.id}")
    assert response.status_code == 200
    lot.units_available = 0  # the form is posted in test_catalog_admin; here the log and the other app matter
    db.session.commit()
    assert _index(other) is index
    assert index_counts(other) == (builds, updates + 1)
    assert index.match({"format": ["fresh"], "stock": ["in"]}).total == 0


def test_the_log_is_written_in_the_changing_transaction(app, db):
    """A committed stock change logs its product once; a rolled-back one logs nothing; other edits log nothing."""
    lot = LotFactory(units_available=3)
    db.session.commit()
    before = stock_log.last_id()
    lot.units_available = 2
    db.session.rollback()
    assert stock_log.last_id() == before
    lot = db.session.get(Lot, lot.id)
    lot.units_available = 1
    lot.status = "reserved"
    db.session.commit()
    seen, products = stock_log.changes_after(before)
    assert products == {lot.product_id}
    lot.viability = 91.5
    db.session.commit()
    assert stock_log.changes_after(seen) == (seen, set())


def test_notes_from_writes_that_skip_the_orm(app, db):
    """A Core UPDATE of units (as shop.catalog.stock does) names its lots; the index follows them."""
    lot = LotFactory(units_available=2, donor=DonorFactory(sex="F"))
    db.session.commit()
    index = _index(app)
    assert index.match({"sex": ["F"]}).total == 1
    db.session.execute(update(Lot).where(Lot.id == lot.id).values(units_available=0))
    stock_log.note_lots([lot.id])
    db.session.commit()
    assert _index(app) is index
    assert index.match({"sex": ["F"]}).total == 0


def test_old_rows_are_pruned_by_writers(app, db, monkeypatch):
    """Rows older than CATALOG_STOCK_LOG_KEEP go when a writer logs (every PRUNE_EVERY-th time)."""
    db.session.add(StockChange(product_id=1, changed_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    monkeypatch.setattr(stock_log, "PRUNE_EVERY", 1)
    lot = LotFactory(units_available=2)
    db.session.commit()
    lot.units_available = 1
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(StockChange)) == 1


def test_a_blog_save_builds_no_catalog_index(app, db):
    """Publishing a post moves the blog's clock only: no build, no update."""
    LotFactory(units_available=2)
    db.session.commit()
    index = _index(app)
    counts = index_counts(app)
    create_post("Lab notes", slug="lab-notes-in-place", body="Cells.")
    db.session.commit()
    assert _index(app) is index
    assert index_counts(app) == counts


def test_following_a_stock_change_costs_a_few_statements(app, db):
    """The log read, then the products, their lots in stock, their donors and alleles: five statements."""
    lot = LotFactory(units_available=2)
    db.session.commit()
    _index(app)
    lot.units_available = 0
    db.session.commit()
    with new_request(app, "/products/"), statements_sent() as statements:
        catalog_index()
    # The clock reading, the log, then the product, its lots in stock and its donors' values.
    assert len(statements) == 6, statements
    with new_request(app, "/products/"), statements_sent() as statements:
        catalog_index()
    assert len(statements) == 1, statements  # nothing new: the clock reading only


def test_a_change_the_layout_cannot_hold_builds_anew(app, db):
    """A product hidden at build time and shown later has no slots: a new index is built."""
    product = ProductFactory(active=False)
    LotFactory(product=product, units_available=2)
    db.session.commit()
    index = _index(app)
    product.active = True
    db.session.commit()
    fresh = _index(app)
    assert fresh is not index
    assert fresh.match({}).total == 1


@pytest.fixture
def background_app(database_url, committing_db):
    return app_with(database_url, CATALOG_INDEX_BACKGROUND_BUILD=True)


def test_a_big_change_is_built_beside_the_old_index(background_app, committing_db, monkeypatch):
    """A price change builds a new index in a thread; a request during the build is served from the old
    index at once (the build is held until the request is done), then the new one takes its place."""
    db = committing_db
    category = CategoryFactory()
    ProductFactory(category=category, price_cents=1000, name="Alpha cells")
    cheap = ProductFactory(category=category, price_cents=9000, name="Beta cells")
    LotFactory(product=cheap, units_available=1)
    db.session.commit()
    old = _index(background_app)
    held, started = threading.Event(), threading.Event()
    build = facet_index.CatalogIndex.build.__func__

    def held_build(cls, *args, **kwargs):
        started.set()
        assert held.wait(30), "the test never let the build finish"
        return build(cls, *args, **kwargs)

    monkeypatch.setattr(facet_index.CatalogIndex, "build", classmethod(held_build))
    cheap.price_cents = 10
    db.session.commit()
    client = background_app.test_client()
    response = client.get("/products/?sort=price")  # notices the change, starts the build, is not held
    assert started.wait(30)
    assert response.status_code == 200
    assert response.text.index("Alpha cells") < response.text.index("Beta cells")  # the old order
    assert _index(background_app) is old
    held.set()
    served = _served_thread(background_app)
    if served is not None:
        served.join(30)
    new = _index(background_app)
    assert new is not old
    assert new.page(new.listed, 0, 2, "price") == [cheap.id, cheap.id - 1]
    assert index_counts(background_app)[0] == 2


def _served_thread(app):
    from shop.catalog import index as holder

    return holder._served(app).building


def test_random_stock_changes_with_rebuilds_stay_true(app, db):
    """New donors coming into stock for products without a free slot force builds; counts stay true."""
    rng = random.Random(11)
    donors = [DonorFactory(cmv_status=rng.choice(["positive", "negative"])) for _ in range(6)]
    products = [ProductFactory() for _ in range(12)]
    lots = [LotFactory(product=p, donor=rng.choice(donors), units_available=rng.choice([0, 3])) for p in products]
    lots += [LotFactory(product=rng.choice(products), donor=rng.choice(donors), units_available=0) for _ in range(12)]
    db.session.commit()
    _counts_agree(app, rng, rounds=20)
    builds, updates = index_counts(app)
    for _ in range(6):
        for lot in rng.sample(lots, 6):
            lot.units_available = rng.choice([0, 2])
        db.session.commit()
        _counts_agree(app, rng, rounds=20)
    after = index_counts(app)
    assert after[0] > builds, "no round needed a build: the test no longer covers the rebuild path"
    assert after[1] > updates, "no round was followed in place"


def test_holds_and_sales_of_shop_catalog_stock_are_followed_in_place(app, database_url, db):
    """stock.hold / release / sell (conditional Core UPDATEs) reach another app's index in place."""
    from shop.catalog import stock

    other = app_with(database_url)
    lot = LotFactory(units_available=1, donor=DonorFactory(sex="M"))
    db.session.commit()
    index = _index(other)
    builds, updates = index_counts(other)
    for move, shown in ((stock.hold, 0), (stock.release, 1), (stock.sell, 0)):
        move(lot.id, 1)
        db.session.commit()
        assert _index(other) is index
        assert index.match({"sex": ["M"]}).total == shown, move
    assert index_counts(other) == (builds, updates + 3)
