"""The post editor in a real browser: write, preview, publish, and find the post everywhere it should be."""

import pytest

from tests.conftest import sign_in_with_the_form

pytestmark = pytest.mark.browser


def test_write_preview_publish_and_find_the_post(page, seeded, make_user):
    make_user("marketing", email="mara@staff.test")
    page.goto("/login?next=/admin/posts/new")
    sign_in_with_the_form(page, "mara@staff.test", "**/admin/posts/new")

    page.get_by_label("Title").fill("Recallable donors for longitudinal CAR-T studies")
    page.get_by_label("Summary").fill("Why coming back to the same donor helps.")
    page.locator("#body").fill(
        "## Same donor, new lot\n\nA **recallable** donor gives again.[^1]\n\n[^1]: Our records."
    )
    page.get_by_label("CAR-T").check()
    page.get_by_label("New topics").fill("Longitudinal studies")

    # The live pane renders with the site's renderer as the editor types.
    live = page.locator("#live-preview")
    live.locator("strong", has_text="recallable").wait_for()
    assert live.locator("h2", has_text="Same donor, new lot").is_visible()

    with page.context.expect_page() as preview_tab:
        page.get_by_role("button", name="Preview").click()
    preview = preview_tab.value
    preview.wait_for_load_state()
    assert preview.locator("h1").inner_text() == "Recallable donors for longitudinal CAR-T studies"
    assert preview.get_by_text("This is how the post will look").is_visible()
    assert preview.locator(".post-body strong").inner_text() == "recallable"
    preview.close()

    page.get_by_role("button", name="Publish now").click()
    page.wait_for_url("**/admin/posts/*/edit")
    assert page.get_by_text("Published. The post is live.").is_visible()

    page.goto("/blog/")
    page.get_by_role("link", name="Recallable donors for longitudinal CAR-T studies").first.click()
    assert page.locator("h1").inner_text() == "Recallable donors for longitudinal CAR-T studies"
    page.goto("/blog/topics/longitudinal-studies")
    assert page.get_by_role("link", name="Recallable donors for longitudinal CAR-T studies").first.is_visible()
    page.goto("/blog/topics/car-t")
    assert page.get_by_role("link", name="Recallable donors for longitudinal CAR-T studies").first.is_visible()
    feed = page.request.get("/blog/feed.xml").text()
    assert "<title>Recallable donors for longitudinal CAR-T studies</title>" in feed
