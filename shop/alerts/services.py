"""Donor alerts: the double opt-in, stopping and deleting, the data export; every step in the address's consent log.

Each function changes rows and queues mail in the caller's transaction; the caller commits.
"""

from datetime import datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import delete, exists, select
from sqlalchemy.orm import selectinload

from shop.alerts import tokens
from shop.alerts.models import (
    ACTIVE,
    MAX_QUERY_LENGTH,
    MAX_SENTENCE_LENGTH,
    PENDING,
    STOPPED,
    AlertAddress,
    AlertConsent,
    AlertDelivery,
    AlertFilter,
    DonorAlert,
)
from shop.catalog import donor_filters
from shop.catalog.services import CatalogFilters, describe_filters, unknown_alleles
from shop.consent import Where, exported
from shop.extensions import db
from shop.mail import queue_email
from shop.mail.models import OutboxMessage
from shop.mail.services import exported_messages, forget_messages_to, mailing_list_headers
from shop.models import utcnow
from shop.signed_links import new_key
from shop.templating import absolute_url, site_root
from shop.times import export_datetime

TEMPLATES = "alerts/"  # every e-mail this feature queues, so an address's own can be found and forgotten


def find_address(email: str) -> AlertAddress | None:
    """The address with these (normalised) letters."""
    return db.session.scalar(select(AlertAddress).where(AlertAddress.email == email))


def statement(email: str, sentence: str) -> str:
    """The words a person agrees to for one alert, as the consent log keeps them."""
    return (
        f"E-mail {email} when a lot arrives in the {current_app.config['SITE_NAME']} catalog that matches: "
        f"{sentence}. Once per lot; every e-mail has a link to stop this alert or manage every alert."
    )


def _log(address: AlertAddress, action: str, sentence: str, where: Where) -> None:
    address.consents.append(AlertConsent.taken(action, statement(address.email, sentence), where))


def filter_problems(filters: CatalogFilters) -> list[str]:
    """Why these filters can't be an alert, in words for the page (none when they can). The catalog shows what
    it can of any URL; an alert would wait, perhaps for ever, on whatever it kept, so it keeps only filters
    read exactly as asked, with a donor filter, that one donor could meet."""
    problems = []
    if filters.ignored:
        shown = ", ".join(f"“{_short(value)}”" for value in filters.ignored[:5])
        problems.append(f"Some filters could not be read: {shown}. Open the catalog page again and ask from there.")
    both = donor_filters.contradictory(filters.selected)
    problems += [note for note in filters.notes if not (both and note.startswith(donor_filters.BOTH_ASKED))]
    for name in both:
        either = " or ".join(donor_filters.phrase(name, value) for value in filters.values(name))
        problems.append(f"A donor is {either}, not both: keep one of them (or neither) for an alert.")
    for allele in unknown_alleles(filters.values("hla")):
        problems.append(
            f"None of our donors has been typed HLA-{_short(allele)}: check how the allele is written (like "
            "A*02:01). For a donor we have never had, ask our sales team about custom donor selection."
        )
    if not filters.donor_selected:
        problems.append(
            "An alert waits for a donor: choose at least one donor filter (HLA allele, CMV status, sex, age ...) "
            "in the catalog first."
        )
    if len(filters.query) > MAX_QUERY_LENGTH:
        problems.append("That is more filters than an alert can keep: choose fewer values.")
    return problems


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"


def filter_for(filters: CatalogFilters) -> AlertFilter:
    """The row for these filters (made on first use, with the catalog's words for them)."""
    found = db.session.scalar(select(AlertFilter).where(AlertFilter.query == filters.query))
    if found is None:
        sentence = describe_filters(filters)
        if len(sentence) > MAX_SENTENCE_LENGTH:
            sentence = sentence[: MAX_SENTENCE_LENGTH - 1] + "…"
        found = AlertFilter(query=filters.query, sentence=sentence)
        db.session.add(found)
    return found


def request_alert(email: str, filters: CatalogFilters, where: Where) -> DonorAlert | None:
    """Someone asked for an alert on these filters: a confirmation link goes out for it.

    What the page answers is the same whatever the address holds; only the
    mailbox's owner learns more: an address that has this alert active already
    gets its manage link instead, and one at ALERTS_PER_EMAIL alerts is told
    so (no new alert). Nothing is active until the link's page is confirmed.
    """
    address = find_address(email)
    if address is None:
        address = AlertAddress(email=email, token_key=new_key())
        db.session.add(address)
    alert_filter = filter_for(filters)
    alert = next((a for a in address.alerts if a.filter is alert_filter), None)
    if alert is not None and alert.status == ACTIVE:
        queue_email(email, "alerts/already_waiting", {**address_links(address), "sentence": alert_filter.sentence})
        return alert
    if alert is None and len(address.alerts) >= current_app.config["ALERTS_PER_EMAIL"]:
        context = {**address_links(address), "limit": current_app.config["ALERTS_PER_EMAIL"]}
        queue_email(email, "alerts/limit_reached", context)
        return None
    if alert is None:
        with db.session.no_autoflush:  # linking the new rows to each other must not flush them half-made
            alert = DonorAlert(address=address, filter=alert_filter, status=PENDING)
        db.session.add(alert)
    alert.confirm_nonce, alert.confirm_sent_at = new_key(), utcnow()
    _log(address, "requested", alert_filter.sentence, where)
    db.session.flush()  # the alert's id goes into the link
    context = {
        "confirm_url": absolute_url("alerts.confirm", token=tokens.confirm_token(alert)),
        "sentence": alert_filter.sentence,
        "days": current_app.config["ALERT_CONFIRM_DAYS"],
    }
    queue_email(email, "alerts/confirm", context)
    return alert


def confirm_alert(alert: DonorAlert, where: Where) -> bool:
    """The confirmation page's button: lots that arrive from now on are mailed. False if it was active already."""
    if alert.status == ACTIVE:
        return False
    alert.status, alert.confirmed_at, alert.confirm_nonce, alert.stopped_at = ACTIVE, utcnow(), None, None
    _log(alert.address, "confirmed", alert.filter.sentence, where)
    return True


def stop_alert(alert: DonorAlert, where: Where, action: str = "stopped") -> bool:
    """No more e-mail for this alert (one click, or the manage page). False if it had stopped or never started."""
    if alert.status == STOPPED or (alert.status == PENDING and alert.confirm_nonce is None):
        return False
    alert.status, alert.stopped_at, alert.confirm_nonce = STOPPED, utcnow(), None
    _log(alert.address, action, alert.filter.sentence, where)
    return True


def stop_every_alert(address: AlertAddress, where: Where) -> int:
    """Stop each of the address's alerts; returns how many were running (or awaiting confirmation)."""
    return sum(stop_alert(alert, where) for alert in address.alerts)


def delete_alert(alert: DonorAlert, where: Where) -> None:
    """Forget one alert and which lots it was sent; the address's consent log notes it."""
    _log(alert.address, "deleted", alert.filter.sentence, where)
    alert.address.alerts.remove(alert)


def delete_address(address: AlertAddress) -> None:
    """Forget the address: its alerts, consent log and deliveries, and every e-mail queued to it by this feature."""
    forget_messages_to(address.email, TEMPLATES)
    db.session.delete(address)


def mark_bounced(message: OutboxMessage) -> None:
    """The mail server refused the address for good: its alerts stop (receiver of ``address_refused``)."""
    address = find_address(message.to_address)
    if address is None:
        return
    address.bounced_at = utcnow()
    for alert in address.alerts:
        if alert.status == ACTIVE:
            stop_alert(alert, Where("", "mail server"), action="bounced")


def address_links(address: AlertAddress) -> dict:
    """The address's own page: its alerts, export and deletion."""
    return {"manage_url": absolute_url("alerts.manage", token=tokens.manage_token(address))}


def catalog_url(alert_filter: AlertFilter) -> str:
    """The catalog page the alert was asked for on, filters and all."""
    return site_root() + url_for("catalog.product_list") + (f"?{alert_filter.query}" if alert_filter.query else "")


def alert_links(alert: DonorAlert) -> dict:
    """An alert's links, for its e-mails and pages: its catalog page, one-click stop, the address's page."""
    return {
        **address_links(alert.address),
        "unsubscribe_url": absolute_url("alerts.unsubscribe", token=tokens.unsubscribe_token(alert)),
        "catalog_url": catalog_url(alert.filter),
    }


def list_headers(alert: DonorAlert) -> dict[str, str]:
    """The donor alerts' list headers on an alert's e-mail: one-click stop of that alert, and the list's id."""
    return mailing_list_headers(alert_links(alert)["unsubscribe_url"], "donor alerts", "donor-alerts")


def export(address: AlertAddress) -> dict:
    """Everything held about the address, as JSON: its alerts, the lots each was sent, its consent log, e-mails."""
    sent = db.session.execute(
        select(AlertDelivery).where(AlertDelivery.alert_id.in_([a.id for a in address.alerts]))
        .options(selectinload(AlertDelivery.lot)).order_by(AlertDelivery.id)
    ).scalars()  # fmt: skip
    lots: dict[int, list[dict]] = {}
    for delivery in sent:
        lots.setdefault(delivery.alert_id, []).append(
            {"lot": delivery.lot.lot_number, "at": export_datetime(delivery.created_at)}
        )
    return {
        "email": address.email,
        "created_at": export_datetime(address.created_at),
        "bounced_at": export_datetime(address.bounced_at),
        "alerts": [
            {
                "filters": alert.filter.sentence,
                "catalog_url": catalog_url(alert.filter),
                "status": alert.status,
                **{name: export_datetime(getattr(alert, name)) for name in ALERT_DATES},
                "lots_sent": lots.get(alert.id, []),
            }
            for alert in address.alerts
        ],
        "consent_log": exported(address.consents),
        "emails": exported_messages(address.email, TEMPLATES),
    }


ALERT_DATES = ("created_at", "confirm_sent_at", "confirmed_at", "stopped_at")


def expire_unconfirmed(now: datetime | None = None) -> int:
    """Alerts never confirmed within ALERT_CONFIRM_DAYS are deleted (we hold no consent for them); one confirmed
    before, stopped and asked for again, stops again. Addresses and filters left without alerts go too."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["ALERT_CONFIRM_DAYS"])
    stale = db.session.scalars(
        select(DonorAlert).where(DonorAlert.status == PENDING, DonorAlert.confirm_sent_at < cutoff).limit(500)
    ).all()
    for alert in stale:
        if alert.confirmed_at is None:
            alert.address.alerts.remove(alert)
        else:
            alert.status, alert.confirm_nonce = STOPPED, None
    db.session.flush()
    empty = ~exists().where(DonorAlert.address_id == AlertAddress.id)
    for address in db.session.scalars(select(AlertAddress).where(empty, AlertAddress.created_at < cutoff).limit(500)):
        delete_address(address)
    unused = ~exists().where(DonorAlert.filter_id == AlertFilter.id)
    filters = db.session.scalars(select(AlertFilter.id).where(unused).limit(500)).all()
    if filters:  # read first: a DELETE that finds nothing would still take SQLite's write lock every round
        db.session.execute(delete(AlertFilter).where(AlertFilter.id.in_(filters), unused))
    return len(stale)


def forget_unconfirmed() -> int:
    """Job for the outbox worker: :func:`expire_unconfirmed`, committed (it queues nothing)."""
    expire_unconfirmed()
    db.session.commit()
    return 0
