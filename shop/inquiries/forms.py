"""The researcher's forms (add to the basket, the basket, the inquiry, accept or decline) and sales' forms.

The add-to-basket form sits on cached product and catalog pages, so it has no
CSRF token (the view checks Origin / Sec-Fetch-Site instead, shop/same_origin.py);
every other form is on a page drawn per visitor and carries one. Each text
field has a length limit that matches its column, so nothing is cut or refused
by the database.
"""

from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from shop.catalog import rules
from shop.inquiries.models import (
    DONOR_CMV,
    DONOR_SEX,
    DONOR_SMOKING,
    INSTITUTION_TYPES,
    INTENDED_USES,
    PREFERRED_FORMATS,
    RECURRING,
    STATUSES,
)
from shop.mail.services import MAX_ADDRESS_LENGTH, InvalidEmail, checked_address

MAX_QUANTITY = 1000  # units of one product in one inquiry: more is a typing mistake, and sales will call
MAX_UNITS = 100_000
MAX_TEXT = 5000
QUANTITY_MESSAGE = f"A quantity from 1 to {MAX_QUANTITY:,}."


def _choices(mapping: dict) -> list[tuple[str, str]]:
    return list(mapping.items())


class NoCsrfForm(FlaskForm):
    """A form on a cached page: protected by the same-origin check instead of a token."""

    class Meta:
        csrf = False


class AddToBasketForm(NoCsrfForm):
    """ "Request a quote" on a product page or card, and "Request this lot"; the catalog's donor filters ride along."""

    product_id = IntegerField(validators=[InputRequired("Choose a product."), NumberRange(min=1, max=2**31 - 1)])
    lot_id = IntegerField(validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])
    quantity = IntegerField(
        "Quantity", default=1, validators=[Optional(), NumberRange(min=1, max=MAX_QUANTITY, message=QUANTITY_MESSAGE)]
    )
    preferred_format = SelectField("Format", choices=_choices(PREFERRED_FORMATS), default="", validate_choice=False)
    note = StringField("Note", validators=[Optional(), Length(max=500)])
    # The filters of the catalog page the researcher came from (fill in the donor requirements).
    hla = StringField(validators=[Optional(), Length(max=40)])
    cmv = StringField(validators=[Optional(), Length(max=20)])
    sex = StringField(validators=[Optional(), Length(max=2)])
    age = StringField(validators=[Optional(), Length(max=20)])


class BasketLineForm(FlaskForm):
    """One basket line's quantity (a subform: no token of its own)."""

    class Meta:
        csrf = False

    quantity = IntegerField(
        "Quantity",
        validators=[InputRequired(QUANTITY_MESSAGE), NumberRange(min=1, max=MAX_QUANTITY, message=QUANTITY_MESSAGE)],
    )


class BasketForm(FlaskForm):
    """The basket page: every line's quantity; the button pressed says update, remove N or clear."""

    lines = FieldList(FormField(BasketLineForm), max_entries=50)


def _one_line(limit: int, label: str, required: bool = False):
    checks = [DataRequired(f"Enter your {label}.")] if required else [Optional()]
    return checks + [Length(max=limit, message=f"At most {limit} characters.")]


class InquiryForm(FlaskForm):
    """The inquiry: contact, shipping, use, dates, donor requirements, PO number, notes and the RUO acknowledgement."""

    submit_key = HiddenField()
    website = StringField("Leave this empty")  # a honeypot: people can't see it, bots fill it

    name = StringField("Your name", validators=_one_line(120, "name", True))
    email = EmailField(
        "E-mail", validators=[DataRequired("Enter your e-mail address."), Length(max=MAX_ADDRESS_LENGTH)]
    )
    phone = StringField("Phone", validators=_one_line(40, "phone"))
    institution = StringField("Institution or company", validators=_one_line(200, "institution", True))
    institution_type = SelectField(
        "Type of institution",
        choices=[("", "Choose one")] + _choices(INSTITUTION_TYPES),
        validators=[DataRequired("Choose the type of institution.")],
    )
    department = StringField("Department or lab", validators=_one_line(200, "department"))
    country = StringField("Country", validators=_one_line(80, "country", True))
    shipping_address = TextAreaField("Shipping address", validators=_one_line(1000, "shipping address"))

    # No Optional(): validate_custom_request must run on an empty field.
    custom_request = TextAreaField(
        "What you need", validators=[Length(max=MAX_TEXT, message=f"At most {MAX_TEXT} characters.")]
    )
    intended_use = SelectField(
        "Intended use",
        choices=[("", "Choose one")] + _choices(INTENDED_USES),
        validators=[DataRequired("Choose the intended use.")],
    )
    needed_by = DateField("Needed by", validators=[Optional()])
    recurring = SelectField("Recurring orders", choices=_choices(RECURRING), default="once")

    donor_sex = SelectField("Donor sex", choices=_choices(DONOR_SEX), default="")
    donor_age_min = IntegerField(
        "Donor age from", validators=[Optional(), NumberRange(18, 100, "Donors are 18 to 100.")]
    )
    donor_age_max = IntegerField(
        "Donor age up to", validators=[Optional(), NumberRange(18, 100, "Donors are 18 to 100.")]
    )
    # No Optional() on these two: their validate_ methods turn an empty field into None / "" too.
    donor_bmi_max = StringField("Maximum BMI", validators=[Length(max=10)])
    donor_cmv = SelectField("CMV status", choices=_choices(DONOR_CMV), default="")
    donor_hla = StringField("HLA alleles", validators=[Length(max=200, message="At most 200 characters.")])
    donor_smoking = SelectField("Smoking", choices=_choices(DONOR_SMOKING), default="")
    same_donor = BooleanField("Same donor for repeat orders")
    donor_count = IntegerField(
        "Number of donors", validators=[Optional(), NumberRange(1, 100, "From 1 to 100 donors.")]
    )

    po_number = StringField("PO number", validators=_one_line(60, "PO number"))
    notes = TextAreaField(
        "Notes", validators=[Optional(), Length(max=MAX_TEXT, message=f"At most {MAX_TEXT} characters.")]
    )
    ruo_acknowledged = BooleanField(
        "I understand that research-grade material is for research use only: not for use in humans, or for "
        "diagnostic or therapeutic procedures"
    )

    def __init__(self, *args, ruo_required: bool = True, has_items: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.ruo_required, self.has_items = ruo_required, has_items

    def validate_email(self, field) -> None:
        """One plain address (the outbox's own rule, so the confirmation can be mailed)."""
        try:
            field.data = checked_address((field.data or "").strip())
        except InvalidEmail as problem:
            raise ValidationError(f"That doesn't look like an e-mail address: {problem}") from None

    def validate_needed_by(self, field) -> None:
        """Not in the past."""
        if field.data and field.data < date.today():
            raise ValidationError("The date you need the cells by has passed: choose today or a later date.")

    def validate_donor_age_max(self, field) -> None:
        """An age range that runs forwards."""
        if field.data and self.donor_age_min.data and field.data < self.donor_age_min.data:
            raise ValidationError("The upper age is below the lower one.")

    def validate_donor_bmi_max(self, field) -> None:
        """A BMI as the catalog's rule reads it."""
        try:
            field.data = rules.bmi(field.data or "")
        except rules.RuleError as problem:
            raise ValidationError(str(problem)) from None

    def validate_donor_hla(self, field) -> None:
        """Alleles in the standard nomenclature."""
        try:
            field.data = " ".join(rules.hla_typing(field.data or ""))
        except rules.RuleError as problem:
            raise ValidationError(str(problem)) from None

    def validate_custom_request(self, field) -> None:
        """Without catalog items, the request says what is needed."""
        if not self.has_items and not (field.data or "").strip():
            raise ValidationError("Your basket is empty: describe what you need (cells, quantity, donor criteria).")

    def validate_ruo_acknowledged(self, field) -> None:
        """Required unless every item is GMP grade."""
        if self.ruo_required and not field.data:
            raise ValidationError("Please confirm that research-grade material is for research use only.")


class ContactForm(InquiryForm):
    """A general question: the inquiry form's contact part, and what they want to ask."""


class DecisionForm(FlaskForm):
    """Accept or decline a quote from the status page (the button's value says which)."""

    reason = TextAreaField("Anything we should know (optional)", validators=[Optional(), Length(max=2000)])


# Back office ---------------------------------------------------------------------------------


class StatusForm(FlaskForm):
    """Move an inquiry to another state, with an optional note."""

    status = SelectField("New state", choices=_choices(STATUSES))
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])


class NoteForm(FlaskForm):
    """A note on the timeline."""

    text = TextAreaField("Note", validators=[DataRequired("Write the note."), Length(max=MAX_TEXT)])


class AssignForm(FlaskForm):
    """Who works the inquiry."""

    assignee_id = SelectField("Assignee", choices=[], validate_choice=True)


class QuoteLineForm(FlaskForm):
    """A quote line: description, optional product and lot (by lot number), units, unit price in currency units."""

    class Meta:
        csrf = False

    description = StringField("Description", validators=[Optional(), Length(max=300)])
    product_id = SelectField("Product", choices=[], validate_choice=False)
    lot_number = StringField("Lot", validators=[Optional(), Length(max=40)])
    units = IntegerField("Units", validators=[Optional(), NumberRange(1, MAX_UNITS, f"From 1 to {MAX_UNITS:,} units.")])
    unit_price = StringField("Unit price", validators=[Optional(), Length(max=20)])


class QuoteForm(FlaskForm):
    """The quote editor: lines, currency, lead time, validity date, terms."""

    lines = FieldList(FormField(QuoteLineForm), min_entries=1, max_entries=30)
    currency = StringField("Currency", default="USD", validators=[DataRequired("A currency, like USD."), Length(max=3)])
    lead_time_days = IntegerField(
        "Lead time (business days)", validators=[Optional(), NumberRange(0, 365, "From 0 to 365 days.")]
    )
    valid_until = DateField("Valid until", validators=[DataRequired("The date the quote is valid until.")])
    terms = TextAreaField("Terms", validators=[Optional(), Length(max=MAX_TEXT)])

    def validate_currency(self, field) -> None:
        """A three-letter code (the catalog's rule)."""
        try:
            field.data = rules.currency(field.data or "")
        except rules.RuleError as problem:
            raise ValidationError(str(problem)) from None

    def validate_valid_until(self, field) -> None:
        """Not in the past."""
        if field.data and field.data < date.today():
            raise ValidationError("The validity date has passed: choose today or a later date.")
