"""The post editor in Chromium, CSRF on, under the CSP: body images at the cursor, a kept cover, local times."""

import re

import pytest

from tests.admin.test_post_editor_media import VALID_DATETIME
from tests.conftest import sign_in_with_the_form
from tests.test_csp_browser import CSPWatch, png_bytes

pytestmark = pytest.mark.browser


@pytest.fixture
def uploads(live_app, tmp_path, monkeypatch):
    """The live app stores uploads in this test's folder."""
    monkeypatch.setitem(live_app.config, "UPLOAD_FOLDER", tmp_path)
    return tmp_path


def test_an_image_goes_into_the_body_at_the_cursor_and_the_cover_survives_a_refused_try(
    page, seeded, make_user, uploads, tmp_path
):
    watch = CSPWatch(page)
    make_user("marketing", email="mara@staff.test")
    page.goto("/login?next=/admin/posts/new")
    sign_in_with_the_form(page, "mara@staff.test", "**/admin/posts/new")
    assert page.locator("label[for=body]").text_content() == "Markdown source"
    assert page.locator("#live-preview-label").text_content() == "Live preview"

    body = page.locator("#body")
    body.fill("First paragraph.\nSecond paragraph.")
    body.evaluate("el => el.setSelectionRange(16, 16)")  # the cursor after "First paragraph."
    picture = tmp_path / "gating.png"
    picture.write_bytes(png_bytes((800, 600)))
    page.set_input_files("#body_image", str(picture))
    page.get_by_role("button", name="Upload and insert").click()
    page.get_by_text("Describe the image for readers who can't see it").wait_for()  # alt text first
    page.locator("#body_image_alt").fill("Gating of CD3+ T cells")
    page.get_by_role("button", name="Upload and insert").click()
    page.get_by_text("Inserted at the cursor").wait_for()
    text = body.input_value()
    assert re.fullmatch(
        r"First paragraph\.\n\n!\[Gating of CD3\+ T cells\]\(/uploads/posts/[0-9a-f]{32}\.webp\)\n\nSecond paragraph\.",
        text,
    ), text
    # The live preview shows the stored image (served by the shop, so the CSP lets it in).
    image = page.locator("#live-preview img[alt='Gating of CD3+ T cells']")
    image.wait_for()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 800
    watch.check("the editor after an upload")

    # A cover chosen, but no title: refused, and the cover is still there for the next try.
    cover = tmp_path / "cover.png"
    cover.write_bytes(png_bytes((1200, 675)))
    page.set_input_files("#cover_image", str(cover))
    page.locator("#cover_alt").fill("A leukopak bag")
    page.get_by_role("button", name="Publish now").click()
    page.get_by_text("Give the post a title.").wait_for()
    assert page.get_by_text("The cover you chose is kept").is_visible()
    page.get_by_label("Title").fill("Gating strategies for T-cell lots")
    page.get_by_role("button", name="Publish now").click()
    page.wait_for_url("**/admin/posts/*/edit")
    assert page.get_by_text("Published. The post is live.").is_visible()
    assert page.locator("img[alt^='Current cover']").evaluate("img => img.naturalWidth") > 0

    # Every <time> the public pages carry for it is valid HTML.
    slug = page.locator("#slug").input_value()
    for path in ("/", "/blog/", f"/blog/{slug}"):
        page.goto(path)
        values = page.locator("time[datetime]").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
        assert values and all(VALID_DATETIME.match(v) for v in values), (path, values)
    page.goto(f"/blog/{slug}")
    assert page.locator(".post-cover").evaluate("img => img.naturalWidth") > 0
    assert page.locator(".post-body img[alt='Gating of CD3+ T cells']").evaluate("img => img.naturalWidth") == 800
    watch.check("the published post")


def test_publish_times_show_in_the_browsers_time_zone_beside_utc(browser, live_server, seeded, make_user):
    context = browser.new_context(base_url=live_server, timezone_id="America/New_York", locale="en-US")
    page = context.new_page()
    try:
        make_user("marketing", email="mara@staff.test")
        page.goto("/login?next=/admin/posts/new")
        sign_in_with_the_form(page, "mara@staff.test", "**/admin/posts/new")
        assert page.locator("#publish-at-zone").inner_text() == "America/New_York"
        page.locator("#publish_at").fill("2030-12-24T15:00")
        assert page.locator("#publish-at-local").input_value() == "2030-12-24T10:00"  # UTC-5 in winter
        page.locator("#publish-at-local").fill("2030-07-01T09:30")
        assert page.locator("#publish_at").input_value() == "2030-07-01T13:30"  # UTC-4 in summer
        page.get_by_label("Title").fill("A post for the summer")
        page.get_by_role("button", name="Schedule").click()
        page.wait_for_url("**/admin/posts/*/edit")
        assert page.locator("#publish_at").input_value() == "2030-07-01T13:30"
        shown = page.locator("p", has=page.locator("time.local-time")).inner_text()
        assert "01 Jul 2030, 13:30 UTC" in shown and "9:30" in shown and "your time" in shown
    finally:
        context.close()
