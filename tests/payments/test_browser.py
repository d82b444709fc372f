"""A researcher in Chromium buys a lot: product page -> cart -> checkout -> the fake Stripe's page -> thank you;
then sales find the paid order in the back office. Under the site's CSP, CSRF on.

``SCREENSHOTS=dir`` keeps a 375 px and a 1280 px picture of each page on the way.
"""

import os
from pathlib import Path

import pytest

from shop.extensions import db
from shop.payments.models import PAID, Order
from tests.apps import app_with, serving
from tests.conftest import sign_in_with_the_form
from tests.payments.conftest import payments_settings

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SCREENSHOTS")


def snap(page, name: str) -> None:
    """Pictures at both widths, when asked for."""
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size(size)


@pytest.fixture
def shop_with_stripe(database_url, committing_db, fake_stripe):
    """The shop with payments on, CSRF on, served over HTTP; its links on its own address."""
    application = app_with(database_url, WTF_CSRF_ENABLED=True, **{**payments_settings(fake_stripe), "SITE_URL": ""})
    with serving(application) as base_url:
        yield base_url


def test_a_researcher_buys_a_lot_and_sales_find_the_paid_order(browser, shop_with_stripe, fake_stripe, vials,
                                                                make_user):  # fmt: skip
    product, (lot, _) = vials
    make_user("sales")
    context = browser.new_context(base_url=shop_with_stripe, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(f"/products/{product.slug}")
    snap(page, "product")
    lot_box = page.locator(f"li.lot[aria-labelledby='lot-{lot.id}']")
    lot_box.get_by_label("Units").fill("2")
    lot_box.get_by_role("button", name="Add to cart").click()
    page.wait_for_url("**/cart/")
    assert page.locator("[data-cart-count]").inner_text() == "2"
    assert "Added 2 unit(s) of lot 2506-D10482-01" in page.locator("main").inner_text()
    snap(page, "cart")

    page.get_by_role("link", name="Check out").click()
    page.wait_for_url("**/checkout")
    page.get_by_role("button", name="Continue to payment").click()  # empty: told what is missing
    page.get_by_text("Please confirm research use only.").wait_for()
    page.get_by_label("E-mail (for the receipt)").fill("ada@lab.example")
    page.get_by_label("Your name").fill("Ada Researcher")
    page.get_by_label("Institution").fill("Institute of Immunology")
    page.get_by_label("Shipping address").fill("Building 4, Room 210\n1 Science Park\nBoston MA 02115")
    page.get_by_label("I confirm these products are for laboratory research use only").check()
    snap(page, "checkout")
    page.get_by_role("button", name="Continue to payment").click()

    page.get_by_role("heading", name="Pay 700.00 USD").wait_for()  # the fake Stripe's page
    assert page.url.startswith(fake_stripe.base)
    page.get_by_role("button", name="Pay").click()
    page.get_by_role("heading", name="Thank you for your order").wait_for()
    snap(page, "success")
    order = db.session.scalars(db.select(Order)).one()
    assert order.status == PAID and order.reference in page.locator("main").inner_text()
    assert page.locator("[data-cart-count]").is_hidden()  # the cart is done with

    page.goto("/login")
    sign_in_with_the_form(page, "sales@staff.test", "**/admin/")
    snap(page, "dashboard")
    page.goto("/admin/order/")
    assert order.reference in page.locator("body").inner_text() and "Paid" in page.locator("body").inner_text()
    snap(page, "orders")
    page.goto(f"/admin/order/details/?id={order.id}")
    page.get_by_role("heading", name="Payment timeline").wait_for()
    assert "Paid $700.00 through Stripe." in page.locator("body").inner_text()
    snap(page, "order")
    assert violations == []
    context.close()
