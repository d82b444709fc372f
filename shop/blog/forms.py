"""The post editor's form."""

from datetime import UTC

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import func, select
from wtforms import DateTimeLocalField, HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from shop.blog.models import Post, Topic
from shop.blog.services import MAX_BODY_LENGTH, slugify
from shop.catalog.models import Product
from shop.extensions import db
from shop.models import utcnow
from shop.text import strip_control_characters
from shop.urls import SLUG_MESSAGE, is_slug


class CheckboxList(SelectMultipleField):
    """Several choices as a list of checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PostForm(FlaskForm):
    """Everything an editor sets on a post; ``action`` says what the submit button asked for."""

    title = StringField("Title", validators=[DataRequired("Give the post a title."), Length(max=200)])
    slug = StringField(
        "Address (slug)",
        description="The end of the post's URL. Leave empty to make it from the title.",
        validators=[Length(max=200)],  # no Optional(): it would skip validate_slug, which fills it
    )
    summary = TextAreaField(
        "Summary", description="One or two sentences for lists, feeds and search engines.", validators=[Length(max=400)]
    )
    body = TextAreaField("Body (Markdown)")
    topics = CheckboxList("Topics", coerce=int, validate_choice=False)
    new_topics = StringField("New topics", description="Comma-separated, e.g. Gene editing, Manufacturing")
    references = TextAreaField("References", description="One per line; Markdown links and *italics* allowed.")
    related_products = StringField(
        "Related products", description="Catalog numbers, comma-separated, e.g. CT-TC-CD8-CR-25M"
    )
    author_name = StringField("Author as shown", validators=[Length(max=120)])
    cover_image = FileField("Cover image", description="JPEG, PNG or WebP, at least 200 × 200 px, at most 8 MB.")
    cover_alt = StringField(
        "Cover image description (alt text)",
        description="What the image shows, for readers who can't see it. Required with a cover image.",
        validators=[Length(max=300)],
    )
    publish_at = DateTimeLocalField("Publish at (UTC)", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    # A cover chosen on a try that was refused (say, for a missing title): stored already, named here
    # (signed, see shop/admin/posts.py), so the editor need not choose the file again.
    pending_cover = HiddenField()
    expected_version = HiddenField()
    action = HiddenField()

    def __init__(self, *args, post: Post | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.post = post
        self.topics.choices = [(t.id, t.name) for t in db.session.scalars(select(Topic).order_by(Topic.name))]

    def validate_body(self, field) -> None:
        """Say how long is too long (the Length validator's own message is terse)."""
        if len(field.data or "") > MAX_BODY_LENGTH:
            raise ValidationError(
                f"The body is too long: {len(field.data):,} characters; at most {MAX_BODY_LENGTH:,}. "
                "Split it into several posts."
            )

    def validate_slug(self, field) -> None:
        """A slug is lower-case words and hyphens, and no other post may use it."""
        slug = (field.data or "").strip() or slugify(self.title.data or "")
        if not is_slug(slug):
            raise ValidationError(SLUG_MESSAGE)
        clash = db.session.scalar(select(Post).where(Post.slug == slug, Post.id != (self.post.id if self.post else 0)))
        if clash is not None:
            raise ValidationError(f"Another post already uses this address: “{clash.title}”. Choose another.")
        field.data = slug

    def validate_related_products(self, field) -> None:
        """Every catalog number must exist."""
        numbers = self.catalog_numbers()
        if not numbers:
            return
        found = set(
            db.session.scalars(select(Product.catalog_number).where(func.upper(Product.catalog_number).in_(numbers)))
        )
        missing = [n for n in numbers if n not in {f.upper() for f in found}]
        if missing:
            raise ValidationError(f"No product with catalog number {', '.join(missing)}.")

    def validate_new_topics(self, field) -> None:
        """New topic names must be short."""
        if any(len(name) > 80 for name in self.new_topic_names()):
            raise ValidationError("A topic name can be at most 80 characters.")

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then: scheduling needs a time, in the future.

        (Done here, not in validate_publish_at: the field is optional, and an
        empty optional field skips its own validators.)
        """
        valid = super().validate(extra_validators)
        if self.action.data == "schedule":
            when = self.publish_at.data
            if when is None:
                self.publish_at.errors = [*self.publish_at.errors, "Choose when to publish."]
                return False
            if when.replace(tzinfo=UTC) <= utcnow():
                message = "That time has passed. Choose a time in the future, or publish now."
                self.publish_at.errors = [*self.publish_at.errors, message]
                return False
        return valid

    def validate_cover_alt(self, field) -> None:
        """A cover image always needs a description."""
        saved_cover = self.post is not None and self.post.cover_image
        has_cover = self.uploading_cover() or self.pending_cover.data or saved_cover
        if has_cover and not (field.data or "").strip():
            raise ValidationError("Describe the cover image for readers who can't see it.")

    def uploading_cover(self) -> bool:
        """True when a cover file was chosen on this try."""
        return self.cover_image.data is not None and bool(getattr(self.cover_image.data, "filename", ""))

    def catalog_numbers(self) -> list[str]:
        """The related products' catalog numbers as typed, upper-cased."""
        return [n.strip().upper() for n in (self.related_products.data or "").split(",") if n.strip()]

    def new_topic_names(self) -> list[str]:
        """New topic names as typed."""
        return [n.strip() for n in (self.new_topics.data or "").split(",") if n.strip()]

    def reference_lines(self) -> list[str]:
        """References, one per non-empty line."""
        return [line.strip() for line in (self.references.data or "").splitlines() if line.strip()]


class BodyImageForm(FlaskForm):
    """An image for a post's body: the file and its description, which the Markdown carries as alt text."""

    body_image = FileField("Image", description="JPEG, PNG or WebP, at least 200 × 200 px, at most 8 MB.")
    body_image_alt = StringField(
        "Description (alt text)",
        description="What the image shows, for readers who can't see it.",
        validators=[
            DataRequired("Describe the image for readers who can't see it (alt text)."),
            Length(max=300, message="The description can be at most 300 characters."),
        ],
    )

    def validate_body_image(self, field) -> None:
        """A file must be chosen."""
        if field.data is None or not getattr(field.data, "filename", ""):
            raise ValidationError("Choose an image to upload.")

    def markdown(self, url: str) -> str:
        """The Markdown that shows the image: its description as alt text, with Markdown's brackets escaped."""
        alt = " ".join(strip_control_characters(self.body_image_alt.data or "").split())
        alt = alt.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
        return f"![{alt}]({url})"
