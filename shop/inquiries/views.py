"""The researcher's side: the quote basket, the inquiry form, the confirmation, the status link, and /contact.

``POST /quote/`` (add to the basket) comes from forms on cached product and
catalog pages, so it has no CSRF token: it needs the browser's word that it
comes from this site (shop/same_origin.py). Every other page here is drawn
per visitor, is never cached (``no-store``) and its forms carry a CSRF token.
Submitting is limited per client address and per e-mail typed; a filled
honeypot gets the ordinary answer and saves nothing.
"""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for

from shop import rate_limits
from shop.catalog import stock
from shop.catalog.models import AGE_BANDS, Product
from shop.extensions import csrf, db, limiter
from shop.inquiries import basket as basket_store
from shop.inquiries import services, tokens
from shop.inquiries.forms import AddToBasketForm, BasketForm, ContactForm, DecisionForm, InquiryForm
from shop.inquiries.models import (
    DONOR_CMV,
    DONOR_SEX,
    INSTITUTION_TYPES,
    INTENDED_USES,
    PREFERRED_FORMATS,
    RECURRING,
    STATUSES,
)
from shop.same_origin import same_origin_only

bp = Blueprint("inquiries", __name__)
SENT_KEY = "inquiries_sent"  # references this browser sent, so only it sees their confirmation page


@bp.after_request
def keep_private(response):
    """Per-visitor pages: never stored by the page cache, browsers or proxies; the header count cookie follows."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer" if request.endpoint == "inquiries.status" else "same-origin"
    count = basket_store.count()
    if count:
        response.set_cookie(basket_store.COUNT_COOKIE, str(count), max_age=30 * 86400, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])  # fmt: skip
    elif basket_store.COUNT_COOKIE in request.cookies:
        response.delete_cookie(basket_store.COUNT_COOKIE)
    return response


@bp.errorhandler(tokens.LinkInvalid)
def link_problem(problem: tokens.LinkInvalid):
    """A tampered or unknown status link: say so, and how to reach us."""
    return render_template("inquiries/link_problem.html", message=str(problem)), problem.status


@bp.get("/quote/")
def basket():
    """The basket: lines with quantities to change or remove, and the way on to the inquiry form."""
    current = basket_store.load()
    form = BasketForm(data={"lines": [{"quantity": line.quantity} for line in current.lines]})
    return render_template("inquiries/basket.html", basket=current, form=form, formats=PREFERRED_FORMATS)


@bp.post("/quote/")
@csrf.exempt
@same_origin_only
def add_to_basket():
    """ "Request a quote" or "Request this lot": the line goes into the basket (works without JavaScript)."""
    form = AddToBasketForm()
    valid = form.validate()
    product = (
        db.session.get(Product, form.product_id.data) if form.product_id.data and not form.product_id.errors else None
    )
    if product is None or not product.active:
        return _refused_add(form, None)
    if not valid:
        return _refused_add(form, product)
    lot = _lot_of(product, form.lot_id.data)
    if form.lot_id.data and lot is None:
        flash("That lot is no longer available. You can still ask for the product.", "error")
        return redirect(url_for("catalog.product_detail", slug=product.slug), code=303)
    criteria = {name: (getattr(form, name).data or "").strip() for name in ("hla", "cmv", "sex", "age")}
    try:
        preferred = _known(form.preferred_format.data, PREFERRED_FORMATS)
        note = (form.note.data or "").strip()
        basket_store.add(product.id, lot.id if lot else None, form.quantity.data or 1, preferred, note, criteria)
    except basket_store.BasketFull as full:
        flash(str(full), "error")
        return redirect(url_for(".basket"), code=303)
    what = f"lot {lot.lot_number} of {product.name}" if lot else product.name
    flash(f"Added {what} to your quote request.", "success")
    return redirect(url_for(".basket"), code=303)


def _known(value: str | None, choices: dict) -> str:
    return value if value in choices else ""


def _lot_of(product: Product, lot_id: int | None):
    if not lot_id:
        return None
    return next((lot for lot in product.lots if lot.id == lot_id and lot.in_stock), None)


def _refused_add(form: AddToBasketForm, product: Product | None):
    """A bad quantity (400, with the product to go back to) or a product that is gone (404)."""
    if product is None:
        messages = form.product_id.errors or ["This product is no longer offered."]
        body = render_template("inquiries/add_problem.html", messages=messages, product=None)
        return body, 400 if form.product_id.errors else 404
    messages = [e for f in (form.quantity, form.lot_id, form.note, form.preferred_format) for e in f.errors]
    return render_template("inquiries/add_problem.html", messages=messages, product=product), 400


@bp.post("/quote/update")
def update_basket():
    """The basket's buttons: save quantities, remove a line, or empty it."""
    form = BasketForm()
    action = request.form.get("action", "update")
    # CSRFProtect has checked the token already: removing and emptying need nothing else.
    if action == "clear":
        basket_store.clear()
        flash("Your quote request is empty.", "info")
    elif action.startswith("remove-"):
        index = action.removeprefix("remove-")
        basket_store.remove(int(index) if index.isdigit() and len(index) < 4 else -1)
        flash("Removed.", "info")
    elif form.validate():
        basket_store.set_quantities([entry.quantity.data for entry in form.lines])
        flash("Quantities saved.", "success")
    else:
        current = basket_store.load()
        return render_template("inquiries/basket.html", basket=current, form=form, formats=PREFERRED_FORMATS), 400
    return redirect(url_for(".basket"), code=303)


def _too_many(limit):
    """Past the per-address limit: the form again, with everything typed, and when to try."""
    wait = rate_limits.retry_after(limit)
    minutes = rate_limits.in_minutes(wait)
    message = f"Too many inquiries from your network just now. Please try again in {minutes} minutes."
    contact_page = request.endpoint == "inquiries.contact"
    current = basket_store.Basket() if contact_page else basket_store.load()
    form = _inquiry_form(current, ContactForm if contact_page else InquiryForm)
    template = "inquiries/contact.html" if contact_page else "inquiries/submit.html"
    page, _ = _inquiry_page(form, current, template, problem=message)
    return current_app.make_response((page, 429, {"Retry-After": str(wait)}))


def _email_allowed(email: str) -> bool:
    return rate_limits.allowed("INQUIRY_LIMIT_PER_EMAIL", "inquiry-email", email.lower())


def _inquiry_form(current=None, form_class=InquiryForm, **kwargs):
    current = current or basket_store.load()
    form = form_class(ruo_required=not current.all_gmp, has_items=bool(current.lines), **kwargs)
    if request.method == "GET":
        form.submit_key.data = services.new_submit_key()
        _prefill_donor(form, current.criteria)
    return form


def _prefill_donor(form: InquiryForm, criteria: dict) -> None:
    """The donor requirements from the catalog filters the researcher used."""
    form.donor_hla.data = criteria.get("hla", "") if len(criteria.get("hla", "")) <= 40 else ""
    form.donor_cmv.data = _known(criteria.get("cmv"), DONOR_CMV)
    form.donor_sex.data = _known(criteria.get("sex"), DONOR_SEX)
    band = AGE_BANDS.get(criteria.get("age", ""))
    if band:
        form.donor_age_min.data, form.donor_age_max.data = band[0], min(band[1], 100)


def _inquiry_page(form, current, template="inquiries/submit.html", problem: str = ""):
    page = render_template(
        template, form=form, basket=current, formats=PREFERRED_FORMATS, institution_types=INSTITUTION_TYPES,
        intended_uses=INTENDED_USES, recurring=RECURRING, problem=problem,
    )  # fmt: skip
    return page, form


def _submit_limit():
    return current_app.config["INQUIRY_LIMIT_PER_ADDRESS"]


@bp.route("/quote/submit", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"], scope="inquiry-address", on_breach=_too_many)
def submit():
    """The inquiry form; on a valid send: saved with a reference, mails queued, then the confirmation page."""
    return _send(InquiryForm, "inquiries/submit.html")


@bp.route("/contact", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"], scope="inquiry-address", on_breach=_too_many)
def contact():
    """A general question or a custom request without catalog items (the same inbox, the same follow-up)."""
    return _send(ContactForm, "inquiries/contact.html", with_basket=False)


def _send(form_class, template: str, with_basket: bool = True):
    current = basket_store.load() if with_basket else basket_store.Basket()
    form = _inquiry_form(current, form_class)
    if request.method == "GET":
        return _inquiry_page(form, current, template)[0]
    if form.website.data:  # only bots fill the field people can't see: say nothing, save nothing
        return redirect(url_for(".sent", reference="received"), code=303)
    already = services.find_by_submit_key(form.submit_key.data or "")
    if already is not None:  # a double click or the browser's resend: the inquiry the first one made
        return _sent_redirect(already)
    if not form.validate() or current.problems:
        problem = "Some items can't be asked for as they are: see the messages beside them." if current.problems else ""
        return _inquiry_page(form, current, template, problem)[0], 400
    if not _email_allowed(form.email.data):
        form.email.errors.append("We've had several inquiries from this address today. Please e-mail us instead.")
        return _inquiry_page(form, current, template)[0], 429
    values = {name: getattr(form, name).data for name in services.INQUIRY_FIELDS}
    inquiry = services.submit_inquiry(values, current, form.submit_key.data or services.new_submit_key(),
                                      request.remote_addr or "")  # fmt: skip
    db.session.commit()
    if with_basket:
        basket_store.clear()
    return _sent_redirect(inquiry)


def _sent_redirect(inquiry):
    sent = [r for r in session.get(SENT_KEY, []) if r != inquiry.reference][-9:] + [inquiry.reference]
    session[SENT_KEY] = sent
    return redirect(url_for(".sent", reference=inquiry.reference), code=303)


@bp.get("/quote/sent/<reference>")
def sent(reference: str):
    """The confirmation: the reference and what happens next (details only to the browser that sent it)."""
    inquiry = services.find_by_reference(reference) if reference in session.get(SENT_KEY, []) else None
    return render_template("inquiries/sent.html", inquiry=inquiry, statuses=STATUSES)


@bp.route("/quote/status/<token>", methods=["GET", "POST"])
def status(token: str):
    """The researcher's page behind the e-mailed link: state, what was asked, the quote, accept or decline."""
    inquiry = tokens.read_status_token(token)
    form = DecisionForm()
    quote = services.open_quote(inquiry)
    if request.method == "POST":
        if not form.validate_on_submit():
            return _status_page(inquiry, form, token), 400
        decision = request.form.get("decision")
        if decision not in ("accept", "decline"):
            abort(400, description="Choose Accept or Decline.")
        if quote is None:
            flash("This quote can no longer be answered: it was answered already, replaced or has expired.", "error")
            return redirect(url_for(".status", token=token), code=303)
        return _decide(inquiry, quote, decision, (form.reason.data or "").strip(), token)
    return _status_page(inquiry, form, token)


def _decide(inquiry, quote, decision: str, reason: str, token: str):
    inquiry_id = inquiry.id
    try:
        if decision == "accept":
            services.accept_quote(inquiry, quote, reason)
        else:
            services.decline_quote(inquiry, quote, reason)
        db.session.commit()
    except services.QuoteUnavailable as problem:
        db.session.rollback()
        flash(str(problem), "error")
    except stock.OutOfStock as problem:
        db.session.rollback()
        inquiry = db.session.get(type(inquiry), inquiry_id)
        services.note_failed_accept(inquiry, problem)
        db.session.commit()
        flash(f"We couldn't hold your cells: {problem} Our sales team has been told and will send you a revised "
              "quote.", "error")  # fmt: skip
    else:
        flash("Thank you: the quote is accepted and the cells are held for you. We'll be in touch about payment and "
              "shipping." if decision == "accept" else "The quote is declined. Thank you for letting us know.",
              "success")  # fmt: skip
    return redirect(url_for(".status", token=token), code=303)


def _status_page(inquiry, form, token):
    return render_template(
        "inquiries/status.html", inquiry=inquiry, quote=services.open_quote(inquiry), shown=inquiry.current_quote,
        form=form, token=token, statuses=STATUSES, intended_uses=INTENDED_USES, formats=PREFERRED_FORMATS,
    )  # fmt: skip
