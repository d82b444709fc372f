"""Requests for a quote: the basket, inquiries, the sales workflow, quotes, and lots held for accepted quotes."""

from flask import Flask

from shop.mail import worker


def expire_due_quotes() -> int:
    """Outbox worker job: quotes past their validity expire (their researchers are told); commits."""
    from shop.extensions import db
    from shop.inquiries.services import expire_quotes

    expired = expire_quotes()
    db.session.commit()
    return expired


def init_app(app: Flask) -> None:
    """Give the outbox worker the expiry round, and the CLI its ``flask inquiries`` commands."""
    from shop.inquiries.cli import inquiries_cli

    worker.register_job(expire_due_quotes)
    app.cli.add_command(inquiries_cli)
