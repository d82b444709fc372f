"""``flask users ...``: creating accounts, setting passwords, deactivating, and the demo logins."""

import re

import pytest
from sqlalchemy import func, select

from shop.accounts.models import User
from shop.audit import AuditEntry
from tests.accounts.helpers import login, signed_in_user_id
from tests.conftest import STAFF_PASSWORD

GOOD = "a long enough passphrase"


def printed_password(output: str) -> str:
    match = re.search(r"^Password: (\S+)$", output, re.M)
    assert match, output
    return match.group(1)


def user(db, email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def audit(db, email: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.label == email).order_by(AuditEntry.id)))


def test_create_asks_twice_refuses_a_short_password_then_accepts_a_good_one(runner, db):
    answers = f"pw\npw\n{GOOD}\n{GOOD}\n"
    result = runner.invoke(args=["users", "create", "Sam@Staff.test", "--role", "sales"], input=answers)
    assert result.exit_code == 0, result.output
    assert "Use at least 12 characters." in result.output
    assert result.output.count("Repeat for confirmation") == 2
    assert "Created sam@staff.test (sales)." in result.output
    created = user(db, "sam@staff.test")
    assert created.role == "sales" and created.active
    assert created.check_password(GOOD)
    assert created.password_hash.startswith("scrypt:") and GOOD not in created.password_hash
    assert GOOD not in result.output


def test_create_asks_again_when_the_two_entries_differ(runner, db):
    result = runner.invoke(
        args=["users", "create", "sam@staff.test", "--role", "sales"], input=f"{GOOD}\ntypo {GOOD}\n{GOOD}\n{GOOD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert user(db, "sam@staff.test").check_password(GOOD)


def test_create_refuses_a_repetitive_password(runner, db):
    answers = f"{'a' * 16}\n{'a' * 16}\n{GOOD}\n{GOOD}\n"
    result = runner.invoke(args=["users", "create", "sam@staff.test", "--role", "sales"], input=answers)
    assert "Use a less repetitive password." in result.output
    assert user(db, "sam@staff.test").check_password(GOOD)


def test_create_with_generate_prints_a_password_that_signs_in(runner, db, client):
    result = runner.invoke(args=["users", "create", "ada@staff.test", "--role", "admin", "--name", "Ada", "--generate"])
    assert result.exit_code == 0, result.output
    password = printed_password(result.output)
    assert len(password) >= 12
    created = user(db, "ada@staff.test")
    assert created.name == "Ada" and created.role == "admin"
    assert login(client, "ada@staff.test", password).status_code == 302
    assert signed_in_user_id(client) == str(created.id)


def test_create_refuses_a_duplicate_email(runner, db, make_user):
    make_user("sales", email="sam@staff.test")
    result = runner.invoke(args=["users", "create", "SAM@staff.test", "--role", "admin", "--generate"])
    assert result.exit_code != 0
    assert "A user with the e-mail sam@staff.test already exists." in result.output
    assert "Password:" not in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert user(db, "sam@staff.test").role == "sales"


def test_create_refuses_an_unknown_role(runner, db):
    result = runner.invoke(args=["users", "create", "boss@staff.test", "--role", "boss", "--generate"])
    assert result.exit_code != 0
    assert "boss" in result.output
    assert user(db, "boss@staff.test") is None


def test_create_needs_a_role(runner, db):
    result = runner.invoke(args=["users", "create", "who@staff.test", "--generate"])
    assert result.exit_code != 0
    assert user(db, "who@staff.test") is None


def test_set_password_generate_replaces_the_old_password(runner, db, make_user, client):
    make_user("sales")
    result = runner.invoke(args=["users", "set-password", "sales@staff.test", "--generate"])
    assert result.exit_code == 0, result.output
    assert "Password changed for sales@staff.test." in result.output
    new = printed_password(result.output)
    assert login(client, "sales@staff.test", STAFF_PASSWORD).status_code == 401
    assert login(client, "sales@staff.test", new).status_code == 302


def test_set_password_asks_for_a_strong_one(runner, db, make_user):
    make_user("sales")
    result = runner.invoke(args=["users", "set-password", "sales@staff.test"], input=f"short\nshort\n{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert "Use at least 12 characters." in result.output
    changed = user(db, "sales@staff.test")
    assert changed.check_password(GOOD) and not changed.check_password(STAFF_PASSWORD)


def test_set_password_for_an_unknown_user_fails(runner, db):
    result = runner.invoke(args=["users", "set-password", "nobody@staff.test", "--generate"])
    assert result.exit_code != 0
    assert "No user with the e-mail nobody@staff.test." in result.output


def test_deactivate_stops_sign_in(runner, db, make_user, client):
    make_user("sales")
    result = runner.invoke(args=["users", "deactivate", "Sales@Staff.test"])
    assert result.exit_code == 0, result.output
    assert "Deactivated sales@staff.test." in result.output
    assert user(db, "sales@staff.test").active is False
    assert login(client, "sales@staff.test", STAFF_PASSWORD).status_code == 401
    assert signed_in_user_id(client) is None


def test_deactivate_an_unknown_user_fails(runner, db):
    result = runner.invoke(args=["users", "deactivate", "nobody@staff.test"])
    assert result.exit_code != 0
    assert "No user with the e-mail nobody@staff.test." in result.output


def test_list_shows_every_account_with_role_and_state(runner, db, make_user):
    make_user("sales")
    make_user("admin", active=False)
    lines = runner.invoke(args=["users", "list"]).output.splitlines()
    assert [line.split() for line in lines] == [
        ["admin@staff.test", "admin", "deactivated"],
        ["sales@staff.test", "sales", "active"],
    ]


def test_cli_changes_are_in_the_audit_log(runner, db):
    runner.invoke(args=["users", "create", "sam@staff.test", "--role", "sales", "--generate"])
    runner.invoke(args=["users", "set-password", "sam@staff.test", "--generate"])
    runner.invoke(args=["users", "deactivate", "sam@staff.test"])
    entries = audit(db, "sam@staff.test")
    assert [(e.actor, e.action) for e in entries] == [
        ("cli: flask users create", "create"),
        ("cli: flask users set-password", "update"),
        ("cli: flask users deactivate", "update"),
    ]
    assert all(e.entity == "user" and e.user_id is None for e in entries)
    assert entries[0].changes["role"] == "sales"
    assert entries[0].changes["password_hash"] == "(hidden)"
    # The new password ended the account's sessions: the log shows the session version moving on.
    assert entries[1].changes == {"password_hash": "(changed)"}
    assert entries[2].changes == {"active": [True, False]}


# --- flask users demo -----------------------------------------------------------------------------------------------

DEMO = {"admin@cellshop.example": "admin", "marketing@cellshop.example": "marketing", "sales@cellshop.example": "sales"}


@pytest.fixture
def demo_runner(app, runner, db, tmp_path, monkeypatch):
    """The runner, with the app's instance folder in a temporary directory."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return runner


def demo_logins(output: str) -> dict[str, tuple[str, str]]:
    """email -> (role, password) as printed by ``flask users demo``."""
    rows = re.findall(r"^\s+(\w+)\s+(\S+@\S+)\s+password: (\S+)$", output, re.M)
    return {email: (role, password) for role, email, password in rows}


def test_demo_creates_one_account_per_role_and_prints_logins(demo_runner, db, tmp_path, client):
    result = demo_runner.invoke(args=["users", "demo"])
    assert result.exit_code == 0, result.output
    printed = demo_logins(result.output)
    assert {email: role for email, (role, _) in printed.items()} == DEMO
    for email, (role, password) in printed.items():
        account = user(db, email)
        assert account.role == role and account.active and account.check_password(password)
    assert login(client, "marketing@cellshop.example", printed["marketing@cellshop.example"][1]).status_code == 302
    saved = (tmp_path / "demo-logins.txt").read_text().split()
    assert all(email in saved and password in saved for email, (_, password) in printed.items())
    assert (tmp_path / "demo-logins.txt").stat().st_mode & 0o777 == 0o600


def test_demo_run_twice_prints_the_same_passwords_and_creates_nothing(demo_runner, db):
    first = demo_runner.invoke(args=["users", "demo"])
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    second = demo_runner.invoke(args=["users", "demo"])
    assert second.exit_code == 0, second.output
    assert demo_logins(second.output) == demo_logins(first.output)
    assert db.session.scalar(select(func.count()).select_from(User)) == 3
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries


def test_demo_is_in_the_audit_log(demo_runner, db):
    demo_runner.invoke(args=["users", "demo"])
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "user")).all()
    assert sorted(e.label for e in entries) == sorted(DEMO)
    assert {(e.actor, e.action) for e in entries} == {("cli: flask users demo", "create")}


def test_a_new_password_may_not_hold_a_nul(runner, db, make_user):
    """The password hash ignores trailing NULs, so "secret\\x00" would also accept "secret"."""
    make_user("sales")
    result = runner.invoke(
        args=["users", "set-password", "sales@staff.test"], input=f"{GOOD}\x00\n{GOOD}\x00\n{GOOD}\n{GOOD}\n"
    )
    assert "A password can't contain a NUL character." in result.output
    assert user(db, "sales@staff.test").check_password(GOOD)
