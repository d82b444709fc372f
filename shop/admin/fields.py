"""Form fields that read what staff type by the catalog's rules (shop/catalog/rules.py).

So the back office takes exactly the values the CSV import and the seed loader take, and says the
same thing about the ones it refuses: a field is a rule, plus how to show the stored value again.
"""

from collections.abc import Callable

from wtforms import SelectField, StringField
from wtforms.validators import InputRequired
from wtforms.widgets import DateInput

from shop.catalog import rules


def _shown(value) -> str:
    """A stored value as staff would type it: 85.0 as 85, None as nothing."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class RuleField(StringField):
    """A text field whose data is ``rule(typed text)``; a broken rule is the field's error, and what was typed stays."""

    rule: Callable = staticmethod(lambda text: text)
    show: Callable = staticmethod(_shown)

    def process_formdata(self, valuelist):
        """Read the typed text by the rule (WTForms turns the ValueError into the field's message)."""
        if not valuelist:
            return
        try:
            self.data = self.rule(valuelist[0])
        except rules.RuleError as exc:
            self.data = None
            raise ValueError(str(exc)) from None

    def _value(self) -> str:
        return self.raw_data[0] if self.raw_data else self.show(self.data)


def rule_field(rule: Callable, show: Callable = _shown, widget=None) -> type[RuleField]:
    """A RuleField class for ``rule`` (Flask-Admin's ``form_overrides`` take classes, not instances)."""
    attributes = {"rule": staticmethod(rule), "show": staticmethod(show)}
    if widget is not None:
        attributes["widget"] = widget
    return type("RuleField", (RuleField,), attributes)


def product_field(name: str, show: Callable = _shown) -> type[RuleField]:
    """The field for a product's ``name`` (price, catalog number ...): read as the CSV import reads that column."""

    def rule(text: str):
        return rules.product_value(name, text)

    return rule_field(rule, show)


class RuleChoiceField(SelectField):
    """A drop-down that starts on "Choose…" (no value nobody picked), read by a rule like the file's column.

    Flask-Admin's select shows the first choice when the record has none, so a new donor was saved as
    "Female, CMV positive, EBV positive" without anyone choosing it; here an unchosen field is refused.
    """

    rule: Callable = staticmethod(lambda text: text)
    codes: dict = {}
    BLANK = "Choose…"

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.pop("default", None)  # the column's default is nobody's choice either
        kwargs.pop("choices", None)
        validators = [v for v in validators or [] if not isinstance(v, InputRequired)]
        super().__init__(label, validators, choices=[("", self.BLANK), *self.codes.items()], **kwargs)
        self.flags.required = True

    def process_formdata(self, valuelist):
        """The chosen code, read by the rule (an unchosen one is the rule's "required" message)."""
        if not valuelist:
            return
        try:
            self.data = self.rule(valuelist[0])
        except rules.RuleError as exc:
            self.data = None
            raise ValueError(str(exc)) from None

    def pre_validate(self, form):
        """The rule has checked the choice already."""


def choice_field(codes: dict, rule: Callable) -> type[RuleChoiceField]:
    """A RuleChoiceField class over ``codes`` read by ``rule`` (e.g. ``rules.DONOR_RULES["cmv"]``)."""
    return type("RuleChoiceField", (RuleChoiceField,), {"rule": staticmethod(rule), "codes": dict(codes)})


PercentField = rule_field(rules.percentage)
CellCountField = rule_field(rules.cell_count)
HlaTypingField = rule_field(rules.hla_typing, lambda alleles: " ".join(alleles or []))
DonorCodeField = rule_field(rules.donor_code)
DonorAgeField = rule_field(rules.donor_age)
BmiField = rule_field(rules.bmi)
DonationsField = rule_field(rules.donations)
LotNumberField = rule_field(rules.lot_number)
UnitsField = rule_field(rules.units_in_stock)
DateField = rule_field(rules.iso_date, lambda day: day.isoformat() if day else "", DateInput())


def slug_field(max_length: int) -> type[RuleField]:
    """A slug field for a column of ``max_length`` characters."""

    def slug(text: str) -> str:
        return rules.slug(text, max_length)

    return rule_field(slug)
