"""The signed link a researcher follows an inquiry by, without an account.

A token names the inquiry's id and its random ``token_key``, signed with
SECRET_KEY (itsdangerous, a salt of its own): no one can make one by guessing,
and an altered one fails its signature.
"""

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from shop.extensions import db
from shop.inquiries.models import Inquiry

SALT = "inquiry-status"
MAX_TOKEN_LENGTH = 200


class LinkInvalid(Exception):
    """The link was altered or cut short (400), or its inquiry is gone (404)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def status_token(inquiry: Inquiry) -> str:
    """The token of the inquiry's status link."""
    return _serializer().dumps([inquiry.id, inquiry.token_key])


def read_status_token(token: str) -> Inquiry:
    """The inquiry a status link names; LinkInvalid for anything else."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise LinkInvalid("This link is not complete. Open it from the e-mail again, or copy all of it.")
    try:
        inquiry_id, key = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        raise LinkInvalid("This link was changed or cut short. Open it from the e-mail again.") from None
    inquiry = db.session.get(Inquiry, inquiry_id) if isinstance(inquiry_id, int) and 0 < inquiry_id < 2**31 else None
    if inquiry is None or inquiry.token_key != key:
        raise LinkInvalid("We can't find this inquiry any more.", status=404)
    return inquiry
