"""``flask users ...``: staff accounts from the command line."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from shop.accounts import services
from shop.accounts.roles import ROLES
from shop.audit import acting_as
from shop.extensions import db

users_cli = AppGroup("users", help="Create staff accounts, set passwords, deactivate accounts.")

DEMO_STAFF = (
    ("admin@cellshop.example", "admin", "Ada Admin"),
    ("marketing@cellshop.example", "marketing", "Mara Marketing"),
    ("sales@cellshop.example", "sales", "Sam Sales"),
)


def _ask_password() -> str:
    while True:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        problem = services.check_password_strength(password)
        if not problem:
            return password
        click.echo(problem, err=True)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(sorted(ROLES)), required=True, help="What the account may do.")
@click.option("--name", default="", help="The person's name.")
@click.option("--generate", is_flag=True, help="Generate a password and print it instead of asking for one.")
def create_user_command(email: str, role: str, name: str, generate: bool) -> None:
    """Create a staff account; asks for the password (or --generate prints a new one)."""
    password = services.generate_password() if generate else _ask_password()
    with acting_as("cli: flask users create"):
        try:
            user = services.create_user(email, role, password, name)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Created {user.email} ({role}).")
    if generate:
        click.echo(f"Password: {password}")


def _existing(email: str):
    user = services.find_user(email)
    if user is None:
        raise click.ClickException(f"No user with the e-mail {email}.")
    return user


@users_cli.command("set-password")
@click.argument("email")
@click.option("--generate", is_flag=True, help="Generate a password and print it instead of asking for one.")
def set_password_command(email: str, generate: bool) -> None:
    """Set a new password for a staff account."""
    user = _existing(email)
    password = services.generate_password() if generate else _ask_password()
    with acting_as("cli: flask users set-password"):
        user.set_password(password)
        db.session.commit()
    click.echo(f"Password changed for {user.email}.")
    if generate:
        click.echo(f"Password: {password}")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_command(email: str) -> None:
    """Stop an account from signing in (it is kept for the audit log)."""
    user = _existing(email)
    with acting_as("cli: flask users deactivate"):
        user.active = False
        db.session.commit()
    click.echo(f"Deactivated {user.email}.")


@users_cli.command("list")
def list_command() -> None:
    """List staff accounts."""
    from sqlalchemy import select

    from shop.accounts.models import User

    for user in db.session.scalars(select(User).order_by(User.email)):
        state = "active" if user.active else "deactivated"
        click.echo(f"{user.email:40} {user.role:10} {state}")


@users_cli.command("demo")
def demo_command() -> None:
    """Create one demo account per role for local use, and print their logins.

    Passwords are generated on first use and kept in instance/demo-logins.txt,
    so no password is written in the code. Never run this in production.
    """
    logins = Path(current_app.instance_path) / "demo-logins.txt"
    known = _read_logins(logins)
    with acting_as("cli: flask users demo"):
        for email, role, name in DEMO_STAFF:
            user = services.find_user(email)
            if user is None or email not in known:
                known[email] = services.generate_password()
                if user is None:
                    services.create_user(email, role, known[email], name)
                else:
                    user.set_password(known[email])
                    db.session.commit()
    logins.parent.mkdir(parents=True, exist_ok=True)
    logins.write_text("".join(f"{email} {password}\n" for email, password in known.items()), encoding="utf-8")
    logins.chmod(0o600)
    click.echo("Staff sign-in at /login (demo accounts, one per role):")
    for email, role, _ in DEMO_STAFF:
        click.echo(f"  {role:10} {email:30} password: {known[email]}")


def _read_logins(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split(" ", 1) for line in path.read_text(encoding="utf-8").splitlines() if " " in line)
    return dict(pairs)
