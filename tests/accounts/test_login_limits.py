"""Failed sign-ins are rate-limited per account and per client address; successful ones are not counted."""

import re

import pytest

from tests.accounts.helpers import build_app, dispose, login, signed_in_user_id, text_of
from tests.conftest import STAFF_PASSWORD

WRONG = "not the password at all"
HERE = {"REMOTE_ADDR": "10.0.0.5"}
ELSEWHERE = {"REMOTE_ADDR": "10.0.0.6"}


@pytest.fixture(scope="module")
def account_limited(app, database_url):
    """Three failed attempts per account (the address limit stays at TestConfig's 20)."""
    application = build_app(database_url, LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes")
    yield application
    dispose(application)


@pytest.fixture(scope="module")
def address_limited(app, database_url):
    """Five failed attempts per client address."""
    application = build_app(database_url, LOGIN_LIMIT_PER_ADDRESS="5 per 15 minutes")
    yield application
    dispose(application)


def fail_three_times(client, email="sales@staff.test", environ=HERE):
    for _ in range(3):
        assert login(client, email, WRONG, environ_base=environ).status_code == 401


def assert_locked_out(response):
    """Refused with 429 and a Retry-After header saying how many seconds to wait."""
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60


def test_fourth_failed_attempt_on_an_account_is_locked_out(account_limited, db, make_user):
    make_user("sales")
    client = account_limited.test_client()
    fail_three_times(client)
    assert_locked_out(login(client, "sales@staff.test", WRONG, environ_base=HERE))


def test_lockout_page_says_why_and_when_to_try_again(account_limited, db, make_user):
    make_user("sales")
    client = account_limited.test_client()
    fail_three_times(client)
    response = login(client, "sales@staff.test", WRONG, environ_base=HERE)
    assert response.status_code == 429
    body = text_of(response)
    assert "Too many failed sign-in attempts" in body
    wait = re.search(r"try again in (\d+) (minutes?)\.", body)
    assert wait and int(wait.group(1)) >= 1
    assert wait.group(2) == ("minute" if wait.group(1) == "1" else "minutes")
    assert 'name="email"' in response.text  # the sign-in form is shown again


def test_right_password_is_refused_while_locked(account_limited, db, make_user):
    make_user("sales")
    client = account_limited.test_client()
    fail_three_times(client)
    assert_locked_out(login(client, "sales@staff.test", STAFF_PASSWORD, environ_base=HERE))
    assert signed_in_user_id(client) is None


def test_account_lock_holds_from_another_address(account_limited, db, make_user):
    make_user("sales")
    fail_three_times(account_limited.test_client())
    assert_locked_out(login(account_limited.test_client(), "sales@staff.test", STAFF_PASSWORD, environ_base=ELSEWHERE))


def test_account_lock_ignores_email_case(account_limited, db, make_user):
    make_user("sales")
    client = account_limited.test_client()
    fail_three_times(client)
    assert_locked_out(login(client, "SALES@staff.test", STAFF_PASSWORD, environ_base=HERE))


def test_successful_logins_do_not_count(account_limited, db, make_user):
    make_user("sales")
    for _ in range(6):
        client = account_limited.test_client()
        assert login(client, "sales@staff.test", STAFF_PASSWORD, environ_base=HERE).status_code == 302
        assert signed_in_user_id(client) is not None


def test_another_account_from_the_same_address_is_not_locked(account_limited, db, make_user):
    make_user("sales")
    marketing = make_user("marketing")
    client = account_limited.test_client()
    fail_three_times(client)
    assert login(client, "sales@staff.test", WRONG, environ_base=HERE).status_code == 429
    response = login(client, "marketing@staff.test", STAFF_PASSWORD, environ_base=HERE)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(marketing.id)


def test_failed_attempts_across_accounts_from_one_address_are_limited(address_limited, db, make_user):
    make_user("admin")
    client = address_limited.test_client()
    for n in range(5):
        assert login(client, f"guess{n}@staff.test", WRONG, environ_base=HERE).status_code == 401
    assert_locked_out(login(client, "guess5@staff.test", WRONG, environ_base=HERE))
    assert_locked_out(login(client, "admin@staff.test", STAFF_PASSWORD, environ_base=HERE))
    assert signed_in_user_id(client) is None


def test_address_limit_leaves_other_addresses_alone(address_limited, db, make_user):
    admin = make_user("admin")
    for n in range(5):
        login(address_limited.test_client(), f"guess{n}@staff.test", WRONG, environ_base=HERE)
    client = address_limited.test_client()
    assert login(client, "admin@staff.test", STAFF_PASSWORD, environ_base=ELSEWHERE).status_code == 302
    assert signed_in_user_id(client) == str(admin.id)
