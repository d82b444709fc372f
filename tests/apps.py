"""Apps with settings of their own, a client that visits them as a browser would, a real HTTP server for one,
and a count of the SQL statements sent: shared by tests that need more than `client`."""

import contextvars
import threading
from contextlib import contextmanager

from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from werkzeug.serving import make_server

from shop import create_app
from shop.config import TestConfig
from shop.extensions import db


class VisitorClient(FlaskClient):
    """A test client whose every request runs as a server runs it: in a context of its own.

    The request shares no app context with the test (nor with earlier requests): it gets its own
    ``g``, Flask-Login user and database session, as in production. Afterwards the test's own
    session forgets what it had loaded (unless it holds unsaved changes), so the test reads what
    the request saved.
    """

    def open(self, *args, **kwargs):
        """Send one request (and its redirects) from an empty context; a streamed body is read in it too."""
        kwargs.setdefault("buffered", True)
        if has_app_context():
            _release_reads(db.session())
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            _forget_loaded(db.session())
        return response


def _release_reads(session) -> None:
    """End the test's open transaction before a request (keeping what it loaded), so that the request's own
    transaction follows it rather than nesting inside it, where the test's rollback would undo the request's."""
    if session.in_transaction() and not (session.new or session.dirty or session.deleted):
        session.expire_on_commit = False
        try:
            session.commit()
        finally:
            session.expire_on_commit = True


def _forget_loaded(session) -> None:
    """Expire every loaded row but its primary key: read again on next use, and a row the request deleted
    still tells its id. (``session.get`` trusts the rows it holds: ask a deleted row's absence with a query.)"""
    if session.new or session.dirty or session.deleted:
        return  # the test's own unsaved changes are kept
    for obj in list(session.identity_map.values()):
        mapper = inspect(obj).mapper
        keys = {mapper.get_property_by_column(column).key for column in mapper.primary_key}
        session.expire(obj, [attr.key for attr in mapper.attrs if attr.key not in keys])


def configured(application):
    """``application`` with the visitor client, for tests."""
    application.test_client_class = VisitorClient
    return application


def app_with(database_url: str, **settings):
    """The shop on the test database with TestConfig plus ``settings`` (e.g. ``TESTING=False`` to draw error pages)."""
    config = type("Config", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_url, **settings})
    return configured(create_app(config))


@contextmanager
def new_request(application, path: str = "/"):
    """A request context of its own (a fresh app context, so a fresh ``g``), as a visitor's next request has."""
    with application.app_context(), application.test_request_context(path):
        yield


def dispose(application) -> None:
    """Close the app's pooled database connections (an app made for a module, once it is done)."""
    with application.app_context():
        db.engine.dispose()


@contextmanager
def serving(application):
    """Serve ``application`` over HTTP on a free local port, a thread per request; yields its base URL."""
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


# The savepoints that a test's transaction (tests/conftest.py ``db``) wraps around each session's work;
# the app sends none of its own, so they are not counted as the app's statements.
TEST_TRANSACTION_STATEMENTS = ("SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ")


@contextmanager
def statements_sent():
    """The SQL statements sent inside the block, by any app and engine of this process."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith(TEST_TRANSACTION_STATEMENTS):
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", record)
