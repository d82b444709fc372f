"""Shared fixtures: app, db, client, runner, query counter, live server and browser.

The schema comes from the migrations (``flask db upgrade``), never from
``create_all``, so every run tests the migrations too: on SQLite by default,
on PostgreSQL when TEST_DATABASE_URL points there.
"""

import os
import shutil
from contextlib import contextmanager

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, text

from shop import create_app
from shop.catalog.index import forget_catalog_indexes
from shop.config import TestConfig
from shop.extensions import db as _db
from shop.extensions import limiter
from tests.apps import serving

IN_CI = os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str):
    """Skip with a reason on a developer's machine; fail in CI, where nothing may be skipped."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must run every test)")
    pytest.skip(reason)


def _reset_postgres(url: str) -> None:
    """Drop everything in the test database so the migrations run from scratch."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # the server is down or the URL is wrong
        skip_or_fail(f"PostgreSQL at TEST_DATABASE_URL is not reachable: {exc.__class__.__name__}: {exc}")
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """The database the suite runs on: TEST_DATABASE_URL, or a fresh SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    """The application, configured for tests, with the schema built by the migrations."""

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    application = create_app(Config)
    with application.app_context():
        upgrade()
    return application


def _empty_tables() -> None:
    """Delete every row, children first, so the next test starts from an empty database."""
    _db.session.rollback()
    tables = list(reversed(_db.metadata.sorted_tables))
    if _db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)  # "user" is a reserved word
        _db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            _db.session.execute(table.delete())
    _db.session.commit()


@pytest.fixture
def db(app):
    """The database session inside an app context; every table is emptied after the test."""
    with app.app_context():
        yield _db
        _empty_tables()
        _db.session.remove()
        limiter.reset()  # rate-limit counters live in memory in tests
        # The facet index follows the catalog clock by recency; an emptied database sets the clock back.
        forget_catalog_indexes()


@pytest.fixture
def client(app, db):
    """A test client for requests."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the app's CLI commands."""
    return app.test_cli_runner()


class QueryCounter:
    """Counts the SQL statements the app sends while it is active."""

    def __init__(self):
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        """How many statements were sent."""
        return len(self.statements)


def statements_per_page(client, count_queries, urls) -> dict[str, int]:
    """SQL statements each URL sends, measured on a second request (after a warm-up)."""
    counts = {}
    for url in urls:
        assert client.get(url).status_code == 200, url
        with count_queries() as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url] = queries.count
    return counts


@pytest.fixture
def count_queries(db):
    """A context manager that records the statements sent inside it."""

    @contextmanager
    def counting():
        counter = QueryCounter()

        def record(conn, cursor, statement, parameters, context, executemany):
            counter.statements.append(statement)

        event.listen(_db.engine, "before_cursor_execute", record)
        try:
            yield counter
        finally:
            event.remove(_db.engine, "before_cursor_execute", record)

    return counting


@pytest.fixture(scope="session")
def live_app(app, database_url):
    """The app as the browser sees it: same database, CSRF protection on as in production."""

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        WTF_CSRF_ENABLED = True

    return create_app(Config)


@pytest.fixture
def live_server(live_app, db):
    """The app served over HTTP on a free local port for the browser; yields its base URL."""
    with serving(live_app) as base_url:
        yield base_url


CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium driven by Playwright (skipped, or failed in CI, if missing)."""
    executable = next((p for p in CHROMIUM_PATHS if os.path.exists(p)), None) or shutil.which("chromium")
    if executable is None:
        skip_or_fail("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("Playwright for Python is not installed")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page; ``page.base_url`` is the live server."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


@pytest.fixture
def seeded(db):
    """The demo catalog from seeds/, loaded as ``flask seed`` loads it."""
    from shop.seeds import load_seeds

    load_seeds(os.path.join(os.path.dirname(__file__), "..", "seeds"))
    return db


STAFF_PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_user(db):
    """Create a staff user: ``make_user("sales")`` or ``make_user("admin", email=...)``."""
    from shop.accounts.models import User

    def make(role: str = "admin", email: str | None = None, password: str = STAFF_PASSWORD, active: bool = True):
        user = User(email=email or f"{role}@staff.test", name=role.title(), role=role, active=active)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


class Auth:
    """Sign a test client in and out (the way flaskr's tests do)."""

    def __init__(self, client, make_user):
        self._client = client
        self._make_user = make_user

    def login(self, role: str = "admin", email: str | None = None):
        """Create a user with the role (unless it exists) and sign in; returns the user."""
        from shop.accounts.services import find_user

        email = email or f"{role}@staff.test"
        user = find_user(email) or self._make_user(role, email=email)
        response = self._client.post("/login", data={"email": email, "password": STAFF_PASSWORD})
        assert response.status_code == 302, response.text
        return user

    def logout(self):
        """Sign out."""
        return self._client.post("/logout")


@pytest.fixture
def auth(client, make_user):
    """Sign the ``client`` in as a member of staff: ``auth.login("marketing")``."""
    return Auth(client, make_user)
