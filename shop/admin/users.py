"""Staff accounts in the back office (administrators only)."""

from flask_login import current_user
from wtforms import PasswordField, SelectField
from wtforms.validators import Optional, ValidationError

from shop.accounts.roles import role_choices
from shop.accounts.services import check_password_strength
from shop.admin.security import StaffModelView


class UserView(StaffModelView):
    """Create accounts, change roles, deactivate, reset passwords. Accounts are never deleted."""

    view_permission = edit_permission = "users.manage"
    allow_delete = False
    column_list = ("email", "name", "role", "active", "last_login_at", "created_at")
    column_labels = {"last_login_at": "Last sign-in"}
    column_searchable_list = ("email", "name")
    column_filters = ("role", "active")
    column_default_sort = "email"
    column_details_exclude_list = ("password_hash",)
    form_columns = ("email", "name", "role", "active", "new_password")
    form_extra_fields = {
        "role": SelectField("Role", choices=role_choices()),
        "new_password": PasswordField(
            "New password", description="At least 12 characters. Leave empty to keep the current one."
        ),
    }
    form_args = {"email": {"filters": [lambda v: (v or "").strip().lower()]}}

    def validate_form(self, form):
        """A new account needs a password; a password must be strong enough."""
        valid = super().validate_form(form)
        if not hasattr(form, "new_password"):
            return valid
        password = form.new_password.data or ""
        if password:
            problem = check_password_strength(password)
            if problem:
                form.new_password.errors = [*form.new_password.errors, problem]
                return False
        return valid

    def on_model_change(self, form, model, is_created):
        """Hash a new password; never let admins lock themselves out."""
        password = form.new_password.data or ""
        if is_created and not password:
            raise ValidationError("Give the new account a password (at least 12 characters).")
        if password:
            model.set_password(password)
        if model.id == current_user.id and (not model.active or not model.can("users.manage")):
            raise ValidationError("You can't deactivate yourself or remove your own administrator role.")

    def prefill(self, form, model):
        """Passwords are never shown."""
        form.new_password.data = ""


UserView.form_args["new_password"] = {"validators": [Optional()]}
