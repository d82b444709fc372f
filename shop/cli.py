"""``flask`` commands: seeding the demo data."""

import click
from flask import Flask

from shop.seeds import load_seeds


@click.command("seed")
@click.option("--path", default="seeds", show_default=True, help="Folder holding the seed files.")
def seed_command(path: str) -> None:
    """Load the demo catalog from seeds/ (idempotent: running it twice leaves the same rows)."""
    report = load_seeds(path)
    for name, (created, updated) in report.items():
        click.echo(f"{name}: {created} created, {updated} updated")


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    app.cli.add_command(seed_command)
