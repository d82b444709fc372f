"""``flask`` commands: seeding the demo data, and each feature's group (users, catalog, blog, outbox)."""

import click
from flask import Flask

from shop.audit import acting_as


@click.command("seed")
@click.option("--path", default="seeds", show_default=True, help="Folder holding the seed files.")
def seed_command(path: str) -> None:
    """Load the demo catalog from seeds/ (idempotent: running it twice leaves the same rows)."""
    from shop.seeds import load_seeds  # and YAML: only this command reads it, no web worker

    with acting_as("cli: flask seed"):
        report = load_seeds(path)
    for name, tally in report.items():
        click.echo(f"{name}: {tally}")


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    from shop.accounts.cli import users_cli
    from shop.blog.cli import blog_cli
    from shop.catalog.cli import catalog_cli
    from shop.mail.cli import outbox_cli

    app.cli.add_command(seed_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(catalog_cli)
    app.cli.add_command(blog_cli)
    app.cli.add_command(outbox_cli)
