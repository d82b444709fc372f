"""Races with real commits (committing_db): the webhook against the success page, two buyers for the last unit."""

import threading

from sqlalchemy import func, select

from shop.extensions import db
from shop.payments.models import HOLD_HELD, HOLD_SOLD, PAID, Order, OrderEvent
from tests.payments.fake_stripe import signed_event
from tests.payments.helpers import add, checkout, lot_units, mail_count, open_checkout


def run_together(*calls):
    """Start the calls in threads at the same moment; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_webhook_and_redirect_racing_fulfil_each_order_once(pay_app, committing_db, fake_stripe, vials):
    _, (lot, _) = vials
    rounds = 3
    fake_stripe.retrieve_delay = 0.2  # both have read Stripe's "paid" before either writes
    for _ in range(rounds):
        buyer = pay_app.test_client()
        order, session = open_checkout(buyer, fake_stripe, lot)
        body, headers = signed_event("checkout.session.completed", fake_stripe.pay(session["id"]))
        hook, page = run_together(
            lambda: pay_app.test_client().post("/stripe/webhook", data=body, headers=headers),  # noqa: B023
            lambda: buyer.get(f"/checkout/success?session_id={session['id']}"),  # noqa: B023
        )
        assert hook.status_code == 200 and page.status_code == 200, (hook.text, page.text)
        assert "Thank you for your order" in page.text
    db.session.expire_all()
    orders = db.session.scalars(select(Order)).all()
    assert [(o.status, o.hold) for o in orders] == [(PAID, HOLD_SOLD)] * rounds
    paid_events = db.session.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.kind == "paid"))
    assert paid_events == rounds
    assert mail_count("payments/receipt") == rounds and mail_count("payments/sales_notice") == rounds
    assert lot_units(lot.id) == (3 - rounds, 0)


def test_two_buyers_racing_for_the_last_unit_one_gets_it(pay_app, committing_db, fake_stripe, vials):
    _, (_, last) = vials
    buyers = [pay_app.test_client(), pay_app.test_client()]
    for buyer in buyers:
        add(buyer, last)
    answers = run_together(*(lambda b=buyer: checkout(b) for buyer in buyers))
    to_stripe = [a for a in answers if a.status_code == 303 and a.headers["Location"].startswith(fake_stripe.base)]
    told = [a for a in answers if a not in to_stripe]
    assert len(to_stripe) == 1 and len(told) == 1
    loser = told[0]
    # Told before paying: at checkout (the hold lost the race) or on the cart (the lot was gone when it looked).
    if loser.status_code == 409:
        assert "Lot 2506-D10483-01 is no longer available" in loser.text
    else:
        assert loser.headers["Location"] == "/cart/"
    assert len(fake_stripe.sessions) == 1
    db.session.expire_all()
    assert [o.hold for o in db.session.scalars(select(Order))] == [HOLD_HELD]
    assert lot_units(last.id) == (0, 1)
