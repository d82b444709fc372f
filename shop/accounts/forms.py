"""Sign-in form."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length, ValidationError

from shop.accounts.services import NUL_IN_PASSWORD, has_control_characters


class LoginForm(FlaskForm):
    """E-mail and password; ``next`` carries where to go afterwards."""

    # No format check: an address that isn't an account simply doesn't match.
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()

    def validate_email(self, field) -> None:
        """Refuse invisible characters (NUL among them) before the address is looked up in the database."""
        if has_control_characters(field.data or ""):
            raise ValidationError("An e-mail address can't contain control characters.")

    def validate_password(self, field) -> None:
        """Refuse NUL, which no keyboard types and the password hash ignores at the end."""
        if "\x00" in (field.data or ""):
            raise ValidationError(NUL_IN_PASSWORD)
