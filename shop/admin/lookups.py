"""Search-as-you-type lookups for the relations in staff forms, so no form lists a whole table.

Flask-Admin's ``form_ajax_refs`` turn a relation into a text box that select2
(Flask-Admin's own static JS) fills from ``<view>/ajax/lookup/?name=…&query=…``.
Here a record is named by its natural key (a product's catalog number, a
donor's code) rather than its id: the box holds that key, so without
JavaScript staff can still type it, and the form posts the same either way.
"""

from flask import abort, jsonify, request
from flask_admin import expose
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.model.fields import AjaxSelectField
from sqlalchemy import or_, select

from shop.extensions import db
from shop.urls import small_index

# select2 (flask_admin/static/admin/js/form.js) asks for 10 at a time and offers "more" when 10 come back.
LOOKUP_RESULTS = 10
MAX_LOOKUP_TERM = 100
# Ten pages of suggestions; beyond that, typing more finds it sooner than scrolling (and an OFFSET is a scan).
MAX_LOOKUP_OFFSET = 100
NOT_A_CHOICE = "Not a valid choice"  # AjaxSelectField's message for a value that names no record

# A text box, not Flask-Admin's hidden input: without JavaScript staff type the key into it.
LOOKUP_WIDGET_ARGS = {"type": "text"}


class NaturalKeyLoader(QueryAjaxModelLoader):
    """Finds records whose ``fields`` contain the typed text; names each by its ``key`` column."""

    def __init__(self, name: str, model, key: str, fields: tuple[str, ...], what: str, several: bool = False):
        placeholder = f"Type part of the {what}"
        super().__init__(name, db, model, fields=list(fields), placeholder=placeholder, minimum_input_length=1)
        self.key = key
        self.what = what
        self.several = several

    @property
    def field_args(self) -> dict:
        """The field's form_args: a description saying what to type, with or without JavaScript."""
        exact = f"the exact {self.what.split(' or ')[0]}" + (" of each, comma-separated" if self.several else "")
        return {"description": f"Type part of the {self.what} and pick from the list (without JavaScript: {exact})."}

    def not_found(self, typed: str) -> str:
        """The message for a key that names no record."""
        return f"Nothing found for “{typed[:MAX_LOOKUP_TERM]}”: type part of the {self.what} and pick from the list."

    def format(self, model):
        """(key, label) of a record, for select2 and the text box's value."""
        if model is None:
            return None
        return getattr(model, self.key), str(model)

    def get_one(self, pk):
        """The record whose key is ``pk`` as typed or upper-cased (keys are stored upper-case); None if none."""
        key = (pk or "").strip()
        if not key or len(key) > MAX_LOOKUP_TERM:
            return None
        column = getattr(self.model, self.key)
        with db.session.no_autoflush:  # Flask-Admin calls this while it fills the model
            return db.session.scalar(select(self.model).where(column.in_({key, key.upper()})))

    def get_list(self, term: str, offset: int = 0, limit: int = LOOKUP_RESULTS):
        """One page of the records that match ``term``, in the order of their key."""
        query = select(self.model).where(self.matching(term)).order_by(getattr(self.model, self.key))
        return db.session.scalars(query.offset(offset).limit(limit)).all()

    def matching(self, term: str):
        """The condition: a field contains ``term`` (% and _ match themselves). A scan: for small tables."""
        return or_(*(getattr(self.model, name).icontains(term, autoescape=True) for name in self.fields))


class BoundedLookups:
    """Mixin for model views: Flask-Admin's lookup endpoint, with its arguments checked and its answer bounded.

    Flask-Admin's own takes any ``limit`` (and so returns any number of rows), an
    ``offset`` the database refuses when negative, and a missing query as the text "None".
    """

    def validate_form(self, form) -> bool:
        """Flask-Admin's check; a lookup box naming no record says what to type instead of "Not a valid choice"."""
        valid = super().validate_form(form)
        for field in form:
            if isinstance(field, AjaxSelectField) and field.errors and isinstance(field.loader, NaturalKeyLoader):
                typed = ", ".join(field.raw_data or [])
                field.errors = [field.loader.not_found(typed) if e == NOT_A_CHOICE else e for e in field.errors]
        return valid

    @expose("/ajax/lookup/")
    def ajax_lookup(self):
        """Up to LOOKUP_RESULTS [key, label] pairs for the typed text, as JSON."""
        loader = self._form_ajax_refs.get(request.args.get("name", ""))
        if loader is None:
            abort(404, description="There is no such lookup on this page.")
        term = request.args.get("query", "").strip()
        if len(term) > MAX_LOOKUP_TERM:
            abort(400, description=f"Type at most {MAX_LOOKUP_TERM} characters to search.")
        offset = small_index(request.args.get("offset"))
        limit = small_index(request.args.get("limit"))
        if offset is None or limit is None or offset > MAX_LOOKUP_OFFSET:
            abort(400, description="The offset and limit must be small whole numbers.")
        if not term:
            return jsonify([])
        found = loader.get_list(term, offset, min(limit or LOOKUP_RESULTS, LOOKUP_RESULTS))
        return jsonify([loader.format(record) for record in found])
