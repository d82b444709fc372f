"""The back office in a real browser: sign in, edit a product, see it in the shop."""

import pytest

from tests.conftest import sign_in_with_the_form

pytestmark = pytest.mark.browser


def test_sign_in_edit_a_product_and_see_it_in_the_shop(page, seeded, make_user):
    make_user("marketing", email="mara@staff.test")
    page.goto("/admin/product/")
    assert "/login" in page.url  # anonymous: to the sign-in page first

    sign_in_with_the_form(page, "mara@staff.test", "**/admin/product/")

    page.locator("input[name=search]").fill("CT-PBMC-CR-10M")
    page.keyboard.press("Enter")
    page.locator("a[title='Edit Record']").first.click()
    page.wait_for_url("**/admin/product/edit/**")
    page.fill("#name", "PBMC, cryopreserved, 10M (new lot size)")
    page.fill("#price", "365.00")
    page.get_by_role("button", name="Save", exact=True).click()
    assert page.get_by_text("Record was successfully saved.").is_visible()

    page.goto("/products/pbmc-cryopreserved-10m")
    assert page.locator("h1").inner_text() == "PBMC, cryopreserved, 10M (new lot size)"
    assert page.locator(".buy-price .price").inner_text() == "$365.00"


def test_two_editors_the_second_is_told(page, seeded, make_user, browser, live_server):
    """Two tabs open the same product; the second save is refused with a clear message."""
    make_user("admin", email="ada@staff.test")
    page.goto("/login")
    sign_in_with_the_form(page, "ada@staff.test", "**/admin/")
    page.goto("/admin/product/edit/?id=1")
    second = page.context.new_page()
    second.goto(live_server + "/admin/product/edit/?id=1")

    page.fill("#stability", "First editor's wording.")
    page.get_by_role("button", name="Save", exact=True).click()
    second.fill("#stability", "Second editor's wording.")
    second.get_by_role("button", name="Save", exact=True).click()
    assert second.get_by_text("someone else changed this record after you opened it").is_visible()
    second.goto(live_server + "/admin/product/details/?id=1")
    assert second.get_by_text("First editor's wording.").is_visible()
