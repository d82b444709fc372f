"""``flask inquiries ...``: chores the outbox worker also does on its rounds."""

import click
from flask.cli import AppGroup

from shop.extensions import db

inquiries_cli = AppGroup("inquiries", help="Inquiries and quotes.")


@inquiries_cli.command("expire")
def expire_command() -> None:
    """Expire quotes whose validity date has passed (the outbox worker does this on every round too)."""
    from shop.inquiries.services import expire_quotes
    from shop.mail.worker import link_context

    total = 0
    with link_context():  # the e-mails' links are built on SITE_URL
        while count := expire_quotes():
            db.session.commit()
            total += count
    click.echo(f"{total} quote(s) expired.")
