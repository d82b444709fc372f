"""The post editor's images and times: body images, a cover kept across a refused try, whole-second publish times."""

import html
import io
import re
from datetime import timedelta

from PIL import Image
from sqlalchemy import func, select

from shop.blog.models import Post
from shop.models import utcnow
from tests.admin.test_post_editor import create, form

# HTML's valid date and time strings, as <time datetime> takes them: a fraction has at most 3 digits.
VALID_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$")


def png(size=(900, 600)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 90, 100)).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def test_an_image_uploaded_into_the_body_answers_with_its_markdown(client, auth, db, app, tmp_path):
    app.config["UPLOAD_FOLDER"] = tmp_path
    auth.login("marketing")
    response = client.post(
        "/admin/posts/images",
        data={"body_image": (png(), "flow.png"), "body_image_alt": "Flow plot of CD4 [left] and CD8"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    markdown, url = response.json["markdown"], response.json["url"]
    name = re.fullmatch(r"/uploads/posts/([0-9a-f]{32}\.webp)", url).group(1)
    assert markdown == f"![Flow plot of CD4 \\[left\\] and CD8]({url})"
    stored = Image.open(tmp_path / "posts" / name)
    assert stored.format == "WEBP" and stored.size == (900, 600)
    assert (tmp_path / "posts" / name.replace(".webp", "-thumb.webp")).exists()
    # In a post, it is an <img> with the alt text, served by the shop itself.
    post = create(client, body=f"Before.\n\n{markdown}\n\nAfter.", action="publish")
    assert f'<img src="{url}" alt="Flow plot of CD4 [left] and CD8">' in post.body_html
    assert client.get(url).status_code == 200


def test_without_javascript_the_upload_opens_a_page_with_the_markdown(client, auth, db, app, tmp_path):
    app.config["UPLOAD_FOLDER"] = tmp_path
    auth.login("marketing")
    # The button submits the whole post form to the upload address; only the image fields count.
    data = form(body_image=(png(), "x.png"), body_image_alt="T cells", title="")
    response = client.post("/admin/posts/images", data=data)
    assert response.status_code == 200
    page = html.unescape(response.text)
    assert "Copy this Markdown into the body" in page
    assert re.search(r"!\[T cells\]\(/uploads/posts/[0-9a-f]{32}\.webp\)", page)
    assert db.session.scalar(select(func.count(Post.id))) == 0


def test_a_body_image_needs_alt_text_and_a_real_image(client, auth, db, app, tmp_path):
    app.config["UPLOAD_FOLDER"] = tmp_path
    auth.login("marketing")
    cases = [
        (lambda: {"body_image": (png(), "x.png"), "body_image_alt": "  "}, "Describe the image for readers who can't"),
        (lambda: {"body_image_alt": "Cells"}, "Choose an image to upload."),
        (lambda: {"body_image": (io.BytesIO(b"GIF89a"), "x.png"), "body_image_alt": "Cells"}, "not an image we can"),
        (lambda: {"body_image": (png((50, 50)), "x.png"), "body_image_alt": "Cells"}, "The image is too small"),
        (lambda: {"body_image": (png(), "x.png"), "body_image_alt": "x" * 301}, "at most 300 characters"),
    ]
    for data, message in cases:
        answer = client.post("/admin/posts/images", data=data(), headers={"Accept": "application/json"})
        assert answer.status_code == 400 and message in answer.json["error"], (message, answer.text)
        page = client.post("/admin/posts/images", data=data())
        assert page.status_code == 400 and message in html.unescape(page.text), message
    assert not (tmp_path / "posts").exists() or not list((tmp_path / "posts").iterdir())


def test_sales_cannot_upload_body_images(client, auth, db):
    auth.login("sales")
    answer = client.post("/admin/posts/images", data={"body_image": (png(), "x.png"), "body_image_alt": "Cells"})
    assert answer.status_code == 403


def test_a_refused_try_keeps_the_chosen_cover(client, auth, db, app, tmp_path):
    app.config["UPLOAD_FOLDER"] = tmp_path
    auth.login("marketing")
    # No title: refused. The cover was chosen, so it is stored and its (signed) name comes back.
    response = client.post("/admin/posts/new", data=form(title="", cover_image=(png(), "c.png"), cover_alt="A bag"))
    assert response.status_code == 200 and "Give the post a title." in response.text
    assert "The cover you chose is kept" in response.text
    pending = re.search(r'name="pending_cover" type="hidden" value="([^"]+)"', response.text).group(1)
    kept = [f for f in (tmp_path / "posts").glob("*.webp") if not f.name.endswith("-thumb.webp")]
    assert len(kept) == 1
    # The next try sends no file: the kept cover is the post's.
    post = create(client, cover_alt="A bag", pending_cover=pending, action="publish")
    assert post.cover_image == kept[0].name
    assert f'src="/uploads/posts/{post.cover_image}"' in client.get(f"/blog/{post.slug}").text


def test_a_refused_try_without_alt_text_keeps_the_cover_and_asks_for_the_text(client, auth, db, app, tmp_path):
    app.config["UPLOAD_FOLDER"] = tmp_path
    auth.login("marketing")
    response = client.post("/admin/posts/new", data=form(cover_image=(png(), "c.png")))
    assert "Describe the cover image" in html.unescape(response.text)
    pending = re.search(r'name="pending_cover" type="hidden" value="([^"]+)"', response.text).group(1)
    # Still no alt text: asked again, even without a file in this try.
    again = client.post("/admin/posts/new", data=form(pending_cover=pending))
    assert "Describe the cover image" in html.unescape(again.text)
    post = create(client, pending_cover=pending, cover_alt="Cryovials")
    assert post.cover_image and post.cover_alt == "Cryovials"


def test_a_forged_pending_cover_is_ignored(client, auth, db, app, tmp_path):
    app.config["UPLOAD_FOLDER"] = tmp_path
    (tmp_path / "posts").mkdir()
    other = "0" * 32 + ".webp"
    (tmp_path / "posts" / other).write_bytes(b"someone else's cover")
    auth.login("marketing")
    for forged in (other, "x" * 2000, "\u2603", "eyJ"):
        post = create(client, title=f"Post {len(forged)}", pending_cover=forged, cover_alt="x")
        assert post.cover_image is None


def test_publish_now_from_the_editor_gives_valid_time_elements(client, auth, db):
    auth.login("marketing")
    post = create(client, new_topics="Donor selection", action="publish", summary="Picking donors.")
    assert post.published_at.microsecond == 0
    auth.logout()
    pages = ["/", "/blog/", "/blog/topics/donor-selection", f"/blog/{post.slug}", "/about"]
    seen = 0
    for path in pages:
        text = client.get(path).text
        for value in re.findall(r'<time[^>]*\sdatetime="([^"]*)"', text):
            assert VALID_DATETIME.match(value), (path, value)
            seen += 1
    assert seen >= 5
    feed = client.get("/blog/feed.xml").text
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d{4,}", feed)


def test_scheduling_stores_whole_seconds_too(client, auth, db):
    auth.login("marketing")
    later = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    post = create(client, action="schedule", publish_at=later)
    assert post.published_at.second == 0 and post.published_at.microsecond == 0
    assert f'datetime="{post.published_at:%Y-%m-%dT%H:%M:%S}Z"' in client.get(f"/admin/posts/{post.id}/edit").text


def test_the_editor_labels_both_panes_and_names_the_view_once(client, auth, db):
    auth.login("marketing")
    page = client.get("/admin/posts/new").text
    assert '<label class="editor-pane-label" for="body">Markdown source</label>' in page
    assert 'aria-labelledby="live-preview-label"' in page and ">Live preview</h2>" in page
    # Flask-Admin's own view heading ("Posts") is gone: the page says "New post" once.
    assert page.count(">New post<") == 1 and '<h4 class="mb-4">' not in page
    assert 'id="publish-at-local"' in page


def test_the_publish_time_is_printed_in_utc_for_the_browser_to_show_locally(client, auth, db):
    auth.login("marketing")
    post = create(client, action="publish")
    page = client.get(f"/admin/posts/{post.id}/edit").text
    stamp = post.published_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f'<time class="local-time" datetime="{stamp}">' in page and " UTC</time>" in page
