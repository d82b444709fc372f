"""Optimistic locking for every record staff edit: a save names the version its form was opened on.

Models with a version column (``version_id_col``) are also guarded by
SQLAlchemy at commit time (the UPDATE names the version it read). A model
without one (the staff User) is versioned by a fingerprint of the fields its
form edits, so a save is still refused once someone else changed them.
"""

import hashlib

from flask import flash, request
from sqlalchemy import inspect
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField

STALE_MESSAGE = (
    "Not saved: someone else changed this record after you opened it. "
    "Open it again to see their changes, then make yours."
)
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

    def update_model(self, form, model) -> bool:
        """Save only if the record is still the version the form was opened on."""
        expected = getattr(form, "expected_version", None)
        problem = refusal(expected.data if expected else None, model, form.data)
        if problem:
            flash(problem, "error")
            return False
        return super().update_model(form, model)

    def handle_view_exception(self, exc):
        """Explain a lost race (the UPDATE matched no row of the version read)."""
        if isinstance(exc, StaleDataError):
            flash(STALE_MESSAGE, "error")
            return True
        return super().handle_view_exception(exc)
