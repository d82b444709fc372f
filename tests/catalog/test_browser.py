"""The catalog in a real browser: filtering by clicks, keyboard use, and phone-sized layouts."""

import pytest

pytestmark = pytest.mark.browser


def test_filter_search_and_open_a_product(page, seeded):
    """A researcher narrows the catalog with facet clicks and a search, then opens a product."""
    page.goto("/products/")
    assert page.locator(".result-count").inner_text().startswith("26 products")

    page.get_by_role("checkbox", name="T cells").click()
    page.wait_for_url("**category=t-cell**")
    assert page.locator(".result-count").inner_text().startswith("7 products")
    assert page.locator(".chip", has_text="T cells").is_visible()

    page.get_by_role("checkbox", name="Cryopreserved").click()
    page.wait_for_url("**format=cryopreserved**")
    page.fill("#catalog-q", "cd8")
    page.press("#catalog-q", "Enter")
    page.wait_for_url("**q=cd8**")
    titles = page.locator(".card-title").all_inner_texts()
    assert "CD8+ T cells, cryopreserved, 25M" in titles
    assert "category=t-cell" in page.url and "format=cryopreserved" in page.url

    page.get_by_role("link", name="CD8+ T cells, cryopreserved, 25M").click()
    page.wait_for_url("**/products/cd8-t-cells-cryopreserved-25m")
    assert page.locator("h1").inner_text() == "CD8+ T cells, cryopreserved, 25M"
    assert page.get_by_text("Research use only.").first.is_visible()
    assert page.locator(".lot").count() >= 1


def test_sort_applies_on_change_with_javascript(page, seeded):
    """Choosing a sort order reloads the list without pressing a button."""
    page.goto("/products/")
    assert not page.locator(".sort button").is_visible()  # the no-JS Apply button is hidden
    page.select_option("#sort", "price")
    page.wait_for_url("**sort=price**")
    prices = page.locator(".card .price").all_inner_texts()
    assert prices[0] == "$350.00"


def test_removing_a_chip_removes_only_that_filter(page, seeded):
    page.goto("/products/?category=pbmc&format=cryopreserved")
    page.get_by_role("link", name="Remove filter Category: PBMCs").click()
    page.wait_for_url("**/products/?format=cryopreserved")
    assert page.locator(".chip").count() == 1


def test_skip_link_is_first_on_tab(page, seeded):
    """Keyboard users reach 'Skip to main content' first and it moves focus to the main region."""
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize(
    "path", ["/", "/products/", "/products/?q=cd8&cmv=positive", "/products/leukopak-non-mobilized-full-fresh", "/nope"]
)
def test_pages_fit_a_phone_screen(page, seeded, path):
    """At 375 px nothing overflows sideways, and the filters fold away on the catalog."""
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(path)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path} is {overflow}px wider than the screen"
    if path.startswith("/products/?") or path == "/products/":
        assert page.evaluate("document.getElementById('filters').open") is False
