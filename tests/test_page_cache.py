"""Public pages are cached whole and revalidated by ETag; any change to the content makes them stale."""

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import event, update

from shop import create_app
from shop.blog.models import Post
from shop.blog.services import PostContent, save_post, schedule_post
from shop.catalog.csv_io import PRODUCT_COLUMNS, export_products, import_products
from shop.config import TestConfig
from shop.models import utcnow
from shop.page_cache import SiteState
from tests.conftest import STAFF_PASSWORD
from tests.factories import ProductFactory


@pytest.fixture(scope="module")
def cached_app(database_url, app):
    """The app with its page cache on, as in production."""

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        CACHE_TYPE = "SimpleCache"

    return create_app(Config)


@pytest.fixture
def visitor(cached_app, db):
    from shop.extensions import cache

    with cached_app.app_context():
        cache.clear()
    return cached_app.test_client()


def get_counting_statements(app, client, url):
    """GET ``url`` and return the response with the SQL statements the request sent."""
    from shop.extensions import db

    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        return client.get(url), statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_second_visit_is_served_from_the_cache(cached_app, visitor, seeded):
    first = visitor.get("/products/")
    second, statements = get_counting_statements(cached_app, visitor, "/products/")
    assert second.data == first.data
    assert len(statements) == 1  # only the content stamp
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
    assert "Coming soon" not in visitor.get("/blog/").text
    # An hour passes: pretend the scheduling happened an hour ago and the time has now come.
    # Plain UPDATEs, not ORM saves, so nothing moves the content stamp but the clock.
    db.session.execute(update(SiteState).values(content_changed_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    visitor.get("/blog/")  # cached under the old stamp
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


def test_facet_counts_are_shared_by_sort_orders_and_pages(cached_app, visitor, seeded):
    """Re-sorting the same filtered list reuses the facet counts (the costly UNION query) until content changes."""
    visitor.get("/products/?format=cryopreserved")
    page, statements = get_counting_statements(cached_app, visitor, "/products/?format=cryopreserved&sort=price")
    assert page.status_code == 200 and "20 products" in page.text
    assert statements and not any("UNION ALL" in s for s in statements)
