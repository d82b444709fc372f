"""Security headers on every kind of response, and the client's address behind a configured proxy."""

import os
import re
import subprocess
import sys

import pytest
from flask_limiter.util import get_remote_address

from shop.markdown import render_markdown
from tests.apps import app_with, dispose

FIXED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
REQUIRED_DIRECTIVES = (
    "default-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
)  # fmt: skip


def assert_security_headers(response, where: str) -> str:
    """Fail unless the response carries every header, with a strict policy; returns the policy."""
    for name, value in FIXED.items():
        assert response.headers.get(name) == value, (where, name)
    assert "camera=()" in response.headers.get("Permissions-Policy", ""), where
    policy = response.headers.get("Content-Security-Policy", "")
    for directive in REQUIRED_DIRECTIVES:
        assert directive in policy, (where, directive, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (where, policy)
    assert not re.search(r"https?:|\*", policy), (where, policy)  # no other origin, no wildcard
    return policy


@pytest.fixture(scope="module")
def cached_app(database_url, app):
    """The app with its page cache on, as in production."""
    application = app_with(database_url, CACHE_TYPE="SimpleCache")
    yield application
    dispose(application)


def test_every_kind_of_response_carries_the_headers(client, auth, seeded):
    anonymous = {
        "home": client.get("/"),
        "catalog": client.get("/products/?category=t-cell&cmv=negative"),
        "feed": client.get("/blog/feed.xml"),
        "robots": client.get("/robots.txt"),
        "static file": client.get("/static/css/site.css"),
        "404": client.get("/no-such-page"),
        "405": client.delete("/"),
        "redirect to sign in": client.get("/admin/product/"),
        "login form": client.get("/login"),
        "failed sign-in": client.post("/login", data={"email": "x@y.test", "password": "wrong"}),
    }
    auth.login("admin")
    staff = {"dashboard": client.get("/admin/"), "product edit": client.get("/admin/product/edit/?id=1")}
    for where, response in {**anonymous, **staff}.items():
        assert_security_headers(response, where)
    assert anonymous["404"].status_code == 404 and anonymous["405"].status_code == 405


def test_the_500_page_carries_the_headers(database_url):
    application = app_with(database_url, TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @application.get("/broken")
    def broken():
        raise RuntimeError("a bug")

    response = application.test_client().get("/broken")
    dispose(application)
    assert response.status_code == 500
    assert_security_headers(response, "500")


def test_cached_pages_and_304s_carry_the_headers(cached_app, db, seeded):
    from shop.extensions import cache

    with cached_app.app_context():
        cache.clear()
    visitor = cached_app.test_client()
    first = visitor.get("/blog/")
    hit = visitor.get("/blog/")
    not_modified = visitor.get("/blog/", headers={"If-None-Match": hit.headers["ETag"]})
    assert hit.data == first.data and not_modified.status_code == 304
    for where, response in {"miss": first, "hit": hit, "304": not_modified}.items():
        policy = assert_security_headers(response, where)
        assert "nonce-" not in policy, where  # a cached page must not depend on one request's nonce


def test_back_office_pages_get_a_fresh_nonce_that_their_tags_carry(client, auth, seeded):
    auth.login("admin")
    nonces = []
    for _ in range(2):
        response = client.get("/admin/product/")
        nonce = re.search(r"'nonce-([^']+)'", assert_security_headers(response, "admin")).group(1)
        assert f'<script nonce="{nonce}" src=' in response.text
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_no_inline_script_style_or_handler_in_pages(client, auth, seeded):
    """What the CSP would refuse is not in the HTML: style="", on*= handlers, inline <script>.

    (Flask-Admin's own javascript:void(0) links are made "#" by static/js/admin.js; the browser test clicks them.)
    """
    auth.login("admin")
    for url in ("/", "/products/", "/blog/", "/admin/product/", "/admin/audit/", "/admin/product/edit/?id=1",
                "/admin/donor/edit/?id=1", "/admin/posts/new"):  # fmt: skip
        html = client.get(url).text
        tags = re.findall(r"<[a-z][^>]*>", html)
        bad = [t for t in tags if re.search(r"\s(style|on[a-z]+)=", t)]
        bad += [t for t in tags if t.startswith("<script") and "src=" not in t and "application/ld+json" not in t]
        assert not bad, (url, bad[:3])


def test_aligned_table_cells_use_classes_not_style_attributes():
    html = str(render_markdown("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n"))
    assert "style=" not in html
    assert '<td class="align-left">1</td>' in html and '<td class="align-right">3</td>' in html


@pytest.mark.parametrize(
    ("base_url", "headers", "proxy_proto", "expected"),
    [
        ("https://localhost", {}, 0, True),
        ("http://localhost", {}, 0, False),
        # A client claiming HTTPS is not believed unless a proxy is configured to say so.
        ("http://localhost", {"X-Forwarded-Proto": "https"}, 0, False),
        ("http://localhost", {"X-Forwarded-Proto": "https"}, 1, True),
        ("http://localhost", {"X-Forwarded-Proto": "http"}, 1, False),
    ],
)
def test_hsts_only_over_https(database_url, base_url, headers, proxy_proto, expected):
    application = app_with(database_url, PROXY_FIX_X_PROTO=proxy_proto)
    response = application.test_client().get("/robots.txt", base_url=base_url, headers=headers)
    dispose(application)
    assert ("Strict-Transport-Security" in response.headers) is expected
    if expected:
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def client_address_app(database_url, **settings):
    """The shop with a page that shows the address the rate limiter would count."""
    application = app_with(database_url, **settings)
    application.add_url_rule("/whoami", "whoami", lambda: get_remote_address())
    return application


FORGED = [
    {"X-Forwarded-For": "203.0.113.7"},
    {"X-Forwarded-For": "203.0.113.7, 198.51.100.1"},
    {"X-Real-IP": "203.0.113.7"},
    {"Forwarded": "for=203.0.113.7"},
    {"X-Forwarded-For": "127.0.0.1"},
]


@pytest.mark.parametrize("headers", FORGED)
def test_without_a_proxy_forwarded_headers_are_ignored(database_url, headers):
    application = client_address_app(database_url)
    response = application.test_client().get("/whoami", headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.10"})
    dispose(application)
    assert response.text == "192.0.2.10"


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        # The client's own forged entry comes first; the one proxy appended the real address last.
        ("1.2.3.4, 203.0.113.7", "203.0.113.7"),
        ("127.0.0.1, 10.0.0.1, 203.0.113.7", "203.0.113.7"),
    ],
)
def test_behind_one_proxy_the_limiter_sees_the_forwarded_client(database_url, forwarded_for, client):
    application = client_address_app(database_url, PROXY_FIX_X_FOR=1)
    response = application.test_client().get(
        "/whoami", headers={"X-Forwarded-For": forwarded_for}, environ_base={"REMOTE_ADDR": "10.0.0.2"}
    )
    dispose(application)
    assert response.text == client


def test_proxy_counts_come_from_the_environment():
    env = {**os.environ, "PROXY_FIX_X_FOR": "1", "PROXY_FIX_X_PROTO": "2", "PROXY_FIX_X_HOST": ""}
    code = "from shop.config import Config as C; print(C.PROXY_FIX_X_FOR, C.PROXY_FIX_X_PROTO, C.PROXY_FIX_X_HOST)"
    output = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert output.stdout.split() == ["1", "2", "0"]
