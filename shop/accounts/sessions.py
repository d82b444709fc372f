"""Staff sessions: whose a session is, and when it ends.

A session names its user as ``"<id>:<session_version>"`` (``User.get_id``).
Logout and a password change move the version on, so every session signed in
before then names a version that no longer exists and loads no one. A session
also ends after ``STAFF_SESSION_IDLE_HOURS`` without a request.
"""

import re
import time

from flask import current_app, flash, g, request, session
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from shop import audit
from shop.accounts.models import User
from shop.extensions import db

# Only the form ``User.get_id`` writes: ASCII digits, no sign, no spaces, no leading zeros.
_SESSION_ID = re.compile(r"([1-9][0-9]{0,9}):([0-9]{1,10})")
# user.id is a 32-bit integer column: PostgreSQL refuses a larger parameter for it.
_MAX_ID = 2**31 - 1
# Session key holding when the signed-in user last made a request (Unix seconds).
LAST_SEEN = "staff_seen_at"
# The stamp is rewritten at most once a minute, so most responses set no cookie.
_RESTAMP_AFTER = 60


def load_session_user(session_id) -> User | None:
    """Flask-Login's user loader: the active user a session names, if its version is current."""
    match = _SESSION_ID.fullmatch(session_id) if isinstance(session_id, str) else None
    if match is None or int(match[1]) > _MAX_ID:
        return None
    user = db.session.get(User, int(match[1]))
    if user is None or not user.active or user.get_id() != session_id:
        return None
    return user


def start_session(user: User) -> None:
    """Sign ``user`` in on a fresh session: nothing from before sign-in is kept, the CSRF token is new."""
    session.clear()  # no value planted before sign-in (session fixation) survives it
    g.pop("csrf_token", None)  # Flask-WTF caches the request's token here
    login_user(user)
    session[LAST_SEEN] = int(time.time())
    generate_csrf()


def end_every_session(user: User) -> None:
    """Sign out here and end every other session of ``user`` (on any device), noted in the sign-in list."""
    user.end_sessions()
    audit.record_sign_in(user, audit.SIGNED_OUT)
    db.session.commit()
    logout_user()


def idle_limit_seconds() -> int:
    """How long a staff session may go without a request."""
    return int(float(current_app.config["STAFF_SESSION_IDLE_HOURS"]) * 3600)


def end_idle_session() -> None:
    """Before each request: sign out staff whose last request is older than the idle limit."""
    if (request.endpoint or "").rsplit(".", 1)[-1] == "static" or not current_user.is_authenticated:
        return
    now = int(time.time())
    seen = session.get(LAST_SEEN)
    # No stamp: a session from before this rule, or one restored from a remember-me cookie
    # (the shop issues none), so it can't show it has been in use.
    if not isinstance(seen, int) or now - seen > idle_limit_seconds():
        logout_user()
        flash(_idle_message(), "info")
        return
    if now - seen >= _RESTAMP_AFTER:
        session[LAST_SEEN] = now


def _idle_message() -> str:
    hours = float(current_app.config["STAFF_SESSION_IDLE_HOURS"])
    span = f"{hours:g} hour{'s' if hours != 1 else ''}"
    return f"You were signed out after {span} without activity. Sign in again to continue."
