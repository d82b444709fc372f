"""Who sees a post when: drafts, scheduled posts, publishing (and its signal), unpublishing, stored HTML."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import feedparser
import pytest
from sqlalchemy import select, update

import shop.markdown
from shop.blog.models import Post, PostRevision
from shop.blog.services import PostContent, publish_due_posts, publish_post, save_post, unpublish_post
from shop.markdown import render_markdown
from shop.models import utcnow
from tests.blog.dom import parse

SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
ANCHOR = "quokka-field-notes"  # a visible post that shares the hidden post's topic and search word
HIDDEN = "quokka-secret-plans"


def where_shown(client, slug: str, topic: str = "gene-editing", word: str = "quokka") -> dict[str, bool]:
    """Every public place a post can appear, and whether it appears there."""
    url = f"/blog/{slug}"

    def listed(page: str) -> bool:
        return url in [href for _, href in parse(client.get(page).text).one("div", class_="blog-main").links()]

    blog = parse(client.get("/blog/").text)
    sidebar = blog.one("aside", class_="blog-sidebar")
    feed = feedparser.parse(client.get("/blog/feed.xml").data)
    topic_feed = feedparser.parse(client.get(f"/blog/topics/{topic}/feed.xml").data)
    sitemap = ET.fromstring(client.get("/sitemap.xml").data)
    search = parse(client.get(f"/search?q={word}").text)
    return {
        "post page": client.get(url).status_code == 200,
        "blog": listed("/blog/"),
        "topic page": listed(f"/blog/topics/{topic}"),
        "recent posts": url in [href for _, href in sidebar.section_headed("Recent Posts").links()],
        "feed": f"http://localhost{url}" in [e.link for e in feed.entries],
        "topic feed": f"http://localhost{url}" in [e.link for e in topic_feed.entries],
        "sitemap": f"http://localhost{url}" in [loc.text for loc in sitemap.findall("sm:url/sm:loc", SITEMAP_NS)],
        "search": url in [href for _, href in search.section_headed(search_heading(search)).links()],
        "home": url in [a.get("href") for a in parse(client.get("/").text).find_all("a")],
        "related posts": url in related_links(client),
    }


def related_links(client) -> list[str]:
    """Links in the "Related posts" section of the anchor post's page (none when there is no section)."""
    heading = parse(client.get(f"/blog/{ANCHOR}").text).find("h2", id="related-posts-heading")
    return [href for _, href in heading.parent.links()] if heading else []


def search_heading(doc) -> str:
    return next(h2.text for h2 in doc.find_all("h2") if h2.text.startswith("Blog posts ("))


def topic_counts(client) -> dict[str, str]:
    """Topic name -> count as the sidebar of /blog/ and the topics page show it."""
    sidebar = parse(client.get("/blog/").text).one("aside", class_="blog-sidebar").section_headed("Posts by Topic")
    topics = parse(client.get("/blog/topics/").text).one("ul", class_="topic-list")
    return {
        "sidebar": {li.one("a").text: li.one("span").text for li in sidebar.find_all("li")},
        "topics page": {h2.one("a").text: h2.one("span").text for h2 in topics.find_all("h2")},
    }


EVERYWHERE = dict.fromkeys(
    [
        "post page",
        "blog",
        "topic page",
        "recent posts",
        "feed",
        "topic feed",
        "sitemap",
        "search",
        "home",
        "related posts",
    ],
    True,
)
NOWHERE = dict.fromkeys(EVERYWHERE, False)


@pytest.fixture
def anchor(make_post):
    """A public post about quokkas filed under Gene editing, a day old."""
    return make_post("Quokka Field Notes", topics=["Gene editing"], published_at=utcnow() - timedelta(days=1))


def hidden_post(make_post, status: str) -> Post:
    when = utcnow() + timedelta(days=3) if status == "scheduled" else None
    return make_post("Quokka Secret Plans", status=status, published_at=when, topics=["Gene editing"])


def test_a_published_post_is_shown_everywhere(client, anchor, make_post):
    """The check below can see a post: a published one is in every place."""
    make_post("Quokka Secret Plans", topics=["Gene editing"])
    assert where_shown(client, HIDDEN) == EVERYWHERE
    assert topic_counts(client) == {"sidebar": {"Gene editing": "(2)"}, "topics page": {"Gene editing": "2 posts"}}


@pytest.mark.parametrize("status", ["draft", "scheduled"])
def test_drafts_and_future_posts_are_hidden_everywhere(client, anchor, make_post, status):
    """A draft or a post scheduled for later: 404, and absent from lists, sidebar, counts, feeds, sitemap, search."""
    hidden_post(make_post, status)
    assert where_shown(client, HIDDEN) == NOWHERE
    assert where_shown(client, ANCHOR)["search"]  # the search does find the public post with the same word
    assert topic_counts(client) == {"sidebar": {"Gene editing": "(1)"}, "topics page": {"Gene editing": "1 post"}}
    assert client.get(f"/blog/{HIDDEN}").status_code == 404


def test_topic_with_only_hidden_posts_is_not_promoted(client, anchor, make_post):
    """A topic whose only post is a draft has no count in the sidebar and no place in the sitemap."""
    make_post("Draft About Llamas", status="draft", topics=["Llamas"])
    counts = topic_counts(client)
    assert "Llamas" not in counts["sidebar"]
    assert counts["topics page"]["Llamas"] == "0 posts"
    sitemap = client.get("/sitemap.xml").text
    assert "/blog/topics/llamas" not in sitemap
    assert client.get("/blog/topics/llamas").status_code == 200  # the topic exists, with no posts shown
    assert "No posts here yet." in client.get("/blog/topics/llamas").text


def move_into_the_past(db, post: Post) -> None:
    """Set a scheduled post's time to an hour ago, directly in the database, as if the time had come."""
    db.session.execute(
        update(Post).where(Post.id == post.id).values(published_at=utcnow() - timedelta(hours=1)),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    db.session.expire_all()


def test_scheduled_post_appears_when_its_time_comes_without_any_job(client, db, anchor, make_post, published_signals):
    """Once its time has passed a scheduled post is public everywhere, before publish-due has run."""
    post = hidden_post(make_post, "scheduled")
    assert where_shown(client, HIDDEN) == NOWHERE
    move_into_the_past(db, post)
    assert where_shown(client, HIDDEN) == EVERYWHERE
    assert db.session.scalar(select(Post.status).where(Post.slug == HIDDEN)) == "scheduled"
    assert published_signals == []  # announced only by publish_due_posts


def test_publish_due_posts_publishes_and_announces_once(client, db, anchor, make_post, published_signals):
    """publish_due_posts marks a due post published and sends post_published once; a later run sends nothing."""
    later = make_post("Still In The Future", status="scheduled", published_at=utcnow() + timedelta(days=1))
    post = hidden_post(make_post, "scheduled")
    assert publish_due_posts() == []  # nothing due yet
    db.session.commit()
    assert published_signals == []

    move_into_the_past(db, post)
    assert [p.slug for p in publish_due_posts()] == [HIDDEN]
    db.session.commit()
    db.session.expire_all()
    assert published_signals == [HIDDEN]
    stored = db.session.get(Post, post.id)
    assert stored.status == "published"
    assert stored.announced_at is not None
    assert db.session.get(Post, later.id).status == "scheduled"

    assert publish_due_posts() == []
    db.session.commit()
    assert published_signals == [HIDDEN]
    assert where_shown(client, HIDDEN) == EVERYWHERE


def test_publish_due_command(client, db, runner, anchor, make_post, published_signals):
    """`flask blog publish-due` does the same from the command line, and says what it published."""
    post = hidden_post(make_post, "scheduled")
    move_into_the_past(db, post)

    result = runner.invoke(args=["blog", "publish-due"])
    assert result.exit_code == 0, result.output
    assert f"Published {HIDDEN}" in result.output
    assert "1 post(s) published." in result.output
    db.session.expire_all()
    assert db.session.scalar(select(Post.status).where(Post.id == post.id)) == "published"
    assert published_signals == [HIDDEN]

    again = runner.invoke(args=["blog", "publish-due"])
    assert again.exit_code == 0, again.output
    assert "0 post(s) published." in again.output
    assert published_signals == [HIDDEN]


def test_publish_sends_the_signal_once(client, db, anchor, make_post, published_signals):
    """Publishing a draft announces it; publishing again, or after unpublishing, does not announce it again."""
    post = hidden_post(make_post, "draft")
    assert published_signals == []
    publish_post(post)
    db.session.commit()
    assert published_signals == [HIDDEN]
    assert post.status == "published"
    assert client.get(f"/blog/{HIDDEN}").status_code == 200

    publish_post(post)
    db.session.commit()
    assert published_signals == [HIDDEN]

    unpublish_post(post)
    db.session.commit()
    assert where_shown(client, HIDDEN) == NOWHERE

    publish_post(post)
    db.session.commit()
    assert published_signals == [HIDDEN]
    assert client.get(f"/blog/{HIDDEN}").status_code == 200


def test_publishing_a_scheduled_post_early_makes_it_public_now(client, db, anchor, make_post, published_signals):
    """Publishing a post scheduled for next week brings it forward to now and announces it."""
    post = hidden_post(make_post, "scheduled")
    publish_post(post)
    db.session.commit()
    assert post.published_at <= utcnow()
    assert published_signals == [HIDDEN]
    assert where_shown(client, HIDDEN) == EVERYWHERE


def test_unpublish_hides_a_published_post(client, db, anchor, make_post):
    """Unpublishing takes the post back off every public page."""
    post = make_post("Quokka Secret Plans", topics=["Gene editing"])
    assert client.get(f"/blog/{HIDDEN}").status_code == 200
    unpublish_post(post)
    db.session.commit()
    assert where_shown(client, HIDDEN) == NOWHERE
    assert db.session.scalar(select(Post.status).where(Post.id == post.id)) == "draft"


# The rendered body is stored with each save ------------------------------------------------------------------------


def test_body_html_is_rendered_and_stored_on_save(db, make_post):
    """save_post stores the sanitised HTML of the body, and a new revision on each save."""
    body = "# Results\n\nCD8+ cells[^1] <script>alert(1)</script>\n\n[^1]: A footnote."
    post = make_post("Stored Rendering", body=body)
    db.session.expire_all()
    stored = db.session.get(Post, post.id)
    assert stored.body_html == str(render_markdown(body))
    assert "<h2>Results</h2>" in stored.body_html
    assert "<script" not in stored.body_html

    edited = "## Revised\n\nNew text."
    content = PostContent(
        title=stored.title,
        slug=stored.slug,
        summary=stored.summary,
        body=edited,
        references=[],
        topic_names=[],
        related_products=[],
    )
    save_post(stored, content, actor="test")
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Post, post.id)
    assert stored.body_html == "<h2>Revised</h2>\n<p>New text.</p>\n"
    revisions = db.session.scalars(
        select(PostRevision).where(PostRevision.post_id == post.id).order_by(PostRevision.number)
    ).all()
    assert [(r.number, r.body, r.saved_by) for r in revisions] == [(1, body, "test"), (2, edited, "test")]


def test_post_page_does_not_render_markdown(client, db, make_post, monkeypatch):
    """Showing a post uses the stored HTML: with the renderer broken the page still works."""
    make_post("No Rendering Per Request", slug="no-render", body="## Stored heading\n\nStored *body* text.")

    def broken(*args, **kwargs):
        raise RuntimeError("the Markdown renderer was called during a request")

    monkeypatch.setattr(shop.markdown._md, "render", broken)
    with pytest.raises(RuntimeError):
        render_markdown("anything")  # the renderer really is broken now

    response = client.get("/blog/no-render")
    assert response.status_code == 200
    body = parse(response.text).one("div", class_="post-body")
    assert body.one("h2").text == "Stored heading"
    assert body.one("em").text == "body"
    assert client.get("/blog/feed.xml").status_code == 200
