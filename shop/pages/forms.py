"""The page editor's form."""

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from shop.extensions import db
from shop.pages.models import Page
from shop.pages.services import MAX_BODY_LENGTH, STANDARD_PAGES
from shop.urls import SLUG_MESSAGE, is_slug, slugify


class PageForm(FlaskForm):
    """Everything an editor sets on a page."""

    title = StringField("Title", validators=[DataRequired("Give the page a title."), Length(max=200)])
    slug = StringField(
        "Address (slug)",
        description="The end of the page's address, e.g. lab-services for /pages/lab-services. "
        "Leave empty to make it from the title.",
        validators=[Length(max=80)],
    )
    summary = TextAreaField(
        "Summary",
        description="One or two sentences under the title and for search engines.",
        validators=[Length(max=400)],
    )
    body = TextAreaField("Body (Markdown)")
    published = BooleanField("Shown on the site", default=True)
    expected_version = HiddenField()

    def __init__(self, *args, page: Page | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.page = page

    def validate_body(self, field) -> None:
        """Say how long is too long."""
        if len(field.data or "") > MAX_BODY_LENGTH:
            raise ValidationError(
                f"The body is too long: {len(field.data):,} characters; at most {MAX_BODY_LENGTH:,}. "
                "Split it into several pages."
            )

    def validate_slug(self, field) -> None:
        """A slug is lower-case words and hyphens, unused by another page; a standard page keeps its own."""
        current = self.page.slug if self.page is not None and self.page.id is not None else None
        if current in STANDARD_PAGES:
            if (field.data or current).strip() != current:
                raise ValidationError(f"This page's address is fixed (/{current}): the footer links to it.")
            field.data = current
            return
        slug = (field.data or "").strip() or slugify(self.title.data or "", max_length=80)
        if not is_slug(slug):
            raise ValidationError(SLUG_MESSAGE)
        other = self.page.id if self.page is not None and self.page.id is not None else 0
        clash = db.session.scalar(select(Page).where(Page.slug == slug, Page.id != other))
        if clash is not None:
            raise ValidationError(f"Another page already uses this address: “{clash.title}”. Choose another.")
        field.data = slug
