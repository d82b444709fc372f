"""Signed links mailed to subscribers: confirm (expires), manage, unsubscribe. Each purpose has its own salt.

A token names the subscriber's id and ``token_key`` (random, per subscriber),
signed with SECRET_KEY by itsdangerous: no one can make one by guessing, an
altered one fails its signature, and a deleted subscriber's links open
nothing. An unsubscribe link (which mail providers fetch and POST to) can only
unsubscribe: it does not open the preferences or the data export.
"""

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from shop.extensions import db
from shop.subscriptions.models import ACTIVE, Subscriber

CONFIRM, MANAGE, UNSUBSCRIBE = "subscription-confirm", "subscription-manage", "subscription-unsubscribe"
MAX_TOKEN_LENGTH = 200  # ours are ~70 characters; anything far longer is not one


class LinkInvalid(Exception):
    """The link was altered, cut short, or names a subscriber who is gone (404 for gone, 400 otherwise)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class LinkExpired(LinkInvalid):
    """A confirmation link past its days."""

    def __init__(self, message: str):
        super().__init__(message, status=410)


def _signer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=purpose)


def _timed_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRM)


def confirm_token(subscriber: Subscriber) -> str:
    """The link in the confirmation e-mail: valid SUBSCRIPTION_CONFIRM_DAYS, and only the newest one sent."""
    return _timed_signer().dumps([subscriber.id, subscriber.confirm_nonce])


def manage_token(subscriber: Subscriber) -> str:
    """The link to the subscriber's preferences, export and deletion."""
    return _signer(MANAGE).dumps([subscriber.id, subscriber.token_key])


def unsubscribe_token(subscriber: Subscriber) -> str:
    """The List-Unsubscribe link: unsubscribes, nothing else."""
    return _signer(UNSUBSCRIBE).dumps([subscriber.id, subscriber.token_key])


def _payload(raw) -> tuple[int, str]:
    if isinstance(raw, list) and len(raw) == 2 and isinstance(raw[0], int) and isinstance(raw[1], str):
        return raw[0], raw[1]
    raise LinkInvalid("This link is not one of ours.")


ALTERED = "This link is incomplete or has been changed. Open it from the e-mail again."
GONE = "This subscription no longer exists: it may have been deleted."


def _subscriber(subscriber_id: int, matches, mismatch: str = GONE) -> Subscriber:
    subscriber = db.session.get(Subscriber, subscriber_id) if 0 < subscriber_id < 2**31 else None
    if subscriber is None:
        raise LinkInvalid(GONE, status=404)
    if not matches(subscriber):
        raise LinkInvalid(mismatch, status=404 if mismatch is GONE else 400)
    return subscriber


def read_token(token: str, purpose: str) -> Subscriber:
    """The subscriber a manage or unsubscribe link names; LinkInvalid when it was altered or they are gone."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise LinkInvalid("This link is not one of ours.")
    try:
        subscriber_id, key = _payload(_signer(purpose).loads(token))
    except BadSignature:
        raise LinkInvalid(ALTERED) from None
    return _subscriber(subscriber_id, lambda s: s.token_key == key)


def read_confirm_token(token: str) -> Subscriber:
    """The subscriber a confirmation link names; LinkExpired past its days, LinkInvalid if altered or superseded.

    Only the newest link sent works, and only until it is used; an active
    subscriber's old link opens the page that says so (and changes nothing).
    An unsubscribed address needs a new request: its old link no longer works.
    """
    if len(token) > MAX_TOKEN_LENGTH:
        raise LinkInvalid("This link is not one of ours.")
    days = current_app.config["SUBSCRIPTION_CONFIRM_DAYS"]
    try:
        subscriber_id, nonce = _payload(_timed_signer().loads(token, max_age=days * 86400))
    except SignatureExpired:
        raise LinkExpired(f"This confirmation link has expired: links work for {days} days. Subscribe again.") from None
    except BadSignature:
        raise LinkInvalid(ALTERED) from None
    superseded = "This confirmation link is no longer valid: a newer one was sent, or the address unsubscribed since."
    return _subscriber(subscriber_id, lambda s: s.confirm_nonce == nonce or s.status == ACTIVE, superseded)
