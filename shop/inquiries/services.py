"""The inquiry workflow: submitting, the state machine, the timeline, quotes, accepting (holding lots) and expiry.

Each function changes rows and queues mail in the caller's transaction; the
caller commits. States and their transitions are in ``shop/inquiries/models.py``.
"""

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from shop.catalog import stock
from shop.catalog.models import Lot, Product
from shop.extensions import db
from shop.inquiries import tokens
from shop.inquiries.basket import Basket
from shop.inquiries.models import (
    ACCEPTED,
    CANCELLED,
    DECLINED,
    DRAFT,
    EXPIRED,
    IN_REVIEW,
    NEW,
    QUOTED,
    SENT,
    STATUSES,
    SUPERSEDED,
    TRANSITIONS,
    Inquiry,
    InquiryEvent,
    InquiryItem,
    Quote,
    QuoteLine,
)
from shop.mail import queue_email
from shop.models import utcnow
from shop.templating import absolute_url

INQUIRY_FIELDS = (
    "name", "email", "phone", "institution", "institution_type", "department", "country", "shipping_address",
    "custom_request", "intended_use", "needed_by", "recurring", "donor_sex", "donor_age_min", "donor_age_max",
    "donor_bmi_max", "donor_cmv", "donor_hla", "donor_smoking", "same_donor", "donor_count", "po_number", "notes",
    "ruo_acknowledged",
)  # fmt: skip


class IllegalTransition(ValueError):
    """The inquiry can't go from its state to the one asked for (the message says why)."""


class QuoteUnavailable(ValueError):
    """The quote can no longer be accepted or declined: decided already, superseded, or expired."""


@dataclass(frozen=True)
class Actor:
    """Who did something on the timeline: a member of staff (their id and e-mail), the researcher or the system."""

    label: str
    user_id: int | None = None


RESEARCHER, SYSTEM = Actor("researcher"), Actor("system")


def staff(user) -> Actor:
    """The signed-in member of staff as an actor."""
    return Actor(user.email, user.id)


def new_submit_key() -> str:
    """A key for one rendering of the inquiry form: sent twice, it finds the inquiry it made the first time."""
    return secrets.token_urlsafe(24)


def find_by_submit_key(key: str) -> Inquiry | None:
    """The inquiry a form with this key already made."""
    return db.session.scalar(select(Inquiry).where(Inquiry.submit_key == key)) if key else None


def find_by_reference(reference: str) -> Inquiry | None:
    """The inquiry with this reference."""
    return db.session.scalar(select(Inquiry).where(Inquiry.reference == reference))


def log(inquiry: Inquiry, kind: str, actor: Actor, text: str = "", from_status=None, to_status=None) -> None:
    """Add a line to the inquiry's timeline."""
    inquiry.events.append(
        InquiryEvent(kind=kind, actor_label=actor.label[:120], actor_id=actor.user_id, text=text,
                     from_status=from_status, to_status=to_status)
    )  # fmt: skip


def _mail(inquiry: Inquiry, to: str, template: str, **context) -> None:
    """Queue an e-mail about the inquiry and note it on the timeline."""
    context.update(inquiry=inquiry, status_url=status_url(inquiry), statuses=STATUSES)
    message = queue_email(to, f"inquiries/{template}", context)
    log(inquiry, "email", SYSTEM, f"E-mail “{message.subject}” queued to {to}")


def status_url(inquiry: Inquiry) -> str:
    """The researcher's signed status link."""
    return absolute_url("inquiries.status", token=tokens.status_token(inquiry))


def submit_inquiry(values: dict, basket: Basket, submit_key: str, ip_address: str) -> Inquiry:
    """Save an inquiry with its items and a reference, and queue the confirmation and the sales notice.

    A second submission with the same ``submit_key`` (a double click, a resent
    form, even at the same instant) returns the inquiry the first one made; in
    that race the caller's transaction is rolled back (it has written nothing).
    """
    existing = find_by_submit_key(submit_key)
    if existing is not None:
        return existing
    inquiry = Inquiry(
        submit_key=submit_key, token_key=secrets.token_urlsafe(12), status=NEW, ip_address=ip_address[:45]
    )
    for name in INQUIRY_FIELDS:
        value = values.get(name)
        setattr(inquiry, name, value if value is not None or name in _NULLABLE else "")
    inquiry.items = [_item(line) for line in basket.lines]
    # No savepoint here: on SQLite (pysqlite) a SAVEPOINT opening the transaction is committed by its RELEASE,
    # which would commit the inquiry before its reference and mails.
    db.session.add(inquiry)
    try:
        db.session.flush()
    except IntegrityError:  # the same form, sent at the same instant: the other request saved it
        db.session.rollback()  # a fresh transaction sees it
        return find_by_submit_key(submit_key)
    # The id is unique whatever runs at once; the year makes references read well.
    inquiry.reference = f"Q-{inquiry.created_at.year}-{inquiry.id:05d}"
    log(inquiry, "status", RESEARCHER, "Inquiry sent from the website", to_status=NEW)
    _mail(inquiry, inquiry.email, "confirmation")
    _mail(inquiry, current_app.config["SALES_EMAIL"], "sales_notice", inbox_url=_inbox_url(inquiry))
    return inquiry


_NULLABLE = {"needed_by", "donor_age_min", "donor_age_max", "donor_bmi_max", "donor_count"}


def _item(line) -> InquiryItem:
    return InquiryItem(
        product_id=line.product.id, lot_id=line.lot.id if line.lot else None, product_name=line.product.name,
        catalog_number=line.product.catalog_number, lot_number=line.lot.lot_number if line.lot else "",
        quantity=line.quantity, preferred_format=line.preferred_format, note=line.note[:500],
    )  # fmt: skip


def _inbox_url(inquiry: Inquiry) -> str:
    return absolute_url("inquiries_admin.details", inquiry_id=inquiry.id)


def allowed_transitions(inquiry: Inquiry) -> list[str]:
    """The states sales may move the inquiry to by hand (quoting, accepting and declining have their own steps)."""
    by_hand = {IN_REVIEW, CANCELLED}
    return [state for state in STATUSES if state in TRANSITIONS[inquiry.status] & by_hand]


def change_status(inquiry: Inquiry, to: str, actor: Actor, note: str = "") -> None:
    """Move the inquiry to ``to`` if its state allows; cancelling an accepted quote releases its lots."""
    if to not in TRANSITIONS.get(inquiry.status, set()):
        raise IllegalTransition(
            f"An inquiry that is {STATUSES.get(inquiry.status, inquiry.status).lower()} can't become "
            f"{STATUSES.get(to, to).lower()}."
        )
    before = inquiry.status
    inquiry.status = to
    if to == CANCELLED:
        for quote in inquiry.quotes:
            _end_quote(quote, CANCELLED)
    if to == IN_REVIEW and before == QUOTED:
        for quote in inquiry.quotes:
            if quote.status == SENT:
                quote.status = SUPERSEDED
    log(inquiry, "status", actor, note, from_status=before, to_status=to)


def _end_quote(quote: Quote, status: str) -> None:
    """A quote that is still open becomes ``status``; units it held go back to stock."""
    if quote.held:
        for lot_id, units in quote.holds():
            stock.release(lot_id, units)
        quote.held = False
    if quote.status in (DRAFT, SENT, ACCEPTED):
        quote.status = status
        quote.decided_at = quote.decided_at or utcnow()


def assign(inquiry: Inquiry, user, actor: Actor) -> None:
    """Give the inquiry to a member of staff (or to no one)."""
    inquiry.assignee = user
    log(inquiry, "assigned", actor, f"Assigned to {user.email}" if user else "Unassigned")


def add_note(inquiry: Inquiry, text: str, actor: Actor) -> None:
    """A note on the timeline (staff only: the researcher never sees it)."""
    log(inquiry, "note", actor, text)


@dataclass
class LineValues:
    """A quote line as the editor read it."""

    description: str
    product: Product | None
    lot: Lot | None
    units: int
    unit_price_cents: int


def save_quote(inquiry: Inquiry, lines: list[LineValues], terms: dict, actor: Actor) -> Quote:
    """Write the inquiry's draft quote (a new draft if none): its lines replace the draft's."""
    if not inquiry.is_open or inquiry.status == ACCEPTED:
        raise IllegalTransition("This inquiry is closed: its quote can no longer change.")
    quote = inquiry.draft_quote
    if quote is None:
        quote = Quote(status=DRAFT)
        inquiry.quotes.append(quote)
    quote.currency, quote.lead_time_days = terms["currency"], terms["lead_time_days"]
    quote.valid_until, quote.terms = terms["valid_until"], terms["terms"] or ""
    quote.lines = [
        QuoteLine(position=i, description=v.description, product=v.product, lot=v.lot, units=v.units,
                  unit_price_cents=v.unit_price_cents)
        for i, v in enumerate(lines)
    ]  # fmt: skip
    log(inquiry, "quote", actor, f"Draft quote saved: {len(lines)} line(s), {_money(quote)}")
    return quote


def _money(quote: Quote) -> str:
    from shop.templating import format_money

    return format_money(quote.total_cents, quote.currency)


def send_quote(inquiry: Inquiry, actor: Actor) -> Quote:
    """Send the draft quote: the researcher is e-mailed a link to accept or decline it; an earlier one is superseded."""
    quote = inquiry.draft_quote
    if quote is None or not quote.lines:
        raise IllegalTransition("Write the quote (at least one line) before sending it.")
    if inquiry.status == NEW:
        change_status(inquiry, IN_REVIEW, actor, "Opened to quote")
    if inquiry.status not in (IN_REVIEW, QUOTED):
        raise IllegalTransition(f"An inquiry that is {STATUSES[inquiry.status].lower()} can't be quoted.")
    for earlier in inquiry.quotes:
        if earlier.status == SENT:
            earlier.status = SUPERSEDED
    quote.status, quote.sent_at = SENT, utcnow()
    before, inquiry.status = inquiry.status, QUOTED
    log(inquiry, "status", actor, f"Quote sent: {_money(quote)}, valid until {quote.valid_until}",
        from_status=before, to_status=QUOTED)  # fmt: skip
    _mail(inquiry, inquiry.email, "quote", quote=quote)
    return quote


def open_quote(inquiry: Inquiry) -> Quote | None:
    """The quote the researcher may accept or decline now, if any."""
    quote = inquiry.current_quote
    return quote if quote is not None and quote.status == SENT and inquiry.status == QUOTED else None


def _claim_decision(inquiry: Inquiry, quote: Quote, status: str) -> None:
    """Mark the quote decided, if it still is open: one UPDATE, so two clicks (or two tabs) decide once."""
    if quote.valid_until is not None and quote.valid_until < date.today():
        raise QuoteUnavailable(f"This quote was valid until {quote.valid_until:%d %B %Y}. Ask us for a new one.")
    claimed = db.session.execute(
        update(Quote).where(Quote.id == quote.id, Quote.status == SENT).values(status=status, decided_at=utcnow())
    ).rowcount
    moved = db.session.execute(
        update(Inquiry).where(Inquiry.id == inquiry.id, Inquiry.status == QUOTED).values(status=status)
    ).rowcount
    if claimed != 1 or moved != 1:
        raise QuoteUnavailable("This quote has already been answered, or replaced by a newer one.")
    db.session.refresh(quote)
    db.session.refresh(inquiry)


def accept_quote(inquiry: Inquiry, quote: Quote, reason: str = "") -> None:
    """The researcher accepts: the quote's lots are held for them (all or nothing); stock.OutOfStock if they can't be.

    On OutOfStock the caller rolls back and calls :func:`note_failed_accept`.
    """
    _claim_decision(inquiry, quote, ACCEPTED)
    stock.hold_all(quote.holds())
    quote.held = bool(quote.holds())
    log(inquiry, "status", RESEARCHER, reason or "Quote accepted online", from_status=QUOTED, to_status=ACCEPTED)
    if quote.held:
        log(inquiry, "stock", SYSTEM, "Held: " + ", ".join(_hold_words(quote)))
    _mail(inquiry, inquiry.email, "accepted", quote=quote)
    _mail(inquiry, current_app.config["SALES_EMAIL"], "sales_accepted", quote=quote, inbox_url=_inbox_url(inquiry))


def _hold_words(quote: Quote) -> list[str]:
    return [f"{line.units} × lot {line.lot.lot_number}" for line in quote.lines if line.lot is not None]


def note_failed_accept(inquiry: Inquiry, problem: stock.OutOfStock) -> None:
    """After a refused accept (rolled back): the timeline says why, and sales are told to revise the quote."""
    log(inquiry, "stock", RESEARCHER, f"The researcher tried to accept the quote, but {problem}")
    _mail(inquiry, current_app.config["SALES_EMAIL"], "sales_accept_failed", problem=str(problem),
          inbox_url=_inbox_url(inquiry))  # fmt: skip


def decline_quote(inquiry: Inquiry, quote: Quote, reason: str = "") -> None:
    """The researcher declines the quote; sales are told."""
    _claim_decision(inquiry, quote, DECLINED)
    log(inquiry, "status", RESEARCHER, reason or "Quote declined online", from_status=QUOTED, to_status=DECLINED)
    _mail(inquiry, current_app.config["SALES_EMAIL"], "sales_declined", quote=quote, reason=reason,
          inbox_url=_inbox_url(inquiry))  # fmt: skip


def expire_quotes(today: date | None = None, limit: int = 200) -> int:
    """Quotes sent and not answered by their validity date expire, and so do their inquiries; returns how many."""
    today = today or date.today()
    due = db.session.scalars(
        select(Quote)
        .join(Inquiry)
        .where(Quote.status == SENT, Quote.valid_until < today, Inquiry.status == QUOTED)
        .order_by(Quote.id)
        .limit(limit)
    ).all()
    expired = 0
    for quote in due:
        inquiry = quote.inquiry
        try:
            _claim_decision_for_expiry(inquiry, quote)
        except QuoteUnavailable:
            continue  # answered a moment ago
        log(inquiry, "status", SYSTEM, f"The quote's validity ended on {quote.valid_until}", QUOTED, EXPIRED)
        _mail(inquiry, inquiry.email, "expired", quote=quote)
        expired += 1
    return expired


def _claim_decision_for_expiry(inquiry: Inquiry, quote: Quote) -> None:
    claimed = db.session.execute(
        update(Quote).where(Quote.id == quote.id, Quote.status == SENT).values(status=EXPIRED, decided_at=utcnow())
    ).rowcount
    if claimed != 1:
        raise QuoteUnavailable("answered")
    db.session.execute(update(Inquiry).where(Inquiry.id == inquiry.id, Inquiry.status == QUOTED).values(status=EXPIRED))
    db.session.refresh(quote)
    db.session.refresh(inquiry)


def accepted_quote_for_token(token: str) -> Quote | None:
    """The accepted quote of the inquiry a signed status link names, or None (for payments: ``/pay/<token>``).

    tokens.LinkInvalid for a tampered or unknown link.
    """
    inquiry = tokens.read_status_token(token)
    if inquiry.status != ACCEPTED:
        return None
    return next((q for q in reversed(inquiry.quotes) if q.status == ACCEPTED), None)


def default_valid_until() -> date:
    """The validity date the editor proposes."""
    return date.today() + timedelta(days=current_app.config["QUOTE_VALID_DAYS"])


def lines_from_inquiry(inquiry: Inquiry) -> list[dict]:
    """The editor's first lines: one per item asked for, at the list price (0 for quote-only products)."""
    lines = []
    for item in inquiry.items:
        product = item.product
        lines.append({
            "description": f"{item.product_name} ({item.catalog_number})",
            "product_id": str(item.product_id or ""),
            "lot_number": item.lot_number,
            "units": item.quantity,
            "unit_price": "" if product is None or product.price_cents is None else f"{product.price_cents / 100:.2f}",
        })  # fmt: skip
    return lines
