"""A back-office form submitted after its CSRF token expired comes back with what was typed; nothing is saved.

CSRF protection is on here (the ``live_app``), and the clock is moved two
hours on between opening the form and saving it, as for an editor left open
over lunch (the token lives ``WTF_CSRF_TIME_LIMIT``, an hour by default).
"""

import html

import pytest
from flask import redirect
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from shop.blog.models import Post
from shop.catalog.models import Category
from tests.admin.forms import form_fields
from tests.conftest import STAFF_PASSWORD
from tests.factories import CategoryFactory

EXPIRED = "Your session's form token expired, so nothing was saved. Check what you typed below and save again."
TYPED = "A long paragraph typed over an hour, with <angle brackets> & ampersands."


@pytest.fixture
def staff(live_app, db, make_user):
    """A client of the CSRF-protected app, signed in through the real form as marketing."""
    make_user("marketing")
    client = live_app.test_client()
    login = form_fields(client.get("/login").text)
    response = client.post("/login", data={**login, "email": "marketing@staff.test", "password": STAFF_PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def two_hours_later(monkeypatch):
    """Call it to move the token clock two hours on (tokens signed before then have expired)."""

    def move_on():
        now = TimestampSigner.get_timestamp
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now(self) + 7200)

    return move_on


def test_post_editor_shows_the_typed_body_again_with_a_fresh_token(staff, db, two_hours_later):
    post = Post(title="Donor selection", slug="donor-selection", body="Original.", author_name="M")
    db.session.add(post)
    db.session.commit()
    url = f"/admin/posts/{post.id}/edit"
    opened = form_fields(staff.get(url).text, "post-form")
    two_hours_later()

    response = staff.post(url, data={**opened, "body": TYPED, "action": "save"})
    page = html.unescape(response.text)
    assert response.status_code == 400
    assert EXPIRED in page
    assert TYPED in page  # the body, exactly as typed
    again = form_fields(response.text, "post-form")
    assert again["csrf_token"] != opened["csrf_token"] and again["expected_version"] == opened["expected_version"]
    db.session.expire_all()
    assert post.body == "Original." and post.version == 1

    saved = staff.post(url, data={**again, "action": "save"})  # the fresh token works
    assert saved.status_code == 302, html.unescape(saved.text)[:2000]
    db.session.expire_all()
    assert post.body == TYPED


def test_a_new_post_is_not_created_on_an_expired_token(staff, db, two_hours_later):
    opened = form_fields(staff.get("/admin/posts/new").text, "post-form")
    two_hours_later()
    response = staff.post("/admin/posts/new", data={**opened, "title": "Kept title", "body": TYPED, "action": "save"})
    assert response.status_code == 400
    assert "Kept title" in html.unescape(response.text) and TYPED in html.unescape(response.text)
    assert db.session.scalar(select(func.count(Post.id))) == 0


def test_a_flask_admin_form_comes_back_too(staff, db, two_hours_later):
    category = CategoryFactory(name="T cells")
    db.session.commit()  # the live app reads through its own connection
    url = f"/admin/category/edit/?id={category.id}"
    opened = form_fields(staff.get(url).text)
    two_hours_later()

    response = staff.post(url, data={**opened, "name": "T cells, renamed", "description": TYPED})
    assert response.status_code == 400
    assert EXPIRED in html.unescape(response.text)
    assert TYPED in html.unescape(response.text)
    db.session.expire_all()
    assert category.name == "T cells"

    again = form_fields(response.text)
    assert staff.post(url, data=again).status_code == 302
    db.session.expire_all()
    assert category.name == "T cells, renamed"


def test_other_forms_still_get_the_400_page_and_change_nothing(staff, db, two_hours_later):
    category = CategoryFactory()
    db.session.commit()
    token = form_fields(staff.get("/admin/category/").text)["csrf_token"]
    two_hours_later()
    response = staff.post("/admin/category/delete/", data={"id": str(category.id), "csrf_token": token})
    assert response.status_code == 400
    assert db.session.get(Category, category.id) is not None


def test_later_hooks_still_run_before_the_form_is_shown(live_app, staff, db, two_hours_later, monkeypatch):
    """A later before-request hook (one ending an idle session, say) answers instead of the form being shown."""
    opened = form_fields(staff.get("/admin/posts/new").text, "post-form")
    hooks = live_app.before_request_funcs[None]
    monkeypatch.setitem(live_app.before_request_funcs, None, [*hooks, lambda: redirect("/login")])
    two_hours_later()
    response = staff.post("/admin/posts/new", data={**opened, "title": "T", "body": TYPED, "action": "save"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert db.session.scalar(select(func.count(Post.id))) == 0
