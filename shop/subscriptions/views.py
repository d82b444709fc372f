"""Subscribing (double opt-in), the subscriber's own pages, and one-click unsubscribe (RFC 8058).

``POST /subscribe`` comes from boxes on cached pages, so it has no CSRF token:
it needs the browser's word that it comes from this site (shop/same_origin.py),
counts per client address (Flask-Limiter, 429 past the limit) and per e-mail
(past it, nothing more is sent, and the answer doesn't change), ignores a
filled honeypot, and answers the same whether or not the address subscribes.
The pages behind a mailed link are per person: never cached, no referrer.
"""

from flask import Blueprint, current_app, flash, json, redirect, render_template, request, url_for

from shop import rate_limits
from shop.extensions import csrf, db, limiter
from shop.page_cache import public_page
from shop.same_origin import same_origin_only
from shop.subscriptions import services, tokens
from shop.subscriptions.forms import ButtonForm, ChoicesForm, SubscribeForm
from shop.subscriptions.models import ACTIVE, FREQUENCIES, STATUSES
from shop.subscriptions.services import Choice, Where

bp = Blueprint("subscriptions", __name__)


@bp.after_request
def keep_private(response):
    """A page opened from someone's e-mail is theirs: not stored by browsers or proxies, its URL never sent on."""
    if request.endpoint != "subscriptions.subscribe_page":
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.errorhandler(tokens.LinkInvalid)
def link_problem(problem: tokens.LinkInvalid):
    """An altered, superseded or expired link, or a subscriber who is gone: say so, and offer to subscribe again."""
    form = _subscribe_form(formdata=None)
    return render_template("subscriptions/link_problem.html", message=str(problem), form=form), problem.status


def _where(form: str) -> Where:
    return Where(request.remote_addr or "", form)


def _subscribe_form(**kwargs) -> SubscribeForm:
    form = SubscribeForm(**kwargs)
    form.set_topics(services.all_topics())
    return form


@bp.get("/subscribe")
@public_page(areas=("blog",))
def subscribe_page():
    """The subscribe form on a page of its own (and where the boxes' mistakes are shown)."""
    return render_template("subscriptions/subscribe.html", form=_subscribe_form(formdata=None))


def _too_many(limit):
    """Past the per-address limit: the form again, with when to try."""
    wait = rate_limits.retry_after(limit)
    form = _subscribe_form()
    minutes = rate_limits.in_minutes(wait)
    form.email.errors = [f"Too many sign-ups from your network just now. Please try again in {minutes} minutes."]
    body = render_template("subscriptions/subscribe.html", form=form)
    return current_app.make_response((body, 429, {"Retry-After": str(wait)}))


def _email_allowed(email: str) -> bool:
    """Count a sign-up for this address; False once it has had SUBSCRIBE_LIMIT_PER_EMAIL of them."""
    return rate_limits.allowed("SUBSCRIBE_LIMIT_PER_EMAIL", "subscribe-email", email)


@bp.post("/subscribe")
@csrf.exempt
@same_origin_only
@limiter.limit(
    lambda: current_app.config["SUBSCRIBE_LIMIT_PER_ADDRESS"], methods=["POST"], scope="subscribe-address",
    on_breach=_too_many,
)  # fmt: skip
def subscribe():
    """Ask for the blog by e-mail: a confirmation link goes out; the answer is the same for every address."""
    form = _subscribe_form()
    if form.website.data:  # only bots fill the field people can't see: tell them nothing
        return _check_inbox(form.email.data or "")
    if not form.validate():
        return render_template("subscriptions/subscribe.html", form=form), 400
    if _email_allowed(form.email.data):
        services.request_subscription(form.email.data, _choice(form), _where(form.form_name))
        db.session.commit()
    return _check_inbox(form.email.data)


def _choice(form, frequency: str = "each") -> Choice:
    slugs = form.chosen_slugs()
    offered = [slug for slug, _ in form.topics.choices]
    every = not slugs or set(slugs) == set(offered)
    return Choice(() if every else tuple(services.topics_by_slug(slugs)), every, frequency)


def _check_inbox(email: str):
    return render_template("subscriptions/check_inbox.html", email=email)


def _choices_form(subscriber, **kwargs) -> ChoicesForm:
    form = ChoicesForm(**kwargs)
    form.set_topics(services.all_topics())
    if request.method == "GET":
        chosen = services.all_topics() if subscriber.all_topics else subscriber.topics
        form.topics.data = [t.slug for t in chosen]
        form.frequency.data = subscriber.frequency
    return form


@bp.route("/subscribe/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """The confirmation link's page: a button, so mail scanners that open links confirm nothing."""
    subscriber = tokens.read_confirm_token(token)
    if subscriber.status == ACTIVE and request.method == "GET":
        return render_template("subscriptions/confirmed.html", subscriber=subscriber, already=True)
    form = _choices_form(subscriber)
    if form.validate_on_submit():
        changed = services.confirm_subscription(subscriber, _choice(form, form.frequency.data), _where("confirm page"))
        db.session.commit()
        return render_template("subscriptions/confirmed.html", subscriber=subscriber, already=not changed,
                               **services.links(subscriber))  # fmt: skip
    status = 400 if request.method == "POST" else 200
    return render_template("subscriptions/confirm.html", form=form, subscriber=subscriber), status


PREFERENCE_ACTIONS = {"save", "pause", "resume", "unsubscribe", "resubscribe"}


@bp.route("/subscription/<token>", methods=["GET", "POST"])
def preferences(token: str):
    """The subscriber's own page: topics and frequency, pause, unsubscribe, export, delete."""
    subscriber = tokens.read_token(token, tokens.MANAGE)
    form = _choices_form(subscriber)
    action = request.form.get("action", "save")
    if request.method == "POST" and action in PREFERENCE_ACTIONS and form.validate_on_submit():
        flash(_do(action, subscriber, form), "success")
        db.session.commit()
        return redirect(url_for(".preferences", token=token), code=303)
    status = 400 if request.method == "POST" else 200
    page = render_template(
        "subscriptions/preferences.html", form=form, subscriber=subscriber, token=token, statuses=STATUSES,
        frequencies=FREQUENCIES,
    )  # fmt: skip
    return page, status


def _do(action: str, subscriber, form) -> str:
    """Carry out a button of the preferences page; returns what to tell the subscriber."""
    where = _where("preferences page")
    if action == "resubscribe":
        services.request_subscription(subscriber.email, _choice(form, form.frequency.data), where)
        return f"We sent a confirmation link to {subscriber.email}: open it to subscribe again."
    if subscriber.status != ACTIVE:
        return "This address is not subscribed, so there was nothing to change."
    if action == "pause":
        services.pause(subscriber, where)
        return "Paused: no e-mail until you resume. Posts published meanwhile won't be sent later."
    if action == "resume":
        services.resume(subscriber, where)
        return "Resumed: you'll get the next post on your topics."
    if action == "unsubscribe":
        services.unsubscribe(subscriber, where)
        return "Unsubscribed: we won't e-mail you about new posts again."
    services.change_preferences(subscriber, _choice(form, form.frequency.data), where)
    return "Saved: " + services.statement(subscriber.email, services.current_choice(subscriber))


@bp.get("/subscription/<token>/export.json")
def export(token: str):
    """Everything held about the address, as a JSON download."""
    subscriber = tokens.read_token(token, tokens.MANAGE)
    body = json.dumps(services.export(subscriber), indent=2, ensure_ascii=False)
    filename = f"subscription-{subscriber.id}.json"
    return current_app.response_class(
        body, mimetype="application/json", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@bp.route("/subscription/<token>/delete", methods=["GET", "POST"])
def delete(token: str):
    """Delete everything held about the address, after a button that says so."""
    subscriber = tokens.read_token(token, tokens.MANAGE)
    form = ButtonForm()
    if form.validate_on_submit():
        email = subscriber.email
        services.delete_subscriber(subscriber)
        db.session.commit()
        return render_template("subscriptions/deleted.html", email=email)
    status = 400 if request.method == "POST" else 200
    return render_template("subscriptions/delete.html", form=form, subscriber=subscriber, token=token), status


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail providers POST here without cookies; the signed token is the authority
def unsubscribe(token: str):
    """GET: a page with a button (changes nothing). POST, as one-click from a mail client or that button: done."""
    subscriber = tokens.read_token(token, tokens.UNSUBSCRIBE)
    if request.method == "GET":
        return render_template("subscriptions/unsubscribe.html", subscriber=subscriber, token=token)
    form = "unsubscribe page" if request.form.get("from") == "page" else "one-click (mail client)"
    services.unsubscribe(subscriber, _where(form))
    db.session.commit()
    return render_template("subscriptions/unsubscribed.html", email=subscriber.email)
