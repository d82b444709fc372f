"""Paying an accepted quote (``/pay/<token>``): the quote's lines and buyer as an order's, and its orders."""

from sqlalchemy import select

from shop.extensions import db
from shop.inquiries import services as inquiries
from shop.inquiries import tokens
from shop.inquiries.models import Inquiry, Quote
from shop.payments.models import PAID, PARTIALLY_REFUNDED, PENDING, REFUNDED, Order
from shop.payments.services import Buyer, Line
from shop.templating import absolute_url

DONE = (PAID, PARTIALLY_REFUNDED, REFUNDED)


def inquiry_and_quote(token: str) -> tuple[Inquiry, Quote | None]:
    """The inquiry a signed status link names and its accepted quote, if it has one (tokens.LinkInvalid if the
    link is bad)."""
    quote = inquiries.accepted_quote_for_token(token)
    inquiry = quote.inquiry if quote is not None else tokens.read_status_token(token)
    return inquiry, quote


def lines_of(quote: Quote) -> list[Line]:
    """The quote's lines at its prices; units of lots the quote holds are not held again."""
    return [
        Line(line.lot_id, line.units, line.unit_price_cents, quote.currency,
             held=quote.held and line.lot_id is not None, description=line.description)
        for line in quote.lines
    ]  # fmt: skip


def buyer_of(inquiry: Inquiry) -> Buyer:
    """Who asked for the quote, as the order's buyer."""
    return Buyer(inquiry.email, inquiry.name, inquiry.institution, inquiry.shipping_address, inquiry.ruo_acknowledged)


def orders_for(inquiry: Inquiry) -> list[Order]:
    """The orders made to pay this inquiry's quote, newest first."""
    query = select(Order).where(Order.quote_reference == inquiry.reference).order_by(Order.id.desc())
    return list(db.session.scalars(query))


def paid_order(orders: list[Order]) -> Order | None:
    """The order that paid it, if one did."""
    return next((o for o in orders if o.status in DONE), None)


def open_order(orders: list[Order]) -> Order | None:
    """An order whose Stripe checkout is still open."""
    return next((o for o in orders if o.status == PENDING and o.checkout_url), None)


def payment_url(inquiry: Inquiry) -> str:
    """The link that pays the inquiry's accepted quote (the status link's signed token, on /pay/)."""
    return absolute_url("payments.pay_quote", token=tokens.status_token(inquiry))
