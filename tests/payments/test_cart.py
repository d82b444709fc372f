"""The cart: "Add to cart" on product pages (cached, so same-origin instead of CSRF), the cart page, the count."""

import pytest

from shop.extensions import db
from tests.factories import LotFactory, ProductFactory
from tests.payments.helpers import add


def test_without_stripe_there_is_no_cart_and_no_pay_button(client, vials):
    product, _ = vials
    page = client.get(f"/products/{product.slug}").text
    assert "Add to cart" not in page and "/cart/" not in page
    assert client.get("/cart/").status_code == 404 and client.post("/stripe/webhook").status_code == 404


def test_each_lot_of_a_list_price_product_has_add_to_cart(pay_client, vials):
    product, lots = vials
    page = pay_client.get(f"/products/{product.slug}").text
    assert page.count('action="/cart/add"') == len(lots)  # one per lot; with two lots, none in the buy box
    assert "Choose a lot (donor) below" in page
    assert 'name="csrf_token"' not in page  # the page is cached, the same for every visitor


def test_a_product_with_one_lot_also_has_it_in_the_buy_box(pay_client, db):
    lot = LotFactory(product=ProductFactory(slug="cd8-25m"), units_available=2)
    db.session.commit()
    page = pay_client.get("/products/cd8-25m").text
    assert page.count(f'name="lot" value="{lot.id}"') == 2


def test_quote_only_products_cannot_enter_the_cart(pay_client, db):
    lot = LotFactory(product=ProductFactory(slug="leukopak-full", name="Leukopak, full", price_cents=None))
    db.session.commit()
    assert "Add to cart" not in pay_client.get("/products/leukopak-full").text
    page = add(pay_client, lot)
    assert page.status_code == 303
    cart = pay_client.get("/cart/").text
    assert "Leukopak, full is priced per project, so it can&#39;t be bought online: ask us for a quote instead." in cart
    assert "Your cart is empty" in cart and "Quote-only products" in cart


def test_add_to_cart_needs_the_browser_to_say_it_comes_from_this_site(pay_client, vials):
    _, (lot, _) = vials
    for headers in ({}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        response = pay_client.post("/cart/add", data={"lot": str(lot.id), "units": "1"}, headers=headers)
        assert response.status_code == 403
    assert "Your cart is empty" in pay_client.get("/cart/").text


def test_the_header_count_is_a_cookie_not_html(pay_client, vials):
    product, (lot, other) = vials
    before = pay_client.get(f"/products/{product.slug}").text
    add(pay_client, lot, 2)
    response = add(pay_client, other, 1)
    assert "cart_count=3" in response.headers["Set-Cookie"] and "HttpOnly" not in response.headers["Set-Cookie"]
    pay_client.get("/cart/")  # the flash is shown (and gone)
    assert pay_client.get(f"/products/{product.slug}").text == before  # the product page is the same for all
    assert "data-cart-count hidden" in before and "js/cart.js" in before


def test_cart_page_changes_units_removes_and_totals(pay_client, vials):
    _, (lot, other) = vials
    add(pay_client, lot, 1)
    add(pay_client, other, 1)
    page = pay_client.get("/cart/").text
    assert "2506-D10482-01" in page and "$700.00" in page
    pay_client.post(f"/cart/{lot.id}", data={"units": "3"})
    assert "$1,400.00" in pay_client.get("/cart/").text
    too_many = pay_client.post(f"/cart/{lot.id}", data={"units": "4"}, follow_redirects=True).text
    assert "Lot 2506-D10482-01 has 3 unit(s) available." in too_many
    pay_client.post(f"/cart/{other.id}", data={"remove": "1"})
    page = pay_client.get("/cart/").text
    assert "2506-D10483-01" not in page and "$1,050.00" in page


@pytest.mark.parametrize(
    "data",
    [{"lot": "", "units": "1"}, {"lot": "abc"}, {"lot": "99999999999999999999"}, {"lot": "1", "units": "-1"},
     {"lot": "1", "units": "1e9"}, {"lot": "1", "units": "100000"}, {"lot": "999999", "units": "1"}],
)  # fmt: skip
def test_bad_add_to_cart_input_is_a_message_not_an_error(pay_client, vials, data):
    response = pay_client.post("/cart/add", data=data, headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303
    page = pay_client.get("/cart/").text
    assert "Choose between 1 and 1000 units of a lot." in page or "That lot is no longer offered." in page


def test_bad_cart_changes_are_messages(pay_client, vials):
    _, (lot, _) = vials
    add(pay_client, lot)
    for units in ("", "x", "-3", "99999999999999999999"):
        response = pay_client.post(f"/cart/{lot.id}", data={"units": units}, follow_redirects=True)
        assert response.status_code == 200 and "Enter a number of units from 0 to 1000." in response.text
    assert pay_client.post("/cart/99999999999999999999", data={"units": "1"}).status_code == 404


def test_a_lot_sold_out_meanwhile_leaves_the_cart_with_a_note(pay_client, vials):
    _, (lot, _) = vials
    add(pay_client, lot, 2)
    lot.units_available = 1
    db.session.commit()
    page = pay_client.get("/cart/").text
    assert "Lot 2506-D10482-01 has only 1 unit(s) left: your cart now has those." in page


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(pay_client, fake_stripe):
    response = pay_client.get("/checkout")
    assert response.status_code == 303 and response.headers["Location"] == "/cart/"


def test_the_checkout_page_lets_its_form_go_to_stripe_and_has_csrf(pay_app, db, fake_stripe, vials):
    from tests.apps import app_with
    from tests.payments.conftest import payments_settings

    csrf_app = app_with(
        pay_app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True, **payments_settings(fake_stripe)
    )
    client = csrf_app.test_client()
    _, (lot, _) = vials
    add(client, lot)
    response = client.get("/checkout")
    assert response.status_code == 200 and 'name="csrf_token"' in response.text
    assert f"form-action 'self' {fake_stripe.base}" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    refused = client.post("/checkout", data={"email": "ada@lab.example"})
    assert refused.status_code == 400 and fake_stripe.sessions == {}
