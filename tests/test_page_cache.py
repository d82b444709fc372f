"""Public pages are cached whole and revalidated by ETag; a change to the content they show makes them stale."""

import csv
import gzip
import io
import os
import re
import uuid
from datetime import timedelta
from urllib.parse import quote_plus

import pytest
from sqlalchemy import select, update

from shop.blog.models import Post
from shop.blog.services import PostContent, save_post, schedule_post
from shop.catalog.csv_io import PRODUCT_COLUMNS, export_products, import_products
from shop.content_clock import ContentClock, forget_readings
from shop.models import utcnow
from tests.apps import app_with, statements_sent
from tests.conftest import STAFF_PASSWORD, skip_or_fail
from tests.factories import ProductFactory

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def cached_app(database_url, app):
    """The app with its page cache on, as in production."""

    return app_with(database_url, CACHE_TYPE="SimpleCache")


@pytest.fixture
def visitor(cached_app, db):
    from shop.extensions import cache

    with cached_app.app_context():
        cache.clear()
    return cached_app.test_client()


def get_counting_statements(app, client, url):
    """GET ``url`` and return the response with the SQL statements the request sent."""
    with statements_sent() as statements:
        return client.get(url), statements


def test_second_visit_is_served_from_the_cache(cached_app, visitor, seeded):
    first = visitor.get("/products/")
    second, statements = get_counting_statements(cached_app, visitor, "/products/")
    assert second.data == first.data
    assert len(statements) == 1  # only the content clocks
    assert second.headers["Cache-Control"] == "public, max-age=60"
    assert "Cookie" in second.headers["Vary"]


def test_a_matching_etag_gets_304(visitor, seeded):
    etag = visitor.get("/blog/").headers["ETag"]
    response = visitor.get("/blog/", headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""


def test_saving_a_product_makes_its_pages_fresh(visitor, db):
    product = ProductFactory(name="Before")
    db.session.commit()
    etag = visitor.get(f"/products/{product.slug}").headers["ETag"]
    assert "Before" in visitor.get("/products/").text
    product.name = "After"
    db.session.commit()
    assert "After" in visitor.get("/products/").text
    page = visitor.get(f"/products/{product.slug}", headers={"If-None-Match": etag})
    assert page.status_code == 200 and "After" in page.text


def test_a_scheduled_post_appears_when_its_time_comes(visitor, db):
    post = save_post(Post(), PostContent("Coming soon", "coming-soon", "", "Body", [], [], []), actor="test")
    schedule_post(post, utcnow() + timedelta(hours=1))
    db.session.commit()
    assert "Coming soon" not in visitor.get("/blog/").text  # cached
    # An hour passes: a plain UPDATE, not an ORM save, so only the time coming moves the blog's clock.
    db.session.execute(update(Post).where(Post.id == post.id).values(published_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert "Coming soon" in visitor.get("/blog/").text


def test_staff_and_flash_messages_are_never_cached(cached_app, visitor, seeded, make_user):
    visitor.get("/")  # an anonymous copy is now cached
    make_user("sales")
    staff = cached_app.test_client()
    staff.post("/login", data={"email": "sales@staff.test", "password": STAFF_PASSWORD})
    response = staff.get("/")
    assert "Back office" in response.text and "ETag" not in response.headers
    assert "Back office" not in visitor.get("/").text
    staff.post("/logout")
    assert "You have been signed out." in staff.get("/").text
    assert "You have been signed out." not in visitor.get("/").text


def test_a_bulk_csv_import_makes_pages_fresh(visitor, seeded, db):
    visitor.get("/products/")
    buffer = io.StringIO()
    export_products(buffer)
    header, first = buffer.getvalue().splitlines()[:2]
    row = dict(zip(PRODUCT_COLUMNS, next(csv.reader([first])), strict=True))
    row.update(catalog_number="CT-NEW-CR-1M", slug="brand-new-cells", name="Brand new cells")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=PRODUCT_COLUMNS)
    writer.writeheader()
    writer.writerow(row)
    out.seek(0)
    assert import_products(out).created == 1
    assert "27 products" in visitor.get("/products/").text


def test_facet_counts_come_from_the_index(cached_app, visitor, seeded):
    """Once the facet index is built, a new filtered list asks only for the clocks, categories and its products."""
    visitor.get("/products/?format=cryopreserved")
    page, statements = get_counting_statements(cached_app, visitor, "/products/?format=cryopreserved&sort=price")
    assert page.status_code == 200 and "20 products" in page.text
    assert len(statements) == 3, statements


@pytest.fixture(scope="module")
def stamp_app(database_url, app):
    """The cached app keeping its reading of the content clocks for a minute, as production does for 2 seconds."""

    return app_with(database_url, CACHE_TYPE="SimpleCache", CONTENT_STAMP_TTL=60)


@pytest.fixture
def stamp_visitor(stamp_app, db):
    from shop.extensions import cache

    with stamp_app.app_context():
        cache.clear()
        forget_readings()
    return stamp_app.test_client()


def test_a_cached_page_sends_no_sql_while_the_clocks_are_kept(stamp_app, stamp_visitor, seeded):
    stamp_visitor.get("/products/")
    again, statements = get_counting_statements(stamp_app, stamp_visitor, "/products/")
    assert again.status_code == 200 and statements == []


def test_a_save_in_this_process_shows_at_once(stamp_app, stamp_visitor, seeded):
    from shop.catalog.models import Product
    from shop.extensions import db

    assert "Renamed cells" not in stamp_visitor.get("/products/").text
    with stamp_app.app_context():
        product = db.session.scalar(select(Product).where(Product.active).limit(1))
        product.name = "Renamed cells"
        db.session.commit()
    assert "Renamed cells" in stamp_visitor.get("/products/").text


def test_another_process_change_shows_when_the_reading_expires(stamp_app, stamp_visitor, seeded, db):
    """A change this process did not make (a plain UPDATE of the blog's clock) shows once the reading expires."""
    first = stamp_visitor.get("/blog/").headers["ETag"]
    db.session.execute(update(ContentClock).where(ContentClock.area == "blog").values(changes=ContentClock.changes + 1))
    db.session.commit()
    assert stamp_visitor.get("/blog/").headers["ETag"] == first  # still within the TTL
    with stamp_app.app_context():
        forget_readings()  # the TTL has passed
    assert stamp_visitor.get("/blog/").headers["ETag"] != first


# --- What the cache key is made of: each page's own parameters, nothing else (issue 9, item 3) ---


def cached_pages(app) -> dict[str, bytes]:
    """Every page in the app's SimpleCache: key -> the page's body."""
    from shop.extensions import cache

    backend = app.extensions["cache"][cache]
    with app.app_context():
        return {key: gzip.decompress(backend.get(key)[0]) for key in list(backend._cache) if key.startswith("page:")}


def unknown_parameters(count: int) -> list[str]:
    """Query strings a page does not read: tracking tags and junk, each one different.

    (A control character anywhere in the query is refused with a 400 by the request guard, before the cache.)
    """
    shapes = ("utm_x={n}", "utm_source=mail{n}", "fbclid={n}", "gclid=a{n}&utm_medium=x", "x{n}=", "{n}",
              "a%20{n}=b%E2%80%8B")  # fmt: skip
    return [shapes[n % len(shapes)].format(n=n) for n in range(count)]


def test_unknown_parameters_share_one_entry(cached_app, visitor, seeded):
    """2,000 requests with distinct unknown parameters leave one entry, served to each of them."""
    first = visitor.get("/").data
    for query in unknown_parameters(2000):
        response = visitor.get(f"/?{query}")
        assert response.status_code == 200 and response.data == first, query
    assert len(cached_pages(cached_app)) == 1


def test_each_canonical_parameter_makes_its_own_entry(cached_app, visitor, seeded):
    """Every parameter a catalog page reads (the catalog's own list) keys a page of its own."""
    from shop.catalog.services import URL_PARAMS

    values = {"q": "t cells", "category": "leukopak", "format": "fresh", "grade": "gmp", "pricing": "quote",
              "stock": "in", "cmv": "negative", "hla": "A*02:01", "sex": "F", "age": "30-39",
              "ebv": "negative", "smoking": "none", "blood": "O+", "bmi": "-30", "more": "hla",
              "sort": "price", "page": "2"}  # fmt: skip
    assert set(values) == set(URL_PARAMS)
    visitor.get("/products/?utm_source=mail")
    for name in URL_PARAMS:
        assert visitor.get(f"/products/?{name}={quote_plus(values[name])}&fbclid=1").status_code == 200, name
    assert len(cached_pages(cached_app)) == 1 + len(URL_PARAMS)


def test_repeated_parameters_keep_their_meaning(cached_app, visitor, seeded):
    """?category=a&category=b is both categories, and not the page of either one."""
    one = visitor.get("/products/?category=leukopak").text
    both = visitor.get("/products/?utm_source=x&category=leukopak&gclid=y&category=pbmc").text
    count = re.compile(r"(\d+) products?\b")
    assert int(count.search(both).group(1)) > int(count.search(one).group(1))
    assert both != one and len(cached_pages(cached_app)) == 2


@pytest.mark.parametrize(
    "url",
    ["/", "/products/", "/products/pbmc-cryopreserved-10m", "/blog/", "/blog/topics/", "/blog/topics/car-t",
     "/blog/feed.xml", "/blog/topics/car-t/feed.xml", "/sitemap.xml", "/robots.txt", "/search?q=cells"],
)  # fmt: skip
def test_public_pages_read_only_their_own_parameters(client, seeded, url):
    """Without the cache, a page with unknown parameters is the same page (so sharing its entry is right)."""
    junk = "&".join(unknown_parameters(7)) + "&_=1&callback=x&preview=1&draft=1&debug=1"
    separator = "&" if "?" in url else "?"
    plain, tagged = client.get(url), client.get(url + separator + junk)
    assert plain.status_code == tagged.status_code == 200
    assert tagged.data == plain.data


@pytest.fixture
def redis_app(database_url, app):
    """The cached app on the local Redis, under a key prefix of its own, removed afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        skip_or_fail(f"Redis at {REDIS_URL} is not reachable: {error}")
    prefix = f"test-page-cache-{uuid.uuid4().hex}:"

    settings = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix}
    yield app_with(database_url, **settings), lambda: list(client.scan_iter(f"{prefix}page:*", count=1000))
    keys = list(client.scan_iter(f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


def test_unknown_parameters_share_one_redis_entry(redis_app, seeded):
    """In Redis too: 2,000 tracking-tagged requests leave one entry; a canonical parameter adds one."""
    app, page_keys = redis_app
    visitor = app.test_client()
    for query in unknown_parameters(2000):
        assert visitor.get(f"/?{query}").status_code == 200
    assert len(page_keys()) == 1
    visitor.get("/products/?utm_campaign=1&category=leukopak")
    visitor.get("/products/?category=leukopak&utm_campaign=2")
    assert len(page_keys()) == 2


# --- A cache store that is down: pages are served uncached (issue 9, item 10) ---


@pytest.fixture
def redis_down_app(database_url, app):
    """The app with its page cache on a Redis nobody listens to (port 1)."""

    return app_with(database_url, CACHE_TYPE="RedisCache", CACHE_REDIS_URL="redis://127.0.0.1:1/0")


def store_calls(monkeypatch, app) -> list[str]:
    """Record every call the app makes to its cache store (which still fails as it would)."""
    from shop.extensions import cache

    backend = app.extensions["cache"][cache]
    calls = []
    for name in ("get", "set"):
        original = getattr(backend, name)
        monkeypatch.setattr(backend, name, lambda *a, _n=name, _o=original, **k: calls.append(_n) or _o(*a, **k))
    return calls


DOWN_PAGES = ["/", "/products/", "/products/pbmc-cryopreserved-10m", "/blog/", "/blog/feed.xml", "/sitemap.xml"]


def test_pages_are_served_uncached_while_the_store_is_down(redis_down_app, client, seeded, monkeypatch, caplog):
    """Each page is a 200 with the right body; the store is tried once, and the failure logged once."""
    calls = store_calls(monkeypatch, redis_down_app)
    visitor = redis_down_app.test_client()
    for url in DOWN_PAGES * 3:
        response = visitor.get(url)
        assert response.status_code == 200, url
        assert response.data == client.get(url).data, url  # the same page the uncached app draws
    assert calls == ["get"]
    warnings = [r for r in caplog.records if "Cache store unavailable" in r.getMessage()]
    assert len(warnings) == 1


def test_the_store_is_tried_again_after_the_pause(redis_down_app, seeded, monkeypatch, caplog):
    """When the pause is over, one request tries the store again (and logs once more)."""
    calls = store_calls(monkeypatch, redis_down_app)
    visitor = redis_down_app.test_client()
    visitor.get("/")
    visitor.get("/")
    redis_down_app.extensions["cellshop.cache_store"]["retry_at"] = 0  # CACHE_RETRY_AFTER has passed
    for _ in range(3):
        assert visitor.get("/products/").status_code == 200
    assert calls == ["get", "get"]
    assert sum("Cache store unavailable" in r.getMessage() for r in caplog.records) == 2


def test_diagnostic_headers_say_hit_or_miss_and_the_index_counts(database_url, seeded):
    """With PAGE_CACHE_DIAGNOSTICS (the benchmark's), a cached page says whether the cache served it, and a
    catalog page how often this process built its index and updated it in place; without, neither shows."""
    import os

    from shop.extensions import cache

    diagnosed = app_with(database_url, CACHE_TYPE="SimpleCache", PAGE_CACHE_DIAGNOSTICS=True)
    with diagnosed.app_context():
        cache.clear()
    client = diagnosed.test_client()
    assert client.get("/blog/").headers["X-Page-Cache"] == "miss"
    assert client.get("/blog/").headers["X-Page-Cache"] == "hit"
    catalog = client.get("/products/")
    assert catalog.headers["X-Page-Cache"] == "miss"
    assert catalog.headers["X-Catalog-Index"] == f"pid={os.getpid()} builds=1 updates=0"
    plain = app_with(database_url, CACHE_TYPE="SimpleCache").test_client().get("/products/")
    assert "X-Page-Cache" not in plain.headers and "X-Catalog-Index" not in plain.headers
