"""Keeping the catalog in the back office: validation, images, locking, deletes and the audit log."""

import html
import io
import re

from PIL import Image
from sqlalchemy import select

from shop.audit import AuditEntry
from shop.catalog.models import Donor, Lot, Product
from tests.factories import CategoryFactory, DonorFactory, LotFactory, ProductFactory


def product_form(product: Product, **changes) -> dict:
    """The edit form's fields for a product, as a browser would post them."""
    data = {
        "catalog_number": product.catalog_number,
        "name": product.name,
        "slug": product.slug,
        "category": str(product.category_id),
        "active": "y" if product.active else "",
        "cell_type": product.cell_type,
        "markers": product.markers,
        "tissue_source": product.tissue_source,
        "mobilization": product.mobilization,
        "donor_health": product.donor_health,
        "format": product.format,
        "container": product.container,
        "unit_size": product.unit_size,
        "cells_per_unit": str(product.cells_per_unit or ""),
        "isolation_method": product.isolation_method,
        "min_purity": "" if product.min_purity is None else str(product.min_purity),
        "min_viability": "" if product.min_viability is None else str(product.min_viability),
        "grade": product.grade,
        "price": "" if product.price_cents is None else f"{product.price_cents / 100:.2f}",
        "currency": product.currency,
        "lead_time_days": str(product.lead_time_days),
        "shipping_condition": product.shipping_condition,
        "stability": product.stability,
        "applications_text": "\n".join(product.applications),
        "description": product.description,
        "expected_version": str(product.version),
    }
    data = {k: v for k, v in data.items() if v != "" or k in ("price", "min_purity", "expected_version")}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def opened_version(client, url: str) -> str:
    """The version an edit form carries when opened, as a browser would post it back."""
    match = re.search(r'name="expected_version" type="hidden" value="([^"]*)"', client.get(url).text)
    assert match, f"no expected_version in the form at {url}"
    return match.group(1)


def png_bytes(size=(640, 480)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 120, 130)).save(buffer, "PNG")
    return buffer.getvalue()


def edit(client, product, **changes):
    return client.post(f"/admin/product/edit/?id={product.id}", data=product_form(product, **changes))


def test_marketing_edits_a_product_and_the_shop_shows_it(client, auth, db):
    product = ProductFactory(name="Old name", price_cents=35_000)
    auth.login("marketing")
    response = edit(client, product, name="PBMC, cryopreserved, 10M vial", price="375.50")
    assert response.status_code == 302
    db.session.expire_all()
    assert product.name == "PBMC, cryopreserved, 10M vial"
    assert product.price_cents == 37_550
    assert product.version == 2
    page = client.get(f"/products/{product.slug}").text
    assert "PBMC, cryopreserved, 10M vial" in page
    assert "$375.50" in page


def test_empty_price_makes_it_quote_only(client, auth, db):
    product = ProductFactory(price_cents=35_000)
    auth.login("admin")
    assert edit(client, product, price="").status_code == 302
    db.session.expire_all()
    assert product.price_cents is None


def test_validation_explains_itself_and_saves_nothing(client, auth, db):
    other = ProductFactory(catalog_number="CT-PBMC-CR-50M")
    product = ProductFactory(name="Unchanged")
    auth.login("admin")
    cases = {
        "catalog_number": ("CT-PBMC-CR-50M", "Already exists"),
        "price": ("-5", "The price can't be negative."),
        "min_purity": ("120", "A percentage between 0 and 100."),
        "slug": ("Not A Slug!", "Use lower-case letters, digits and single hyphens only."),
        "lead_time_days": ("-1", "Between 0 and 365 days."),
    }
    for field, (value, message) in cases.items():
        response = edit(client, product, name="Changed", **{field: value})
        assert response.status_code == 200, field
        assert message in html.unescape(response.text), field
    db.session.expire_all()
    assert product.name == "Unchanged"
    assert other.catalog_number == "CT-PBMC-CR-50M"


def test_lot_with_a_donor_that_does_not_exist_is_refused(client, auth, db):
    product = ProductFactory()
    auth.login("admin")
    response = client.post(
        "/admin/lot/new/",
        data={
            "lot_number": "2611-D99999-01",
            "product": product.catalog_number,
            "donor": "D999999",
            "status": "available",
            "collected_on": "2026-11-01",
            "units_available": "3",
        },
    )
    assert response.status_code == 200
    assert "Nothing found for “D999999”: type part of the donor code" in html.unescape(response.text)
    assert db.session.scalar(select(Lot).where(Lot.lot_number == "2611-D99999-01")) is None


def test_lot_frozen_before_collection_is_refused(client, auth, db):
    product, donor = ProductFactory(), DonorFactory()
    auth.login("admin")
    response = client.post(
        "/admin/lot/new/",
        data={
            "lot_number": "2611-D10001-01",
            "product": product.catalog_number,
            "donor": donor.code,
            "status": "available",
            "collected_on": "2026-11-02",
            "frozen_on": "2026-11-01",
            "units_available": "3",
        },
    )
    assert "A lot can't be frozen before it was collected." in html.unescape(response.text)
    assert db.session.scalar(select(Lot).where(Lot.lot_number == "2611-D10001-01")) is None


def test_donor_hla_typing_is_edited_as_text(client, auth, db):
    donor = DonorFactory(code="D10482", hla=["A*01:01"])
    auth.login("marketing")
    data = {
        "code": "D10482", "sex": "F", "age": "41", "ethnicity": "Asian", "bmi": "22.1", "blood_type": "A+",
        "hla_text": "A*02:01 b*07:02", "cmv_status": "positive", "ebv_status": "negative", "smoking": "none",
        "donations": "7", "expected_version": str(donor.version),
    }  # fmt: skip
    assert client.post(f"/admin/donor/edit/?id={donor.id}", data=data).status_code == 302
    db.session.expire_all()
    assert donor.hla_typing == "A*02:01 B*07:02"
    bad = client.post(f"/admin/donor/edit/?id={donor.id}", data={**data, "hla_text": "A*02:01 banana"})
    assert "Not an HLA allele: banana." in bad.text


def test_second_save_of_the_same_product_is_refused(client, auth, db):
    """Two staff open the same product; the one who saves second is told, and nothing is overwritten."""
    product = ProductFactory(name="Original")
    form_of_first = product_form(product)
    form_of_second = product_form(product)
    auth.login("marketing")
    assert (
        client.post(f"/admin/product/edit/?id={product.id}", data={**form_of_first, "name": "First"}).status_code == 302
    )
    response = client.post(f"/admin/product/edit/?id={product.id}", data={**form_of_second, "name": "Second"})
    assert "someone else changed this record after you opened it" in response.text
    db.session.expire_all()
    assert product.name == "First"
    assert product.version == 2


def test_edit_form_carries_the_version_it_was_opened_on(client, auth, db):
    product = ProductFactory()
    auth.login("admin")
    page = client.get(f"/admin/product/edit/?id={product.id}").text
    assert 'name="expected_version" type="hidden" value="1"' in page


def test_uploaded_image_is_reencoded_and_shown(client, auth, db, app, tmp_path):
    app.config["UPLOAD_FOLDER"] = tmp_path
    product = ProductFactory()
    auth.login("marketing")
    data = product_form(product, image_upload=(io.BytesIO(png_bytes()), "photo.png"))
    assert client.post(f"/admin/product/edit/?id={product.id}", data=data).status_code == 302
    db.session.expire_all()
    assert product.image and product.image.endswith(".webp")
    assert (tmp_path / "products" / product.image).exists()
    assert (tmp_path / "products" / product.image.replace(".webp", "-thumb.webp")).exists()
    image = client.get(f"/uploads/products/{product.image}")
    assert image.status_code == 200 and image.mimetype == "image/webp"
    assert "max-age=31536000" in image.headers["Cache-Control"]
    assert f"/uploads/products/{product.image}" in client.get(f"/products/{product.slug}").text


def test_a_file_that_is_not_an_image_is_refused(client, auth, db, app, tmp_path):
    app.config["UPLOAD_FOLDER"] = tmp_path
    product = ProductFactory(name="Before")
    auth.login("marketing")
    data = product_form(product, name="After", image_upload=(io.BytesIO(b"<?php echo 1; ?>"), "evil.jpg"))
    response = client.post(f"/admin/product/edit/?id={product.id}", data=data)
    assert response.status_code == 200
    assert "That file is not an image we can read. Upload a JPEG, PNG or WebP." in response.text
    db.session.expire_all()
    assert product.name == "Before" and product.image is None
    assert not any(tmp_path.rglob("*.webp"))


def test_uploads_route_serves_only_product_images(client, db):
    assert client.get("/uploads/../instance/cellshop.db").status_code == 404
    assert client.get("/uploads/other/x.webp").status_code == 404


def test_deleting_a_product_with_lots_is_refused_with_advice(client, auth, db):
    lot = LotFactory()
    auth.login("admin")
    response = client.post("/admin/product/delete/", data={"id": str(lot.product.id)}, follow_redirects=True)
    assert "still has 1 lot(s)" in response.text
    assert "Untick Active to hide it from the shop instead." in response.text
    assert db.session.get(Product, lot.product.id) is not None


def test_deleting_a_product_without_lots_works_and_is_audited(client, auth, db):
    product = ProductFactory(name="Short-lived")
    auth.login("admin")
    response = client.post("/admin/product/delete/", data={"id": str(product.id)}, follow_redirects=True)
    assert response.status_code == 200
    assert db.session.scalar(select(Product).where(Product.id == product.id)) is None
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "delete")).one()
    assert entry.entity == "product" and entry.actor == "admin@staff.test"
    assert entry.changes["name"] == "Short-lived"


def test_audit_log_records_who_changed_which_fields(client, auth, db):
    product = ProductFactory(name="Before", price_cents=10_000)
    db.session.commit()
    user = auth.login("marketing")
    edit(client, product, name="After", price="120.00")
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "update", AuditEntry.entity == "product")
    ).one()
    assert entry.user_id == user.id and entry.actor == "marketing@staff.test"
    assert entry.entity == "product" and entry.entity_id == product.id
    assert entry.changes == {"name": ["Before", "After"], "price_cents": [10_000, 12_000]}
    auth.logout()
    auth.login("admin")
    page = client.get("/admin/audit/").text
    assert "marketing@staff.test" in page
    assert "name, price" in page  # the list names the fields; the entry's page has before and after
    details = client.get(f"/admin/audit/details/?id={entry.id}").text
    assert "<del>Before</del>" in details and "<ins>After</ins>" in details
    assert "<del>$100.00</del>" in details and "<ins>$120.00</ins>" in details


def test_audit_log_hides_password_hashes(client, auth, db):
    auth.login("admin")
    client.post("/admin/users/new/", data={"email": "new@staff.test", "name": "New", "role": "sales",
                                           "active": "y", "new_password": "a long enough password"})  # fmt: skip
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.label == "new@staff.test")).one()
    assert entry.changes["password_hash"] == "(hidden)"


def test_sales_cannot_post_changes(client, auth, db):
    product = ProductFactory(name="Safe")
    auth.login("sales")
    assert edit(client, product, name="Hacked").status_code == 403
    assert client.post("/admin/product/delete/", data={"id": str(product.id)}).status_code == 403
    db.session.expire_all()
    assert product.name == "Safe"


def test_dashboard_panels(client, auth, db):
    category = CategoryFactory(name="T cells")
    ProductFactory(category=category, name="Without stock")
    LotFactory(product=ProductFactory(category=category), lot_number="2611-D10001-01", units_available=1)
    ProductFactory(category=category, active=False)
    auth.login("sales")
    page = client.get("/admin/").text
    assert "Catalog by category" in page
    assert "Without stock" in page  # no lot in stock
    assert "2611-D10001-01" in page and "1 left" in page  # running low


def test_admin_cannot_deactivate_themself(client, auth, db):
    admin = auth.login("admin")
    url = f"/admin/users/edit/?id={admin.id}"
    data = {"email": admin.email, "name": "Admin", "role": "admin", "new_password": ""}
    response = client.post(url, data={**data, "expected_version": opened_version(client, url)})
    assert "You can't deactivate yourself" in html.unescape(response.text)
    db.session.expire_all()
    assert admin.active


def test_user_form_requires_a_strong_password(client, auth, db):
    auth.login("admin")
    response = client.post(
        "/admin/users/new/", data={"email": "weak@staff.test", "role": "sales", "new_password": "short"}
    )
    assert "Use at least 12 characters." in response.text
    assert db.session.scalar(select(Donor).limit(1)) is None
