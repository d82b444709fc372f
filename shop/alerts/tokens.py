"""Signed links mailed about donor alerts: confirm an alert (expires), manage the address's alerts, stop one alert.

Made and read as every mailed link is (shop/signed_links.py), each purpose with
its salt. A confirmation link names the alert and the nonce of the newest link
sent for it; a manage link names the address and its ``token_key``; an
unsubscribe link names one alert and its address's key, and can only stop that
alert (mail providers fetch and POST to it): it opens no manage page or export.
"""

from flask import current_app

from shop import signed_links
from shop.alerts.models import ACTIVE, AlertAddress, DonorAlert
from shop.signed_links import LinkInvalid

CONFIRM, MANAGE, UNSUBSCRIBE = "donor-alert-confirm", "donor-alert-manage", "donor-alert-unsubscribe"
GONE = "These donor alerts no longer exist: they may have been deleted."
ALERT_GONE = "This donor alert no longer exists: it may have been deleted."


def confirm_token(alert: DonorAlert) -> str:
    """The link in an alert's confirmation e-mail: valid ALERT_CONFIRM_DAYS, and only the newest one sent."""
    return signed_links.make_token(CONFIRM, alert.id, alert.confirm_nonce, timed=True)


def manage_token(address: AlertAddress) -> str:
    """The link to the address's alerts, their export and deletion."""
    return signed_links.make_token(MANAGE, address.id, address.token_key)


def unsubscribe_token(alert: DonorAlert) -> str:
    """The List-Unsubscribe link of an alert's e-mails: stops that alert, nothing else."""
    return signed_links.make_token(UNSUBSCRIBE, alert.id, alert.address.token_key)


def read_manage_token(token: str) -> AlertAddress:
    """The address a manage link names; LinkInvalid when it was altered (400) or the address is gone (404)."""
    address_id, key = signed_links.read_token(token, MANAGE)
    address = signed_links.find_record(AlertAddress, address_id)
    if address is None or address.token_key != key:
        raise LinkInvalid(GONE, status=404)
    return address


def read_unsubscribe_token(token: str) -> DonorAlert:
    """The alert an unsubscribe link names; LinkInvalid when it was altered or the alert is gone."""
    alert_id, key = signed_links.read_token(token, UNSUBSCRIBE)
    alert = signed_links.find_record(DonorAlert, alert_id)
    if alert is None or alert.address.token_key != key:
        raise LinkInvalid(ALERT_GONE, status=404)
    return alert


def read_confirm_token(token: str) -> DonorAlert:
    """The alert a confirmation link names; LinkExpired past its days, LinkInvalid if altered or superseded.

    Only the newest link sent for the alert works, until it is used; an active
    alert's old link opens the page that says so. A stopped alert needs a new
    request from the catalog: its old link no longer works.
    """
    days = current_app.config["ALERT_CONFIRM_DAYS"]
    expired = f"This confirmation link has expired: links work for {days} days. Ask for the alert again."
    alert_id, nonce = signed_links.read_token(token, CONFIRM, max_age_days=days, expired=expired)
    alert = signed_links.find_record(DonorAlert, alert_id)
    if alert is None:
        raise LinkInvalid(ALERT_GONE, status=404)
    if alert.confirm_nonce != nonce and alert.status != ACTIVE:
        raise LinkInvalid("This confirmation link is no longer valid: a newer one was sent, or the alert was stopped.")
    return alert
