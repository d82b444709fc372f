"""Ids, pages and bulk-action row ids for the Flask-Admin views, parsed in one place.

Flask-Admin hands ids to the database as the strings it got (PostgreSQL
refuses ``integer = character varying``), parses pages with ``int()`` (which
takes -1 and 10**20), and filters with no range check. Here a malformed
value is a 400, an id that can't exist a 404, never a database error.
"""

from flask import abort, redirect, request
from flask_admin.contrib.sqla.filters import FilterConverter
from flask_admin.helpers import flash_errors, get_redirect_target
from flask_admin.model import filters
from flask_admin.model.filters import BaseIntFilter, BaseIntListFilter
from sqlalchemy import BigInteger

from shop.extensions import db
from shop.urls import INT4_MAX, looks_like_record_id, record_id, small_index

INT8_MAX = 2**63 - 1
# Query parameters Flask-Admin's list, export and details pages read as numbers.
LIST_NUMBERS = ("page", "page_size", "sort", "desc")


def require_record_id(raw: object) -> int:
    """``raw`` as a record id: 400 when it isn't a number, 404 when no record can have it."""
    number = record_id(raw)
    if number is not None:
        return number
    if looks_like_record_id(raw):
        abort(404, description="There is no such record.")
    abort(400, description="The record id in the address or form must be a whole number, e.g. ?id=12.")


def require_list_numbers() -> None:
    """400 unless page, page size, sort column and sort order are small whole numbers."""
    for name in LIST_NUMBERS:
        if any(small_index(raw) is None for raw in request.args.getlist(name)):
            abort(400, description=f"The {name.replace('_', ' ')} in the address must be a whole number, e.g. 2.")


class StrictParams:
    """Mixin for Flask-Admin model views: ids, pages, row ids and action names checked before any query."""

    def get_one(self, id):
        """The record with this id (as Flask-Admin's, with the id parsed and range-checked first)."""
        return db.session.get(self.model, require_record_id(id))

    def _get_list_extra_args(self):
        require_list_numbers()
        return super()._get_list_extra_args()

    def handle_action(self, return_view=None):
        """A bulk action on the ticked rows, their ids parsed as record ids (one 400 for any junk)."""
        ids = [require_record_id(raw) for raw in request.form.getlist("rowid")]
        form = self.action_form()
        if not self.validate_form(form):
            flash_errors(form, message="Failed to perform action. %(error)s")
        else:
            action = form.action.data
            handler = self._actions_data.get(action)
            if handler is None or not self.is_action_allowed(action):
                abort(400, description="There is no such action on this page.")
            response = handler[0](ids)
            if response is not None:
                return response
        return redirect(get_redirect_target() or self.get_url(".index_view"))


def _bounded(filter_class: type) -> type:
    """The filter class, refusing numbers its column can't hold (so the filter is skipped with a message)."""

    class Bounded(filter_class):
        def clean(self, value):
            """The filter's own parsing, then a range check (ValueError: Flask-Admin flashes "invalid")."""
            cleaned = super().clean(value)
            limit = INT8_MAX if isinstance(getattr(self.column, "type", None), BigInteger) else INT4_MAX
            if any(abs(number) > limit for number in (cleaned if isinstance(cleaned, list) else [cleaned])):
                raise ValueError("out of range")
            return cleaned

    Bounded.__name__ = Bounded.__qualname__ = f"Bounded{filter_class.__name__}"
    return Bounded


class BoundedFilterConverter(FilterConverter):
    """Flask-Admin's filters, with integer filters limited to what the column holds."""

    int_filters = tuple(
        _bounded(f) if issubclass(f, (BaseIntFilter, BaseIntListFilter)) else f for f in FilterConverter.int_filters
    )

    @filters.convert("utcdatetime")
    def conv_utc_datetime(self, column, name, **kwargs):
        """UTCDateTime columns (a TypeDecorator Flask-Admin doesn't know) filter as the datetimes they hold."""
        return self.conv_datetime(column, name, **kwargs)
