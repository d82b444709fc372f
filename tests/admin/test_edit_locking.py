"""Every record staff edit is optimistically locked: a stale save, or one naming no version, is refused.

Each model is opened in two signed-in sessions; the first save wins, the
second is refused with a message saying what to do, and nothing the first
saved is overwritten. Forms are posted exactly as the page offers them.
"""

import html

import pytest

from shop.accounts.models import User
from shop.blog.models import Post, Topic
from tests.admin.forms import form_fields
from tests.conftest import STAFF_PASSWORD
from tests.factories import CategoryFactory, DonorFactory, LotFactory, ProductFactory

STALE = "Not saved: someone else changed this record after you opened it."
NO_VERSION = "the form didn't say which version of the record it was opened on. Open the record again"
# Values a hand-built POST might put in expected_version instead of the one the form was opened on.
BAD_VERSIONS = ["abc", "1.0", " 1", "0", "-1", "99999999999999999999", "' OR 1=1 --", "١"]


def _post(db):
    post = Post(title="Donor selection", slug="donor-selection", body="Original.", author_name="M")
    db.session.add(post)
    db.session.commit()
    return post


def _topic(db):
    topic = Topic(name="Cancer", slug="cancer", description="Original.")
    db.session.add(topic)
    db.session.commit()
    return topic


def _user(db):
    user = User(email="someone@staff.test", name="Original", role="sales")
    user.set_password(STAFF_PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


# model -> (make a record, its edit URL, the field both editors change, first value, second value)
EDITABLE = {
    "category": (lambda db: CategoryFactory(), "/admin/category/edit/?id={}", "name", "First name", "Second name"),
    "product": (lambda db: ProductFactory(), "/admin/product/edit/?id={}", "name", "First name", "Second name"),
    "donor": (lambda db: DonorFactory(), "/admin/donor/edit/?id={}", "ethnicity", "First", "Second"),
    "lot": (lambda db: LotFactory(), "/admin/lot/edit/?id={}", "units_available", "7", "9"),
    "topic": (_topic, "/admin/topic/edit/?id={}", "description", "First editor.", "Second editor."),
    "user": (_user, "/admin/users/edit/?id={}", "name", "First name", "Second name"),
    "post": (_post, "/admin/posts/{}/edit", "body", "First editor.", "Second editor."),
}


def signed_in(app, make_user, email: str):
    """A separate browser session, signed in as an administrator."""
    make_user("admin", email=email)
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": STAFF_PASSWORD}).status_code == 302
    return client


def stored(db, record, field: str) -> str:
    """The field as the database holds it now."""
    db.session.expire_all()
    return str(getattr(record, field))


def test_every_model_staff_can_edit_is_covered(app):
    editable = {
        view.endpoint
        for view in app.extensions["admin"][0]._views
        if getattr(view, "allow_edit", False) or view.endpoint == "posts"
    }
    assert editable == {"category", "product", "donor", "lot", "topic", "users", "posts"}
    assert len(EDITABLE) == 7


@pytest.mark.parametrize("model", EDITABLE)
def test_second_save_of_a_stale_form_is_refused(app, db, make_user, model):
    make, url_pattern, field, first_value, second_value = EDITABLE[model]
    record = make(db)
    url = url_pattern.format(record.id)
    first, second = signed_in(app, make_user, "first@staff.test"), signed_in(app, make_user, "second@staff.test")
    first_form, second_form = form_fields(first.get(url).text), form_fields(second.get(url).text)
    assert first_form.get("expected_version"), f"{model}: the edit form carries no version"

    saved = first.post(url, data={**first_form, field: first_value})
    assert saved.status_code == 302, html.unescape(saved.text)[:3000]
    assert stored(db, record, field) == first_value

    refused = second.post(url, data={**second_form, field: second_value})
    assert STALE in html.unescape(refused.text)
    assert second_value in html.unescape(refused.text)  # what they typed is still in the form
    assert stored(db, record, field) == first_value


@pytest.mark.parametrize("model", EDITABLE)
def test_a_post_naming_no_version_or_a_made_up_one_is_refused(app, db, make_user, model):
    make, url_pattern, field, first_value, _ = EDITABLE[model]
    record = make(db)
    url = url_pattern.format(record.id)
    client = signed_in(app, make_user, "editor@staff.test")
    fields = form_fields(client.get(url).text)
    before = stored(db, record, field)
    without = {k: v for k, v in fields.items() if k != "expected_version"}
    for data in (without, {**fields, "expected_version": ""}):
        assert NO_VERSION in html.unescape(client.post(url, data={**data, field: first_value}).text), model
    for bad in BAD_VERSIONS:
        response = client.post(url, data={**fields, "expected_version": bad, field: first_value})
        assert STALE in html.unescape(response.text), (model, bad)
    assert stored(db, record, field) == before
