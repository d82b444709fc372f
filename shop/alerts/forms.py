"""The catalog's alert box (no CSRF token: it sits on cached pages, see shop/same_origin.py) and the buttons of the
pages behind mailed links (CSRF-protected: those pages are per person, never cached)."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField

from shop.email_address import email_address_field


class AlertForm(FlaskForm):
    """The address to tell, and ``website``, a honeypot people never see. The filters come with it as the catalog
    page's own URL parameters (hidden fields), which the view reads with the catalog's reader."""

    class Meta:
        csrf = False  # on cached pages; the view checks Origin / Sec-Fetch-Site instead

    email = email_address_field(lowercase=True)
    website = StringField("Leave this empty")


class ButtonForm(FlaskForm):
    """A button with nothing to fill in (confirm, stop, delete): its CSRF token, and which alert it is about."""

    alert = HiddenField()
