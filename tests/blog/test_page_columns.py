"""A blog page miss reads the columns it shows: lists of posts and products never load bodies or descriptions."""

from tests.blog.conftest import SEED_URL
from tests.catalog.test_page_columns import page_statements, text_columns


def test_post_page_reads_its_own_html_only(client, seeded, count_queries):
    """The post brings its rendered body; related posts, related products and the sidebar bring card columns."""
    read = text_columns(page_statements(client, count_queries, SEED_URL))

    assert [columns for columns in read if columns] == [["post.body_html"]]


def test_post_page_still_lists_related_posts_and_products(client, seeded):
    """Cards loaded with their columns only still show titles, summaries and products."""
    page = client.get(SEED_URL).text
    assert page.count('class="card post-card"') >= 1
    assert page.count('class="card product-card"') >= 1
    assert "Related posts" in page
    assert "Cells for this research" in page


def test_blog_lists_read_no_bodies(client, seeded, count_queries):
    """The blog index, a topic, the topics page and search list posts without their bodies."""
    for url in ("/blog/", "/blog/topics/car-t", "/blog/topics/", "/search?q=cells", "/"):
        assert not any(text_columns(page_statements(client, count_queries, url))), url


def test_feed_reads_html_but_not_markdown(client, seeded, count_queries):
    """An Atom feed carries each post's HTML; the Markdown stays in the database."""
    read = [c for columns in text_columns(page_statements(client, count_queries, "/blog/feed.xml")) for c in columns]
    assert read == ["post.body_html"]
