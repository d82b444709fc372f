"""Product descriptions are rendered once, when they are written, never on a product page miss."""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

import shop.markdown
from shop.catalog.models import Product
from shop.markdown import render_markdown
from tests.admin.test_catalog_admin import product_form
from tests.catalog.test_csv_io import csv_text, product_row, run_import
from tests.factories import CategoryFactory, ProductFactory

# Descriptions staff might write or paste, hostile ones included: each must come out as the renderer's
# sanitised HTML whoever writes it.
DESCRIPTIONS = (
    "",
    "Plain *emphasis* and a [link](https://example.org).",
    "# A level-1 heading\n\nbecomes a level-2 heading.",
    "<script>alert(1)</script> raw HTML is not rendered",
    '<img src="x" onerror="alert(1)">',
    "[click](javascript:alert(1)) and [data](data:text/html,<b>x</b>)",
    "| Marker | % |\n|:--|--:|\n| CD3 | 70 |",
    "Footnote[^1].\n\n[^1]: A reference.",
    "Long " + "word " * 20_000,
)


def break_renderer(monkeypatch) -> None:
    """From now on the Markdown renderer raises: a page that renders per request fails."""

    def broken(*args, **kwargs):
        raise RuntimeError("the Markdown renderer was called during a request")

    monkeypatch.setattr(shop.markdown._md, "render", broken)


def stored_html(db, catalog_number: str) -> tuple[str, str]:
    """(description, description_html) as the database holds them."""
    db.session.expire_all()
    row = db.session.execute(
        select(Product.description, Product.description_html).where(Product.catalog_number == catalog_number)
    ).one()
    return row.description, row.description_html


@pytest.mark.parametrize("description", DESCRIPTIONS)
def test_every_writer_stores_the_rendered_description(client, auth, db, description):
    """The back office, the CSV import (new and updated rows), the seed loader's upsert and the model agree."""
    expected = str(render_markdown(description))
    category = CategoryFactory(slug="pbmc")
    edited = ProductFactory(category=category, description="Before.")
    db.session.commit()
    auth.login("marketing")

    response = client.post(f"/admin/product/edit/?id={edited.id}", data=product_form(edited, description=description))
    assert response.status_code == 302, response.text
    created = run_import(csv_text([product_row(1, description=description)]))
    ProductFactory(catalog_number="CT-IMP-2", category=category, description="Before.")
    db.session.commit()
    updated = run_import(csv_text([product_row(2, description=description)]))

    assert created.errors == updated.errors == []
    assert (created.created, updated.updated) == (1, 1)
    for catalog_number in (edited.catalog_number, "CT-IMP-1", "CT-IMP-2"):
        assert stored_html(db, catalog_number) == (description, expected), catalog_number


def test_seed_products_carry_their_rendered_description(seeded):
    """``flask seed`` writes the HTML with the description."""
    products = seeded.session.scalars(select(Product)).all()
    assert products
    for product in products:
        assert product.description_html == str(render_markdown(product.description)), product.catalog_number
        assert "<p>" in product.description_html


def test_product_page_shows_the_stored_html_without_rendering(client, db, monkeypatch):
    """A product page miss renders no Markdown: with the renderer broken the page still shows the description."""
    product = ProductFactory(slug="stored", description="## Stored heading\n\nStored *description*.")
    db.session.commit()
    break_renderer(monkeypatch)
    with pytest.raises(RuntimeError):
        render_markdown("the renderer really is broken now")

    response = client.get(f"/products/{product.slug}")

    assert response.status_code == 200
    assert "<h2>Stored heading</h2>" in response.text
    assert "<em>description</em>" in response.text


OLD_PRODUCT = {
    "name": "Old cells", "cell_type": "PBMC", "markers": "", "tissue_source": "Peripheral blood",
    "mobilization": "none", "donor_health": "Healthy", "format": "fresh", "container": "bag", "unit_size": "1 bag",
    "isolation_method": "None", "grade": "research", "currency": "USD", "lead_time_days": 3,
    "shipping_condition": "ambient", "stability": "", "donor_selectable": False, "recallable_donors": False,
    "applications": "[]", "featured": False, "active": True, "created_at": "2026-01-01 00:00:00",
    "updated_at": "2026-01-01 00:00:00",
}  # fmt: skip


def test_migration_renders_descriptions_of_existing_products(app, db, committing_db):
    """Products saved before the column existed get their HTML from the migration."""
    category = CategoryFactory(slug="old")
    db.session.commit()
    rows = [
        {
            **OLD_PRODUCT,
            "catalog_number": f"CT-OLD-{n}",
            "slug": f"old-{n}",
            "category_id": category.id,
            "description": d,
        }
        for n, d in enumerate(DESCRIPTIONS)
    ]
    columns = list(rows[0])
    insert_old = f"INSERT INTO product ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
    try:
        downgrade(revision="e1a4c7b9d3f2")
        db.session.execute(text(insert_old), rows)
        db.session.commit()
        upgrade()
        for row in rows:
            expected = (row["description"], str(render_markdown(row["description"])))
            assert stored_html(db, row["catalog_number"]) == expected
    finally:
        db.session.rollback()
        upgrade()
