"""Mail test data: a template of the tests' own, an SMTP server per test, and an app that delivers to it."""

import pytest
from jinja2 import ChoiceLoader, DictLoader

from shop.extensions import db as _db
from shop.mail import queue_email, worker
from tests.apps import app_with
from tests.mail.smtp import SMTPServer

# Mail knows no feature, so its tests mail a template of their own.
TEMPLATES = {
    "emails/test/hello.txt": (
        "{% extends 'emails/layout.txt' %}{% block subject %}Hello {{ name }}{% endblock %}"
        "{% block content %}Dear {{ name }},\n{{ line }}{% endblock %}"
    ),
    "emails/test/hello.html": (
        "{% extends 'emails/layout.html' %}{% block content %}<h1>Dear {{ name }}</h1><p>{{ line }}</p>{% endblock %}"
    ),
}


def add_test_templates(app) -> None:
    """Let ``app`` render the tests' ``test/hello`` e-mail."""
    if not isinstance(app.jinja_env.loader, ChoiceLoader):
        app.jinja_env.loader = ChoiceLoader([DictLoader(TEMPLATES), app.jinja_env.loader])


def mail_app_with(database_url: str, **settings):
    """The shop on the test database with ``settings``, able to render the tests' e-mail."""
    application = app_with(database_url, **settings)
    add_test_templates(application)
    return application


def queue_hellos(count: int, prefix: str = "reader", **kwargs) -> list[int]:
    """Queue ``count`` hello e-mails to reader-N@lab.example and commit; returns their ids."""
    messages = [
        queue_email(f"{prefix}-{n}@lab.example", "test/hello", {"name": f"Reader {n}", "line": "A line."}, **kwargs)
        for n in range(count)
    ]
    _db.session.commit()
    return [m.id for m in messages]


def deliver_on(database_url: str, smtp: SMTPServer, site: str) -> None:
    """What ``flask outbox send-once`` does, delivering to a test's SMTP server, links on ``site`` (a live server)."""
    with mail_app_with(database_url, SMTP_URL=smtp.url, SITE_URL=site, SMTP_TIMEOUT=5).app_context():
        worker.drain()


@pytest.fixture
def templates(app, db):
    """The tests' own ``test/hello`` e-mail, on the session's app."""
    add_test_templates(app)
    return db


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on a free local port, for this test."""
    with SMTPServer() as server:
        yield server


@pytest.fixture
def mail_app(app, database_url, smtp, db):
    """The shop on the test database, delivering to the test's SMTP server; its app context is pushed."""
    application = mail_app_with(database_url, SMTP_URL=smtp.url, SITE_URL="http://shop.example", SMTP_TIMEOUT=5)
    with application.app_context():
        yield application
        _db.session.rollback()
