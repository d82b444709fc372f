"""The sitemap lists the blog: its index, the topics page, topics with posts and every public post."""

import xml.etree.ElementTree as ET
from datetime import timedelta

from shop.blog.services import unpublish_post
from shop.models import utcnow
from tests.blog.conftest import seed_posts, seed_topics

NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def sitemap(client) -> dict[str, str | None]:
    """Parse /sitemap.xml: {loc: lastmod}."""
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    return {url.findtext("sm:loc", namespaces=NS): url.findtext("sm:lastmod", namespaces=NS) for url in root}


def test_sitemap_lists_the_blog(client, seeded, make_post):
    """Blog index, topics page, every topic with posts and every public post; no draft or future post."""
    make_post("A Draft", status="draft", topics=["Drafted topic"])
    make_post("Next Week", status="scheduled", published_at=utcnow() + timedelta(days=7), topics=["CAR-T"])
    urls = sitemap(client)
    blog = {loc for loc in urls if "/blog/" in loc}
    expected_posts = {f"http://localhost{p.url}" for p in seed_posts()}
    expected_topics = {f"http://localhost/blog/topics/{slug}" for slug in seed_topics().values()}
    assert blog == {"http://localhost/blog/", "http://localhost/blog/topics/"} | expected_topics | expected_posts
    assert len(expected_posts) == 10
    assert "http://localhost/blog/a-draft" not in urls
    assert "http://localhost/blog/next-week" not in urls
    assert "http://localhost/blog/topics/drafted-topic" not in urls
    assert "http://localhost/products/" in urls  # the catalog is still there
    assert urls["http://localhost/blog/stat5-proteins-anti-tumor-immune-response"] == "2021-06-29"


def test_published_post_joins_the_sitemap_and_leaves_it_when_unpublished(client, db, make_post):
    """The sitemap follows the post's status."""
    post = make_post("Coming And Going", topics=["Immunology"])
    assert "http://localhost/blog/coming-and-going" in sitemap(client)
    assert "http://localhost/blog/topics/immunology" in sitemap(client)
    unpublish_post(post)
    db.session.commit()
    urls = sitemap(client)
    assert "http://localhost/blog/coming-and-going" not in urls
    assert "http://localhost/blog/topics/immunology" not in urls
    assert "http://localhost/blog/" in urls
