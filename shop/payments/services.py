"""Orders from lines, checkout with Stripe, and the one idempotent fulfilment function.

How an order can't be lost or doubled:

- The order and the holds on its units are committed *before* Stripe is asked
  for a Checkout Session, so a session always has an order to come back to.
  The session carries the order's id (``client_reference_id`` and metadata) and
  is opened with the order's Idempotency-Key, so a retried request gets the
  same session, never a second one.
- Stripe's session, read back from Stripe, is the truth: an event's payload
  only says *which* session to read, so events out of order, replayed or
  forged past the signature check can't move an order to a state Stripe
  doesn't hold.
- :func:`fulfil_checkout` moves an order to paid with one conditional UPDATE
  (``... WHERE id = :id AND status IN (payable states)``), which locks the row
  (PostgreSQL: a row lock; SQLite: the database's write lock) until the
  transaction ends. Whoever loses the race (the webhook or the success
  page) finds no row to update and changes nothing: the units leave stock and
  the receipt is queued once.
- Each webhook event is a unique row (:class:`StripeEvent`) inserted in the
  transaction of its effect: a duplicate or replay meets the row and stops.
- Units held for a checkout go back when the session expires (the webhook), is
  cancelled, or Stripe never answered; a worker job sweeps what is past its
  time in case an event never comes.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from shop.catalog import stock
from shop.catalog.models import Lot
from shop.extensions import db
from shop.inquiries import services as inquiries
from shop.inquiries.models import ACCEPTED
from shop.mail.services import queue_email
from shop.mail.worker import link_context
from shop.models import utcnow
from shop.payments import stripe_api
from shop.payments.models import (
    EXPIRED,
    FAILED,
    HOLD_HELD,
    HOLD_RELEASED,
    HOLD_SOLD,
    PAID,
    PARTIALLY_REFUNDED,
    PAYABLE,
    PENDING,
    PROCESSING,
    REFUNDED,
    Order,
    OrderEvent,
    OrderItem,
    StripeEvent,
)
from shop.payments.stripe_api import CheckoutSession, StripeUnavailable
from shop.templating import format_money

# A confirmed payment moves these to paid; an expired session or a failed async payment ends these.
_OPEN = (PENDING, PROCESSING)
MAX_UNITS_PER_LINE = 1000
MAX_LINES = 50


class CheckoutProblem(Exception):
    """Why a checkout can't go on, in a sentence for the buyer; ``status`` is the page's HTTP status."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Line:
    """One line to order: units of a lot at a unit price in cents; ``held`` when its units are held already
    (an accepted quote holds its lots), so the order neither holds them again nor gives them back."""

    lot_id: int | None
    units: int
    unit_price_cents: int
    currency: str
    held: bool = False
    description: str = ""  # what a line without a lot is (a quote's custom work)


@dataclass(frozen=True)
class Buyer:
    """Who pays and where the cells go."""

    email: str
    name: str = ""
    institution: str = ""
    shipping_address: str = ""
    research_use_acknowledged: bool = False


def new_reference() -> str:
    """An order reference for people and e-mails: ORD- and eight unambiguous letters and digits."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "ORD-" + "".join(secrets.choice(alphabet) for _ in range(8))


def note(order: Order, kind: str, message: str, via: str = "") -> OrderEvent:
    """Add a step to the order's timeline (in the caller's transaction)."""
    event = OrderEvent(kind=kind, message=message, via=via, at=utcnow())
    order.events.append(event)
    return event


def _checked_lines(lines: list[Line]) -> dict[int, Lot]:
    """The lots the lines name; CheckoutProblem for an empty, mixed-currency or out-of-range order."""
    if not lines:
        raise CheckoutProblem("There is nothing to pay for.", 400)
    if len(lines) > MAX_LINES:
        raise CheckoutProblem(f"An order can have at most {MAX_LINES} lines.", 400)
    if len({line.currency for line in lines}) != 1:
        raise CheckoutProblem("An order is paid in one currency: please order these items separately.", 400)
    for line in lines:
        if not 0 < line.units <= MAX_UNITS_PER_LINE or line.unit_price_cents < 0:
            raise CheckoutProblem(f"Choose between 1 and {MAX_UNITS_PER_LINE} units of each lot.", 400)
    wanted = {line.lot_id for line in lines if line.lot_id is not None}
    lots = {lot.id: lot for lot in db.session.scalars(select(Lot).where(Lot.id.in_(wanted)))}
    if len(lots) != len(wanted):
        raise CheckoutProblem("A lot in this order is no longer offered: please check your cart.", 409)
    return lots


def create_order(lines: list[Line], buyer: Buyer, *, source: str = "cart", quote_reference: str | None = None) -> Order:
    """A pending order with its lines and amounts frozen now, holding the units of lines not held already.

    All or nothing: OutOfStock (as CheckoutProblem, naming the lot) holds
    nothing. The caller commits.
    """
    lots = _checked_lines(lines)
    to_hold = [(line.lot_id, line.units) for line in lines if not line.held and line.lot_id is not None]
    try:
        if to_hold:
            stock.hold_all(to_hold)
    except stock.OutOfStock as short:
        raise CheckoutProblem(str(short), 409) from None
    order = Order(
        reference=new_reference(),
        status=PENDING,
        source=source,
        quote_reference=quote_reference,
        email=buyer.email,
        name=buyer.name,
        institution=buyer.institution,
        shipping_address=buyer.shipping_address,
        research_use_acknowledged=buyer.research_use_acknowledged,
        currency=lines[0].currency,
        total_cents=sum(line.units * line.unit_price_cents for line in lines),
        hold=HOLD_HELD,
    )
    for line in lines:
        lot = lots.get(line.lot_id)
        order.items.append(
            OrderItem(
                lot_id=lot.id if lot else None,
                product_name=lot.product.name if lot else line.description[:200],
                catalog_number=lot.product.catalog_number if lot else "",
                lot_number=lot.lot_number if lot else "",
                units=line.units,
                unit_price_cents=line.unit_price_cents,
                held_here=lot is not None and not line.held,
            )
        )
    units = sum(line.units for line in lines)
    note(order, "created", f"Order created for {units} unit(s); units held while the checkout is open.", source)
    db.session.add(order)
    db.session.flush()
    return order


def _release_held(order: Order, reason: str, via: str) -> None:
    """Give back the units this order itself holds (a quote's own hold stays the quote's)."""
    if order.hold != HOLD_HELD:
        return
    for item in order.items:
        if item.held_here:
            stock.release(item.lot_id, item.units)
    order.hold = HOLD_RELEASED
    note(order, "units_released", reason, via)


def _line_name(item: OrderItem) -> str:
    if item.lot_id is None:
        return item.product_name
    return f"{item.product_name} ({item.catalog_number}), lot {item.lot_number}"


def start_checkout(order: Order, success_url: str, cancel_url: str) -> str:
    """Open the order's Checkout Session and return Stripe's payment page URL.

    The order and its holds are committed first. If Stripe can't be reached
    the order stays pending, its units go back at once, and CheckoutProblem
    (503) says so: nothing is held for a payment that can't start.
    """
    expires_at = utcnow() + timedelta(minutes=current_app.config["CHECKOUT_HOLD_MINUTES"])
    order.expires_at = expires_at
    db.session.commit()
    try:
        session = stripe_api.create_checkout_session(
            order_id=order.id,
            order_reference=order.reference,
            email=order.email,
            currency=order.currency,
            lines=[(_line_name(item), item.units, item.unit_price_cents) for item in order.items],
            success_url=success_url,
            cancel_url=cancel_url,
            expires_at=expires_at,
        )
    except StripeUnavailable as error:
        note(order, "stripe_unreachable", str(error), "checkout")
        _release_held(order, "Stripe could not be reached: nothing was charged and the units went back.", "checkout")
        order.expires_at = utcnow()
        db.session.commit()
        raise CheckoutProblem(
            "We could not reach our payment provider, so nothing was charged and nothing is reserved. "
            "Please try again in a few minutes, or ask us for a quote instead.",
            503,
        ) from error
    order.stripe_session_id = session.id
    order.checkout_url = session.url
    order.expires_at = session.expires_at or expires_at
    note(order, "checkout_opened", f"Stripe Checkout Session {session.id} opened.", "checkout")
    db.session.commit()
    return session.url


def checkout_for_quote(
    lines: list[Line], buyer: Buyer, quote_reference: str, success_url: str, cancel_url: str
) -> tuple[Order, str]:
    """Pay an accepted quote: an order from its lines (their units held by the quote already, ``held=True``) and
    its Checkout Session; returns the order and Stripe's page URL. The quote keeps its own hold if the checkout
    ends unpaid; paying sells the held units. CheckoutProblem as for the cart."""
    order = create_order(lines, buyer, source="quote", quote_reference=quote_reference)
    return order, start_checkout(order, success_url, cancel_url)


def find_order(order_id: int) -> Order | None:
    """The order by id."""
    return db.session.get(Order, order_id)


def _order_of(session: CheckoutSession) -> Order | None:
    """The order a session pays: by the id in client_reference_id, and only if the session is that order's."""
    raw = session.client_reference_id or ""
    order = db.session.get(Order, int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if order is None or order.stripe_session_id not in (None, session.id):
        return None
    if session.order_reference not in (None, order.reference):
        return None
    return order


def _claim(order: Order, from_states: tuple[str, ...], **values) -> bool:
    """Move the order on with one conditional UPDATE (which locks its row); False if another got there first."""
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_(from_states))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(order)
    return result.rowcount == 1


def _record_event(event: tuple[str, str] | None, order: Order | None, handled: bool) -> None:
    """Insert the webhook event's row in this transaction (IntegrityError at flush if it was recorded already)."""
    if event is not None:
        db.session.add(StripeEvent(id=event[0], type=event[1], order_id=order.id if order else None, handled=handled))
        db.session.flush()


def _amount_matches(order: Order, session: CheckoutSession) -> bool:
    return session.amount_total == order.total_cents and (session.currency or "") == order.currency.upper()


def _take_units_out(order: Order, via: str) -> None:
    """Held units leave stock; an order whose hold had ended sells from what is left, or says it couldn't."""
    held = order.hold == HOLD_HELD
    for item in order.items:
        if item.lot_id is None:
            continue
        try:
            if held or not item.held_here:
                stock.sell_held(item.lot_id, item.units)
            else:
                stock.sell(item.lot_id, item.units)
        except (stock.OutOfStock, stock.StockError) as short:
            # The hold ended meanwhile (the checkout expired as it was paid, or staff cancelled the quote).
            note(order, "stock_short", f"Paid, but its units were no longer held: {short} Refund or replace it.", via)
    order.hold = HOLD_SOLD


def _mark_paid(order: Order, session: CheckoutSession, via: str) -> bool:
    """Paid, once: units out of stock, receipt and sales notice queued. False when it was paid already."""
    if not _claim(
        order, PAYABLE + (EXPIRED,), status=PAID, paid_at=utcnow(), stripe_payment_intent=session.payment_intent
    ):
        return False
    _take_units_out(order, via)
    note(order, "paid", f"Paid {format_money(order.total_cents, order.currency)} through Stripe.", via)
    if order.quote_reference:
        _note_quote_paid(order)
    context = {"order": order}
    with link_context():  # the worker's sweep may be the one that finds the payment
        queue_email(order.email, "payments/receipt", context)
        queue_email(current_app.config["SALES_EMAIL"], "payments/sales_notice", context)
    return True


def _note_quote_paid(order: Order) -> None:
    """The quote's hold became a sale: the quote no longer holds units (a later cancel releases nothing), and the
    inquiry's timeline says it was paid."""
    inquiry = inquiries.find_by_reference(order.quote_reference)
    quote = next((q for q in reversed(inquiry.quotes) if q.status == ACCEPTED), None) if inquiry else None
    if quote is None:
        return
    quote.held = False
    paid = format_money(order.total_cents, order.currency)
    inquiries.log(inquiry, "status", inquiries.SYSTEM, f"Paid online: order {order.reference}, {paid}")


def apply_session(session: CheckoutSession, via: str, event: tuple[str, str] | None = None) -> Order | None:
    """Bring the order in line with the session Stripe holds (paid, processing, failed, expired), once; commits.

    ``event`` (id, type) is recorded in the same transaction; a repeat of it
    raises IntegrityError, after a rollback, so nothing changed twice.
    """
    order = _order_of(session)
    try:
        if order is None:
            current_app.logger.warning("Stripe session %s is for no order of this shop", session.id)
        else:
            _apply_to_order(order, session, via)
        _record_event(event, order, order is not None)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise
    return order


def _apply_to_order(order: Order, session: CheckoutSession, via: str) -> None:
    if session.status == "complete" and session.payment_status in ("paid", "no_payment_required"):
        if not _amount_matches(order, session):
            current_app.logger.error("Stripe session %s does not match order %s", session.id, order.reference)
            paid = format_money(session.amount_total or 0, session.currency or order.currency)
            due = format_money(order.total_cents, order.currency)
            message = f"Stripe says {paid} was paid; the order is {due}. Not marked paid: check the payment in Stripe."
            note(order, "amount_mismatch", message, via)
            return
        _mark_paid(order, session, via)
    elif session.status == "complete" and session.payment_status == "unpaid":
        if _claim(order, (PENDING,), status=PROCESSING):
            note(order, "processing", "Checkout completed; the payment (bank debit or transfer) is on its way.", via)
    elif session.status == "expired" and _claim(order, _OPEN, status=EXPIRED):
        _release_held(order, "The checkout expired without payment; the units went back to stock.", via)


def fail_checkout(session_id: str, via: str, event: tuple[str, str] | None = None) -> Order | None:
    """checkout.session.async_payment_failed: read the session from Stripe and end its order if unpaid."""
    return fail_async_payment(stripe_api.retrieve_checkout_session(session_id), via, event)


def fail_async_payment(session: CheckoutSession, via: str, event: tuple[str, str] | None = None) -> Order | None:
    """A delayed payment (bank debit) failed: the order ends and its units go back; commits."""
    order = _order_of(session)
    if order is not None and session.payment_status == "unpaid" and _claim(order, _OPEN, status=FAILED):
        note(order, "payment_failed", "The delayed payment failed; nothing was charged.", via)
        _release_held(order, "The payment failed; the units went back to stock.", via)
    _record_event(event, order, order is not None)
    db.session.commit()
    return order


def fulfil_checkout(session_id: str, via: str, event: tuple[str, str] | None = None) -> Order | None:
    """The one fulfilment function, for the webhook and the success page alike: read the session from Stripe
    (line items expanded), check it pays this order in full, and move the order on exactly once.

    Returns the order (None for a session of no order of ours). StripeUnavailable
    if Stripe can't be asked; IntegrityError if ``event`` was recorded already.
    """
    return apply_session(stripe_api.retrieve_checkout_session(session_id), via, event)


def record_refund(charge: dict, via: str, event: tuple[str, str] | None = None) -> Order | None:
    """A charge.refunded event: the order's refunded amount becomes the charge's total refunded (so a replay or
    an older event changes nothing); commits."""
    intent = charge.get("payment_intent")
    order = db.session.scalars(select(Order).where(Order.stripe_payment_intent == intent)).first() if intent else None
    refunded = charge.get("amount_refunded")
    if order is not None and isinstance(refunded, int) and refunded > order.amount_refunded_cents:
        status = REFUNDED if refunded >= order.total_cents else PARTIALLY_REFUNDED
        if _claim(
            order, (PAID, PARTIALLY_REFUNDED), status=status, amount_refunded_cents=min(refunded, order.total_cents)
        ):
            note(order, "refunded", f"Refunded {format_money(refunded, order.currency)} in all.", via)
    _record_event(event, order, order is not None)
    db.session.commit()
    return order


def record_unhandled(event: tuple[str, str]) -> None:
    """An event type the shop doesn't act on: kept, so its replay is known too; commits."""
    _record_event(event, None, False)
    db.session.commit()


def event_seen(event_id: str) -> bool:
    """Whether the webhook took this event already."""
    return db.session.get(StripeEvent, event_id) is not None


def cancel_checkout(order: Order, via: str) -> None:
    """The buyer left Stripe's page: close the session (so it can't be paid later) and give the units back."""
    if order.status not in _OPEN:
        return
    if order.stripe_session_id:
        try:
            session = stripe_api.expire_checkout_session(order.stripe_session_id)
        except StripeUnavailable:
            return  # the session's own expiry (and its webhook event, or the sweep) ends it
        apply_session(session, via)
        return
    if _claim(order, _OPEN, status=EXPIRED):
        _release_held(order, "The checkout was cancelled; the units went back to stock.", via)
    db.session.commit()


def release_stale_checkouts() -> int:
    """Worker job: end open checkouts past their time whose expiry event never came, asking Stripe first (a
    session may have been paid); returns 0 (it queues no mail of its own)."""
    now = utcnow()
    stale = db.session.scalars(
        select(Order).where(Order.status.in_(_OPEN), Order.hold == HOLD_HELD, Order.expires_at < now).limit(50)
    ).all()
    for order in stale:
        try:
            if order.stripe_session_id:
                session = stripe_api.retrieve_checkout_session(order.stripe_session_id)
                if session.status == "open":
                    session = stripe_api.expire_checkout_session(order.stripe_session_id)
                apply_session(session, "worker")
            elif _claim(order, _OPEN, status=EXPIRED):
                _release_held(order, "The checkout never opened; the units went back to stock.", "worker")
                db.session.commit()
        except StripeUnavailable:
            db.session.rollback()  # asked again on the next round
    return 0


def refund_order(order: Order, amount_cents: int, staff: str) -> str:
    """Ask Stripe to refund part or all of a paid order; the charge.refunded event records the amounts.
    CheckoutProblem for an amount out of range; StripeUnavailable if Stripe can't be asked. Commits."""
    if not 0 < amount_cents <= order.refundable_cents or not order.stripe_payment_intent:
        raise CheckoutProblem(f"Refund between 0.01 and {format_money(order.refundable_cents, order.currency)}.", 400)
    key = f"refund-{order.reference}-{order.amount_refunded_cents}-{amount_cents}"
    refund = stripe_api.refund_payment(order.stripe_payment_intent, amount_cents, key)
    note(order, "refund_requested", f"Refund {refund['id']} of {format_money(amount_cents, order.currency)}: "
         f"{refund['status']}.", f"back office: {staff}")  # fmt: skip
    db.session.commit()
    return refund["id"]
