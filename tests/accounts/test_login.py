"""Signing in and out: credentials, sessions, safe redirects, CSRF and cookies."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from shop.accounts.models import User
from tests.accounts.helpers import (
    login,
    session_cookie,
    signed_in_user_id,
    text_of,
)
from tests.apps import app_with, dispose, statements_sent
from tests.conftest import STAFF_PASSWORD

NO_MATCH = "That e-mail and password don't match an active staff account."


@pytest.fixture
def csrf_client(live_app, db):
    return live_app.test_client()


def csrf_token(html: str) -> str:
    """The value of the first csrf_token hidden input on a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


# --- the form and credentials ---------------------------------------------------------------------------------------


def test_login_page_renders_the_form(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "Staff sign-in" in response.text
    assert 'name="email"' in response.text and 'name="password"' in response.text
    assert 'type="password"' in response.text


def test_login_form_has_a_csrf_token_when_csrf_is_on(csrf_client):
    response = csrf_client.get("/login")
    assert response.status_code == 200
    assert len(csrf_token(response.text)) > 20


def test_right_credentials_sign_in_and_go_to_the_back_office(client, make_user):
    user = make_user("sales")
    response = login(client, "sales@staff.test", STAFF_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert signed_in_user_id(client) == str(user.id)
    dashboard = client.get("/admin/")
    assert dashboard.status_code == 200
    assert "Dashboard" in dashboard.text and "sales@staff.test" in dashboard.text


def test_wrong_password_is_refused_with_401(client, make_user):
    make_user("sales")
    response = login(client, "sales@staff.test", "not the password at all")
    assert response.status_code == 401
    assert NO_MATCH in text_of(response)
    assert signed_in_user_id(client) is None


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client, make_user):
    make_user("sales")
    wrong_password = login(client, "sales@staff.test", "not the password at all")
    unknown_email = login(client, "nobody@staff.test", STAFF_PASSWORD)
    assert unknown_email.status_code == wrong_password.status_code == 401
    assert NO_MATCH in text_of(unknown_email)
    assert signed_in_user_id(client) is None


def test_deactivated_user_cannot_sign_in(client, make_user):
    make_user("admin", active=False)
    response = login(client, "admin@staff.test", STAFF_PASSWORD)
    assert response.status_code == 401
    assert NO_MATCH in text_of(response)
    assert signed_in_user_id(client) is None


def test_deactivating_a_user_ends_their_open_session(client, make_user, db):
    user = make_user("admin")
    assert login(client, "admin@staff.test", STAFF_PASSWORD).status_code == 302
    user.active = False
    db.session.commit()
    response = client.get("/admin/")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


def test_email_is_case_insensitive(client, make_user):
    user = make_user("marketing", email="mara@staff.test")
    response = login(client, "  Mara@STAFF.Test ", STAFF_PASSWORD)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.id)


def test_last_login_at_is_recorded(client, make_user, db):
    user = make_user("sales")
    assert user.last_login_at is None
    before = datetime.now(UTC)
    login(client, "sales@staff.test", STAFF_PASSWORD)
    db.session.expire_all()
    last = db.session.get(User, user.id).last_login_at
    assert last is not None
    assert before - timedelta(seconds=5) <= last <= datetime.now(UTC) + timedelta(seconds=5)


def test_failed_login_does_not_touch_last_login_at(client, make_user, db):
    user = make_user("sales")
    login(client, "sales@staff.test", "not the password at all")
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is None


def test_password_is_stored_as_a_scrypt_hash(make_user, db):
    make_user("sales")
    stored = db.session.scalar(select(User.password_hash).where(User.email == "sales@staff.test"))
    assert stored.startswith("scrypt:")
    assert STAFF_PASSWORD not in stored


# --- where to go after signing in -----------------------------------------------------------------------------------


def test_next_carries_through_the_form_and_returns_there(client, make_user):
    make_user("admin")
    page = client.get("/login?next=/admin/product/")
    assert re.search(r'<input[^>]*name="next"[^>]*value="/admin/product/"', page.text)
    response = login(client, "admin@staff.test", STAFF_PASSWORD, next_url="/admin/product/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/product/"


def test_next_in_the_query_string_alone_is_honoured(client, make_user):
    make_user("admin")
    response = client.post(
        "/login?next=/admin/product/", data={"email": "admin@staff.test", "password": STAFF_PASSWORD}
    )
    assert response.headers["Location"] == "/admin/product/"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil",
        "evil.example",
        "/\t/evil.example",
    ],
)
def test_off_site_next_is_ignored(client, make_user, target):
    make_user("admin")
    response = login(client, "admin@staff.test", STAFF_PASSWORD, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_next_with_a_leading_space_stays_on_site(client, make_user):
    """The code strips the space and keeps the path; either way the redirect must stay on this site."""
    make_user("admin")
    response = login(client, "admin@staff.test", STAFF_PASSWORD, next_url=" /admin/")
    location = urlsplit(response.headers["Location"])
    assert response.status_code == 302
    assert (location.scheme, location.netloc, location.path) == ("", "", "/admin/")


# --- anonymous visitors and signing out -----------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login_and_back(client):
    response = client.get("/admin/product/")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": ["/admin/product/"]}


def test_anonymous_visitor_to_the_dashboard_is_sent_to_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


def test_logout_is_post_only(client, make_user):
    make_user("admin")
    login(client, "admin@staff.test", STAFF_PASSWORD)
    assert client.get("/logout").status_code == 405
    assert signed_in_user_id(client) is not None


def test_logout_ends_the_session(client, make_user):
    make_user("admin")
    login(client, "admin@staff.test", STAFF_PASSWORD)
    assert client.get("/admin/").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302
    assert signed_in_user_id(client) is None
    again = client.get("/admin/")
    assert again.status_code == 302
    assert urlsplit(again.headers["Location"]).path == "/login"


# --- CSRF -----------------------------------------------------------------------------------------------------------


def test_login_without_csrf_token_is_refused(csrf_client, make_user, db):
    user = make_user("admin")
    response = login(csrf_client, "admin@staff.test", STAFF_PASSWORD)
    assert response.status_code == 400
    assert signed_in_user_id(csrf_client) is None
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is None


def test_login_with_csrf_token_from_the_form_works(csrf_client, make_user):
    user = make_user("admin")
    token = csrf_token(csrf_client.get("/login").text)
    response = csrf_client.post(
        "/login", data={"email": "admin@staff.test", "password": STAFF_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert signed_in_user_id(csrf_client) == str(user.id)


def test_logout_needs_the_csrf_token(csrf_client, make_user):
    make_user("admin")
    token = csrf_token(csrf_client.get("/login").text)
    csrf_client.post("/login", data={"email": "admin@staff.test", "password": STAFF_PASSWORD, "csrf_token": token})
    assert signed_in_user_id(csrf_client) is not None
    assert csrf_client.post("/logout").status_code == 400
    assert signed_in_user_id(csrf_client) is not None  # still signed in
    token = csrf_token(csrf_client.get("/admin/").text)
    assert csrf_client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert signed_in_user_id(csrf_client) is None


# --- cookies --------------------------------------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user):
    make_user("admin")
    cookie = session_cookie(login(client, "admin@staff.test", STAFF_PASSWORD))
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"] == "SameSite=Lax"
    assert "secure" not in attributes  # plain TestConfig: not forced to HTTPS


def test_session_cookie_is_secure_when_configured(database_url, db, make_user):
    secure_site = app_with(database_url, SESSION_COOKIE_SECURE=True)
    try:
        make_user("admin")
        client = secure_site.test_client()
        response = login(client, "admin@staff.test", STAFF_PASSWORD, base_url="https://localhost")
        cookie = session_cookie(response)
        parts = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"secure", "httponly", "samesite=lax"} <= parts
    finally:
        dispose(secure_site)


# --- hostile input: a form error, never a 500 (PostgreSQL refuses NUL in text) -------------------------------------

CONTROL_CHARACTERS = "An e-mail address can't contain control characters."
TOO_LONG = "Field cannot be longer than"
# What no keyboard types is refused by the request guard, for every form, before any view runs.
GUARD_REFUSED = "The request contains a control character"
BAD_EMAILS = {
    "NUL at the end": ("admin@staff.test\x00", GUARD_REFUSED),
    "NUL alone": ("\x00", GUARD_REFUSED),
    "NUL inside": ("ad\x00min@staff.test", GUARD_REFUSED),
    "many NULs": ("\x00" * 300, GUARD_REFUSED),
    "SOH": ("admin@staff.test\x01", GUARD_REFUSED),
    "DEL": ("admin@staff.test\x7f", GUARD_REFUSED),
    "escape sequence": ("\x1b[31madmin@staff.test", GUARD_REFUSED),
    # What a textarea may hold passes the guard, and the sign-in form refuses it next to the field.
    "tab inside": ("ad\tmin@staff.test", CONTROL_CHARACTERS),
    "CR LF inside": ("admin@staff.test\r\nBcc: x@y.z", CONTROL_CHARACTERS),
    "right-to-left override": ("admin\u202e@staff.test", CONTROL_CHARACTERS),
    "zero-width space": ("admin\u200b@staff.test", CONTROL_CHARACTERS),
    "too long": ("a" * 250 + "@staff.test", TOO_LONG),
    "huge": ("x" * 200_000, TOO_LONG),
}


@pytest.mark.parametrize("email, message", BAD_EMAILS.values(), ids=BAD_EMAILS.keys())
def test_a_hostile_email_is_refused_before_any_lookup(app, client, make_user, email, message):
    make_user("admin")
    with statements_sent() as statements:
        response = login(client, email, STAFF_PASSWORD)
    assert response.status_code == 400
    assert message in text_of(response)
    if message != GUARD_REFUSED:
        assert 'name="email"' in response.text  # the form is shown again, with the message by the field
    assert not [s for s in statements if "user" in s]  # the address was never looked up
    assert signed_in_user_id(client) is None


NO_MATCH_NOTE = "don't match an active staff account"
BAD_PASSWORDS = {
    # The password hash (HMAC inside scrypt) ignores trailing zero bytes: this would have signed in.
    "NUL after the right one": (STAFF_PASSWORD + "\x00", 400, GUARD_REFUSED),
    "NUL": ("\x00", 400, GUARD_REFUSED),
    "control characters": ("\x01\x02\x1b[0m\x7f", 400, GUARD_REFUSED),
    "huge, of NULs": ("\x00" * 500_000, 400, GUARD_REFUSED),
    "too long": ("p" * 1025, 400, TOO_LONG),
    "tab and line breaks": ("\tcorrect\r\nhorse", 401, NO_MATCH_NOTE),
}


@pytest.mark.parametrize("password, status, message", BAD_PASSWORDS.values(), ids=BAD_PASSWORDS.keys())
def test_a_hostile_password_is_refused(client, make_user, password, status, message):
    make_user("admin")
    response = login(client, "admin@staff.test", password)
    assert response.status_code == status
    assert message in text_of(response)
    assert signed_in_user_id(client) is None


# A textarea may hold line breaks, so they pass the request guard: the redirect must not use them.
BAD_NEXT = ["/admin/\r\nSet-Cookie: x=1", "/admin/\nx", "/admin/\u202e", "/\u200b/evil.example"]
GUARDED_NEXT = ["/admin/\x00", "/\x0b/evil.example", "/admin/\x7f"]


@pytest.mark.parametrize("target", BAD_NEXT, ids=[repr(t) for t in BAD_NEXT])
def test_a_next_with_control_characters_goes_to_the_back_office(client, make_user, target):
    make_user("admin")
    response = login(client, "admin@staff.test", STAFF_PASSWORD, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize("target", GUARDED_NEXT, ids=[repr(t) for t in GUARDED_NEXT])
def test_a_next_no_keyboard_types_is_refused_by_the_guard(client, make_user, target):
    make_user("admin")
    response = login(client, "admin@staff.test", STAFF_PASSWORD, next_url=target)
    assert response.status_code == 400
    assert GUARD_REFUSED in text_of(response)
    assert signed_in_user_id(client) is None
