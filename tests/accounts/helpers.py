"""Helpers for the staff-account tests: apps with their own settings, signing in, reading responses."""

import html

from shop import create_app
from shop.config import TestConfig
from shop.extensions import db as _db


def build_app(database_url: str, **settings):
    """The shop on the test database with TestConfig plus ``settings``."""

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    for key, value in settings.items():
        setattr(Config, key, value)
    return create_app(Config)


def dispose(application) -> None:
    """Close the app's pooled database connections."""
    with application.app_context():
        _db.engine.dispose()


def login(client, email: str, password: str, next_url: str | None = None, **kwargs):
    """POST the sign-in form."""
    data = {"email": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login", data=data, **kwargs)


def signed_in_user_id(client) -> str | None:
    """The user id Flask-Login keeps in the client's session cookie, if any."""
    with client.session_transaction() as session:
        return session.get("_user_id")


def text_of(response) -> str:
    """The response body with HTML entities decoded (``don&#39;t`` -> ``don't``)."""
    return html.unescape(response.text)


def session_cookie(response) -> str:
    """The Set-Cookie header that sets the session cookie."""
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]
