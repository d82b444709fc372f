"""A hostile Host header never reaches a page's absolute links, nor another host's cached page (issue 9, item 2)."""

import pytest
from sqlalchemy import select

from shop.blog.models import Post
from tests.apps import app_with
from tests.test_page_cache import cached_pages

SITE = "https://shop.example"
TRUSTED = ("shop.example", "www.shop.example")
SEED_POST = "/blog/stat5-proteins-anti-tumor-immune-response"

# Every public page that carries absolute URLs: robots, sitemap, feeds, canonical, og: and JSON-LD links.
PAGES = [
    "/robots.txt",
    "/sitemap.xml",
    "/blog/feed.xml",
    "/blog/topics/car-t/feed.xml",
    "/",
    "/products/",
    "/products/?category=leukopak",
    "/products/pbmc-cryopreserved-10m",
    "/blog/",
    "/blog/topics/",
    "/blog/topics/car-t",
    SEED_POST,
    "/search?q=cells",
]

# Requests that try to make the shop believe it is evil.example: the Host itself in several spellings,
# and the forwarding headers a proxy would set (trusted only when ProxyFix is configured, which it is not).
# Hosts that can't even be encoded ("..evil.example", a 64-character label) are item 9's, another helper's.
HOSTILE_HOSTS = [
    "evil.example",
    "evil.example:80",
    "evil.example:443",
    "evil.example:8080",
    "EVIL.EXAMPLE",
    "Evil.Example",
    "evil.example.",
    "shop.example.evil.example",
    "evil.shop.example",
    "shop.example:80@evil.example",
    "evil.example/shop.example",
    "evil.example\\",
    "[::ffff:evil.example]",
    "SHOP.EXAMPLE",
    "shop.example.",
]
FORWARDED_HEADERS = [
    {"X-Forwarded-Host": "evil.example"},
    {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http", "X-Forwarded-Port": "8080"},
    {"X-Forwarded-Server": "evil.example"},
    {"X-Original-Host": "evil.example"},
    {"X-Host": "evil.example"},
    {"Forwarded": "host=evil.example;proto=http"},
]


def spoofed_hosts() -> list[dict]:
    """client.get arguments that send a hostile Host header, one per variant."""
    variants = [{"headers": {"Host": host}} for host in HOSTILE_HOSTS]
    return [*variants, {"headers": {"Host": "evil.example:443"}, "base_url": "https://evil.example"}]


def forwarded_hosts(trusted_host: str) -> list[dict]:
    """client.get arguments that send the trusted Host with a hostile forwarding header, one per variant."""
    return [{"headers": {"Host": trusted_host, **headers}} for headers in FORWARDED_HEADERS]


def test_the_variants_are_counted():
    """The report quotes these numbers: 16 spoofed Hosts and 6 forwarding headers, each on 13 pages."""
    assert (len(spoofed_hosts()), len(forwarded_hosts("shop.example")), len(PAGES)) == (16, 6, 13)


def cached_app_with(database_url, **settings):
    """The app with its page cache on and these settings."""
    return app_with(database_url, CACHE_TYPE="SimpleCache", **settings)


@pytest.fixture(scope="module")
def site_app(database_url, app):
    """Production set up with SITE_URL (and no TRUSTED_HOSTS)."""
    return cached_app_with(database_url, SITE_URL=SITE)


@pytest.fixture(scope="module")
def trusted_app(database_url, app):
    """Production set up with TRUSTED_HOSTS and no SITE_URL."""
    return cached_app_with(database_url, TRUSTED_HOSTS=list(TRUSTED))


@pytest.fixture
def content(seeded):
    """The demo catalog and blog, one post with a cover image (for og:image and the JSON-LD image)."""
    post = seeded.session.scalar(select(Post).where(Post.slug == SEED_POST.rsplit("/", 1)[1]))
    post.cover_image = "cover.png"
    seeded.session.commit()
    return seeded


def empty_cache(app) -> None:
    """Forget every cached page of this app."""
    from shop.extensions import cache

    with app.app_context():
        cache.clear()


def test_with_site_url_a_hostile_host_never_reaches_a_page(site_app, content):
    """Every hostile variant on every page: no page, cached or sent, names evil.example; links use SITE_URL."""
    empty_cache(site_app)
    visitor = site_app.test_client()
    for variant in spoofed_hosts() + forwarded_hosts("shop.example"):
        for url in PAGES:
            response = visitor.get(url, **variant)
            assert response.status_code == 200, (url, variant)
            assert b"evil" not in response.data.lower(), (url, variant)
    pages = cached_pages(site_app)
    assert len(pages) == len(PAGES)  # every host shares the one page: the Host is not in what it shows
    for body in pages.values():
        assert b"evil" not in body.lower()
        assert f"{SITE}/".encode() in body
    post = visitor.get(SEED_POST, headers={"Host": "evil.example"}).text
    assert f'<meta property="og:url" content="{SITE}{SEED_POST}">' in post
    assert f'<meta property="og:image" content="{SITE}/uploads/posts/cover.png">' in post
    assert f'"image": "{SITE}/uploads/posts/cover.png"' in post


def test_without_site_url_an_untrusted_host_is_refused_and_nothing_is_cached(trusted_app, content):
    """TRUSTED_HOSTS set: the hostile Hosts are refused (never a page); forwarded hosts are ignored."""
    empty_cache(trusted_app)
    visitor = trusted_app.test_client()
    for variant in spoofed_hosts():
        for url in PAGES:
            response = visitor.get(url, **variant)
            assert response.status_code == 400, (url, variant)  # Flask refuses it before any view runs
            assert b"could not be understood" in response.data, (url, variant)  # the site's own 400 page
            assert b"evil" not in response.data.lower(), (url, variant)
    assert cached_pages(trusted_app) == {}
    for variant in forwarded_hosts("shop.example"):
        for url in PAGES:
            response = visitor.get(url, **variant)
            assert response.status_code == 200, (url, variant)
            assert b"evil" not in response.data.lower(), (url, variant)
    pages = cached_pages(trusted_app)
    assert len(pages) == len(PAGES)  # only the trusted host's pages, from the forwarded-header variants
    for body in pages.values():
        assert b"evil" not in body.lower() and b"http://shop.example/" in body


def test_two_trusted_hosts_never_share_a_page(trusted_app, content):
    """Each trusted host gets its own cached copy, with its own links."""
    empty_cache(trusted_app)
    visitor = trusted_app.test_client()
    for _ in range(2):
        for host in TRUSTED:
            for url in PAGES:
                response = visitor.get(url, headers={"Host": host})
                assert response.status_code == 200
                assert f"http://{host}/".encode() in response.data
                other = TRUSTED[1 - TRUSTED.index(host)]
                assert f"//{other}/".encode() not in response.data
    assert len(cached_pages(trusted_app)) == 2 * len(PAGES)


@pytest.fixture(scope="module")
def development_app(database_url, app):
    """Neither SITE_URL nor TRUSTED_HOSTS, as in development (production refuses to start so)."""
    return cached_app_with(database_url)


def test_without_either_setting_a_hostile_host_never_reaches_another_visitor(development_app, content):
    """The attack as reported: hostile Hosts first, then a visitor on the real host gets clean pages."""
    empty_cache(development_app)
    attacker, visitor = development_app.test_client(), development_app.test_client()
    for variant in spoofed_hosts() + forwarded_hosts("localhost"):
        for url in PAGES:
            assert attacker.get(url, **variant).status_code == 200, (url, variant)
    for url in PAGES:
        page = visitor.get(url)
        assert b"evil" not in page.data.lower() and b"http://localhost/" in page.data, url
