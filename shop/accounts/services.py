"""Account logic: authentication, safe redirects, creating users and passwords."""

import secrets
from urllib.parse import urlsplit

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from shop import audit
from shop.accounts.models import User
from shop.extensions import db
from shop.models import utcnow
from shop.text import has_invisible_characters

MIN_PASSWORD_LENGTH = 12
# HMAC pads keys with zero bytes, so scrypt takes "secret" and "secret\x00" for the same password.
NUL_IN_PASSWORD = "A password can't contain a NUL character."
# Compared against when the e-mail is unknown, so a wrong e-mail costs as
# much time as a wrong password and response times don't reveal accounts.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))


def find_user(email: str) -> User | None:
    """The user with this e-mail address (any case), if any."""
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = find_user(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def record_login(user: User) -> None:
    """Remember when the user last signed in, and add the sign-in to the sign-in list."""
    user.last_login_at = utcnow()
    audit.record_sign_in(user)
    db.session.commit()


def safe_next_url(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    target = target.strip()
    if has_invisible_characters(target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def generate_password() -> str:
    """A random password that is easy to copy (about 100 bits)."""
    return secrets.token_urlsafe(16)


def check_password_strength(password: str) -> str | None:
    """A message saying why the password is too weak, or None when it will do."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(set(password)) < 5:
        return "Use a less repetitive password."
    if "\x00" in password:
        return NUL_IN_PASSWORD
    return None


def create_user(email: str, role: str, password: str, name: str = "") -> User:
    """Create a staff account; raises ValueError with a message when it can't."""
    if find_user(email) is not None:
        raise ValueError(f"A user with the e-mail {email.strip().lower()} already exists.")
    problem = check_password_strength(password)
    if problem:
        raise ValueError(problem)
    user = User(email=email, role=role, name=name)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user
