"""The subscribe box (no CSRF token: it sits on cached pages, see shop/same_origin.py) and the choices forms."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectMultipleField, StringField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from shop.email_address import email_address_field
from shop.subscriptions.models import EACH_POST, FREQUENCIES

# The forms the box appears on, as the consent log names them.
FORMS = {"sidebar": "blog sidebar", "home": "home page", "footer": "footer", "page": "subscribe page"}


class TopicsField(SelectMultipleField):
    """Topic checkboxes by slug; what matters is the slugs that exist, so unknown ones are simply left out."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:
        """No "not a valid choice" for a topic deleted since the page was cached: it is left out instead."""


class ChoicesMixin:
    """Topics (all ticked by default) and how often."""

    def set_topics(self, topics) -> None:
        """Offer these topics (slug, name)."""
        self.topics.choices = [(t.slug, t.name) for t in topics]

    def chosen_slugs(self) -> list[str]:
        """The ticked slugs among those offered."""
        offered = {slug for slug, _ in self.topics.choices}
        return [slug for slug in self.topics.data or [] if slug in offered]

    def validate_topics(self, field) -> None:
        """At least one topic, when the form showed the boxes."""
        if field.choices and not self.chosen_slugs():
            raise ValidationError("Tick at least one topic (or all of them).")


class SubscribeForm(ChoicesMixin, FlaskForm):
    """E-mail and topics; ``website`` is a honeypot people never see; ``form`` says which box was used."""

    class Meta:
        csrf = False  # on cached pages; the view checks Origin / Sec-Fetch-Site instead

    email = email_address_field(lowercase=True)
    topics = TopicsField("Topics")
    # Present on forms that show topic boxes; without it (the footer's box) the subscription is to every topic.
    topics_shown = HiddenField()
    website = StringField("Leave this empty")
    form = HiddenField()

    def validate_topics(self, field) -> None:
        """At least one topic, when the form showed the boxes."""
        if self.topics_shown.data and not self.chosen_slugs():
            raise ValidationError("Tick at least one topic (or all of them).")

    @property
    def form_name(self) -> str:
        """Which box was used, as the consent log says it."""
        return FORMS.get(self.form.data or "", "subscribe page")


class ChoicesForm(ChoicesMixin, FlaskForm):
    """Topics and frequency, on the confirmation and preferences pages (CSRF-protected: these pages aren't cached)."""

    topics = TopicsField("Topics")
    frequency = RadioField("How often", choices=list(FREQUENCIES.items()), default=EACH_POST, validate_choice=False)

    def validate_frequency(self, field) -> None:
        """One of the two frequencies (RadioField says so too, in words a reader won't follow)."""
        if field.data not in FREQUENCIES:
            raise ValidationError("Choose how often you want e-mail.")


class ButtonForm(FlaskForm):
    """A button with nothing to fill in (delete): only its CSRF token."""
