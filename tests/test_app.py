"""The foundation: health check, error pages, the base layout and the seed command."""

import io

import pytest
from sqlalchemy import func, select

from shop.catalog.models import Category, Donor, DonorAllele, Lot, Product
from shop.extensions import db as _db
from tests.apps import app_with
from tests.conftest import STAFF_PASSWORD


def test_healthz_ok_when_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_503_when_database_is_down(tmp_path):
    # A SQLite file inside a directory that does not exist cannot be opened.
    response = app_with(f"sqlite:///{tmp_path}/missing/dir/db.sqlite").test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"


def test_404_page_uses_the_layout(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.text
    assert "Not Found" in html
    assert "For research use only." in html  # the footer of the base layout
    assert 'href="/products/"' in html


def test_405_keeps_allow_header(client):
    response = client.post("/products/")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "Method Not Allowed" in response.text


@pytest.mark.parametrize(
    ("url", "role", "as_file"),
    [("/login", None, False), ("/admin/catalog_csv/import", "marketing", True)],
    ids=["sign-in-form", "csv-import-upload"],
)
def test_413_page_for_a_body_over_max_content_length(client, auth, app, url, role, as_file):
    """A POST route that reads a body gets one byte too many: the friendly 413 page, in the layout."""
    if role:
        auth.login(role)
    too_much = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    data = {"file": (io.BytesIO(too_much.encode()), "products.csv")} if as_file else {"email": too_much}

    response = client.post(url, data=data)

    assert response.status_code == 413
    assert "Error 413" in response.text
    assert "too large" in response.text
    assert "For research use only." in response.text  # the base layout's footer


@pytest.fixture
def app_showing_500s(database_url, db):
    """A second app on the test database that draws the 500 page instead of re-raising, with two test views."""

    app = app_with(database_url, TESTING=False)  # the error handler runs instead of re-raising

    @app.post("/_write-then-fail/<how>")
    def write_then_fail(how: str):
        _db.session.add(Category(slug="half-saved", name="Half saved"))
        _db.session.flush()  # the row is written, inside the request's transaction
        if how == "failed-flush":
            # A second write the database refuses: the session now needs a rollback before any query.
            _db.session.add(Category(slug="half-saved", name="Duplicate"))
            _db.session.flush()
        raise RuntimeError("the view failed after writing")

    @app.post("/_write")
    def write():
        _db.session.add(Category(slug="saved-after", name="Saved after"))
        _db.session.commit()
        return "saved"

    # Request teardown runs after the error page and before Flask-SQLAlchemy ends the session (which
    # would roll back anyway): whether a transaction is still open there says who rolled back.
    app.open_transaction_after_error_page = []

    @app.teardown_request
    def note_open_transaction(error):
        app.open_transaction_after_error_page.append(_db.session().in_transaction())

    return app


def _category_slugs(db) -> set[str]:
    """The categories committed to the database, read in a fresh transaction."""
    db.session.rollback()
    return set(db.session.scalars(select(Category.slug)))


@pytest.mark.parametrize("how", ["raise-after-flush", "failed-flush"])
def test_500_page_rolls_back_the_failed_requests_writes(app_showing_500s, make_user, db, how):
    """Nothing the failed request wrote is saved, the page still knows who is signed in, the next request works."""
    make_user("admin")
    client = app_showing_500s.test_client()
    assert client.post("/login", data={"email": "admin@staff.test", "password": STAFF_PASSWORD}).status_code == 302

    response = client.post(f"/_write-then-fail/{how}")

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert app_showing_500s.open_transaction_after_error_page[-1] is False  # the 500 handler rolled back
    assert "half-saved" not in _category_slugs(db)
    assert client.post("/_write").text == "saved"
    assert _category_slugs(db) == {"saved-after"}


@pytest.mark.parametrize("code", [400, 403, 429, 503])
def test_every_error_code_has_a_page(app, code):
    from werkzeug.exceptions import default_exceptions

    from shop.errors import render_error

    with app.test_request_context("/"):
        body, status, _headers = render_error(default_exceptions[code]())
    assert status == code
    assert f"Error {code}" in body


def test_home_page_leads_into_the_catalog(client, seeded):
    html = client.get("/").text
    assert "Primary human cells for CAR-T" in html
    assert 'href="/products/?category=leukopak"' in html
    assert "Featured products" in html
    assert html.count('class="card product-card"') == 6


def test_layout_has_navigation_skip_link_and_favicon(client, seeded):
    html = client.get("/").text
    assert '<html lang="en">' in html
    assert 'href="#main"' in html
    assert 'rel="icon"' in html
    assert '<nav class="main-nav" aria-label="Main">' in html
    assert ">Products</a>" in html
    assert ">Contact</a>" in html


def _row_counts(db):
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Category, Product, Donor, DonorAllele, Lot)
    }


def test_seed_is_idempotent(runner, db):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    counts = _row_counts(db)
    assert counts["Category"] == 9
    assert counts["Product"] == 26
    assert counts["Donor"] == 12
    assert counts["Lot"] == 40
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0, second.output
    assert "0 created" in second.output
    assert _row_counts(db) == counts


def test_every_rate_limit_is_on_a_post(app):
    """GET and HEAD skip the rate limiter before any limit is looked up (``extensions.reads_are_never_limited``),
    so a limit set on them would silently do nothing: every limit must name POST and no safe method."""
    from shop.extensions import limiter

    manager = limiter.limit_manager
    assert not manager._application_limits and not manager._default_limits
    groups = [*manager._decorated_limits.values(), *manager._blueprint_limits.values()]
    limits = [limit for group in groups for limit in group]
    assert limits, "the shop sets limits (sign-in, subscribe, inquiries)"
    for limit in limits:
        assert limit.methods and set(limit.methods) <= {"post"}, limit
