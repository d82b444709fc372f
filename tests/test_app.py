"""The foundation: health check, error pages, the base layout and the seed command."""

import pytest
from sqlalchemy import func, select

from shop import create_app
from shop.catalog.models import Category, Donor, DonorAllele, Lot, Product
from shop.config import TestConfig


def test_healthz_ok_when_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_503_when_database_is_down(tmp_path):
    class Broken(TestConfig):
        # A SQLite file inside a directory that does not exist cannot be opened.
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path}/missing/dir/db.sqlite"

    response = create_app(Broken).test_client().get("/healthz")
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


def test_413_for_a_too_large_body(client, app):
    response = client.post("/products/", data="x" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    assert response.status_code in (405, 413)


def test_500_page_rolls_back_and_renders(database_url):
    class Config(TestConfig):
        TESTING = False  # let the error handler run instead of re-raising
        SQLALCHEMY_DATABASE_URI = database_url

    app = create_app(Config)

    @app.get("/_boom")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/_boom")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text


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
