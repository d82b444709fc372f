"""The e-mail address field of the forms open to anyone: one plain address, which the outbox can then send to."""

from wtforms import EmailField
from wtforms.validators import DataRequired, Length, ValidationError

from shop.mail.services import MAX_ADDRESS_LENGTH, InvalidEmail, checked_address


def mailable(lowercase: bool = False):
    """A WTForms validator: the outbox's own rule for an address (so what is accepted can be mailed), leaving the
    field's data normalised (domain in lower case; all of it with ``lowercase``, for a list keyed by address)."""

    def check(form, field) -> None:
        try:
            address = checked_address((field.data or "").strip())
        except InvalidEmail as problem:
            raise ValidationError(f"That doesn't look like an e-mail address: {problem}") from None
        field.data = address.lower() if lowercase else address

    return check


def email_address_field(label: str = "E-mail address", lowercase: bool = False) -> EmailField:
    """A required e-mail field of at most 254 characters, checked by :func:`mailable`."""
    return EmailField(
        label,
        validators=[
            DataRequired("Enter your e-mail address."),
            Length(max=MAX_ADDRESS_LENGTH, message="An e-mail address has at most 254 characters."),
            mailable(lowercase),
        ],
    )
