"""Apps with settings of their own, and a real HTTP server for one: shared by tests that need more than `client`."""

import threading
from contextlib import contextmanager

from werkzeug.serving import make_server

from shop import create_app
from shop.config import TestConfig


def app_with(database_url: str, **settings):
    """The shop on the test database with TestConfig plus ``settings`` (e.g. ``TESTING=False`` to draw error pages)."""
    return create_app(type("Config", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_url, **settings}))


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
