"""``flask blog ...``: publishing scheduled posts."""

import click
from flask.cli import AppGroup

from shop.audit import acting_as
from shop.blog.services import publish_due_posts
from shop.extensions import db

blog_cli = AppGroup("blog", help="Blog tasks.")


@blog_cli.command("publish-due")
def publish_due_command() -> None:
    """Mark scheduled posts whose time has come as published and announce them (run it every minute).

    Readers see a scheduled post from its time on without this; it records the
    change and sends the publish notice once.
    """
    with acting_as("cli: flask blog publish-due"):
        posts = publish_due_posts()
        db.session.commit()
    for post in posts:
        click.echo(f"Published {post.slug}")
    click.echo(f"{len(posts)} post(s) published.")
