"""The demo post from the old blog (/work/shared/seed-page.txt) shows every element of the original page."""

import json
from datetime import UTC, datetime

import pytest
from flask import url_for

from shop.templating import format_date
from tests.blog.conftest import SEED_SLUG, SEED_TITLE, SEED_URL, seed_posts, seed_topic_counts, seed_topics
from tests.blog.dom import meta_content, parse

AUTHOR = "Stacy Matthews Branch, DVM, PhD"


@pytest.fixture
def page_html(client, seeded) -> str:
    response = client.get(SEED_URL)
    assert response.status_code == 200
    return response.text


@pytest.fixture
def doc(page_html):
    return parse(page_html)


def test_title_is_the_pages_only_h1(doc):
    """The post's title is the h1 (and the only one: body headings start at h2) and the <title>."""
    assert [h1.text for h1 in doc.find_all("h1")] == [SEED_TITLE]
    assert doc.one("title").text == f"{SEED_TITLE} · Blog | CellShop"


def test_date_and_author(doc):
    """Under the title: "29 Jun 2021 · by Stacy Matthews Branch, DVM, PhD", with a machine-readable date."""
    meta = doc.one("article", class_="post").one("p", class_="post-meta")
    assert meta.text == f"29 Jun 2021 · by {AUTHOR}"
    assert datetime.fromisoformat(meta.one("time")["datetime"]) == datetime(2021, 6, 29, 14, 10, tzinfo=UTC)


def test_body_is_shown(doc):
    """The Markdown body appears as HTML: paragraphs, section headings and the link to T cells."""
    body = doc.one("div", class_="post-body")
    assert "Georgia Cancer Center of Augusta University" in body.text
    assert [h2.text for h2 in body.find_all("h2")] == [
        "Where CAR-T cells still struggle",
        "Keeping a survival signal switched on",
        "What remains to be shown",
    ]
    assert len(body.find_all("li")) == 5
    assert ("T cells", "/products/?category=t-cell") in body.links()


def test_topics_link_to_their_pages(client, doc):
    """ "Topics: Cancer, CAR-T", each a link to the topic's page (and the same links under the title)."""
    article = doc.one("article", class_="post")
    topics = article.one("p", class_="post-topics")
    assert topics.text.startswith("Topics:")
    assert sorted(topics.links()) == [("CAR-T", "/blog/topics/car-t"), ("Cancer", "/blog/topics/cancer")]
    assert sorted(article.one("ul", class_="topic-links").links()) == sorted(topics.links())
    for name, href in topics.links():
        topic_page = client.get(href)
        assert topic_page.status_code == 200
        assert parse(topic_page.text).one("h1").text == name


def test_reference_under_references(doc):
    """The Henderson (2020) STAT5 reference is listed under a "References" heading, with Markdown applied."""
    section = doc.one("section", class_="references")
    assert section.one("h2").text == "References"
    (reference,) = section.one("ol").find_all("li")
    assert reference.text.startswith("Henderson, E. (2020). Study shows how STAT5 optimizes function of CD4+ T cells")
    assert "Retrieved 8 January 2021" in reference.text
    assert reference.one("em").text == "News-Medical.net"


def test_posts_by_topic_with_counts_and_see_all(doc):
    """The sidebar's "Posts by Topic" lists each topic with its post count; "see all" leads to /blog/topics/."""
    box = doc.one("aside", class_="blog-sidebar").section_headed("Posts by Topic")
    shown = {li.one("a").text: (li.one("a")["href"], li.one("span", class_="count").text) for li in box.find_all("li")}
    slugs = seed_topics()
    expected = {name: (f"/blog/topics/{slugs[name]}", f"({n})") for name, n in seed_topic_counts().items() if n}
    assert shown == expected
    assert shown["CAR-T"] == ("/blog/topics/car-t", "(7)")
    counts = [int(count.strip("()")) for _, count in shown.values()]
    assert counts == sorted(counts, reverse=True)  # most posts first
    assert ("see all", "/blog/topics/") in box.links()


def test_recent_posts_link_to_the_five_newest(doc):
    """ "Recent Posts" links the five newest posts, newest first, each with its date."""
    box = doc.one("aside", class_="blog-sidebar").section_headed("Recent Posts")
    items = box.find_all("li")
    newest = seed_posts()[:5]
    assert [li.one("a").text for li in items] == [p.title for p in newest]
    assert [li.one("a")["href"] for li in items] == [p.url for p in newest]
    assert [li.one("time").text for li in items] == [format_date(p.published_at) for p in newest]


def test_no_fake_subscribe_box(app, page_html, doc):
    """There is no subscription feature yet, so the page must not show a subscribe form that goes nowhere.

    (The sidebar includes a subscribe box only once a ``subscriptions.subscribe`` endpoint exists; then the
    box must post to it.)
    """
    if "subscriptions.subscribe" in app.view_functions:
        with app.test_request_context():
            action = url_for("subscriptions.subscribe")
        boxes = [form for form in doc.find_all("form") if form.find("input", type="email")]
        assert boxes and all(form.get("action") == action for form in boxes)
        return
    assert "subscribe" not in page_html.lower()
    assert doc.find("input", type="email") is None
    assert doc.one("aside", class_="blog-sidebar").find("form") is None
    assert [form.get("action") for form in doc.find_all("form")] == ["/search"]  # only the header search


def test_open_graph_and_twitter_card(doc):
    """Sharing the post shows its title as an article at its absolute URL."""
    assert meta_content(doc, "og:title") == SEED_TITLE
    assert meta_content(doc, "og:type") == "article"
    assert meta_content(doc, "og:url") == f"http://localhost{SEED_URL}"
    assert meta_content(doc, "og:description").startswith("A mouse study from the Georgia Cancer Center")
    assert meta_content(doc, "twitter:card") == "summary"  # no cover image
    assert meta_content(doc, "twitter:title") == SEED_TITLE
    assert doc.one("link", rel="canonical")["href"] == f"http://localhost{SEED_URL}"


def test_blog_posting_structured_data(doc):
    """schema.org BlogPosting with headline, publication date and author."""
    (script,) = doc.find_all("script", type="application/ld+json")
    data = json.loads(script.text)
    assert data["@type"] == "BlogPosting"
    assert data["@context"] == "https://schema.org"
    assert data["headline"] == SEED_TITLE
    assert datetime.fromisoformat(data["datePublished"]) == datetime(2021, 6, 29, 14, 10, tzinfo=UTC)
    assert data["author"] == {"@type": "Person", "name": AUTHOR}
    assert data["url"] == f"http://localhost/blog/{SEED_SLUG}"
