"""Sign-in form."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length, ValidationError

from shop.text import has_invisible_characters


class LoginForm(FlaskForm):
    """E-mail and password; ``next`` carries where to go afterwards."""

    # No format check: an address that isn't an account simply doesn't match.
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()

    def validate_email(self, field) -> None:
        """Refuse invisible characters before the address is looked up (the request guard refuses NUL already)."""
        if has_invisible_characters(field.data or ""):
            raise ValidationError("An e-mail address can't contain control characters.")
