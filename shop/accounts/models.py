"""The staff User."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, validates
from werkzeug.security import check_password_hash, generate_password_hash

from shop.accounts.roles import ROLES, role_permissions
from shop.extensions import db
from shop.models import UTCDateTime, utcnow


class User(UserMixin, db.Model):
    """A member of staff who signs in to the back office."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(20), default="sales")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Moved on by logout and password changes: a session signed in with an older value has ended.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @validates("email")
    def _normalise_email(self, key: str, value: str) -> str:
        return value.strip().lower()

    @validates("role")
    def _known_role(self, key: str, value: str) -> str:
        if value not in ROLES:
            raise ValueError(f"Unknown role {value!r}; choose one of {', '.join(ROLES)}.")
        return value

    def set_password(self, password: str) -> None:
        """Store a salted scrypt hash of the password (never the password); ends every session."""
        self.password_hash = generate_password_hash(password)
        # The one place every password change goes through: the form, the back office, the CLI.
        self.end_sessions()

    def end_sessions(self) -> None:
        """Move the session version on: every session signed in before now no longer loads."""
        self.session_version = (self.session_version or 0) + 1

    def get_id(self) -> str:
        """Flask-Login: what a session stores, "<id>:<session_version>" (see shop/accounts/sessions.py)."""
        return f"{self.id}:{self.session_version}"

    def check_password(self, password: str) -> bool:
        """True when the password matches the stored hash."""
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        """Deactivated users cannot sign in (Flask-Login reads this)."""
        return self.active

    def can(self, permission: str) -> bool:
        """True when the user's role grants the permission."""
        return self.active and permission in role_permissions(self.role)

    def __str__(self) -> str:
        return self.email
