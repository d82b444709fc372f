"""Error pages render whatever failed: a Host header werkzeug refuses, the database, the signed-in user."""

import socket
import time

import pytest
from sqlalchemy import event

from shop.accounts.sessions import LAST_SEEN
from shop.extensions import db as _db
from tests.apps import app_with, serving

# Hosts werkzeug refuses to build URLs for, or that no deployment would name.
BAD_HOSTS = [
    "..example",  # an empty label: IDNA encoding fails
    "a" * 64 + ".example",  # a label over 63 characters: IDNA encoding fails
    "a b",
    "ünïcode.example",
    "nul\x00.example",
    "evil.example:99999",
    "[::1",
    "evil.example",
]
UNENCODABLE_HOSTS = BAD_HOSTS[:2]
PATHS = ["/", "/products/", "/blog/", "/no/such/page", "/admin/", "/login"]
BROKEN_DATABASES = {
    "sqlite-missing-directory": "sqlite:////nonexistent/cellshop/missing/db.sqlite",
    "postgresql-closed-port": "postgresql+psycopg://postgres@127.0.0.1:1/cellshop",
}
PUBLIC_PAGES = ["/", "/products/", "/blog/", "/blog/topics/", "/blog/some-post", "/search?q=tcell"]
STAFF_PAGES = ["/admin/", "/admin/users/", "/admin/posts/", "/admin/audit/"]


def build_app(database_url: str, **settings):
    """The shop as production runs it (errors drawn, not raised), on ``database_url``."""
    return app_with(database_url, TESTING=False, **settings)


def assert_friendly_page(response, code: int, title: str) -> None:
    assert response.status_code == code, response.text[:300]
    assert f"Error {code}" in response.text
    assert title in response.text
    assert 'href="/products/"' in response.text  # links built without the request's host
    assert "For research use only." in response.text


@pytest.fixture(scope="module")
def open_app(database_url, app):
    """Trusting any host, as the shop did with TRUSTED_HOSTS unset."""
    return build_app(database_url)


@pytest.fixture(scope="module")
def guarded_app(database_url, app):
    """Trusting only its own host, as production does with TRUSTED_HOSTS."""
    return build_app(database_url, TRUSTED_HOSTS=["shop.example"])


@pytest.mark.parametrize("host", BAD_HOSTS)
def test_a_bad_host_is_never_a_500(open_app, db, host):
    client = open_app.test_client()
    for path in PATHS:
        response = client.get(path, headers={"Host": host})
        assert response.status_code in (200, 302, 400, 404), (host, path, response.status_code)
        if host in UNENCODABLE_HOSTS or response.status_code == 400:
            assert_friendly_page(response, 400, "Bad Request")


@pytest.mark.parametrize("host", BAD_HOSTS)
def test_an_untrusted_host_gets_the_400_page(guarded_app, db, host):
    client = guarded_app.test_client()
    for path in PATHS:
        assert_friendly_page(client.get(path, headers={"Host": host}), 400, "Bad Request")


def signed_in(client) -> None:
    """Give the client the session of staff member 1 (as shop.accounts.sessions writes it)."""
    with client.session_transaction() as session:
        session["_user_id"] = "1:1"
        session[LAST_SEEN] = int(time.time())


def raw_get(port: int, host: bytes) -> bytes:
    """Send a GET with exactly this Host header over a socket; return the whole response."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("host", [b"..example", b"a" * 64 + b".example"])
def test_a_bad_host_over_real_http_gets_the_400_page(open_app, db, host):
    with serving(open_app) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        response = raw_get(port, host)
    assert response.startswith(b"HTTP/1.1 400"), response[:200]
    assert b"Error 400" in response


@pytest.mark.parametrize("path", PUBLIC_PAGES)
@pytest.mark.parametrize("database", BROKEN_DATABASES)
def test_database_down_public_pages_get_a_friendly_503(database, path):
    response = build_app(BROKEN_DATABASES[database]).test_client().get(path)
    assert_friendly_page(response, 503, "briefly unavailable")
    assert response.headers["Retry-After"] == "30"


@pytest.mark.parametrize("path", STAFF_PAGES)
@pytest.mark.parametrize("database", BROKEN_DATABASES)
def test_database_down_staff_pages_get_a_friendly_503(database, path):
    client = build_app(BROKEN_DATABASES[database]).test_client()
    signed_in(client)  # loading the staff member needs the database
    response = client.get(path)
    assert_friendly_page(response, 503, "briefly unavailable")
    assert response.headers["Retry-After"] == "30"


@pytest.mark.parametrize("database", BROKEN_DATABASES)
def test_a_404_for_a_signed_in_user_renders_with_the_database_down(database):
    client = build_app(BROKEN_DATABASES[database]).test_client()
    signed_in(client)
    assert_friendly_page(client.get("/static/no-such-file.css"), 404, "Not Found")


def test_the_500_page_for_a_signed_in_user_sends_no_sql(database_url, app, db):
    application = build_app(database_url)

    statements = []

    @application.get("/_boom")
    def boom():
        statements.clear()  # what the session's checks sent before the view is not the error page's
        raise RuntimeError("boom")

    with application.app_context():
        event.listen(_db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    client = application.test_client()
    signed_in(client)  # the layout used to load this user from the database
    response = client.get("/_boom")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert statements == []
