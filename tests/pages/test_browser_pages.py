"""The pages, the site map and the catalog's cards in Chromium: the CSP holds, nothing overflows, cards line up."""

import pytest
from sqlalchemy import select

from shop import images
from shop.catalog.models import Product
from tests.conftest import sign_in_with_the_form
from tests.test_csp_browser import CSPWatch, png_bytes

pytestmark = pytest.mark.browser
PAGES = ("/about", "/quality", "/shipping", "/terms", "/privacy", "/sitemap")


def test_pages_fit_a_phone_and_a_desktop_under_the_csp(browser, live_server, seeded):
    for width in (375, 1280):
        context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 800})
        page = context.new_page()
        watch = CSPWatch(page)
        try:
            for path in PAGES:
                watch.visit(path)
                overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert overflow <= 0, (path, width, overflow)
                assert page.locator("h1").count() == 1
            page.goto("/")
            page.locator("footer").get_by_role("link", name="Shipping and handling").click()
            page.wait_for_url("**/shipping")
            assert page.locator("h1").inner_text() == "Shipping and handling"
            page.locator("footer").get_by_role("link", name="Site map").click()
            page.wait_for_url("**/sitemap")
            assert page.locator("h1").inner_text() == "Site map"
        finally:
            context.close()


def test_marketing_edits_the_about_page_in_the_browser(page, seeded, make_user):
    watch = CSPWatch(page)
    make_user("marketing", email="mara@staff.test")
    page.goto("/login?next=/admin/pages/")
    sign_in_with_the_form(page, "mara@staff.test", "**/admin/pages/")
    page.get_by_role("link", name="About us").first.click()
    page.wait_for_url("**/admin/pages/*/edit")
    page.locator("#body").fill("## Our laboratories\n\nWe ship **fresh** leukopaks.")
    page.locator("#live-preview h2", has_text="Our laboratories").wait_for()
    watch.check("the page editor")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved. The page is live.").wait_for()
    page.goto("/about")
    assert page.locator(".page-body h2").inner_text() == "Our laboratories"
    watch.check("/about after the edit")


def test_product_cards_line_up_whether_or_not_a_product_has_a_photo(page, seeded, live_app, tmp_path, monkeypatch):
    monkeypatch.setitem(live_app.config, "UPLOAD_FOLDER", tmp_path)
    product = seeded.session.scalar(select(Product).where(Product.featured).order_by(Product.name))
    product.image = images.save_image(_png(), tmp_path / "products")
    seeded.session.commit()
    for path in ("/products/", "/"):
        page.goto(path)
        cards = page.locator(".product-card")
        assert cards.count() >= 3
        load_lazy_images(page, ".card-image")
        pictures = cards.locator(".card-image").evaluate_all(
            "els => els.map(e => [e.classList.contains('card-illustration'), e.complete && e.naturalWidth > 0])"
        )
        assert all(loaded for _, loaded in pictures) and {drawn for drawn, _ in pictures} == {True, False}, pictures
        rows = {}
        for box in cards.evaluate_all("els => els.map(e => [e.getBoundingClientRect().top, "
                                      "e.querySelector('.card-eyebrow').getBoundingClientRect().top])"):  # fmt: skip
            rows.setdefault(round(box[0]), set()).add(round(box[1]))
        assert all(len(eyebrows) == 1 for eyebrows in rows.values()), (path, rows)


def test_every_category_tile_on_the_home_page_has_its_own_drawing(page, seeded):
    page.goto("/")
    load_lazy_images(page, ".category-illustration")
    sources = page.locator(".category-tile img.category-illustration").evaluate_all(
        "els => els.map(e => [e.getAttribute('src'), e.naturalWidth])"
    )
    assert len(sources) == 9 and all(width > 0 for _, width in sources)
    assert len({src.split("?")[0] for src, _ in sources}) == 9 and not any("generic" in s for s, _ in sources)


def load_lazy_images(page, selector: str) -> None:
    """Pictures are lazy: ask for them all now, and wait until every one has loaded (or failed)."""
    page.locator(selector).evaluate_all("els => els.forEach(e => { e.loading = 'eager'; })")
    page.wait_for_function(f"() => [...document.querySelectorAll('{selector}')].every(i => i.complete)")


def _png():
    import io

    return io.BytesIO(png_bytes((800, 600)))
