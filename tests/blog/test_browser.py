"""The blog in a real browser: from the post list to a post and on to a topic, and a phone-sized post page."""

import pytest

from tests.blog.conftest import SEED_TITLE, SEED_URL

pytestmark = pytest.mark.browser

NO_HORIZONTAL_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


def test_from_the_blog_to_a_post_to_its_topic(page, seeded):
    """A reader opens the blog, clicks the STAT5 post, then its CAR-T topic."""
    page.goto("/blog/")
    assert page.locator("h1").inner_text() == "Blog"
    page.get_by_role("link", name=SEED_TITLE, exact=True).first.click()
    page.wait_for_url(f"**{SEED_URL}")
    assert page.locator("h1").inner_text() == SEED_TITLE
    assert page.locator(".post-meta").inner_text() == "29 Jun 2021 · by Stacy Matthews Branch, DVM, PhD"

    page.locator("article.post .post-topics").get_by_role("link", name="CAR-T", exact=True).click()
    page.wait_for_url("**/blog/topics/car-t")
    assert page.locator("h1").inner_text() == "CAR-T"
    assert page.get_by_role("link", name=SEED_TITLE, exact=True).first.is_visible()


@pytest.mark.parametrize("url", [SEED_URL, "/blog/", "/blog/topics/car-t"])
def test_blog_pages_fit_a_phone(page, seeded, url):
    """At 375 px wide the page does not scroll sideways."""
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(url)
    assert page.locator("h1").is_visible()
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert page.evaluate(NO_HORIZONTAL_OVERFLOW), f"{url}: scrollWidth {width[0]} > innerWidth {width[1]}"


def test_post_with_a_long_word_in_its_title_fits_a_phone(page, make_post):
    """Scientific titles have long words; the heading must wrap rather than widen the page."""
    make_post("Electrochemiluminescence Assays for Cytokine Release", slug="ecl-assays")
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto("/blog/ecl-assays")
    assert page.locator("h1").is_visible()
    assert page.evaluate(NO_HORIZONTAL_OVERFLOW)
