"""Steps the payment tests share: add to cart, check out, deliver a signed webhook event, read stock."""

from sqlalchemy import func, select

from shop.catalog.models import Lot
from shop.extensions import db
from shop.mail.models import OutboxMessage
from shop.payments.models import Order
from tests.payments.fake_stripe import signed_event

BUYER = {
    "email": "ada@lab.example",
    "name": "Ada Researcher",
    "institution": "Institute of Immunology",
    "shipping_address": "Building 4, Room 210\n1 Science Park\nBoston MA 02115",
    "research_use": "y",
}


def add(client, lot, units=1):
    """Add to cart as a browser on this site does (the form has no CSRF token, the browser says same-origin)."""
    return client.post(
        "/cart/add", data={"lot": str(lot.id), "units": str(units)}, headers={"Sec-Fetch-Site": "same-origin"}
    )


def checkout(client, **changes):
    """Send the checkout form."""
    return client.post("/checkout", data={**BUYER, **changes})


def open_checkout(client, fake, lot, units=1) -> tuple[Order, dict]:
    """Put units in the cart and check out: the pending order and its session at the fake Stripe."""
    add(client, lot, units)
    assert checkout(client).status_code == 303
    session = list(fake.sessions.values())[-1]
    order = db.session.scalars(select(Order).where(Order.stripe_session_id == session["id"])).one()
    return order, fake.public(session)


def deliver(client, event_type: str, obj: dict, **signing):
    """POST a signed event to the webhook."""
    body, headers = signed_event(event_type, obj, **signing)
    return client.post("/stripe/webhook", data=body, headers=headers)


def lot_units(lot_id: int) -> tuple[int, int]:
    """(available, reserved) of a lot, read now."""
    row = db.session.execute(select(Lot.units_available, Lot.units_reserved).where(Lot.id == lot_id)).one()
    return row.units_available, row.units_reserved


def mail_count(template: str | None = None) -> int:
    """Messages in the outbox (of one template)."""
    query = select(func.count()).select_from(OutboxMessage)
    if template:
        query = query.where(OutboxMessage.template == template)
    return db.session.scalar(query)


def fresh(order: Order) -> Order:
    """The order as the database has it now."""
    db.session.expire_all()
    return db.session.get(Order, order.id)
