"""Signed links mailed to people who have no account: made and read here, for every feature that mails them.

A token names a record's id and a random key kept with the record (or, for a
confirmation link, the nonce of the one link that works), signed with
SECRET_KEY by itsdangerous with a salt per purpose: no one can make one by
guessing, an altered one fails its signature, a link of one purpose opens no
page of another, and a record deleted (or given a new key) makes its links
open nothing, even if its id is used again. Timed tokens (confirmation links)
also expire. The feature looks the record up and says what a mismatch means.
"""

import secrets

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from shop.extensions import db

MAX_TOKEN_LENGTH = 200  # ours are ~70 characters; anything far longer is not one
ALTERED = "This link is incomplete or has been changed. Open it from the e-mail again."
NOT_OURS = "This link is not one of ours."
_LARGEST_ID = 2**31  # an id past what the database holds names no record


class LinkInvalid(Exception):
    """The link was altered, cut short, or names a record that is gone (404 for gone, 400 otherwise)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class LinkExpired(LinkInvalid):
    """A timed link past its days."""

    def __init__(self, message: str):
        super().__init__(message, status=410)


def new_key() -> str:
    """A random key (or nonce) for a record's links: 16 URL-safe characters."""
    return secrets.token_urlsafe(12)


def _signer(purpose: str, timed: bool) -> URLSafeSerializer:
    kind = URLSafeTimedSerializer if timed else URLSafeSerializer
    return kind(current_app.config["SECRET_KEY"], salt=purpose)


def make_token(purpose: str, record_id: int, key: str, *, timed: bool = False) -> str:
    """A link's token naming ``record_id`` and ``key`` for ``purpose``; ``timed`` ones can expire."""
    return _signer(purpose, timed).dumps([record_id, key])


def read_token(token: str, purpose: str, *, max_age_days: int | None = None, expired: str = "") -> tuple[int, str]:
    """(record id, key) of a token made for ``purpose``; LinkInvalid when altered, LinkExpired (with the message
    ``expired``) when a timed token is older than ``max_age_days``."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise LinkInvalid(NOT_OURS)
    timed = max_age_days is not None
    try:
        raw = _signer(purpose, timed).loads(token, **({"max_age": max_age_days * 86400} if timed else {}))
    except SignatureExpired:
        raise LinkExpired(expired) from None
    except BadSignature:
        raise LinkInvalid(ALTERED) from None
    if isinstance(raw, list) and len(raw) == 2 and isinstance(raw[0], int) and isinstance(raw[1], str):
        return raw[0], raw[1]
    raise LinkInvalid(NOT_OURS)


def find_record(model, record_id: int):
    """The record with this id, or None (an id no database holds is simply not found)."""
    return db.session.get(model, record_id) if 0 < record_id < _LARGEST_ID else None
