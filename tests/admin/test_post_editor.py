"""The post editor: saving, validation, preview, publishing, scheduling, revisions, cover images."""

import html
import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import func, select

from shop.blog.models import Post, PostRevision, Topic
from shop.models import utcnow


def form(**fields) -> dict:
    data = {"title": "Choosing donors for CAR-T runs", "body": "## Why\n\nBecause.", "action": "save"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def create(client, **fields) -> Post:
    response = client.post("/admin/posts/new", data=form(**fields))
    assert response.status_code == 302, html.unescape(response.text)[:2000]
    post_id = int(response.headers["Location"].split("/")[-2])
    from shop.extensions import db

    return db.session.get(Post, post_id)


def test_save_draft_keeps_it_off_the_site(client, auth, db):
    auth.login("marketing")
    post = create(client, new_topics="Donor selection")
    assert post.status == "draft" and post.slug == "choosing-donors-for-car-t-runs"
    assert post.body_html == "<h2>Why</h2>\n<p>Because.</p>\n"
    assert [t.name for t in post.topics] == ["Donor selection"]
    assert client.get(f"/blog/{post.slug}").status_code == 404


def test_publish_now_puts_it_on_the_blog_topic_page_and_feed(client, auth, db):
    auth.login("marketing")
    post = create(client, new_topics="Donor selection", action="publish", summary="How to pick donors.")
    assert post.status == "published" and post.published_at <= utcnow()
    assert client.get(f"/blog/{post.slug}").status_code == 200
    assert post.title in client.get("/blog/").text
    assert post.title in client.get("/blog/topics/donor-selection").text
    assert post.title in client.get("/blog/feed.xml").text


def test_validation_messages_and_nothing_saved(client, auth, db):
    auth.login("marketing")
    create(client, title="Taken title")
    cases = [
        (form(title=""), "Give the post a title."),
        (form(title="Taken title"), "Another post already uses this address"),
        (form(slug="Not a slug!"), "Use lower-case letters, digits and single hyphens only."),
        (form(action="schedule", publish_at=(utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")),
         "That time has passed. Choose a time in the future, or publish now."),
        (form(action="schedule"), "Choose when to publish."),
        (form(body="x" * 2_000_000), "The body is too long: 2,000,000 characters; at most 200,000."),
        (form(related_products="CT-NOPE-1"), "No product with catalog number CT-NOPE-1."),
    ]  # fmt: skip
    for data, message in cases:
        response = client.post("/admin/posts/new", data=data)
        assert response.status_code == 200, message
        assert message in html.unescape(response.text), message
    assert db.session.scalar(select(func.count(Post.id))) == 1


def test_what_was_typed_is_kept_after_an_error(client, auth, db):
    auth.login("marketing")
    response = client.post("/admin/posts/new", data=form(title="", body="My careful paragraph."))
    assert "My careful paragraph." in response.text


def test_hostile_markdown_is_saved_sanitised(client, auth, db):
    auth.login("marketing")
    post = create(client, body="<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n<img src=x onerror=alert(1)>")
    assert (
        "<script" not in post.body_html and 'href="javascript:' not in post.body_html and "<img" not in post.body_html
    )
    assert "onerror" not in client.get(f"/admin/posts/{post.id}/edit").text.split("live-preview")[1][:200]


def test_schedule_for_later(client, auth, db):
    auth.login("marketing")
    when = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    post = create(client, action="schedule", publish_at=when.strftime("%Y-%m-%dT%H:%M"))
    assert post.status == "scheduled" and post.published_at == when
    assert client.get(f"/blog/{post.slug}").status_code == 404


def test_unpublish(client, auth, db):
    auth.login("marketing")
    post = create(client, action="publish")
    data = form(action="unpublish", slug=post.slug, expected_version=str(post.version))
    assert client.post(f"/admin/posts/{post.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert post.status == "draft"
    assert client.get(f"/blog/{post.slug}").status_code == 404


def test_preview_renders_like_the_public_page_and_saves_nothing(client, auth, db):
    auth.login("marketing")
    response = client.post("/admin/posts/preview", data=form(body="**Bold claim**[^1]\n\n[^1]: A source.",
                                                                new_topics="Brand new topic"))  # fmt: skip
    assert response.status_code == 200
    page = response.text
    assert "<strong>Bold claim</strong>" in page and 'class="footnote-ref"' in page
    assert "Preview." in page and "noindex" in page
    assert 'class="prose post-body"' in page  # the public post template
    assert db.session.scalar(select(func.count(Post.id))) == 0
    assert db.session.scalar(select(Topic).where(Topic.name == "Brand new topic")) is None


def test_live_preview_fragment(client, auth, db):
    auth.login("marketing")
    response = client.post("/admin/posts/render", data={"body": "*x* <script>bad()</script>"})
    assert response.text.startswith("<p><em>x</em>") and "<script" not in response.text


def test_every_save_keeps_a_revision_and_one_can_be_restored(client, auth, db):
    auth.login("marketing")
    post = create(client, body="First text.")
    for n, text in enumerate(["Second text.", "Third text."], start=1):
        data = form(body=text, slug=post.slug, expected_version=str(n))
        assert client.post(f"/admin/posts/{post.id}/edit", data=data).status_code == 302
    history = client.get(f"/admin/posts/{post.id}/revisions").text
    assert history.count("Restore</button>") == 2
    assert client.post(f"/admin/posts/{post.id}/revisions/1/restore").status_code == 302
    db.session.expire_all()
    assert post.body == "First text." and post.revision == 4
    assert db.session.scalar(select(func.count(PostRevision.id)).where(PostRevision.post_id == post.id)) == 4
    assert client.post(f"/admin/posts/{post.id}/revisions/99/restore").status_code == 404


def test_second_editor_is_told_and_nothing_is_overwritten(client, auth, db):
    auth.login("marketing")
    post = create(client, body="Original.")
    first = form(body="First editor.", slug=post.slug, expected_version="1")
    second = form(body="Second editor.", slug=post.slug, expected_version="1")
    assert client.post(f"/admin/posts/{post.id}/edit", data=first).status_code == 302
    response = client.post(f"/admin/posts/{post.id}/edit", data=second)
    assert "someone else changed this record after you opened it" in response.text
    assert "Second editor." in response.text  # what they typed is still there
    db.session.expire_all()
    assert post.body == "First editor."


def png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 675), (10, 90, 100)).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def test_cover_image_needs_alt_text(client, auth, db, app, tmp_path):
    app.config["UPLOAD_FOLDER"] = tmp_path
    auth.login("marketing")
    response = client.post("/admin/posts/new", data=form(cover_image=(png(), "cover.png")))
    assert "Describe the cover image for readers who can&#39;t see it." in response.text
    post = create(client, cover_image=(png(), "cover.png"), cover_alt="T cells under a microscope", action="publish")
    assert post.cover_image.endswith(".webp") and (tmp_path / "posts" / post.cover_image).exists()
    page = client.get(f"/blog/{post.slug}").text
    assert 'alt="T cells under a microscope"' in page and 'property="og:image"' in page


def test_a_cover_that_is_not_an_image_is_refused(client, auth, db, app, tmp_path):
    app.config["UPLOAD_FOLDER"] = tmp_path
    auth.login("marketing")
    data = form(cover_image=(io.BytesIO(b"GIF89a not really"), "x.png"), cover_alt="Something")
    response = client.post("/admin/posts/new", data=data)
    assert "That file is not an image we can read." in response.text
    assert db.session.scalar(select(func.count(Post.id))) == 0


def test_sales_cannot_reach_the_editor(client, auth, db):
    auth.login("sales")
    assert client.get("/admin/posts/").status_code == 403
    assert client.post("/admin/posts/new", data=form()).status_code == 403
