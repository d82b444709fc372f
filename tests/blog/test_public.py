"""The blog as a reader browses it: the post list, pagination, topics and their pages."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from shop.blog.models import Post
from shop.models import utcnow
from shop.templating import format_date
from tests.blog.conftest import create_post, seed_posts, seed_topic_counts, seed_topics
from tests.blog.dom import parse


def entries(html: str) -> list[dict]:
    """The post entries of a list page: title, link, date, author line, summary and topic links."""
    result = []
    for article in parse(html).one("div", class_="blog-main").find_all("article", class_="post-entry"):
        title = article.one(class_="post-entry-title").one("a")
        topics = article.find("ul", class_="topic-links")
        result.append(
            {
                "title": title.text,
                "href": title["href"],
                "meta": article.one("p", class_="post-meta").text,
                "summary": article.one("p", class_="post-summary").text,
                "topics": sorted(topics.links()) if topics else [],
            }
        )
    return result


def expected_entry(post) -> dict:
    slugs = seed_topics()
    return {
        "title": post.title,
        "href": post.url,
        "meta": f"{format_date(post.published_at)} · by {post.author}",
        "summary": post.summary,
        "topics": sorted((name, f"/blog/topics/{slugs[name]}") for name in post.topics),
    }


def test_blog_lists_posts_newest_first(client, seeded):
    """/blog/ shows each post with its title link, date, author, summary and topic links, newest first."""
    response = client.get("/blog/")
    assert response.status_code == 200
    assert entries(response.text) == [expected_entry(p) for p in seed_posts()[:10]]
    assert parse(response.text).one("h1").text == "Blog"


def test_ten_posts_per_page_and_page_two(client, seeded, make_post):
    """With 11 posts, page 1 shows the 10 newest and links to page 2, which shows the oldest."""
    make_post("The Oldest Post Of All", published_at=datetime(2019, 1, 2, 9, 0, tzinfo=UTC), topics=["Cancer"])
    first = client.get("/blog/")
    shown = entries(first.text)
    assert len(shown) == 10
    assert [e["href"] for e in shown] == [p.url for p in seed_posts()]
    pagination = parse(first.text).one("nav", class_="pagination")
    assert ("Older →", "/blog/?page=2") in pagination.links()
    assert not any(text.startswith("←") for text, _ in pagination.links())

    second = client.get("/blog/?page=2")
    assert second.status_code == 200
    (oldest,) = entries(second.text)
    assert oldest["href"] == "/blog/the-oldest-post-of-all"
    assert oldest["meta"] == "2 Jan 2019 · by Dr. Test Author"
    assert ("← Newer", "/blog/") in parse(second.text).one("nav", class_="pagination").links()
    assert '<link rel="canonical" href="http://localhost/blog/?page=2">' in second.text


def test_page_past_the_end_is_a_404_with_a_message(client, seeded):
    """Asking for a page after the last one says so, with a 404."""
    response = client.get("/blog/?page=2")  # 10 posts fit on page 1
    assert response.status_code == 404
    assert "page 2 is past the end" in parse(response.text).one("p", class_="lead").text


@pytest.mark.parametrize("page", ["abc", "0", "-1", "", "1.5", "2abc"])
def test_odd_page_numbers_show_page_one(client, seeded, page):
    """A page number that is not a positive whole number shows the first page instead of an error."""
    response = client.get(f"/blog/?page={page}")
    assert response.status_code == 200
    assert [e["href"] for e in entries(response.text)] == [p.url for p in seed_posts()[:10]]


def test_empty_blog(client, db):
    """With no posts the blog says so rather than failing."""
    response = client.get("/blog/")
    assert response.status_code == 200
    assert "No posts here yet." in response.text
    assert "No posts yet." in parse(response.text).one("aside", class_="blog-sidebar").text


def test_topics_page_lists_every_topic_with_its_count(client, seeded):
    """/blog/topics/ lists all seven topics, each linking to its page with its number of posts."""
    response = client.get("/blog/topics/")
    assert response.status_code == 200
    listing = parse(response.text).one("ul", class_="topic-list")
    shown = {
        h2.one("a").text: (h2.one("a")["href"], h2.one("span", class_="count").text) for h2 in listing.find_all("h2")
    }
    slugs = seed_topics()
    expected = {
        name: (f"/blog/topics/{slugs[name]}", f"{n} post{'' if n == 1 else 's'}")
        for name, n in seed_topic_counts().items()
    }
    assert shown == expected
    assert len(shown) == 7


def test_topic_page_lists_only_that_topics_posts(client, seeded, make_post):
    """/blog/topics/car-t has the CAR-T heading and only (all) CAR-T posts, newest first."""
    make_post("Only About NK Cells", topics=["NK cells"])
    response = client.get("/blog/topics/car-t")
    assert response.status_code == 200
    doc = parse(response.text)
    assert doc.one("h1").text == "CAR-T"
    car_t = [p for p in seed_posts() if "CAR-T" in p.topics]
    assert len(car_t) == 7
    assert entries(response.text) == [expected_entry(p) for p in car_t]
    assert "7 posts" in doc.one("div", class_="blog-main").text
    assert "Only About NK Cells" not in doc.one("div", class_="blog-main").text


def test_new_topic_from_a_post_gets_a_page(client, db, make_post):
    """A topic first named on a post gets a slug and a page listing the post."""
    make_post("Editing the TRAC Locus", topics=["Gene editing"])
    response = client.get("/blog/topics/gene-editing")
    assert response.status_code == 200
    assert [e["title"] for e in entries(response.text)] == ["Editing the TRAC Locus"]
    assert "1 post ·" in response.text


@pytest.mark.parametrize("slug", ["no-such-topic", "CAR-T", "car_t", "car-t-"])
def test_unknown_topic_is_a_404(client, seeded, slug):
    """A topic that does not exist is a 404 that says so."""
    response = client.get(f"/blog/topics/{slug}")
    assert response.status_code == 404
    assert "There is no such topic" in response.text


@pytest.mark.parametrize("slug", ["no-such-post", "STAT5-proteins-anti-tumor-immune-response", "a--b"])
def test_unknown_post_is_a_404(client, seeded, slug):
    """A post that does not exist is a 404 with a message."""
    response = client.get(f"/blog/{slug}")
    assert response.status_code == 404
    assert "We couldn&#39;t find that post" in response.text or "We couldn't find that post" in response.text


def test_html_in_a_title_is_shown_as_text_and_cannot_leave_the_json_ld(client, db, make_post):
    """A title with markup is escaped everywhere on the page, including inside the JSON-LD script."""
    title = 'Cells </script><script>alert(1)</script> & "quotes"'
    make_post(title, slug="odd-title")
    html = client.get("/blog/odd-title").text
    assert "<script>alert(1)" not in html
    doc = parse(html)
    assert doc.one("h1").text == title
    (script,) = doc.find_all("script", type="application/ld+json")
    assert json.loads(script.text)["headline"] == title
    assert client.get("/blog/").status_code == 200
    assert "<script>alert(1)" not in client.get("/blog/").text


def test_related_posts_share_a_topic(client, seeded):
    """Under the seed post, "Related posts" are other CAR-T/Cancer posts, never the post itself."""
    doc = parse(client.get("/blog/stat5-proteins-anti-tumor-immune-response").text)
    related = [href for _, href in doc.section_headed("Related posts").links()]
    assert 1 <= len(related) <= 3
    sharing = {p.url for p in seed_posts() if {"CAR-T", "Cancer"} & set(p.topics)}
    assert set(related) <= sharing - {"/blog/stat5-proteins-anti-tumor-immune-response"}


def test_related_posts_rank_by_shared_topics_then_newest(client, db):
    """Most topics in common first, the newest first among equals; drafts, posts not yet live and the post
    itself never; a post edited or going live shows at once (the map follows the blog's clock)."""
    now = utcnow()
    create_post("Subject", topics=["CAR-T", "Cancer", "NK cells"])
    create_post("Two shared, old", topics=["CAR-T", "Cancer"], published_at=now - timedelta(days=30))
    create_post("One shared, new", topics=["NK cells"], published_at=now - timedelta(days=1))
    create_post("One shared, newer", topics=["Cancer"], published_at=now - timedelta(hours=1))
    create_post("One shared, oldest", topics=["CAR-T"], published_at=now - timedelta(days=90))
    create_post("Unrelated", topics=["Stem cells"])
    create_post("Draft", topics=["CAR-T", "Cancer", "NK cells"], status="draft")
    later = create_post("Later", topics=["CAR-T", "Cancer", "NK cells"], status="scheduled",
                        published_at=now + timedelta(hours=1))  # fmt: skip

    def related() -> list[str]:
        return [text for text, _ in parse(client.get("/blog/subject").text).section_headed("Related posts").links()]

    assert related() == ["Two shared, old", "One shared, newer", "One shared, new"]
    db.session.execute(update(Post).where(Post.id == later.id).values(published_at=now - timedelta(seconds=1)))
    db.session.commit()  # its time has come: the blog's clock moves by its rule, without a save
    assert related() == ["Later", "Two shared, old", "One shared, newer"]
