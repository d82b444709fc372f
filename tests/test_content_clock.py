"""Each area of the site has its own clock: a save makes stale only the pages (and the index) showing that area."""

import re
from datetime import timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text, update

from shop.blog.models import Post
from shop.catalog.index import catalog_index
from shop.catalog.models import Lot, Product
from shop.content_clock import Clock, ContentClock, forget_readings, mark_content_changed, reading
from shop.models import utcnow
from shop.page_cache import public_page
from tests.apps import app_with, new_request, statements_sent
from tests.blog.conftest import SEED_URL, create_post
from tests.factories import LotFactory, ProductFactory

CATALOG_PAGES = ["/products/", "/products/?format=cryopreserved&sort=price", "/products/pbmc-cryopreserved-10m"]
BLOG_PAGES = ["/blog/", "/blog/topics/", "/blog/topics/car-t", "/blog/feed.xml", "/blog/topics/car-t/feed.xml"]
PLAIN_POST = "/blog/plain-lab-notes"  # a post naming no products, with no topics
BOTH = ["/", "/sitemap.xml", "/search?q=cells"]


def _cached_app(database_url, ttl: float):
    return app_with(database_url, CACHE_TYPE="SimpleCache", CONTENT_STAMP_TTL=ttl)


@pytest.fixture(scope="module")
def cached_app(database_url, app):
    """The app with its page cache on; it reads the clocks on every request (TTL 0)."""
    return _cached_app(database_url, 0)


@pytest.fixture(scope="module")
def kept_app(database_url, app):
    """The cached app keeping its reading of the clocks for a minute, as production does for 2 seconds."""
    return _cached_app(database_url, 60)


def _visitor(app):
    from shop.extensions import cache

    with app.app_context():
        cache.clear()
        forget_readings()
    return app.test_client()


@pytest.fixture
def visitor(cached_app, db):
    return _visitor(cached_app)


@pytest.fixture
def kept_visitor(kept_app, db):
    return _visitor(kept_app)


@pytest.fixture
def site(seeded):
    """The demo shop, plus a post that shows nothing of the catalog."""
    create_post("Plain lab notes", topics=[])
    return seeded


def visit(app, client, url) -> tuple[str, int]:
    """GET ``url``: its ETag and the number of SQL statements the request sent."""
    with statements_sent() as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return response.headers["ETag"], len(statements)


def etags(app, client, urls) -> dict[str, str]:
    return {url: visit(app, client, url)[0] for url in urls}


def assert_fresh(app, client, before: dict[str, str]) -> None:
    """Each page is served from its cache entry: the same ETag, and no statement but the clocks' reading."""
    for url, etag in before.items():
        assert visit(app, client, url) == (etag, 1), url


def assert_stale(app, client, before: dict[str, str]) -> None:
    for url, etag in before.items():
        assert visit(app, client, url)[0] != etag, url


def rename_product(db, catalog_number: str, name: str) -> None:
    product = db.session.scalar(select(Product).where(Product.catalog_number == catalog_number))
    product.name = name
    db.session.commit()


def test_a_product_save_leaves_blog_pages_fresh(cached_app, visitor, site):
    """Blog index, topics, feeds and a post without products stay cached; catalog pages, home and search don't."""
    blog = etags(cached_app, visitor, BLOG_PAGES + [PLAIN_POST])
    catalog = etags(cached_app, visitor, CATALOG_PAGES + BOTH)
    rename_product(site, "CT-PBMC-CR-10M", "Renamed PBMCs")
    assert_fresh(cached_app, visitor, blog)
    assert_stale(cached_app, visitor, catalog)
    assert "Renamed PBMCs" in visitor.get("/products/pbmc-cryopreserved-10m").text


def test_a_post_save_leaves_catalog_pages_and_the_index_alone(cached_app, visitor, site):
    """Catalog pages stay cached and the catalog index is the same object; blog pages, home and posts go stale."""
    catalog = etags(cached_app, visitor, CATALOG_PAGES)
    blog = etags(cached_app, visitor, BLOG_PAGES + [PLAIN_POST, SEED_URL] + BOTH)
    with cached_app.test_request_context("/products/"):
        index = catalog_index()
    post = site.session.scalar(select(Post).where(Post.slug == "plain-lab-notes"))
    post.title = "Plain lab notes, revised"
    site.session.commit()
    assert_fresh(cached_app, visitor, catalog)
    with cached_app.test_request_context("/products/"):
        assert catalog_index() is index
    assert_stale(cached_app, visitor, blog)
    assert "Plain lab notes, revised" in visitor.get("/").text


def test_a_post_listing_products_goes_stale_on_a_product_save(cached_app, visitor, site):
    """A post naming products (even hidden ones), or filed under a topic with products, follows the catalog too."""
    hidden = ProductFactory(name="Quokka cells", active=False)
    create_post("Quokka notes", related_products=[hidden])
    create_post("Topic notes", topics=["CAR-T"])  # names no product; CAR-T's products show
    posts = ["/blog/quokka-notes", "/blog/topic-notes", SEED_URL]  # the seed post names CT-TC-CD3-CR-25M
    pages = etags(cached_app, visitor, posts + [PLAIN_POST])
    assert "Quokka cells" not in visitor.get("/blog/quokka-notes").text
    hidden.active = True
    site.session.commit()
    assert "Quokka cells" in visitor.get("/blog/quokka-notes").text
    rename_product(site, "CT-TC-CD3-CR-25M", "Renamed CD3 cells")
    assert_stale(cached_app, visitor, {url: pages[url] for url in posts})
    assert all("Renamed CD3 cells" in visitor.get(url).text for url in posts[1:])
    assert_fresh(cached_app, visitor, {PLAIN_POST: pages[PLAIN_POST]})


def test_a_scheduled_post_going_live_moves_only_the_blog_clock(cached_app, visitor, site):
    """A scheduled post's time coming is a change of the blog's content, not of the catalog's."""
    create_post("Coming soon", status="scheduled", published_at=utcnow() + timedelta(hours=1))
    catalog = etags(cached_app, visitor, CATALOG_PAGES)
    assert "Coming soon" not in visitor.get("/blog/").text
    catalog_before, blog_before = reading("catalog"), reading("blog")
    # An hour passes: a plain UPDATE, not an ORM save, so only the time coming can move a clock.
    site.session.execute(update(Post).where(Post.slug == "coming-soon").values(published_at=utcnow()))
    site.session.commit()
    assert reading("blog").newer_than(blog_before)
    assert reading("catalog") == catalog_before
    assert "Coming soon" in visitor.get("/blog/").text
    assert_fresh(cached_app, visitor, catalog)


def test_a_stock_change_is_told_apart_from_a_larger_one(cached_app, visitor, db):
    """Units, a lot's status and hiding a product move the catalog's stock count (and its availability count
    when a lot enters or leaves stock) only; other saves its content. Lists key on content and availability;
    the product page on content and its own product's stock."""
    lot = LotFactory(units_available=5)
    other = LotFactory(units_available=5)
    db.session.commit()
    mine, others = f"/products/{lot.product.slug}", f"/products/{other.product.slug}"
    saves = [
        ({"stock"}, lambda: setattr(lot, "units_available", 4)),  # still in stock: its product page alone
        ({"stock"}, lambda: setattr(lot, "units_reserved", 2)),
        ({"stock", "availability"}, lambda: setattr(lot, "units_available", 0)),
        ({"stock", "availability"}, lambda: setattr(lot, "units_available", 3)),
        ({"stock", "availability"}, lambda: setattr(lot, "status", "reserved")),
        ({"stock"}, lambda: setattr(lot, "units_available", 2)),  # out of stock either way
        ({"stock", "availability"}, lambda: setattr(lot.product, "active", False)),
        ({"content"}, lambda: setattr(lot, "viability", 80.0)),
        ({"content"}, lambda: setattr(lot.product, "name", "Renamed")),
        ({"content"}, lambda: (setattr(lot, "units_available", 9), setattr(lot, "purity", 90.0))),
        ({"content"}, lambda: LotFactory(product=lot.product)),
        (set(), lambda: setattr(lot, "units_available", lot.units_available)),  # saved, but nothing changed
    ]
    pages = etags(cached_app, visitor, ["/products/", mine, others])
    for kinds, change in saves:
        before = reading("catalog")
        change()
        db.session.commit()
        after = reading("catalog")
        moved = {k for k in ("content", "stock", "availability") if after.newer_than(before, [k])}
        assert moved == kinds, kinds
        shown = lot.product.active  # a hidden product's page is a 404
        now = etags(cached_app, visitor, ["/products/", others, *([mine] if shown else [])])
        stale = {url for url in now if now[url] != pages.get(url)}
        expected = {"/products/"} if kinds & {"content", "availability"} else set()
        expected |= {mine} if shown and kinds else set()
        expected |= {others} if "content" in kinds else set()
        assert stale == expected, kinds
        pages = now


def test_a_bulk_write_moves_the_clock_it_names(cached_app, visitor, site):
    """``mark_content_changed(area)`` (a CSV import, say) makes that area's pages stale, not the others."""
    blog = etags(cached_app, visitor, BLOG_PAGES)
    catalog = etags(cached_app, visitor, CATALOG_PAGES)
    mark_content_changed("catalog")
    site.session.commit()
    assert_fresh(cached_app, visitor, blog)
    assert_stale(cached_app, visitor, catalog)


def test_a_cached_page_sends_no_sql_after_a_save_elsewhere(kept_app, kept_visitor, site):
    """Within the TTL a cached page sends nothing; after a post save here, a catalog page reads the clocks and
    is still served from the cache (one statement), then nothing again."""
    pages = CATALOG_PAGES + [PLAIN_POST, SEED_URL, "/robots.txt"]
    before = etags(kept_app, kept_visitor, pages)
    for url in pages:
        assert visit(kept_app, kept_visitor, url) == (before[url], 0), url
    with kept_app.app_context():
        post = site.session.scalar(select(Post).where(Post.slug == "plain-lab-notes"))
        post.title = "Plain lab notes, revised"
        site.session.commit()
    assert visit(kept_app, kept_visitor, CATALOG_PAGES[0]) == (before[CATALOG_PAGES[0]], 1)
    for url in CATALOG_PAGES:
        assert visit(kept_app, kept_visitor, url) == (before[url], 0), url


def _set_catalog_changes(db, changes: int) -> None:
    db.session.execute(update(ContentClock).where(ContentClock.area == "catalog").values(changes=changes))
    db.session.commit()


def test_an_older_reading_never_rebuilds_the_index(app, site):
    """A reading older than the index's (another process's, or one kept for the TTL) keeps the index;
    only a newer one rebuilds it."""
    _set_catalog_changes(site, 10)
    with new_request(app, "/products/"):
        index = catalog_index()
    for older in (9, 1, 0):
        _set_catalog_changes(site, older)
        with new_request(app, "/products/"):
            assert catalog_index() is index, older
    _set_catalog_changes(site, 10)
    with new_request(app, "/products/"):
        assert catalog_index() is index
    _set_catalog_changes(site, 11)
    with new_request(app, "/products/"):
        assert catalog_index() is not index


CLOCK_ORDER = [
    # (kinds of the reading, kinds of the one held, newer?)
    ({"content": (2, 0.0)}, {"content": (1, 0.0)}, True),
    ({"content": (1, 0.0)}, {"content": (1, 0.0)}, False),
    ({"content": (1, 0.0)}, {"content": (2, 0.0)}, False),
    ({"content": (1, 5.0)}, {"content": (1, 4.0)}, True),  # a scheduled post went live
    ({"content": (1, 4.0)}, {"content": (1, 5.0)}, False),
    ({"content": (2, 0.0)}, {"content": (1, 9.0)}, True),  # a save counts before any moment
    ({"content": (1, 0.0), "stock": (3, 0.0)}, {"content": (1, 0.0), "stock": (2, 0.0)}, True),
    ({"content": (1, 0.0), "stock": (1, 0.0)}, {"content": (1, 0.0), "stock": (2, 0.0)}, False),
    ({"content": (1, 0.0)}, {}, True),
    ({}, {"content": (1, 0.0)}, False),
]


@pytest.mark.parametrize(("now", "held", "newer"), CLOCK_ORDER)
def test_readings_compare_by_recency(now, held, newer):
    """A reading is newer only when some kind of change happened after the one held."""
    assert Clock("catalog", now).newer_than(Clock("catalog", held)) is newer


@pytest.mark.parametrize("areas", [("catlog",), ("Catalog",), ("catalog", "shop"), ("",), ("blog ",)])
def test_a_page_cannot_declare_an_unknown_area(areas):
    with pytest.raises(ValueError, match="unknown content area"):
        public_page(areas=areas)


def test_the_migration_carries_the_stamp_over(app, db, committing_db):
    """Upgrading from the one site_state stamp starts every clock at its time; downgrading keeps the latest."""
    stamp = "2026-11-30 12:00:00"
    try:
        downgrade(revision="d9f2b6a4e1c8")
        db.session.execute(text("DELETE FROM site_state"))
        db.session.execute(text(f"INSERT INTO site_state (id, content_changed_at) VALUES (1, '{stamp}')"))
        db.session.commit()
        upgrade(revision="e1a4c7b9d3f2")  # this migration only (a later one adds the pages' clock)
        rows = db.session.execute(select(ContentClock.area, ContentClock.kind, ContentClock.changed_at)).all()
        assert sorted((area, kind) for area, kind, _ in rows) == [
            ("blog", "content"),
            ("catalog", "content"),
            ("catalog", "stock"),
        ]
        assert {at.strftime("%Y-%m-%d %H:%M:%S") for *_, at in rows} == {stamp}
        db.session.commit()
        downgrade(revision="d9f2b6a4e1c8")
        kept = db.session.execute(text("SELECT content_changed_at FROM site_state")).scalar_one()
        assert str(kept).startswith(stamp)
        db.session.commit()
    finally:
        db.session.rollback()
        upgrade()


def test_lots_of_a_hidden_product_are_stock_too(db):
    """Hiding a product and emptying its lot in one save is still a stock change only."""
    lot = LotFactory(units_available=5)
    db.session.commit()
    before = reading("catalog")
    lot.units_available = 0
    lot.product.active = False
    db.session.commit()
    after = reading("catalog")
    assert after.newer_than(before, ["stock"]) and not after.newer_than(before, ["content"])
    assert db.session.scalar(select(Lot.units_available).where(Lot.id == lot.id)) == 0


def test_lists_follow_frequent_stock_changes_within_the_lag(database_url, db, monkeypatch):
    """With CATALOG_LIST_STOCK_LAG, a lot leaving stock shows on the catalog at once after a quiet spell; the
    next ones within the lag leave it cached (its product's page shows each at once), and once the lag has
    passed the list is drawn again with all of them. A change of content shows at once whatever the lag."""
    import shop.content_clock as clock_module

    lagging = app_with(database_url, CACHE_TYPE="SimpleCache", CONTENT_STAMP_TTL=0, CATALOG_LIST_STOCK_LAG=10)
    visitor = _visitor(lagging)
    now = [1000.0]
    monkeypatch.setattr(clock_module.time, "monotonic", lambda: now[0])
    first, second = LotFactory(units_available=1), LotFactory(units_available=1)
    db.session.commit()
    page = f"/products/{second.product.slug}"

    def in_stock() -> int:
        return int(re.search(r"(\d+) products?", visitor.get("/products/?stock=in").text).group(1))

    assert in_stock() == 2
    assert "<strong>1</strong> unit available" in visitor.get(page).text
    now[0] += 60  # a quiet spell
    first.units_available = 0
    db.session.commit()
    assert in_stock() == 1  # at once
    now[0] += 1
    second.units_available = 0
    db.session.commit()
    assert in_stock() == 1  # within the lag: still the list drawn after the first sale
    assert "<strong>1</strong> unit available" not in visitor.get(page).text  # the product's own page at once
    now[0] += 10
    assert in_stock() == 0
    second.product.name = "Renamed right away"
    second.units_available = 1
    db.session.commit()
    assert "Renamed right away" in visitor.get("/products/").text and in_stock() == 1
