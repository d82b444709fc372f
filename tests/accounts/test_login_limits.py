"""Sign-in attempts are rate-limited per account and per client address.

Each attempt is counted before its password is checked, so no number of parallel
requests gets more password checks than the limit; a right password clears its
account's count, never its address's.
"""

import os
import re
import time
from collections import Counter
from uuid import uuid4

import pytest
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter

from shop.accounts import services
from shop.extensions import limiter
from tests.accounts.helpers import (
    csrf_token_of,
    login,
    post_all_at_once,
    signed_in_user_id,
    text_of,
)
from tests.apps import app_with, dispose, serving
from tests.conftest import STAFF_PASSWORD, skip_or_fail

WRONG = "not the password at all"
HERE = {"REMOTE_ADDR": "10.0.0.5"}
ELSEWHERE = {"REMOTE_ADDR": "10.0.0.6"}


@pytest.fixture(scope="module")
def account_limited(app, database_url):
    """Three failed attempts per account (the address limit stays at TestConfig's 20)."""
    application = app_with(database_url, LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes")
    yield application
    dispose(application)


@pytest.fixture(scope="module")
def address_limited(app, database_url):
    """Five failed attempts per client address."""
    application = app_with(database_url, LOGIN_LIMIT_PER_ADDRESS="5 per 15 minutes")
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


def test_successful_logins_do_not_use_up_the_account_limit(account_limited, db, make_user):
    make_user("sales")
    for _ in range(6):
        client = account_limited.test_client()
        assert login(client, "sales@staff.test", STAFF_PASSWORD, environ_base=HERE).status_code == 302
        assert signed_in_user_id(client) is not None


def test_right_password_clears_the_accounts_count(account_limited, db, make_user):
    """Two typos, a sign-in, then three more typos are allowed: the right password started the count again."""
    make_user("sales")
    client = account_limited.test_client()
    for _ in range(2):
        assert login(client, "sales@staff.test", WRONG, environ_base=HERE).status_code == 401
    assert login(client, "sales@staff.test", STAFF_PASSWORD, environ_base=HERE).status_code == 302
    fail_three_times(account_limited.test_client())
    assert_locked_out(login(client, "sales@staff.test", WRONG, environ_base=HERE))


def test_right_password_does_not_clear_the_address_count(address_limited, db, make_user):
    """Signing in to one's own account must not buy more guesses at other accounts from the same address."""
    make_user("sales")
    client = address_limited.test_client()
    for n in range(3):
        assert login(client, f"guess{n}@staff.test", WRONG, environ_base=HERE).status_code == 401
    assert login(client, "sales@staff.test", STAFF_PASSWORD, environ_base=HERE).status_code == 302
    assert login(client, "guess3@staff.test", WRONG, environ_base=HERE).status_code == 401
    assert_locked_out(login(client, "guess4@staff.test", WRONG, environ_base=HERE))


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


# --- many attempts at once: the count comes before the check --------------------------------------------------------

PARALLEL = 40
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


@pytest.fixture
def password_checks(monkeypatch):
    """The e-mails whose password was checked; each check is slowed so that racing requests overlap."""
    checked = []
    authenticate = services.authenticate  # every password check, known account or not, goes through it

    def counted(email, password):
        checked.append(email)
        time.sleep(0.05)
        return authenticate(email, password)

    monkeypatch.setattr(services, "authenticate", counted)
    return checked


@pytest.fixture
def redis_limits(db, monkeypatch):
    """Rate limits kept in Redis, under a key prefix of this test's own that is deleted afterwards."""
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis at {REDIS_URL} is not reachable: {exc}")
    prefix = f"cellshop-test-accounts-{uuid4().hex}"
    storage = RedisStorage(REDIS_URL, key_prefix=prefix)
    # Not limiter.init_app: that would move the one process-wide limiter of every app to Redis for good.
    monkeypatch.setattr(limiter, "_storage", storage)
    monkeypatch.setattr(limiter, "_limiter", FixedWindowRateLimiter(storage))
    yield connection, prefix
    for key in connection.scan_iter(f"{prefix}:*"):
        connection.delete(key)
    connection.close()


def wrong_passwords_at_once(app, email="sales@staff.test") -> Counter:
    with serving(app) as base_url:
        forms = [{"email": email, "password": f"{WRONG} {n}"} for n in range(PARALLEL)]
        return Counter(post_all_at_once(f"{base_url}/login", forms))


def test_parallel_wrong_passwords_for_one_account_get_five_checks(app, committing_db, make_user, password_checks):
    make_user("sales")
    statuses = wrong_passwords_at_once(app)
    assert len(password_checks) == 5
    assert statuses == {401: 5, 429: PARALLEL - 5}


def test_parallel_guesses_at_many_accounts_get_the_address_limit_of_checks(app, committing_db, password_checks):
    with serving(app) as base_url:
        forms = [{"email": f"guess{n}@staff.test", "password": WRONG} for n in range(PARALLEL)]
        statuses = Counter(post_all_at_once(f"{base_url}/login", forms))
    assert len(password_checks) == 20
    assert statuses == {401: 20, 429: PARALLEL - 20}


def test_parallel_wrong_passwords_get_five_checks_with_redis(
    app, committing_db, make_user, password_checks, redis_limits
):
    connection, prefix = redis_limits
    make_user("sales")
    statuses = wrong_passwords_at_once(app)
    assert len(password_checks) == 5
    assert statuses == {401: 5, 429: PARALLEL - 5}
    assert list(connection.scan_iter(f"{prefix}:*"))  # the counts really were kept in Redis


# --- only the form counts as a sign-in ------------------------------------------------------------------------------


NOT_A_FORM = {
    "json": {"json": {"email": "sales@staff.test", "password": STAFF_PASSWORD}},
    "multipart": {
        "data": {"email": "sales@staff.test", "password": STAFF_PASSWORD},
        "content_type": "multipart/form-data",
    },
    "text": {"data": f"email=sales@staff.test&password={STAFF_PASSWORD}", "content_type": "text/plain"},
    "no body": {},
}


@pytest.mark.parametrize("body", NOT_A_FORM.values(), ids=NOT_A_FORM.keys())
def test_sign_in_accepts_only_the_form(live_app, db, make_user, password_checks, body):
    """A JSON body with a valid X-CSRFToken header once signed in, outside the per-account limit."""
    make_user("sales")
    client = live_app.test_client()
    token = csrf_token_of(client.get("/login").text)
    response = client.post("/login", headers={"X-CSRFToken": token}, **body)
    assert response.status_code == 415
    assert "Sign in with the form on this page." in text_of(response)
    assert signed_in_user_id(client) is None
    assert password_checks == []


def test_json_gets_no_second_allowance(live_app, db, make_user):
    make_user("sales")
    client = live_app.test_client()
    token = csrf_token_of(client.get("/login").text)
    for _ in range(5):
        response = client.post("/login", data={"email": "sales@staff.test", "password": WRONG, "csrf_token": token})
        assert response.status_code == 401
    assert_locked_out(client.post("/login", data={"email": "sales@staff.test", "password": WRONG, "csrf_token": token}))
    json_attempt = client.post(
        "/login", json={"email": "sales@staff.test", "password": WRONG}, headers={"X-CSRFToken": token}
    )
    assert json_attempt.status_code == 415
