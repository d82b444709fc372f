"""The services without a browser: orders from plain lines (an accepted quote), the worker's sweep, refunds."""

import pytest
from sqlalchemy import select

from shop.catalog import stock
from shop.extensions import db
from shop.mail.models import OutboxMessage
from shop.models import utcnow
from shop.payments import services
from shop.payments.models import EXPIRED, HOLD_RELEASED, HOLD_SOLD, PAID, PENDING, Order
from shop.payments.services import Buyer, CheckoutProblem, Line
from tests.payments.helpers import deliver, fresh, lot_units, mail_count, open_checkout

BUYER = Buyer("ada@lab.example", "Ada Researcher", "Institute of Immunology", "1 Science Park", True)
URLS = ("http://shop.test/checkout/success?session_id={CHECKOUT_SESSION_ID}", "http://shop.test/cart/")


def quote_lines(lot, units=2, price=30_000):
    """Lines as an accepted quote gives them: its own price, units the quote holds already."""
    return [Line(lot.id, units, price, "USD", held=True)]


def test_an_accepted_quote_pays_its_held_units_at_its_own_price(pay_context, pay_client, fake_stripe, vials):
    _, (lot, _) = vials
    stock.hold(lot.id, 2)  # what accepting the quote did
    db.session.commit()
    order, url = services.checkout_for_quote(quote_lines(lot), BUYER, "Q-2612-0001", *URLS)
    assert url == fake_stripe.only_session()["url"] and lot_units(lot.id) == (1, 2)  # not held twice
    assert order.source == "quote" and order.total_cents == 60_000 and order.quote_reference == "Q-2612-0001"
    session = fake_stripe.pay(fake_stripe.only_session()["id"])
    assert session["amount_total"] == 60_000
    deliver(pay_client, "checkout.session.completed", session)
    order = fresh(order)
    assert order.status == PAID and order.hold == HOLD_SOLD and lot_units(lot.id) == (1, 0)
    notice = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "payments/sales_notice")).one()
    assert "for quote Q-2612-0001" in notice.text_body


def test_an_unpaid_quote_checkout_leaves_the_quote_its_hold(pay_context, pay_client, fake_stripe, vials):
    _, (lot, _) = vials
    stock.hold(lot.id, 2)
    db.session.commit()
    order, _ = services.checkout_for_quote(quote_lines(lot), BUYER, "Q-2612-0002", *URLS)
    deliver(pay_client, "checkout.session.expired", fake_stripe.expire(fake_stripe.only_session()["id"]))
    assert fresh(order).status == EXPIRED and lot_units(lot.id) == (1, 2)  # still the quote's


@pytest.mark.parametrize(
    "lines, message",
    [
        ([], "nothing to pay for"),
        ([Line(1, 0, 100, "USD")], "between 1 and 1000 units"),
        ([Line(1, 1, 100, "USD"), Line(2, 1, 100, "EUR")], "one currency"),
        ([Line(10**6, 1, 100, "USD")], "no longer offered"),
        ([Line(1, 4, 100, "USD")], "has only 3 units left; 4 were asked for"),
    ],
)
def test_bad_lines_make_no_order_and_hold_nothing(pay_context, vials, lines, message):
    _, (lot, other) = vials
    with pytest.raises(CheckoutProblem, match=message):
        services.create_order([Line({1: lot.id, 2: other.id}.get(x.lot_id, x.lot_id), x.units, x.unit_price_cents,
                                    x.currency) for x in lines], BUYER)  # fmt: skip
    db.session.rollback()
    assert db.session.scalars(select(Order)).all() == [] and lot_units(lot.id) == (3, 0)


def test_the_sweep_ends_checkouts_past_their_time_asking_stripe_first(pay_context, pay_client, fake_stripe, vials):
    _, (lot, last) = vials
    open_order, open_session = open_checkout(pay_client, fake_stripe, lot, 2)
    paid_order, paid_session = open_checkout(pay_app_client(pay_client), fake_stripe, last, 1)
    fake_stripe.pay(paid_session["id"])  # paid, but its webhook never came
    db.session.expire_all()
    for order in (open_order, paid_order):
        order.expires_at = utcnow().replace(year=2020)
    db.session.commit()
    assert services.release_stale_checkouts() == 0
    open_order, paid_order = fresh(open_order), fresh(paid_order)
    assert (open_order.status, open_order.hold) == (EXPIRED, HOLD_RELEASED)
    assert fake_stripe.sessions[open_session["id"]]["status"] == "expired"  # it can't be paid later
    assert (paid_order.status, paid_order.hold) == (PAID, HOLD_SOLD)
    assert lot_units(lot.id) == (3, 0) and lot_units(last.id) == (0, 0) and mail_count("payments/receipt") == 1


def pay_app_client(client):
    """A second visitor of the same app."""
    return client.application.test_client()


def test_the_sweep_leaves_an_order_alone_while_stripe_is_unreachable(pay_context, pay_app, pay_client, fake_stripe,
                                                                      vials, monkeypatch):  # fmt: skip
    _, (lot, _) = vials
    order, _ = open_checkout(pay_client, fake_stripe, lot)
    fresh(order).expires_at = utcnow().replace(year=2020)
    db.session.commit()
    monkeypatch.setitem(pay_app.config, "STRIPE_API_BASE", "http://127.0.0.1:9")
    services.release_stale_checkouts()
    assert fresh(order).status == PENDING and lot_units(lot.id) == (2, 1)  # tried again on the next round


def test_a_refund_goes_to_stripe_with_an_idempotency_key(pay_context, pay_client, fake_stripe, vials):
    _, (lot, _) = vials
    order, session = open_checkout(pay_client, fake_stripe, lot, 2)
    deliver(pay_client, "checkout.session.completed", fake_stripe.pay(session["id"]))
    order = fresh(order)
    with pytest.raises(CheckoutProblem, match=r"Refund between 0.01 and \$700.00"):
        services.refund_order(order, 70_001, "sales@staff.test")
    refund_id = services.refund_order(order, 35_000, "sales@staff.test")
    assert fake_stripe.refunds == [
        {"id": refund_id, "object": "refund", "amount": 35_000, "payment_intent": order.stripe_payment_intent,
         "status": "succeeded"}
    ]  # fmt: skip
    assert fake_stripe.calls("/v1/refunds")[0][2] == f"refund-{order.reference}-0-35000"
    assert fresh(order).events[-1].kind == "refund_requested"
