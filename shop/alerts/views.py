"""Asking for a donor alert (double opt-in), the address's own pages, and one-click stop (RFC 8058).

``POST /alerts/`` comes from the box on catalog pages, which are cached and the
same for every visitor, so it has no CSRF token: it needs the browser's word
that it comes from this site (shop/same_origin.py), counts per client address
(Flask-Limiter, 429 past the limit) and per e-mail (past it, nothing more is
sent, and the answer doesn't change), ignores a filled honeypot, and answers
the same whether or not the address has alerts. The filters arrive as the
catalog page's own URL parameters and are read by the catalog's reader: any it
can't read, or filters no alert could honour, are refused, never stored as
something other than what was asked. The pages behind mailed links are per
person: never cached, no referrer, CSRF tokens on their buttons.
"""

from flask import Blueprint, abort, current_app, flash, json, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from shop import rate_limits
from shop.alerts import services, tokens
from shop.alerts.forms import AlertForm, ButtonForm
from shop.alerts.models import ACTIVE, STATUSES, DonorAlert
from shop.alerts.stats import lots_sent_per_alert
from shop.catalog.services import FILTER_PARAMS, all_categories, describe_filters, read_filters
from shop.consent import Where
from shop.extensions import csrf, db, limiter
from shop.same_origin import same_origin_only
from shop.signed_links import LinkInvalid

bp = Blueprint("alerts", __name__, url_prefix="/alerts")


@bp.after_request
def keep_private(response):
    """A page opened from someone's e-mail, or the answer to their address: not stored, its URL never sent on."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.errorhandler(LinkInvalid)
def link_problem(problem: LinkInvalid):
    """An altered, superseded or expired link, or an alert that is gone: say so, change nothing."""
    return render_template("alerts/link_problem.html", message=str(problem)), problem.status


def _where(form: str) -> Where:
    return Where(request.remote_addr or "", form)


def _asked_filters(values: MultiDict):
    """The catalog filters the box carried, and what stops them becoming an alert (the catalog's own reading)."""
    filters = read_filters(MultiDict([(k, v) for k, v in values.items(multi=True) if k in ("q", *FILTER_PARAMS)]),
                           all_categories())  # fmt: skip
    return filters, services.filter_problems(filters)


def _sign_up_page(form: AlertForm, filters, problems: list[str], status: int = 200):
    sentence = None if problems else describe_filters(filters)
    page = render_template("alerts/sign_up.html", form=form, filters=filters, problems=problems, sentence=sentence)
    return current_app.make_response((page, status))


def _too_many(limit):
    """Past the per-address limit: the form again, with when to try."""
    wait = rate_limits.retry_after(limit)
    form = AlertForm()
    minutes = rate_limits.in_minutes(wait)
    form.email.errors = [f"Too many alerts asked for from your network just now. Try again in {minutes} minutes."]
    filters, problems = _asked_filters(request.form)
    response = _sign_up_page(form, filters, problems, 429)
    response.headers["Retry-After"] = str(wait)
    return response


@bp.route("/", methods=["GET", "POST"])
@csrf.exempt
@same_origin_only
@limiter.limit(
    lambda: current_app.config["ALERT_LIMIT_PER_ADDRESS"], methods=["POST"], scope="alert-address", on_breach=_too_many
)
def sign_up():
    """GET: the alert form for the filters in the URL. POST (the catalog's box): a confirmation link goes out."""
    filters, problems = _asked_filters(request.form if request.method == "POST" else request.args)
    form = AlertForm() if request.method == "POST" else AlertForm(formdata=None)
    if request.method == "GET":
        return _sign_up_page(form, filters, problems, 400 if problems else 200)
    if form.website.data:  # only bots fill the field people can't see: tell them nothing
        return _check_inbox(form.email.data or "", filters)
    if problems or not form.validate():
        return _sign_up_page(form, filters, problems, 400)
    if rate_limits.allowed("ALERT_LIMIT_PER_EMAIL", "alert-email", form.email.data):
        _request_alert(form.email.data, filters)
    return _check_inbox(form.email.data, filters)


def _request_alert(email: str, filters) -> None:
    """Ask for the alert and commit; a second request for the same new address or filters at the same moment
    (a double click) meets the first one's rows on its retry instead of a unique-key error."""
    for attempt in (1, 2):
        try:
            services.request_alert(email, filters, _where("catalog alert box"))
            db.session.commit()
            return
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise


def _check_inbox(email: str, filters):
    """The one answer to every sign-up, whatever the address holds (and to a bot that filled the honeypot)."""
    sentence = describe_filters(filters)
    return render_template("alerts/check_inbox.html", email=email, filters=filters, sentence=sentence)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """The confirmation link's page: a button, so mail scanners that open links start nothing."""
    alert = tokens.read_confirm_token(token)
    form = ButtonForm()
    if alert.status == ACTIVE and request.method == "GET":
        return render_template("alerts/confirmed.html", alert=alert, already=True, **services.alert_links(alert))
    if form.validate_on_submit():
        changed = services.confirm_alert(alert, _where("confirm page"))
        db.session.commit()
        return render_template("alerts/confirmed.html", alert=alert, already=not changed, **services.alert_links(alert))
    status = 400 if request.method == "POST" else 200
    return render_template("alerts/confirm.html", form=form, alert=alert), status


MANAGE_ACTIONS = {"stop", "delete", "stop_all"}


@bp.route("/manage/<token>", methods=["GET", "POST"])
def manage(token: str):
    """The address's own page: its alerts, each with stop and delete; stop them all; export; delete everything."""
    address = tokens.read_manage_token(token)
    form = ButtonForm()
    action = request.form.get("action", "")
    if request.method == "POST":
        if action not in MANAGE_ACTIONS or not form.validate_on_submit():
            flash("Nothing was changed: the page had expired or the button was not one of ours. Try again.", "error")
            return _manage_page(address, token, form), 400
        flash(_do(action, address, form.alert.data), "success")
        db.session.commit()
        return redirect(url_for(".manage", token=token), code=303)
    return _manage_page(address, token, form)


def _manage_page(address, token: str, form: ButtonForm) -> str:
    return render_template(
        "alerts/manage.html", address=address, token=token, form=form, statuses=STATUSES,
        lots_sent=lots_sent_per_alert(address), catalog_url=services.catalog_url,
    )  # fmt: skip


def _do(action: str, address, alert_id: str) -> str:
    """Carry out a button of the manage page; returns what to tell the person."""
    where = _where("manage page")
    if action == "stop_all":
        stopped = services.stop_every_alert(address, where)
        return f"Stopped {stopped} alert{'' if stopped == 1 else 's'}: we won't e-mail you about new lots."
    alert = next((a for a in address.alerts if str(a.id) == alert_id), None)
    if alert is None:  # an alert of another address, or one deleted in another tab
        abort(400, description="That alert is not one of this address's alerts any more. Nothing was changed.")
    if action == "stop":
        services.stop_alert(alert, where)
        return f"Stopped: {alert.filter.sentence}."
    services.delete_alert(alert, where)
    return f"Deleted: {alert.filter.sentence}."


@bp.get("/manage/<token>/export.json")
def export(token: str):
    """Everything held about the address, as a JSON download."""
    address = tokens.read_manage_token(token)
    body = json.dumps(services.export(address), indent=2, ensure_ascii=False)
    return current_app.response_class(
        body, mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="donor-alerts-{address.id}.json"'},
    )  # fmt: skip


@bp.route("/manage/<token>/delete", methods=["GET", "POST"])
def delete(token: str):
    """Delete everything held about the address, after a button that says so."""
    address = tokens.read_manage_token(token)
    form = ButtonForm()
    if form.validate_on_submit():
        email = address.email
        services.delete_address(address)
        db.session.commit()
        return render_template("alerts/deleted.html", email=email)
    status = 400 if request.method == "POST" else 200
    return render_template("alerts/delete.html", form=form, address=address, token=token), status


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail providers POST here without cookies; the signed token is the authority
def unsubscribe(token: str):
    """GET: a page with a button (changes nothing). POST, as one-click from a mail client or that button: stopped."""
    alert: DonorAlert = tokens.read_unsubscribe_token(token)
    links = services.address_links(alert.address)
    if request.method == "GET":
        return render_template("alerts/unsubscribe.html", alert=alert, **links)
    form = "unsubscribe page" if request.form.get("from") == "page" else "one-click (mail client)"
    services.stop_alert(alert, _where(form))
    db.session.commit()
    return render_template("alerts/unsubscribed.html", alert=alert, **links)
