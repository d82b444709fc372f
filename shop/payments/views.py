"""The cart, checkout, Stripe's return pages and the webhook.

``POST /cart/add`` comes from "Add to cart" forms on cached product pages, so
it carries no CSRF token: the browser must say it comes from this site
(shop/same_origin.py). Every other form here (the cart, /checkout) is on a
page that is never cached and has one. The header's cart count is a cookie
that static/js/cart.js reads, so cached pages stay the same for everyone.
"""

import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from sqlalchemy.exc import IntegrityError

from shop.extensions import csrf
from shop.inquiries.tokens import LinkInvalid
from shop.payments import cart, quotes, services, stripe_api
from shop.payments.forms import CheckoutForm, PayForm, UnitsForm
from shop.payments.models import PAID, PARTIALLY_REFUNDED, PENDING, PROCESSING, REFUNDED
from shop.payments.stripe_api import BadSignature, StripeUnavailable
from shop.same_origin import same_origin_only
from shop.security_headers import CONTENT_SECURITY_POLICY, use_own_policy
from shop.templating import absolute_url

bp = Blueprint("payments", __name__)
CHECKOUT_ORDER = "checkout_order"  # in the session: the order this browser is paying
_SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,250}")
_DONE = (PAID, PARTIALLY_REFUNDED, REFUNDED)


@bp.after_request
def private_and_counted(response):
    """These pages are the visitor's own (never stored by caches); the header count follows the cart."""
    response.headers["Cache-Control"] = "no-store"
    if request.endpoint != "payments.webhook":
        response.set_cookie(cart.COUNT_COOKIE, str(cart.unit_count()), samesite="Lax", secure=request.is_secure)
    return response


def _units(raw: str | None, low: int = 1) -> int | None:
    """A number of units typed or sent, or None when it isn't a whole number in range."""
    raw = (raw or "").strip()
    if not raw.isdigit() or len(raw) > 4:
        return None
    units = int(raw)
    return units if low <= units <= services.MAX_UNITS_PER_LINE else None


def _checkout_order():
    """The order this browser is paying for, if any."""
    order_id = session.get(CHECKOUT_ORDER)
    return services.find_order(order_id) if isinstance(order_id, int) else None


def _forget_paid_checkout() -> None:
    """Once this browser's order is paid (the webhook may have done it), its cart is done with."""
    order = _checkout_order()
    if order is not None and order.status in _DONE + (PROCESSING,):
        cart.clear()
        session.pop(CHECKOUT_ORDER, None)


@bp.post("/cart/add")
@csrf.exempt
@same_origin_only
def add_to_cart():
    """Put units of a lot in the cart (from a product page), then show the cart."""
    raw_lot = request.form.get("lot") or ""
    lot_id = int(raw_lot) if raw_lot.isdigit() and len(raw_lot) < 10 else None
    units = _units(request.form.get("units", "1"))
    if lot_id is None or units is None:
        flash(f"Choose between 1 and {services.MAX_UNITS_PER_LINE} units of a lot.", "error")
        return redirect(url_for("payments.cart_page"), 303)
    try:
        lot = cart.add(lot_id, units)
    except cart.CartProblem as problem:
        flash(str(problem), "error")
        return redirect(url_for("payments.cart_page"), 303)
    flash(f"Added {units} unit(s) of lot {lot.lot_number} ({lot.product.name}) to your cart.", "success")
    return redirect(url_for("payments.cart_page"), 303)


@bp.get("/cart/")
def cart_page():
    """The cart: lots, units, prices and total; change units, remove, go to checkout."""
    _forget_paid_checkout()
    lines, notes = cart.lines()
    for text in notes:
        flash(text, "info")
    return render_template("payments/cart.html", lines=lines, form=UnitsForm(formdata=None), open_order=_open_order())


def _open_order():
    order = _checkout_order()
    return order if order is not None and order.status == PENDING and order.checkout_url else None


@bp.post("/cart/<id:lot_id>")
def change_units(lot_id: int):
    """Change a line's units; 0 (or the Remove button) takes it out."""
    form = UnitsForm()
    if "remove" in request.form:
        form.units.data = 0
    elif not form.validate():
        flash(f"Enter a number of units from 0 to {services.MAX_UNITS_PER_LINE}.", "error")
        return redirect(url_for("payments.cart_page"), 303)
    try:
        cart.set_units(lot_id, form.units.data)
    except cart.CartProblem as problem:
        flash(str(problem), "error")
    return redirect(url_for("payments.cart_page"), 303)


def _allow_form_to_stripe() -> None:
    """The checkout form's POST redirects to Stripe's page: CSP's form-action must allow that origin."""
    policy = dict(CONTENT_SECURITY_POLICY)
    policy["form-action"] += " " + current_app.config["STRIPE_CHECKOUT_ORIGIN"]
    use_own_policy(policy)


@bp.route("/checkout", methods=["GET", "POST"])
def checkout():
    """Who pays and where to ship; then the order is created, its units held, and the buyer sent to Stripe."""
    _forget_paid_checkout()
    lines, notes = cart.lines()
    if not lines:
        flash("Your cart is empty." if not notes else " ".join(notes), "info")
        return redirect(url_for("payments.cart_page"), 303)
    _allow_form_to_stripe()
    form = CheckoutForm()
    if not form.validate_on_submit():
        return _checkout_page(form, lines, notes, 400 if request.method == "POST" else 200)
    previous = _checkout_order()
    if previous is not None:
        services.cancel_checkout(previous, "checkout again")  # one open checkout per browser
    try:
        order = services.create_order(cart.order_lines(lines), form.buyer())
        session[CHECKOUT_ORDER] = order.id
        url = services.start_checkout(order, *_return_urls(order))
    except services.CheckoutProblem as problem:
        return _checkout_page(form, *cart.lines(), problem.status, str(problem))
    return redirect(url, 303)


def _return_urls(order) -> tuple[str, str]:
    success = absolute_url("payments.success") + "?session_id={CHECKOUT_SESSION_ID}"
    return success, absolute_url("payments.cancel", order=order.reference)


def _checkout_page(form, lines, notes, status: int, problem: str | None = None):
    total = sum(line.total_cents for line in lines)
    currency = lines[0].lot.product.currency if lines else "USD"
    body = render_template(
        "payments/checkout.html", form=form, lines=lines, notes=notes, total=total, currency=currency, problem=problem
    )
    return body, status


@bp.get("/checkout/success")
def success():
    """Back from Stripe: confirm the payment now (as the webhook does, whichever comes first) and thank the buyer."""
    session_id = request.args.get("session_id", "")
    if not _SESSION_ID.fullmatch(session_id):
        abort(404, description="This payment confirmation link is incomplete. Your receipt comes by e-mail.")
    order, waiting = None, False
    try:
        order = services.fulfil_checkout(session_id, "redirect")
    except StripeUnavailable:
        waiting = True  # the webhook confirms it; the page says the receipt will come
    _forget_paid_checkout()
    if order is None and not waiting:
        abort(404, description="We have no order for this payment. If you were charged, write to us.")
    return render_template("payments/success.html", order=order, waiting=waiting)


@bp.get("/checkout/cancel")
def cancel():
    """Back from Stripe without paying: close that checkout, give its units back, show the cart as it was."""
    order = _checkout_order()
    if order is not None and order.reference == request.args.get("order"):
        services.cancel_checkout(order, "buyer cancelled")
        session.pop(CHECKOUT_ORDER, None)
        flash("Payment cancelled: nothing was charged. Your cart is as you left it.", "info")
    return redirect(url_for("payments.cart_page"), 303)


@bp.route("/pay/<token>", methods=["GET", "POST"])
def pay_quote(token: str):
    """Pay an accepted quote by card: its lines at its prices, its lots held for it already; then Stripe."""
    try:
        inquiry, quote = quotes.inquiry_and_quote(token)
    except LinkInvalid as problem:
        abort(problem.status, description=str(problem))
    orders = quotes.orders_for(inquiry)
    paid, still_open = quotes.paid_order(orders), quotes.open_order(orders)
    form = PayForm()
    if request.method == "POST" and quote is not None and paid is None:
        if not form.validate_on_submit():
            abort(400, description="This form expired: open the payment link again.")
        _allow_form_to_stripe()
        if still_open is not None:
            services.cancel_checkout(still_open, "pay again")  # one open checkout per quote
        try:
            order, url = services.checkout_for_quote(
                quotes.lines_of(quote), quotes.buyer_of(inquiry), inquiry.reference, *_quote_urls(token)
            )
        except services.CheckoutProblem as problem:
            body = render_template("payments/pay_quote.html", inquiry=inquiry, quote=quote, form=form, problem=problem,
                                   status_token=token)  # fmt: skip
            return body, problem.status
        return redirect(url, 303)
    _allow_form_to_stripe()
    return render_template("payments/pay_quote.html", inquiry=inquiry, quote=quote, form=form, paid=paid,
                           still_open=still_open, status_token=token)  # fmt: skip


def _quote_urls(token: str) -> tuple[str, str]:
    success = absolute_url("payments.success") + "?session_id={CHECKOUT_SESSION_ID}"
    return success, absolute_url("payments.pay_quote", token=token)


HANDLERS = {
    "checkout.session.completed": services.fulfil_checkout,
    "checkout.session.async_payment_succeeded": services.fulfil_checkout,
    "checkout.session.expired": services.fulfil_checkout,
    "checkout.session.async_payment_failed": services.fail_checkout,
}


@bp.post("/stripe/webhook")
@csrf.exempt
def webhook():
    """Stripe's events: signature checked over the raw body; each event id acted on once; others acknowledged."""
    try:
        event = stripe_api.verified_event(request.get_data(cache=False), request.headers.get("Stripe-Signature"))
    except BadSignature:
        return {"error": "The Stripe-Signature header does not match this body."}, 400
    obj = (event.get("data") or {}).get("object") or {}
    key = event.get("id"), event.get("type")
    if not all(isinstance(part, str) and 0 < len(part) <= 255 for part in key) or not isinstance(obj, dict):
        return {"error": "This is not a Stripe event."}, 400
    if services.event_seen(key[0]):
        return {"received": True, "duplicate": True}
    via = f"webhook {key[1]} {key[0]}"
    try:
        if key[1] in HANDLERS and isinstance(obj.get("id"), str):
            HANDLERS[key[1]](obj["id"], via, key)
        elif key[1] == "charge.refunded":
            services.record_refund(obj, via, key)
        else:
            services.record_unhandled(key)
    except IntegrityError:
        return {"received": True, "duplicate": True}  # the same event, delivered twice at once
    except StripeUnavailable:
        return {"error": "Stripe could not be asked about this session; send it again."}, 503
    return {"received": True}
