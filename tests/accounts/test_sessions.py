"""Sessions end: at logout, when the password changes, after hours without activity; and start afresh at sign-in."""

import time
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask_login.utils import encode_cookie

from shop.accounts.sessions import LAST_SEEN
from tests.accounts.helpers import csrf_token_of, login, signed_in_user_id, text_of
from tests.apps import app_with, dispose
from tests.conftest import STAFF_PASSWORD

HOUR = 3600


def sign_in(app, email: str):
    """A new client of ``app`` signed in as ``email``."""
    client = app.test_client()
    assert login(client, email, STAFF_PASSWORD).status_code == 302
    return client


def sent_to_login(response) -> bool:
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def copy_of(client, app):
    """Another client holding the same session cookie: what someone who captured it would have."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


# --- logout ---------------------------------------------------------------------------------------------------------


def test_a_cookie_captured_before_logout_no_longer_opens_the_back_office(app, client, make_user):
    make_user("admin")
    assert login(client, "admin@staff.test", STAFF_PASSWORD).status_code == 302
    assert client.get("/admin/posts/").status_code == 200
    captured = copy_of(client, app)
    assert client.post("/logout").status_code == 302
    assert sent_to_login(captured.get("/admin/posts/"))


def test_logout_ends_the_users_other_sessions_and_says_so(app, make_user):
    make_user("marketing")
    laptop = sign_in(app, "marketing@staff.test")
    phone = sign_in(app, "marketing@staff.test")
    response = laptop.post("/logout", follow_redirects=True)
    assert "You have been signed out. Your sessions on other devices and browsers have ended too." in text_of(response)
    assert sent_to_login(phone.get("/admin/"))


def test_logout_leaves_other_users_signed_in(app, make_user):
    make_user("marketing")
    make_user("sales")
    marketing = sign_in(app, "marketing@staff.test")
    sales = sign_in(app, "sales@staff.test")
    marketing.post("/logout")
    assert sales.get("/admin/").status_code == 200


def test_signing_in_again_after_logout_works(app, make_user):
    make_user("sales")
    client = sign_in(app, "sales@staff.test")
    client.post("/logout")
    assert login(client, "sales@staff.test", STAFF_PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200


# --- password changes -----------------------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """The values a browser would send for each form on a page."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "form":
            self.forms.append({})
        elif tag == "input" and name and (attrs.get("type") != "checkbox" or "checked" in attrs):
            self.forms[-1][name] = attrs.get("value") or ("y" if attrs.get("type") == "checkbox" else "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and ("selected" in attrs or self._select not in self.forms[-1]):
            self.forms[-1][self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def edit_form(client, url: str) -> dict[str, str]:
    """The fields of the page's form that edits an e-mail address, as the page fills them in."""
    parser = _Forms()
    parser.feed(client.get(url).text)
    return next(form for form in parser.forms if "email" in form)


def test_an_admin_password_reset_ends_the_users_other_sessions(app, make_user):
    make_user("admin")
    sales = make_user("sales")
    sales_laptop = sign_in(app, "sales@staff.test")
    admin = sign_in(app, "admin@staff.test")
    url = f"/admin/users/edit/?id={sales.id}"
    form = edit_form(admin, url) | {"new_password": "a brand new passphrase"}
    assert form["email"] == "sales@staff.test"  # the real form was read
    assert admin.post(url, data=form).status_code == 302
    assert sent_to_login(sales_laptop.get("/admin/"))
    assert admin.get("/admin/").status_code == 200  # the admin's own session goes on
    assert login(app.test_client(), "sales@staff.test", "a brand new passphrase").status_code == 302


def test_an_admin_edit_without_a_new_password_leaves_sessions_alone(app, make_user):
    make_user("admin")
    sales = make_user("sales")
    sales_laptop = sign_in(app, "sales@staff.test")
    admin = sign_in(app, "admin@staff.test")
    url = f"/admin/users/edit/?id={sales.id}"
    form = edit_form(admin, url) | {"name": "Sam Sales", "new_password": ""}
    assert admin.post(url, data=form).status_code == 302
    assert sales_laptop.get("/admin/").status_code == 200


def test_flask_users_set_password_ends_the_users_sessions(app, make_user):
    make_user("sales")
    sales_laptop = sign_in(app, "sales@staff.test")
    result = app.test_cli_runner().invoke(args=["users", "set-password", "sales@staff.test", "--generate"])
    assert result.exit_code == 0, result.output
    assert sent_to_login(sales_laptop.get("/admin/"))


# --- a fresh session at sign-in -------------------------------------------------------------------------------------


def raw_csrf_token(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("csrf_token")


def test_the_csrf_token_is_new_after_sign_in(live_app, db, make_user):
    make_user("admin")
    client = live_app.test_client()
    before = csrf_token_of(client.get("/login").text)
    raw_before = raw_csrf_token(client)
    response = client.post(
        "/login", data={"email": "admin@staff.test", "password": STAFF_PASSWORD, "csrf_token": before}
    )
    assert response.status_code == 302
    assert raw_csrf_token(client) not in (None, raw_before)
    # A token someone saw (or planted) before sign-in no longer works after it.
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400
    assert signed_in_user_id(client) is not None
    after = csrf_token_of(client.get("/admin/").text)
    assert client.post("/logout", data={"csrf_token": after}).status_code == 302


def test_sign_in_keeps_nothing_from_the_session_before_it(client, make_user):
    make_user("admin")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    assert login(client, "admin@staff.test", STAFF_PASSWORD).status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].startswith(signed_in_user_id(client) + ":")


# --- inactivity -----------------------------------------------------------------------------------------------------


def last_seen(client, hours_ago: float) -> None:
    """Rewrite the signed session cookie as if the last request were ``hours_ago`` hours back."""
    with client.session_transaction() as session:
        session[LAST_SEEN] = int(time.time() - hours_ago * HOUR)


def test_a_staff_session_ends_after_eight_idle_hours_with_a_message(app, make_user):
    make_user("marketing")
    client = sign_in(app, "marketing@staff.test")
    last_seen(client, 8.1)
    response = client.get("/admin/posts/")
    assert sent_to_login(response)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "Staff sign-in" in page.text
    assert "You were signed out after 8 hours without activity." in text_of(page)
    assert signed_in_user_id(client) is None


def test_activity_keeps_a_staff_session_alive(app, make_user):
    make_user("marketing")
    client = sign_in(app, "marketing@staff.test")
    last_seen(client, 7.9)
    assert client.get("/admin/posts/").status_code == 200
    with client.session_transaction() as session:
        assert time.time() - session[LAST_SEEN] < 60  # the request moved the stamp on


def test_a_copied_cookie_of_an_idle_session_is_dead_too(app, make_user):
    make_user("marketing")
    client = sign_in(app, "marketing@staff.test")
    last_seen(client, 9)
    assert sent_to_login(copy_of(client, app).get("/admin/"))


def test_a_session_without_a_last_seen_stamp_has_ended(app, make_user):
    make_user("marketing")
    client = sign_in(app, "marketing@staff.test")
    with client.session_transaction() as session:
        del session[LAST_SEEN]
    assert sent_to_login(client.get("/admin/"))


def test_the_idle_limit_is_configurable(database_url, db, make_user):
    hasty = app_with(database_url, STAFF_SESSION_IDLE_HOURS=0.5)
    try:
        make_user("sales")
        client = sign_in(hasty, "sales@staff.test")
        last_seen(client, 0.4)
        assert client.get("/admin/").status_code == 200
        last_seen(client, 0.6)
        assert sent_to_login(client.get("/admin/"))
        assert "after 0.5 hours without activity" in text_of(client.get("/login"))
    finally:
        dispose(hasty)


def test_no_remember_me_cookie_is_issued_or_honoured(app, make_user):
    """The shop offers no "remember me"; a forged one, even naming the current version, signs no one in."""
    user = make_user("admin")
    response = login(app.test_client(), "admin@staff.test", STAFF_PASSWORD)
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]
    client = app.test_client()
    with app.test_request_context():
        client.set_cookie("remember_token", encode_cookie(user.get_id()))
    assert sent_to_login(client.get("/admin/"))


# --- hostile session contents ---------------------------------------------------------------------------------------

HOSTILE_USER_IDS = [
    "99999999999999999999",
    "2147483648",
    "١",  # an Arabic-Indic one: str.isdigit() says yes, int() reads 1
    "abc",
    "1:x",
    "99999999999999999999:1",
    "2147483648:1",
    "1:99999999999999999999",
    "1\x00",
    "1:1\x00",
    "\x00",
    "",
    "1",
    "1:",
    ":1",
    "1:1:1",
    "-1:1",
    "1:-1",
    " 1:1",
    "01:1",
    "١:1",
    "1:١",
    "1 :1",
    12,
    ["1", "1"],
    {"id": 1},
    True,
]


@pytest.mark.parametrize("user_id", HOSTILE_USER_IDS, ids=[repr(v) for v in HOSTILE_USER_IDS])
def test_a_hostile_user_id_in_the_session_is_anonymous(app, make_user, user_id):
    make_user("admin")  # id 1 exists, so near-misses must not reach it
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session[LAST_SEEN] = int(time.time())
    assert sent_to_login(client.get("/admin/"))
    assert client.get("/").status_code == 200


def test_the_old_plain_id_no_longer_signs_in(app, make_user):
    """Sessions from before versions were added named the user by id alone."""
    user = make_user("admin")
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session[LAST_SEEN] = int(time.time())
    assert sent_to_login(client.get("/admin/"))
