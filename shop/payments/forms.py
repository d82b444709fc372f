"""The checkout form (CSRF-protected: /checkout is never cached) and the cart's small forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from shop.mail.services import MAX_ADDRESS_LENGTH, InvalidEmail, checked_address
from shop.payments.services import MAX_UNITS_PER_LINE, Buyer
from shop.text import has_invisible_characters

RESEARCH_USE = (
    "I confirm these products are for laboratory research use only: not for use in humans, or for diagnostic or "
    "therapeutic procedures, and handled as potentially infectious."
)


def _plain_text(form, field) -> None:
    """No NUL bytes or other control characters (line breaks are fine in the address)."""
    value = (field.data or "").replace("\r\n", "\n").replace("\n", "")
    if has_invisible_characters(value):
        raise ValidationError("Remove the control characters from this field.")


class CheckoutForm(FlaskForm):
    """Who pays, where the cells go, and the research-use-only acknowledgement."""

    email = EmailField("E-mail (for the receipt)", validators=[DataRequired(), Length(max=MAX_ADDRESS_LENGTH)])
    name = StringField("Your name", validators=[DataRequired(), Length(max=120), _plain_text])
    institution = StringField("Institution", validators=[DataRequired(), Length(max=200), _plain_text])
    shipping_address = TextAreaField("Shipping address", validators=[DataRequired(), Length(max=1000), _plain_text])
    research_use = BooleanField(RESEARCH_USE, validators=[DataRequired("Please confirm research use only.")])

    def validate_email(self, field) -> None:
        """One plain address the outbox can send the receipt to."""
        try:
            field.data = checked_address((field.data or "").strip())
        except InvalidEmail as error:
            raise ValidationError(str(error)) from None

    def buyer(self) -> Buyer:
        """The buyer as the order keeps them."""
        return Buyer(
            email=self.email.data,
            name=self.name.data.strip(),
            institution=self.institution.data.strip(),
            shipping_address=self.shipping_address.data.strip(),
            research_use_acknowledged=bool(self.research_use.data),
        )


class UnitsForm(FlaskForm):
    """A cart line's new number of units (0 removes it)."""

    units = IntegerField(
        "Units",
        validators=[InputRequired("Enter a number of units."), NumberRange(0, MAX_UNITS_PER_LINE)],
    )


class PayForm(FlaskForm):
    """The "Pay by card" button of an accepted quote: only its CSRF token."""
