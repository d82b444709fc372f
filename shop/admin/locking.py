"""Optimistic locking for every record staff edit: a save names the version its form was opened on.

Models with a version column (``version_id_col``) are also guarded by
SQLAlchemy at commit time (the UPDATE names the version it read). A model
without one (the staff User) is versioned by a fingerprint of the fields its
form edits, so a save is still refused once someone else changed them.

A refused save keeps what was typed and shows, field by field, what the
other person saved beside it; staff keep theirs or take the other's for each
field and save again (the form now names the version they have seen).
"""

import hashlib
from dataclasses import dataclass

from flask import flash, request
from flask_admin.helpers import get_form_data
from flask_admin.model.fields import AjaxSelectField
from sqlalchemy import inspect
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, FileField, HiddenField, PasswordField
from wtforms.csrf.core import CSRFTokenField

STALE_MESSAGE = (
    "Not saved: someone else changed this record after you opened it. "
    "Open it again to see their changes, then make yours."
)
CONFLICT_MESSAGE = (
    "Not saved: someone else changed this record after you opened it. "
    "Their saved values are shown beside yours below: for each field, keep yours or take theirs, then save again."
)
# The radio buttons of the conflict table are named PICK + the field's name, valued "mine" or "theirs".
PICK = "pick-"
SHOWN_CHARACTERS = 300
NO_VERSION_MESSAGE = (
    "Not saved: the form didn't say which version of the record it was opened on. "
    "Open the record again from the list, make your changes and save."
)


def record_version(model, field_names=()) -> str:
    """The version a form shows: the version column, or a fingerprint of the columns the form edits."""
    mapper = inspect(model).mapper
    if mapper.version_id_col is not None:
        return str(getattr(model, mapper.get_property_by_column(mapper.version_id_col).key))
    columns = sorted(name for name in field_names if name in mapper.column_attrs)
    values = repr([(name, getattr(model, name)) for name in columns])
    return hashlib.sha256(values.encode()).hexdigest()[:32]


def refusal(expected: str | None, model, field_names=()) -> str | None:
    """Why a save of ``model`` from a form opened on version ``expected`` must be refused; None to save."""
    if not expected:
        return NO_VERSION_MESSAGE
    if expected != record_version(model, field_names):
        return STALE_MESSAGE
    return None


class OptimisticLock:
    """Mixin for Flask-Admin model views: every edit form carries ``expected_version``; a stale save is refused."""

    def scaffold_form(self):
        """The model's form, plus the hidden version it was opened on."""
        form_class = super().scaffold_form()
        form_class.expected_version = HiddenField()
        return form_class

    def on_form_prefill(self, form, id):
        """On opening the form, show the record and remember its version (a refused save keeps what was typed)."""
        if request.method != "GET":
            return
        model = self.get_one(id)
        form.expected_version.data = record_version(model, form.data)
        self.prefill(form, model)

    def prefill(self, form, model) -> None:
        """Fill the fields the model can't fill by itself (views override this)."""

    edit_template = "admin/locking/edit.html"
    # Fields that are not values of the record (a tick that removes the image ...): never compared.
    conflict_exempt: tuple[str, ...] = ()

    def update_model(self, form, model) -> bool:
        """Save only if the record is still the version the form was opened on; else show what changed."""
        expected = getattr(form, "expected_version", None)
        problem = refusal(expected.data if expected else None, model, form.data)
        if problem == STALE_MESSAGE:
            form.edit_conflicts = conflicts(form, self.saved_form(model), self.conflict_exempt)
            # The next save is made over the version now shown: staff have seen the other person's values.
            expected.data = record_version(model, form.data)
            flash(CONFLICT_MESSAGE if form.edit_conflicts else STALE_MESSAGE, "error")
            return False
        if problem:
            flash(problem, "error")
            return False
        return super().update_model(form, model)

    def saved_form(self, model):
        """The edit form filled from the record as it is saved now, as it opens for someone else."""
        form = self._edit_form_class(formdata=None, obj=model)
        self.prefill(form, model)
        return form

    def edit_form(self, obj=None):
        """The posted form, with the fields ticked "take theirs" set to the saved values (without JavaScript too)."""
        taken = [key.removeprefix(PICK) for key, value in request.form.items() if key.startswith(PICK)]
        taken = [name for name in taken if request.form.get(PICK + name) == "theirs"]
        if obj is None or request.method != "POST" or not taken:
            return super().edit_form(obj)
        saved = self.saved_form(obj)
        formdata = MultiDict(get_form_data().items(multi=True))
        for name in taken:
            if name in saved and name not in self.conflict_exempt:
                formdata.setlist(name, posted_values(saved[name]))
        return self._edit_form_class(formdata, obj=obj)

    def handle_view_exception(self, exc):
        """Explain a lost race (the UPDATE matched no row of the version read)."""
        if isinstance(exc, StaleDataError):
            flash(STALE_MESSAGE, "error")
            return True
        return super().handle_view_exception(exc)


@dataclass(frozen=True)
class Conflict:
    """One field whose saved value differs from the one typed: both as people read them, and as a form posts them."""

    name: str
    label: str
    mine: str
    theirs: str
    mine_posted: str
    theirs_posted: str


def conflicts(typed, saved, exempt=()) -> list[Conflict]:
    """Every field of the ``typed`` form whose value differs from the ``saved`` form's (the record as saved now)."""
    found = []
    for field in typed:
        if _not_a_value(field) or field.name in exempt or field.name not in saved:
            continue
        theirs = saved[field.name]
        if _same(field.data, theirs.data) and not field.errors:
            continue
        mine_posted, theirs_posted = posted_values(field), posted_values(theirs)
        if mine_posted == theirs_posted:
            continue
        found.append(
            Conflict(
                field.name,
                str(field.label.text),
                _readable(field),
                _readable(theirs),
                (mine_posted or [""])[0],
                (theirs_posted or [""])[0],
            )
        )
    return found


def _not_a_value(field) -> bool:
    """Fields that hold no value of the record to compare; a password typed is never written into a page."""
    return isinstance(field, CSRFTokenField | HiddenField | FileField | PasswordField)


def _same(mine, theirs) -> bool:
    """Equal values; text compared without the line endings and edge spaces a browser adds."""
    if isinstance(mine, str) and isinstance(theirs, str):
        return mine.replace("\r\n", "\n").strip() == theirs.replace("\r\n", "\n").strip()
    return mine == theirs


def posted_values(field) -> list[str]:
    """What a browser posts for the field as it stands: the text typed, the chosen option(s), a tick."""
    if isinstance(field, BooleanField):
        return ["y"] if field.data else []
    if isinstance(field, AjaxSelectField):
        formatted = field.loader.format(field.data) if field.data is not None else None
        return [str(formatted[0])] if formatted else [""]
    if hasattr(field, "iter_choices"):
        return [str(choice[0]) for choice in field.iter_choices() if choice[2] and choice[0] not in ("", "__None")]
    return [field._value()]


def _readable(field) -> str:
    """The field's value as people read it: a choice's label, Yes/No, the text (shortened when long)."""
    if isinstance(field, BooleanField):
        return "Yes" if field.data else "No"
    if isinstance(field, AjaxSelectField):
        return "" if field.data is None else str(field.data)
    if hasattr(field, "iter_choices"):
        return ", ".join(str(c[1]) for c in field.iter_choices() if c[2] and c[0] not in ("", "__None"))
    text = field._value()
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 1] + "…"
