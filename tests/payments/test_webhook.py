"""The webhook and the one fulfilment function: signatures, replays, order of events, amounts, unknown orders."""

import time

import pytest
from sqlalchemy import select

from shop.extensions import db
from shop.payments.models import (
    EXPIRED,
    FAILED,
    HOLD_RELEASED,
    HOLD_SOLD,
    PAID,
    PARTIALLY_REFUNDED,
    PENDING,
    PROCESSING,
    REFUNDED,
    StripeEvent,
)
from tests.payments.fake_stripe import signed_event
from tests.payments.helpers import deliver, fresh, lot_units, mail_count, open_checkout

COMPLETED = "checkout.session.completed"


def test_a_paid_session_fulfils_the_order_once(pay_client, fake_stripe, vials):
    _, (lot, _) = vials
    order, session = open_checkout(pay_client, fake_stripe, lot, 2)
    paid = fake_stripe.pay(session["id"])
    response = deliver(pay_client, COMPLETED, paid, event_id="evt_paid_1")
    assert response.status_code == 200 and response.json == {"received": True}
    order = fresh(order)
    assert order.status == PAID and order.hold == HOLD_SOLD and order.paid_at is not None
    assert order.stripe_payment_intent == paid["payment_intent"]
    assert lot_units(lot.id) == (1, 0)
    assert mail_count("payments/receipt") == 1 and mail_count("payments/sales_notice") == 1
    assert db.session.get(StripeEvent, "evt_paid_1").order_id == order.id
    # The webhook asked Stripe for the session with its line items rather than trusting the payload.
    assert ("GET", f"/v1/checkout/sessions/{session['id']}", None) in fake_stripe.requests


def test_a_replayed_or_duplicated_event_changes_nothing(pay_client, fake_stripe, vials):
    _, (lot, _) = vials
    order, session = open_checkout(pay_client, fake_stripe, lot)
    paid = fake_stripe.pay(session["id"])
    body, headers = signed_event(COMPLETED, paid, event_id="evt_twice")
    assert pay_client.post("/stripe/webhook", data=body, headers=headers).status_code == 200
    again = pay_client.post("/stripe/webhook", data=body, headers=headers)
    assert again.status_code == 200 and again.json["duplicate"] is True
    # Another event for the same session (Stripe sends completed and async_payment_succeeded) and the redirect:
    assert deliver(pay_client, "checkout.session.async_payment_succeeded", paid).status_code == 200
    assert pay_client.get(f"/checkout/success?session_id={session['id']}").status_code == 200
    assert [e.kind for e in fresh(order).events].count("paid") == 1
    assert mail_count() == 2 and lot_units(lot.id) == (2, 0)


def test_events_out_of_order_follow_what_stripe_holds(pay_client, fake_stripe, vials):
    _, (lot, _) = vials
    order, session = open_checkout(pay_client, fake_stripe, lot)
    # A delayed (bank) payment: completed but unpaid, then it succeeds; the "succeeded" event arrives first.
    fake_stripe.pay(session["id"], payment_status="unpaid")
    unpaid = fake_stripe.public(fake_stripe.sessions[session["id"]])
    paid = fake_stripe.pay(session["id"], payment_status="paid")
    assert deliver(pay_client, "checkout.session.async_payment_succeeded", paid).status_code == 200
    assert fresh(order).status == PAID
    # The older "completed (unpaid)" event comes late: Stripe's session says paid, so nothing goes back.
    assert deliver(pay_client, COMPLETED, unpaid).status_code == 200
    # An "expired" event for it (out of place) doesn't release sold units either.
    assert deliver(pay_client, "checkout.session.expired", unpaid).status_code == 200
    order = fresh(order)
    assert order.status == PAID and order.hold == HOLD_SOLD and lot_units(lot.id) == (2, 0)
    assert mail_count("payments/receipt") == 1


def test_a_delayed_payment_waits_then_fails_and_gives_the_units_back(pay_client, fake_stripe, vials):
    _, (lot, _) = vials
    order, session = open_checkout(pay_client, fake_stripe, lot, 3)
    unpaid = fake_stripe.pay(session["id"], payment_status="unpaid")
    deliver(pay_client, COMPLETED, unpaid)
    assert fresh(order).status == PROCESSING and lot_units(lot.id) == (0, 3)
    deliver(pay_client, "checkout.session.async_payment_failed", unpaid)
    order = fresh(order)
    assert order.status == FAILED and order.hold == HOLD_RELEASED and lot_units(lot.id) == (3, 0)
    assert mail_count() == 0


@pytest.mark.parametrize(
    "signing, headers",
    [
        ({"secret": "whsec_someone_else"}, None),
        ({"timestamp": int(time.time()) - 3600}, None),  # older than the library's 5-minute tolerance
        ({}, {"Stripe-Signature": "t=1,v1=00"}),
        ({}, {}),
    ],
    ids=["forged", "stale", "garbage", "missing"],
)
def test_a_bad_signature_is_refused_and_changes_nothing(pay_client, fake_stripe, vials, signing, headers):
    _, (lot, _) = vials
    order, session = open_checkout(pay_client, fake_stripe, lot)
    body, signed = signed_event(COMPLETED, fake_stripe.pay(session["id"]), **signing)
    response = pay_client.post(
        "/stripe/webhook",
        data=body,
        headers=signed if headers is None else {**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert fresh(order).status == PENDING and db.session.scalars(select(StripeEvent)).all() == []
    assert lot_units(lot.id) == (2, 1) and mail_count() == 0


def test_a_body_changed_after_signing_is_refused(pay_client, fake_stripe, vials):
    _, (lot, _) = vials
    order, session = open_checkout(pay_client, fake_stripe, lot)
    body, headers = signed_event(COMPLETED, fake_stripe.pay(session["id"]))
    response = pay_client.post("/stripe/webhook", data=body.replace(b"evt_", b"evx_"), headers=headers)
    assert response.status_code == 400 and fresh(order).status == PENDING


def test_an_amount_that_does_not_match_the_order_is_not_marked_paid(pay_client, fake_stripe, vials):
    _, (lot, _) = vials
    order, session = open_checkout(pay_client, fake_stripe, lot)
    paid = fake_stripe.pay(session["id"])
    fake_stripe.amount_override[session["id"]] = 100  # Stripe says $1.00 was paid for a $350.00 order
    assert deliver(pay_client, COMPLETED, paid).status_code == 200
    order = fresh(order)
    assert order.status == PENDING and order.events[-1].kind == "amount_mismatch"
    assert "Stripe says $1.00 was paid; the order is $350.00" in order.events[-1].message
    assert mail_count() == 0 and lot_units(lot.id) == (2, 1)


def test_a_session_for_an_unknown_order_is_acknowledged_and_changes_nothing(pay_client, fake_stripe, vials):
    _, (lot, _) = vials
    order, session = open_checkout(pay_client, fake_stripe, lot)
    stranger = fake_stripe.create_session(
        {"client_reference_id": "999999", "line_items": [], "metadata": {"order_reference": "ORD-NOTOURS"}}
    )
    fake_stripe.pay(stranger["id"])
    # And a session that names our order's id but is not that order's session.
    impostor = fake_stripe.create_session({"client_reference_id": str(order.id), "line_items": [], "metadata": {}})
    fake_stripe.pay(impostor["id"])
    for obj in (stranger, impostor):
        assert deliver(pay_client, COMPLETED, obj).status_code == 200
    assert fresh(order).status == PENDING and mail_count() == 0
    assert {e.handled for e in db.session.scalars(select(StripeEvent))} == {False}


def test_an_expired_session_releases_the_units_and_the_cart_is_still_there(pay_client, fake_stripe, vials):
    _, (lot, _) = vials
    order, session = open_checkout(pay_client, fake_stripe, lot, 2)
    assert lot_units(lot.id) == (1, 2)
    deliver(pay_client, "checkout.session.expired", fake_stripe.expire(session["id"]))
    order = fresh(order)
    assert order.status == EXPIRED and order.hold == HOLD_RELEASED and lot_units(lot.id) == (3, 0)
    cart = pay_client.get("/cart/").text
    assert "2506-D10482-01" in cart and 'value="2"' in cart and "payment open" not in cart


def test_refunds_follow_charge_refunded_and_a_replay_changes_nothing(pay_client, fake_stripe, vials):
    _, (lot, _) = vials
    order, session = open_checkout(pay_client, fake_stripe, lot, 2)
    paid = fake_stripe.pay(session["id"])
    deliver(pay_client, COMPLETED, paid)
    charge = {"id": "ch_1", "object": "charge", "payment_intent": paid["payment_intent"], "amount_refunded": 35_000}
    body, headers = signed_event("charge.refunded", charge)
    pay_client.post("/stripe/webhook", data=body, headers=headers)
    assert fresh(order).status == PARTIALLY_REFUNDED and fresh(order).amount_refunded_cents == 35_000
    pay_client.post("/stripe/webhook", data=body, headers=headers)
    deliver(pay_client, "charge.refunded", {**charge, "amount_refunded": 70_000})
    deliver(pay_client, "charge.refunded", charge)  # an older event, late: the total refunded never goes down
    deliver(pay_client, COMPLETED, paid)  # and a late "completed" doesn't make it paid again
    order = fresh(order)
    assert order.status == REFUNDED and order.amount_refunded_cents == 70_000
    assert [e.kind for e in order.events].count("refunded") == 2


def test_events_the_shop_does_not_handle_are_acknowledged(pay_client, fake_stripe):
    response = deliver(pay_client, "customer.created", {"id": "cus_1", "object": "customer"}, event_id="evt_other")
    assert response.status_code == 200
    assert db.session.get(StripeEvent, "evt_other").handled is False


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"id": 5, "type": null}', b"\x00" * 10])
def test_malformed_bodies_are_a_400(pay_client, fake_stripe, body):
    import hashlib
    import hmac

    from tests.payments.fake_stripe import WEBHOOK_SECRET

    t = int(time.time())
    signature = hmac.new(WEBHOOK_SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    response = pay_client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": f"t={t},v1={signature}"})
    assert response.status_code == 400
