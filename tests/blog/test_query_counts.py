"""The number of SQL statements a blog page costs does not grow with the number of posts."""

from datetime import timedelta

from sqlalchemy import func, insert, select

from shop.blog.models import Post, Topic, post_topic
from shop.markdown import render_markdown
from shop.models import utcnow
from tests.blog.conftest import SEED_URL
from tests.conftest import statements_per_page

MAX_QUERIES = 10
URLS = ("/blog/", SEED_URL, "/blog/topics/car-t")


def add_posts(db, count: int) -> None:
    """``count`` published CAR-T/Cancer posts, newer than the demo posts, inserted in bulk."""
    body = "## Findings\n\nCAR-T cells, **expanded**."
    now = utcnow()
    start = db.session.scalar(select(func.count(Post.id)))
    start_id = db.session.scalar(select(func.coalesce(func.max(Post.id), 0)))
    db.session.execute(
        insert(Post),
        [
            {
                "title": f"Bulk post {n}",
                "slug": f"bulk-post-{n}",
                "summary": f"Summary {n}.",
                "body": body,
                "body_html": str(render_markdown(body)),
                "references": [],
                "author_name": "Bulk Author",
                "status": "published",
                "published_at": now - timedelta(hours=n + 1),
                "announced_at": now,
                "revision": 1,
                "version": 1,
            }
            for n in range(start, start + count)
        ],
    )
    topics = db.session.scalars(select(Topic.id).where(Topic.slug.in_(["car-t", "cancer"]))).all()
    posts = db.session.scalars(select(Post.id).where(Post.slug.like("bulk-post-%"), Post.id > start_id)).all()
    db.session.execute(insert(post_topic), [{"post_id": p, "topic_id": t} for p in posts for t in topics])
    db.session.commit()


def measure(client, count_queries) -> dict[str, int]:
    """Statements sent for each page, after one warm-up request each."""
    return statements_per_page(client, count_queries, URLS)


def test_query_counts_do_not_grow_with_posts(client, seeded, count_queries):
    """The blog, a post and a topic page cost the same with 10 and with 60 posts, and at most 10 statements."""
    assert seeded.session.scalar(select(func.count(Post.id))) == 10
    small = measure(client, count_queries)

    add_posts(seeded, 50)
    assert seeded.session.scalar(select(func.count(Post.id))) == 60
    assert "Bulk post 10" in client.get("/blog/").text  # the new posts are on the pages measured
    assert "Bulk post 10" in client.get("/blog/topics/car-t").text
    large = measure(client, count_queries)

    print(f"\nqueries per page with 10 posts: {small}\nqueries per page with 60 posts: {large}")
    assert large == small
    assert all(n <= MAX_QUERIES for n in large.values()), large


def test_search_query_count_does_not_grow_with_matching_posts(client, db, make_post, count_queries):
    """Searching costs the same whether one post matches or ten do."""

    def searching(matching: int) -> int:
        assert client.get("/search?q=quokka").status_code == 200
        with count_queries() as q:
            response = client.get("/search?q=quokka")
        assert response.text.count('class="post-entry"') == matching
        return q.count

    make_post("Quokka 0", topics=["CAR-T", "Cancer"])
    one = searching(1)
    for n in range(1, 10):
        make_post(f"Quokka {n}", topics=["CAR-T", "Cancer"])
    ten = searching(10)
    print(f"\nqueries for /search with 1 matching post: {one}, with 10: {ten}")
    assert ten == one
