"""The page cache's shortcut: a hit for a visitor without a session is answered before Flask makes a request
context, with the same body and headers Flask's path sends; anything else goes on to Flask."""

import gzip

import pytest
from flask import request_started

from shop.catalog.models import Lot
from shop.content_clock import forget_readings
from tests.apps import app_with, statements_sent
from tests.factories import LotFactory

PAGES = ["/", "/products/", "/products/?format=cryopreserved&sort=price", "/products/pbmc-cryopreserved-10m",
         "/blog/", "/blog/topics/car-t", "/blog/feed.xml", "/sitemap.xml", "/robots.txt", "/search?q=cells",
         "/about"]  # fmt: skip
# What differs between two answers of the same page whoever sends them.
PER_RESPONSE = {"Date", "Server"}
# A session cookie (even one that opens nothing) sends the request through Flask: it may carry a sign-in or
# a message.
THROUGH_FLASK = {"session": "x"}


@pytest.fixture(scope="module")
def kept_app(database_url, app):
    """The cached app keeping its reading of the clocks for a minute, as production does for 2 seconds."""
    return app_with(database_url, CACHE_TYPE="SimpleCache", CONTENT_STAMP_TTL=60, TRUSTED_HOSTS=["localhost"])


@pytest.fixture
def visitor(kept_app, db):
    from shop.extensions import cache

    with kept_app.app_context():
        cache.clear()
        forget_readings()
    return kept_app.test_client()


def with_cookies(client, cookies: dict[str, str]):
    """A client of the same app sending these cookies."""
    other = client.application.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


@pytest.fixture
def flask_requests(kept_app):
    """The requests Flask itself dispatched (the shortcut's answers never reach it)."""
    seen = []

    def note(sender, **_):
        seen.append(1)

    request_started.connect(note, kept_app)
    yield seen
    request_started.disconnect(note, kept_app)


def headers_of(response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name not in PER_RESPONSE}


@pytest.mark.parametrize("url", PAGES)
def test_a_hit_is_the_page_flask_would_send(visitor, seeded, flask_requests, url):
    """The second visit is answered by the shortcut, without SQL, with Flask's body and headers."""
    first = visitor.get(url, headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200
    dispatched = len(flask_requests)
    with statements_sent() as statements:
        early = visitor.get(url, headers={"Accept-Encoding": "gzip"})
    assert len(flask_requests) == dispatched and statements == []
    through_flask = with_cookies(visitor, THROUGH_FLASK).get(url, headers={"Accept-Encoding": "gzip"})
    assert len(flask_requests) == dispatched + 1
    assert early.data == through_flask.data == first.data
    assert headers_of(early) == headers_of(through_flask)
    assert early.headers["Content-Encoding"] == "gzip" and early.headers["Vary"] == "Accept-Encoding, Cookie"
    assert "'unsafe-inline'" not in early.headers["Content-Security-Policy"]
    assert early.headers["X-Frame-Options"] == "DENY" and early.headers["Cache-Control"] == "public, max-age=60"


def test_a_client_without_gzip_gets_the_page_unpacked(visitor, seeded):
    packed = visitor.get("/blog/", headers={"Accept-Encoding": "gzip"})
    plain = visitor.get("/blog/", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert plain.data == gzip.decompress(packed.data)
    assert int(plain.headers["Content-Length"]) == len(plain.data)
    assert plain.headers["Content-Type"] == "text/html; charset=utf-8"


def test_a_matching_etag_gets_304_and_head_gets_no_body(visitor, seeded, flask_requests):
    etag = visitor.get("/products/").headers["ETag"]
    dispatched = len(flask_requests)
    not_modified = visitor.get("/products/", headers={"If-None-Match": etag})
    head = visitor.head("/products/", headers={"Accept-Encoding": "gzip"})
    assert len(flask_requests) == dispatched
    assert not_modified.status_code == 304 and not_modified.data == b"" and not_modified.headers["ETag"] == etag
    assert "Content-Security-Policy" in not_modified.headers
    assert head.status_code == 200 and head.data == b"" and int(head.headers["Content-Length"]) > 0


def test_https_hits_carry_hsts(visitor, seeded):
    visitor.get("/blog/", base_url="https://localhost")
    early = visitor.get("/blog/", base_url="https://localhost")
    assert early.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in visitor.get("/blog/").headers


@pytest.mark.parametrize(
    ("url", "cookies", "base_url", "status"),
    [
        ("/blog/", THROUGH_FLASK, None, 200),  # a session: Flask decides whether it is a visitor's page
        ("/blog/", {"remember_token": "x"}, None, 200),
        ("/blog/?q=%00", {}, None, 400),  # a control character: the request guard's 400
        ("/blog/?page=1%0a", {}, None, 400),
        ("/blog/x%01y", {}, None, 400),
        ("/blog", {}, None, 308),  # the address redirects to its canonical form
        ("/no-such-page", {}, None, 404),
        ("/blog/", {}, "http://evil.example", 400),  # a host outside TRUSTED_HOSTS
        ("/admin/", {}, None, 302),  # not a cached page
    ],
)
def test_anything_but_a_plain_hit_goes_on_to_flask(visitor, seeded, flask_requests, url, cookies, base_url, status):
    """Each of these is answered by Flask exactly as without the shortcut, even with the page cached."""
    visitor.get("/blog/")
    visitor.get("/blog/")
    dispatched = len(flask_requests)
    response = with_cookies(visitor, cookies).get(url, base_url=base_url or "http://localhost")
    assert response.status_code == status
    assert len(flask_requests) == dispatched + 1


def test_a_save_here_shows_at_once_and_an_unread_clock_goes_to_flask(kept_app, visitor, seeded, flask_requests):
    """A commit in this process forgets the clocks: the next visit goes through Flask, reads them and draws
    the page anew; the one after is the shortcut's again."""
    from shop.catalog.models import Product
    from shop.extensions import db

    visitor.get("/products/")
    with kept_app.app_context():
        product = db.session.query(Product).filter_by(slug="pbmc-cryopreserved-10m").one()
        product.name = "Renamed PBMCs"
        db.session.commit()
    dispatched = len(flask_requests)
    assert "Renamed PBMCs" in visitor.get("/products/").text
    assert len(flask_requests) == dispatched + 1
    assert "Renamed PBMCs" in visitor.get("/products/").text
    assert len(flask_requests) == dispatched + 1


def test_a_unit_sold_makes_its_product_page_stale_and_no_other(kept_app, visitor, db):
    """Product pages follow their own product's stock through the stock-change log; lists and other product
    pages stay cached, and are answered by the shortcut."""
    from shop.extensions import db as site

    lot, other = LotFactory(units_available=5), LotFactory(units_available=5)
    db.session.commit()
    mine, others = f"/products/{lot.product.slug}", f"/products/{other.product.slug}"
    before = {url: visitor.get(url) for url in ("/products/", mine, others)}
    assert "<strong>5</strong> units available" in before[mine].text
    with kept_app.app_context():
        site.session.get(Lot, lot.id).units_available = 4
        site.session.commit()
    after = {url: visitor.get(url) for url in ("/products/", mine, others)}
    assert "<strong>4</strong> units available" in after[mine].text
    assert after[mine].headers["ETag"] != before[mine].headers["ETag"]
    for url in ("/products/", others):
        assert after[url].headers["ETag"] == before[url].headers["ETag"], url


def test_a_failure_in_the_shortcut_is_left_to_flask(kept_app, visitor, seeded, flask_requests, monkeypatch, caplog):
    """A product page's stock check that fails (the database gone, say) is logged, and Flask answers."""
    from shop.catalog import stock_log

    visitor.get("/products/pbmc-cryopreserved-10m")

    def broken(self, product_id, position):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(stock_log.Follower, "changed_since", broken)
    dispatched = len(flask_requests)
    with pytest.raises(RuntimeError):  # Flask's own path meets the same failure (its 500 handler answers)
        visitor.get("/products/pbmc-cryopreserved-10m")
    assert len(flask_requests) == dispatched + 1
    assert "the page cache's shortcut failed" in caplog.text
