"""Signed links mailed to subscribers: confirm (expires), manage, unsubscribe. Each purpose has its own salt.

A token names the subscriber's id and ``token_key`` (random, per subscriber),
signed as every mailed link is (shop/signed_links.py): no one can make one by
guessing, an altered one fails its signature, and a deleted subscriber's links
open nothing. An unsubscribe link (which mail providers fetch and POST to) can
only unsubscribe: it does not open the preferences or the data export.
"""

from flask import current_app

from shop import signed_links
from shop.signed_links import MAX_TOKEN_LENGTH, LinkExpired, LinkInvalid
from shop.subscriptions.models import ACTIVE, Subscriber

__all__ = ["MAX_TOKEN_LENGTH", "LinkExpired", "LinkInvalid", "confirm_token", "manage_token", "unsubscribe_token"]

CONFIRM, MANAGE, UNSUBSCRIBE = "subscription-confirm", "subscription-manage", "subscription-unsubscribe"
GONE = "This subscription no longer exists: it may have been deleted."


def confirm_token(subscriber: Subscriber) -> str:
    """The link in the confirmation e-mail: valid SUBSCRIPTION_CONFIRM_DAYS, and only the newest one sent."""
    return signed_links.make_token(CONFIRM, subscriber.id, subscriber.confirm_nonce, timed=True)


def manage_token(subscriber: Subscriber) -> str:
    """The link to the subscriber's preferences, export and deletion."""
    return signed_links.make_token(MANAGE, subscriber.id, subscriber.token_key)


def unsubscribe_token(subscriber: Subscriber) -> str:
    """The List-Unsubscribe link: unsubscribes, nothing else."""
    return signed_links.make_token(UNSUBSCRIBE, subscriber.id, subscriber.token_key)


def _subscriber(subscriber_id: int, matches, mismatch: str = GONE) -> Subscriber:
    subscriber = signed_links.find_record(Subscriber, subscriber_id)
    if subscriber is None:
        raise LinkInvalid(GONE, status=404)
    if not matches(subscriber):
        raise LinkInvalid(mismatch, status=404 if mismatch is GONE else 400)
    return subscriber


def read_token(token: str, purpose: str) -> Subscriber:
    """The subscriber a manage or unsubscribe link names; LinkInvalid when it was altered or they are gone."""
    subscriber_id, key = signed_links.read_token(token, purpose)
    return _subscriber(subscriber_id, lambda s: s.token_key == key)


def read_confirm_token(token: str) -> Subscriber:
    """The subscriber a confirmation link names; LinkExpired past its days, LinkInvalid if altered or superseded.

    Only the newest link sent works, and only until it is used; an active
    subscriber's old link opens the page that says so (and changes nothing).
    An unsubscribed address needs a new request: its old link no longer works.
    """
    days = current_app.config["SUBSCRIPTION_CONFIRM_DAYS"]
    expired = f"This confirmation link has expired: links work for {days} days. Subscribe again."
    subscriber_id, nonce = signed_links.read_token(token, CONFIRM, max_age_days=days, expired=expired)
    superseded = "This confirmation link is no longer valid: a newer one was sent, or the address unsubscribed since."
    return _subscriber(subscriber_id, lambda s: s.confirm_nonce == nonce or s.status == ACTIVE, superseded)
