"""Access control for every back-office view: a permission to see, another to change.

Anonymous visitors are sent to the sign-in page; signed-in staff whose role
lacks the permission get a 403. Views name permissions (see
shop/accounts/roles.py), never roles.
"""

import math

from flask import abort, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model.form import converts
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import BigInteger
from wtforms import FloatField
from wtforms.validators import NumberRange, ValidationError

from shop.admin.display import HumanDisplay
from shop.admin.form_tokens import FormTokenRecovery, form_token_expired
from shop.admin.locking import OptimisticLock
from shop.admin.lookups import BoundedLookups
from shop.admin.strict_params import INT8_MAX, BoundedFilterConverter, StrictParams
from shop.csv_safety import guard
from shop.urls import INT4_MAX

# Flask-Admin view methods that change data: they need the edit permission.
CHANGING_VIEWS = {"create_view", "edit_view", "delete_view", "action_view", "ajax_update", "import_csv", "refund_view"}


class StaffAccess:
    """Mixin: ``view_permission`` to see the view (None: any staff), ``edit_permission`` to change.

    Both are checked in Flask-Admin's public hook ``is_accessible``, which it asks before every view
    method: a request for one of CHANGING_VIEWS of this view needs the edit permission too.
    """

    view_permission: str | None = None
    edit_permission: str | None = None

    def is_accessible(self) -> bool:
        """Signed in, active, the role grants the view permission, and the edit one for a change."""
        if not current_user.is_authenticated:
            return False
        if self.view_permission is not None and not current_user.can(self.view_permission):
            return False
        return not self._changing() or self._may_change()

    def may_edit(self) -> bool:
        """True when the signed-in user may change what this view shows."""
        return self.is_accessible() and self._may_change()

    def _may_change(self) -> bool:
        return self.edit_permission is not None and current_user.can(self.edit_permission)

    def _changing(self) -> bool:
        """Whether this request is for one of this view's methods that change data."""
        blueprint, _, method = (request.endpoint or "").partition(".")
        return blueprint == self.endpoint and method in CHANGING_VIEWS

    def inaccessible_callback(self, name, **kwargs):
        """Anonymous: to the sign-in page and back. Signed in without the role: 403."""
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        abort(403)


def _finite(form, field) -> None:
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError("Enter a number (not infinity or NaN).")


class ModelConverter(AdminModelConverter):
    """Flask-Admin's converter, plus Float columns, and numbers limited to what their column holds.

    In SQLAlchemy 2.1 ``Float`` no longer derives from ``Numeric``, so
    Flask-Admin 2.2 finds no converter and silently leaves such columns
    (purity, viability, BMI ...) out of every form. And a number beyond the
    column's range reached the database, whose error (SQL included) became
    the page's message.
    """

    @converts("Float")
    def conv_float(self, field_args, **extra):
        """A float column becomes a FloatField that takes finite numbers only."""
        field_args["validators"].append(_finite)
        return FloatField(**field_args)

    @converts("Integer")  # includes BigInteger and SmallInteger
    def handle_integer_types(self, column, field_args, **extra):
        """An integer field refuses numbers its column can't store, next to the field."""
        limit = INT8_MAX if isinstance(column.type, BigInteger) else INT4_MAX
        message = f"A whole number between {-limit - 1:,} and {limit:,}."
        field_args["validators"].append(NumberRange(min=-limit - 1, max=limit, message=message))
        return super().handle_integer_types(column, field_args, **extra)


class AdminForm(FlaskForm):
    """Flask-WTF's form (CSRF as on the rest of the site) that remembers the record it edits.

    Flask-Admin's unique-value check compares against ``form._obj``; its own
    BaseForm sets it, FlaskForm does not.
    """

    def __init__(self, *args, obj=None, **kwargs):
        self._obj = obj
        super().__init__(*args, obj=obj, **kwargs)


class StaffModelView(
    StaffAccess, FormTokenRecovery, StrictParams, OptimisticLock, BoundedLookups, HumanDisplay, ModelView
):
    """A CRUD view whose create, edit and delete follow ``edit_permission``.

    Every edit is optimistically locked, ids and pages are parsed strictly, an
    expired form token shows the form again, relations are looked up as
    staff type, and times, Markdown and search hints read as people expect
    (see the mixins' modules).
    """

    form_base_class = AdminForm
    model_form_converter = ModelConverter
    filter_converter = BoundedFilterConverter()
    allow_create = allow_edit = allow_delete = True
    page_size = 50
    can_set_page_size = True  # among page_size_options (20, 50, 100) only
    # No COUNT(*) over the whole table for the pager: on 100,000 products it cost more than the page.
    simple_list_pager = True
    can_view_details = True

    @property
    def can_create(self) -> bool:
        return self.allow_create and self.may_edit()

    @property
    def can_edit(self) -> bool:
        return self.allow_edit and self.may_edit()

    @property
    def can_delete(self) -> bool:
        return self.allow_delete and self.may_edit()

    def get_export_value(self, model, name):
        """The list-view export's cell, guarded so a spreadsheet does not run it (any view with can_export)."""
        return guard(super().get_export_value(model, name))

    def validate_form(self, form) -> bool:
        """Flask-Admin's check, except nothing validates (so nothing saves) after an expired form token."""
        return not form_token_expired() and super().validate_form(form)


class StaffView(StaffAccess, FormTokenRecovery, BaseView):
    """A custom back-office page; its template draws its own h1 (the shared base then draws none)."""

    draws_own_heading = True


class StaffIndexView(StaffAccess, AdminIndexView):
    """The back-office home, open to every member of staff."""
