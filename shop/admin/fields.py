"""Form fields that read what staff type by the catalog's rules (shop/catalog/rules.py).

So the back office takes exactly the values the CSV import and the seed loader take, and says the
same thing about the ones it refuses: a field is a rule, plus how to show the stored value again.
"""

from collections.abc import Callable

from flask import url_for
from flask_admin.form import rules as form_rules
from markupsafe import Markup
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, ValidationError
from wtforms.widgets import DateInput, TextInput

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


def product_field(name: str, show: Callable = _shown, widget=None) -> type[RuleField]:
    """The field for a product's ``name`` (price, catalog number ...): read as the CSV import reads that column."""

    def rule(text: str):
        return rules.product_value(name, text)

    return rule_field(rule, show, widget)


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
        """The rule has checked a posted choice; a field not posted at all is asked of the rule as empty."""
        if self.data is None and not self.process_errors:
            try:
                self.rule("")
            except rules.RuleError as exc:
                raise ValidationError(str(exc)) from None


def choice_field(codes: dict, rule: Callable) -> type[RuleChoiceField]:
    """A RuleChoiceField class over ``codes`` read by ``rule`` (e.g. ``rules.DONOR_RULES["cmv"]``)."""
    return type("RuleChoiceField", (RuleChoiceField,), {"rule": staticmethod(rule), "codes": dict(codes)})


PercentField = rule_field(rules.percentage)
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


# Form layout: sections of fields (Flask-Admin form rules), rendered as fieldsets with a legend.


class Section(form_rules.NestedRule):
    """A titled group of fields: a <fieldset> with a <legend>, so a screen reader names the group too."""

    def __init__(self, title: str, rules_or_fields):
        super().__init__(rules_or_fields)
        self.title = title

    def __call__(self, form, form_opts=None, field_args=None):
        """The fieldset with its fields inside."""
        inner = super().__call__(form, form_opts, field_args)
        slug = self.title.lower().replace(" ", "-")
        return Markup(
            '<fieldset class="form-section mb-4" id="section-{}"><legend class="h5 border-bottom pb-2">{}</legend>{}'
            "</fieldset>"
        ).format(slug, self.title, inner)


class Hidden(form_rules.BaseRule):
    """A hidden field in the ruleset: ``form.hidden_tag()`` renders it already, but Flask-Admin drops fields that
    no rule names (and a form without its expected_version could not be saved)."""

    def __init__(self, field_name: str):
        super().__init__()
        self.field_name = field_name

    @property
    def visible_fields(self) -> list[str]:
        return [self.field_name]

    def __call__(self, form, form_opts=None, field_args=None):
        return Markup("")


class CellCountInput(TextInput):
    """A text box for a cell count that says how it was understood: "10 million" is 10,000,000 (1 × 10⁷).

    The sentence is written on the server from the field's rule; static/js/admin-forms.js asks the
    same rule again (``data-understood-url``) as staff type, so the page never holds a second parser.
    """

    def __call__(self, field, **kwargs):
        """The input, and an <output> with what the typed text was read as."""
        output_id = f"{field.id}-understood"
        kwargs.setdefault("aria-describedby", output_id)
        kwargs["data-understood-url"] = url_for("product.cell_count")
        kwargs["data-understood"] = output_id
        typed = field.raw_data[0] if field.raw_data else ""
        if field.data is not None:
            said = f"Understood as {rules.cell_count_text(field.data)} cells."
        elif typed.strip():
            said = "Not understood: see the message below."
        else:
            said = ""
        return super().__call__(field, **kwargs) + Markup(
            '<output id="{}" for="{}" class="form-text cell-count-understood" aria-live="polite">{}</output>'
        ).format(output_id, field.id, said)


def count_shown(count: int | None) -> str:
    """A stored cell count as staff can read it, and type it back: 25,000,000."""
    return "" if count is None else f"{count:,}"


CellCountField = rule_field(rules.cell_count, count_shown, CellCountInput())
