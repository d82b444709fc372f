"""The catalog in a real browser: filtering by clicks, keyboard use, and phone-sized layouts."""

import re
from urllib.parse import unquote

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
        assert not page.locator("#filters-panel").is_visible()
        assert page.get_by_role("button", name="Show filters").is_visible()


CLS = """() => new Promise(resolve => {
  let total = 0;
  new PerformanceObserver(list => { for (const e of list.getEntries()) { if (!e.hadRecentInput) total += e.value; } })
    .observe({type: "layout-shift", buffered: true});
  setTimeout(() => resolve(total), 500);
})"""


def test_filters_fold_on_a_phone_from_the_first_paint(page, seeded):
    """On a phone the panel is folded by the stylesheet (no shift after load) and a visible toggle opens it."""
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/products/?cmv=negative")
    assert page.evaluate(CLS) < 0.1
    toggle = page.get_by_role("button", name="Show filters")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert page.locator("#filters-panel").is_visible()
    assert page.get_by_role("button", name="Hide filters").get_attribute("aria-expanded") == "true"
    # A tick applies, and the panel stays open on the next page with focus on the ticked box.
    with page.expect_navigation():
        page.get_by_role("checkbox", name="Female").check()
    assert page.locator("#filters-panel").is_visible()
    assert page.evaluate("document.activeElement.name + '=' + document.activeElement.value") == "sex=F"


def test_desktop_filters_are_always_open(page, seeded):
    """At 1280 px there is no toggle to press, and the panel can't be collapsed."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/products/")
    assert page.locator("#filters-panel").is_visible()
    assert not page.locator(".filters-toggle").is_visible()
    assert page.evaluate(CLS) < 0.1


def test_facets_by_keyboard_only(page, seeded):
    """Tab reaches a facet checkbox, Space ticks it, and focus comes back to it on the filtered page."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/products/")
    presses = 0
    while page.evaluate("document.activeElement.name") != "cmv" and presses < 60:
        page.keyboard.press("Tab")
        presses += 1
    assert page.evaluate("document.activeElement.type") == "checkbox"
    value = page.evaluate("document.activeElement.value")
    with page.expect_navigation():
        page.keyboard.press("Space")
    assert f"cmv={value}" in page.url
    focused = page.evaluate(
        "[document.activeElement.name, document.activeElement.value, document.activeElement.checked]"
    )
    assert focused == ["cmv", value, True]
    # Space again unticks it, and focus comes back again.
    with page.expect_navigation():
        page.keyboard.press("Space")
    assert "cmv=" not in page.url
    assert page.evaluate("[document.activeElement.name, document.activeElement.checked]") == ["cmv", False]
    print(f"\nTab presses to the first CMV option: {presses}")


def test_an_uncommon_allele_in_two_clicks(page, seeded):
    """B*08:01 is not among the common alleles: "Show all" then its box, and the list is filtered."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/products/")
    assert page.get_by_role("checkbox", name="HLA-B*08:01").count() == 0
    page.get_by_role("link", name=re.compile(r"Show all \d+ alleles")).click()
    with page.expect_navigation():
        page.get_by_role("checkbox", name="HLA-B*08:01").check()
    assert "hla=B*08:01" in unquote(page.url)
    assert page.locator(".card").count() == 6
    assert page.evaluate("document.activeElement.value") == "B*08:01"


def test_type_ahead_ticks_any_allele(page, seeded):
    """With JavaScript, typing an allele in the finder applies it."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/products/")
    with page.expect_navigation():
        page.fill("#hla-find", "B*08:01")
    assert "hla=B*08:01" in unquote(page.url)
    assert page.get_by_role("checkbox", name="HLA-B*08:01").is_checked()
