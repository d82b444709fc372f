"""Checkout against the fake Stripe: the order, its holds, the session Stripe is asked for, and what the buyer sees."""

import pytest
from sqlalchemy import select

from shop.extensions import db
from shop.payments.models import EXPIRED, HOLD_HELD, HOLD_RELEASED, PENDING, Order
from tests.payments.helpers import add, checkout, lot_units


def test_checkout_holds_units_and_opens_a_session_with_the_order(pay_client, fake_stripe, vials):
    _, (lot, _) = vials
    assert add(pay_client, lot, 2).status_code == 303
    response = checkout(pay_client)
    assert response.status_code == 303
    session = fake_stripe.only_session()
    assert response.headers["Location"] == session["url"]
    order = db.session.scalars(select(Order)).one()
    assert order.status == PENDING and order.hold == HOLD_HELD and order.total_cents == 70_000
    assert session["client_reference_id"] == str(order.id)
    assert session["metadata"] == {"order_id": str(order.id), "order_reference": order.reference}
    assert session["amount_total"] == 70_000 and session["currency"] == "usd"
    assert session["success_url"] == "http://shop.test/checkout/success?session_id={CHECKOUT_SESSION_ID}"
    assert fake_stripe.calls("/v1/checkout/sessions")[0][2] == f"checkout-{order.reference}"
    assert order.stripe_session_id == session["id"]
    assert lot_units(lot.id) == (1, 2)
    assert [i.units for i in order.items] == [2] and order.items[0].unit_price_cents == 35_000


def test_stripe_unreachable_leaves_a_pending_order_and_holds_nothing(pay_client, pay_app, vials, monkeypatch):
    _, (lot, _) = vials
    add(pay_client, lot, 2)
    monkeypatch.setitem(pay_app.config, "STRIPE_API_BASE", "http://127.0.0.1:9")  # nothing listens there
    response = checkout(pay_client)
    assert response.status_code == 503
    assert "could not reach our payment provider" in response.text and "nothing is reserved" in response.text
    order = db.session.scalars(select(Order)).one()
    assert order.status == PENDING and order.hold == HOLD_RELEASED
    assert [e.kind for e in order.events] == ["created", "stripe_unreachable", "units_released"]
    assert lot_units(lot.id) == (3, 0)
    assert "Ada Researcher" in response.text  # what the buyer typed is kept
    assert "2506-D10482-01" in pay_client.get("/cart/").text  # and the cart too


def test_the_last_unit_goes_to_one_buyer_the_other_is_told_before_paying(pay_app, vials, fake_stripe):
    _, (_, last) = vials
    first, second = pay_app.test_client(), pay_app.test_client()
    add(first, last)
    add(second, last)
    assert checkout(first).status_code == 303
    refused = checkout(second)
    assert refused.status_code == 303 and refused.headers["Location"] == "/cart/"
    told = second.get("/cart/").text
    assert "Lot 2506-D10483-01 is no longer available to buy and left your cart." in told
    assert "Your cart is empty" in told
    assert len(fake_stripe.sessions) == 1  # the second buyer never reached Stripe
    assert lot_units(last.id) == (0, 1)


def test_cancel_from_stripe_releases_units_and_keeps_the_cart(pay_client, fake_stripe, vials):
    _, (lot, _) = vials
    add(pay_client, lot, 3)
    checkout(pay_client)
    order = db.session.scalars(select(Order)).one()
    response = pay_client.get(f"/checkout/cancel?order={order.reference}", follow_redirects=True)
    assert "Payment cancelled: nothing was charged" in response.text
    assert "2506-D10482-01" in response.text
    db.session.refresh(order)
    assert order.status == EXPIRED and order.hold == HOLD_RELEASED
    assert fake_stripe.only_session()["status"] == "expired"
    assert lot_units(lot.id) == (3, 0)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"email": "not-an-address"}, "must have an @-sign"),
        ({"research_use": ""}, "Please confirm research use only."),
        ({"institution": ""}, "This field is required."),
        ({"name": "x" * 500}, "Field cannot be longer than 120 characters."),
    ],
)
def test_bad_checkout_input_is_refused_with_a_message_and_nothing_held(
    pay_client, vials, fake_stripe, changes, message
):
    _, (lot, _) = vials
    add(pay_client, lot)
    response = checkout(pay_client, **changes)
    assert response.status_code == 400 and message in response.text
    assert db.session.scalars(select(Order)).all() == [] and fake_stripe.sessions == {}
    assert lot_units(lot.id) == (3, 0)
