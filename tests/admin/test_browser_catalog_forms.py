"""The catalog forms in a real browser: a cell count says what it understood as it is typed, "take theirs" after
a conflict fills the field, and the sectioned product form fits a phone.

Set SCREENSHOT_DIR to keep the screenshots taken here (the product form at 375 and 1280 px, a conflict).
"""

import os
import shutil

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from shop.catalog.models import Product
from tests.conftest import sign_in_with_the_form

pytestmark = pytest.mark.browser


def keep(path) -> None:
    """Copy a screenshot to SCREENSHOT_DIR, when it is set, to be looked at."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        shutil.copy(path, folder)


def signed_in(page, make_user, email="mara@staff.test"):
    make_user("marketing", email=email)
    page.goto("/login")
    sign_in_with_the_form(page, email, "**/admin/")


def product_id(seeded, number="CT-PBMC-CR-10M") -> int:
    return seeded.session.scalar(select(Product.id).where(Product.catalog_number == number))


def test_a_cell_count_says_what_it_understood_as_it_is_typed(page, seeded, make_user):
    signed_in(page, make_user)
    page.goto(f"/admin/product/edit/?id={product_id(seeded)}")
    understood = page.locator("#cells_per_unit-understood")
    assert understood.inner_text() == "Understood as 10,000,000 (1 × 10⁷) cells."

    page.fill("#cells_per_unit", "2.5×10^7")
    expect(understood).to_have_text("Understood as 25,000,000 (2.5 × 10⁷) cells.")

    page.fill("#cells_per_unit", "25 milion")
    expect(understood).to_have_text("A positive whole number of cells, like 25000000, 2.5e7, 2.5×10^7 or 25 million.")
    expect(understood).to_have_class("form-text cell-count-understood text-danger")

    page.fill("#cells_per_unit", "25 million")
    expect(understood).to_have_text("Understood as 25,000,000 (2.5 × 10⁷) cells.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Record was successfully saved.")).to_be_visible()
    seeded.session.expire_all()
    assert seeded.session.get(Product, product_id(seeded)).cells_per_unit == 25_000_000


@pytest.mark.parametrize("width", [375, 1280])
def test_the_product_form_in_sections_fits_the_screen(page, seeded, make_user, tmp_path, width):
    signed_in(page, make_user)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"/admin/product/edit/?id={product_id(seeded)}")

    legends = page.locator("form.admin-form legend:not(.sr-only)").all_inner_texts()
    assert legends == ["Identity", "Specification", "Donor selection", "Shipping and stability", "Pricing", "Images"]
    assert page.get_by_role("group", name="Pricing").get_by_label("Currency", exact=True).is_visible()
    assert page.get_by_role("link", name="Add lot").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot = tmp_path / f"product-form-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    keep(shot)
    page.goto("/admin/product/new/")
    assert page.locator("text=Remove the current image").count() == 0
    shot = tmp_path / f"product-new-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    keep(shot)


def test_take_theirs_fills_the_field_and_the_save_keeps_each_choice(page, seeded, make_user, live_server, tmp_path):
    signed_in(page, make_user, "ada@staff.test")
    url = f"/admin/product/edit/?id={product_id(seeded)}"
    page.goto(url)
    other = page.context.new_page()
    other.goto(live_server + url)

    other.fill("#price", "1111")
    other.fill("#unit_size", "2 vials")
    other.get_by_role("button", name="Save", exact=True).click()
    expect(other.get_by_text("Record was successfully saved.")).to_be_visible()

    page.fill("#price", "1100")
    page.fill("#name", "PBMC 10M, renamed")
    page.get_by_role("button", name="Save", exact=True).click()
    table = page.locator(".edit-conflicts table")
    assert table.is_visible()
    assert page.locator("#price").input_value() == "1100"
    shot = tmp_path / "product-conflict-1280.png"
    page.screenshot(path=str(shot), full_page=True)
    keep(shot)

    page.get_by_label("Take theirs").first.check()  # the name's
    page.locator("#pick-unit_size-theirs").check()
    page.locator("#pick-price-theirs").check()
    assert page.locator("#unit_size").input_value() == "2 vials"
    assert page.locator("#price").input_value() == "1111.00"
    assert page.locator("#name").input_value() == seeded_name(seeded)
    page.locator("#pick-name-mine").check()
    assert page.locator("#name").input_value() == "PBMC 10M, renamed"
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Record was successfully saved.")).to_be_visible()

    seeded.session.expire_all()
    product = seeded.session.get(Product, product_id(seeded))
    assert (product.name, product.price_cents, product.unit_size) == ("PBMC 10M, renamed", 111100, "2 vials")


def seeded_name(seeded) -> str:
    """The name the other tab left (it did not change it)."""
    seeded.session.expire_all()
    return seeded.session.get(Product, product_id(seeded)).name


def test_the_conflict_table_fits_a_phone(page, seeded, make_user, live_server, tmp_path):
    page.set_viewport_size({"width": 375, "height": 900})
    signed_in(page, make_user, "ada@staff.test")
    url = f"/admin/product/edit/?id={product_id(seeded)}"
    page.goto(url)
    other = page.context.new_page()
    other.goto(live_server + url)
    other.fill("#stability", "Shipped on dry ice; thaw at 37 °C.")
    other.get_by_role("button", name="Save", exact=True).click()
    expect(other.get_by_text("Record was successfully saved.")).to_be_visible()

    page.fill("#stability", "Keep in LN2 vapour phase.")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".edit-conflicts")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot = tmp_path / "product-conflict-375.png"
    page.screenshot(path=str(shot), full_page=True)
    keep(shot)
