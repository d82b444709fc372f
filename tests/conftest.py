"""Shared fixtures: app, db, client, runner, query counter, live server and browser.

How a test gets its database
----------------------------
Ask for one of three fixtures (every other fixture that touches the database builds on them):

``db``
    The migrated database, empty, inside a transaction that is rolled back after the test. What the
    test and the app commit only releases a savepoint, so nothing outlives the test and nothing needs
    emptying. Everything in this process (the test, ``client``'s requests, apps made with
    ``tests.apps.app_with``, CLI runs) shares that one connection and sees the test's rows. Ids
    still count on across tests on PostgreSQL (sequences are not rolled back): read ids from rows.
``seeded``
    The same, on a second database that holds the demo data of seeds/, loaded once per session.
``committing_db``
    Real commits on the empty database, seen by every connection: for a test that uses threads or
    a live HTTP server (the browser tests get it through ``live_server``), another process, a second
    engine or connection (locks, timeouts, connection settings) or the migrations. Its tables are
    emptied after the test; with ``seeded`` as well, the seeded database's rows are copied in (and
    committed) first. Ids start from 1.

A thread other than the test's that reaches the database inside a ``db`` or ``seeded`` transaction
gets an error saying to ask for ``committing_db``.

The test body runs in an app context of its own (so it can use ``db.session`` and the factories);
each request through ``client`` (or a ``live_server``) gets a fresh one, as in production, so ``g``
and the signed-in user never carry over from the test or from an earlier request.

Databases: the schema comes from the migrations (``flask db upgrade``), never from ``create_all``,
so every run tests the migrations too: on SQLite by default, on PostgreSQL when TEST_DATABASE_URL
points there. Each pytest-xdist worker builds its own databases, named after TEST_DATABASE_URL's
(``test`` -> ``test_gw0``, ``test_gw0_seeded``), or its own SQLite files.
"""

import functools
import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from shop import create_app
from shop.blog.related import forget_topic_maps
from shop.catalog.index import forget_catalog_indexes
from shop.config import TestConfig, database_engine_options
from shop.extensions import db as _db
from shop.extensions import limiter
from tests.apps import configured, serving, statements_sent

IN_CI = os.environ.get("CI", "").lower() == "true"
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
# The fixtures a test names to say how it uses the database (see the module docstring).
COMMITTING, SEEDED = "committing_db", "seeded"


def skip_or_fail(reason: str):
    """Skip with a reason on a developer's machine; fail in CI, where nothing may be skipped."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must run every test)")
    pytest.skip(reason)


# Building the databases, once per session (and per xdist worker)


def _worker_database(url: str, suffix: str = "") -> str:
    """This worker's PostgreSQL database, named after the one TEST_DATABASE_URL gives, created empty."""
    base = make_url(url)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = "_".join(part for part in (base.database, worker, suffix) if part)
    # Connected to the server's maintenance database: the one named may be the one dropped (without xdist).
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the server is down or the URL is wrong
        skip_or_fail(f"PostgreSQL at TEST_DATABASE_URL is not reachable: {exc.__class__.__name__}: {exc}")
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _migrated(url: str, seeds: bool = False) -> None:
    """Build the schema with the migrations, and load the demo data when ``seeds``."""
    from shop.seeds import load_seeds

    application = create_app(type("Config", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with application.app_context():
        upgrade()
        if seeds:
            load_seeds(SEEDS)
        _db.engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """The empty database the suite runs on: this worker's copy of TEST_DATABASE_URL, or a fresh SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL")
    url = _worker_database(url) if url else f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    _migrated(url)
    return url


@pytest.fixture(scope="session")
def seeded_database_url(database_url, tmp_path_factory) -> str:
    """A database with the demo data loaded: built once, then every ``seeded`` test rolls back its changes."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = _worker_database(url, "seeded")
        _migrated(url, seeds=True)
        return url
    path = tmp_path_factory.mktemp("seeded") / "seeded.db"
    shutil.copyfile(make_url(database_url).database, path)
    url = f"sqlite:///{path}"
    application = create_app(type("Config", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with application.app_context():
        from shop.seeds import load_seeds

        load_seeds(SEEDS)
        _db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def app(database_url):
    """The application, configured for tests, on the empty database."""
    return configured(create_app(type("Config", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_url})))


@pytest.fixture(scope="session")
def seeded_engine(app, seeded_database_url):
    """An engine on the seeded database, set up as the app sets up its own."""
    options = database_engine_options({**app.config, "SQLALCHEMY_DATABASE_URI": seeded_database_url})
    engine = create_engine(seeded_database_url, **options)
    yield engine
    engine.dispose()


# One test's database


def _engine_of(application):
    with application.app_context():
        return _db.engine


@contextmanager
def _rolled_back(engine):
    """Every session of this process works inside one transaction on one connection, rolled back at the end."""
    connection = engine.connect()
    driver = connection.connection.driver_connection
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # pysqlite begins transactions its own way and would commit at the first RELEASE SAVEPOINT:
        # let SQLite see BEGIN and SAVEPOINT as sent (as SQLAlchemy's documentation advises).
        isolation_level, driver.isolation_level = driver.isolation_level, None
    transaction = connection.begin()
    if sqlite:
        connection.exec_driver_sql("BEGIN")
    owner = threading.get_ident()

    def get_bind(session, *args, **kwargs):
        if threading.get_ident() != owner:
            raise RuntimeError(
                "another thread used the database inside the test's transaction, which only the test's "
                "thread may use: a test with threads or a live server asks for the committing_db fixture"
            )
        return connection

    sessions = _db.session.session_factory
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sessions.class_, "get_bind", get_bind)
            # A session's commit releases a savepoint of the test's transaction; its rollback goes back to one.
            patch.setitem(sessions.kw, "join_transaction_mode", "create_savepoint")
            yield connection
    finally:
        transaction.rollback()
        if sqlite:
            driver.isolation_level = isolation_level
        connection.close()


def _empty_tables() -> None:
    """Delete every row, children first, so the next test starts from an empty database."""
    _db.session.rollback()
    for table in reversed(_db.metadata.sorted_tables):
        _db.session.execute(table.delete())
    _db.session.commit()
    _restart_ids()


def _restart_ids() -> None:
    """PostgreSQL: ids from 1 again (a rolled-back transaction leaves its sequences moved on)."""
    if _db.engine.dialect.name == "postgresql":
        _db.session.execute(text("SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'"))
        _db.session.commit()


def _copy_seeded_rows(seeded_engine) -> None:
    """Commit the seeded database's rows into the empty one: the demo data, without loading seeds/ again."""
    _empty_tables()  # the clocks the migrations made
    with seeded_engine.connect() as source:
        for table in _db.metadata.sorted_tables:
            rows = [dict(row) for row in source.execute(table.select()).mappings()]
            if rows:
                _db.session.execute(table.insert(), rows)
    if _db.engine.dialect.name == "postgresql":  # the sequences go on after the copied ids
        for table in _db.metadata.sorted_tables:
            if "id" in table.c and table.c.id.autoincrement in (True, "auto") and table.c.id.primary_key:
                name = f'"{table.name}"'
                sequence = f"pg_get_serial_sequence('{name}', 'id')"
                _db.session.execute(text(f"SELECT setval({sequence}, max(id)) FROM {name} HAVING count(*) > 0"))
    _db.session.commit()


@pytest.fixture
def db(request, app):
    """The database for one test, as the fixtures it names ask (see the module docstring); yields ``db``."""
    names = request.fixturenames
    try:
        if COMMITTING in names:
            with app.app_context():
                _restart_ids()
                if SEEDED in names:
                    _copy_seeded_rows(request.getfixturevalue("seeded_engine"))
                yield _db
                _empty_tables()
                _db.session.remove()
        else:
            engine = request.getfixturevalue("seeded_engine") if SEEDED in names else _engine_of(app)
            with _rolled_back(engine), app.app_context():
                yield _db
                _db.session.remove()
    finally:
        limiter.reset()  # rate-limit counters live in memory in tests
        # The facet index follows the catalog clock by recency; a rolled-back or emptied database sets it back.
        forget_catalog_indexes()
        forget_topic_maps()


@pytest.fixture
def seeded(db):
    """The demo catalog and blog from seeds/, as ``flask seed`` loads them (see the module docstring)."""
    return db


@pytest.fixture
def committing_db(db):
    """Real commits, seen by every connection and thread; tables emptied after (see the module docstring)."""
    return db


@pytest.fixture
def client(app, db):
    """A test client; each request runs in a context of its own (``tests.apps.VisitorClient``)."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the app's CLI commands."""
    return app.test_cli_runner()


class QueryCounter:
    """Counts the SQL statements the app sends while it is active."""

    def __init__(self, statements: list[str]):
        self.statements = statements

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
        with statements_sent() as statements:
            yield QueryCounter(statements)

    return counting


@pytest.fixture(scope="session")
def live_app(database_url):
    """The app as the browser sees it: same database, CSRF protection on as in production."""
    config = {"SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": True}
    return configured(create_app(type("Config", (TestConfig,), config)))


@pytest.fixture
def live_server(live_app, committing_db):
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


def sign_in_with_the_form(page, email: str, lands_on) -> None:
    """In the browser: fill the sign-in form the page shows, send it, and wait to land on ``lands_on``
    (a URL glob or pattern)."""
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lands_on)


STAFF_PASSWORD = "correct horse battery staple"


@functools.cache
def _password_hash(password: str) -> str:
    """A real scrypt hash, made once per password and at a test's cost (2^10 rounds, where production's is
    2^15), so the ~200 tests that sign in check passwords in milliseconds, not a tenth of a second each."""
    return generate_password_hash(password, method="scrypt:1024:8:1")


@pytest.fixture
def make_user(db):
    """Create a staff user: ``make_user("sales")`` or ``make_user("admin", email=...)``."""
    from shop.accounts.models import User

    def make(role: str = "admin", email: str | None = None, password: str = STAFF_PASSWORD, active: bool = True):
        user = User(email=email or f"{role}@staff.test", name=role.title(), role=role, active=active)
        user.password_hash = _password_hash(password)
        user.end_sessions()  # as set_password does
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
