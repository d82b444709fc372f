"""Fixtures for the staff-account tests.

Requests to the session ``app`` reuse the app context that the ``db`` fixture
pushed, so ``g`` (and Flask-Login's cached user) would leak from one request to
the next. ``site`` is a separate app, so every request gets a fresh context as
in production, and whether a client is signed in depends on its cookie alone.
"""

import pytest

from tests.accounts.helpers import build_app, dispose


@pytest.fixture(scope="session")
def site(app, database_url):
    """The shop as configured for tests (CSRF off), with a fresh app context per request."""
    application = build_app(database_url)
    yield application
    dispose(application)


@pytest.fixture
def site_client(site, db):
    """A test client of ``site``; tables are emptied after the test."""
    return site.test_client()


@pytest.fixture(scope="session")
def csrf_site(app, database_url):
    """The shop with CSRF protection on, as in production."""
    application = build_app(database_url, WTF_CSRF_ENABLED=True)
    yield application
    dispose(application)
