"""The catalog forms staff use: nothing stored that nobody chose, the product form in sections, a cell count that
says what it understood, a product's lots on its page, and a refused stale save that shows what changed."""

import html
import re

import pytest
from sqlalchemy import select

from shop.admin.catalog import PRODUCT_SECTIONS, ProductView
from shop.catalog.models import Donor, Lot
from tests.admin.forms import form_fields
from tests.admin.test_catalog_admin import product_form
from tests.admin.test_edit_locking import signed_in
from tests.catalog.test_facets import facet_counts
from tests.factories import DonorFactory, LotFactory, ProductFactory

DONOR = {"code": "D40001", "age": "30", "hla_text": "A*02:01", "recallable": "", "donations": "1"}


def page(response) -> str:
    return html.unescape(response.text)


# Defaults nobody chose


def test_a_new_donor_form_starts_with_nothing_chosen(client, auth, db):
    auth.login("marketing")
    form = client.get("/admin/donor/new/").text

    for name in ("sex", "cmv_status", "ebv_status", "smoking"):
        select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', form, re.S).group(1)
        assert "selected" not in select_html, name
        assert select_html.startswith('<option value="">Choose…</option>'), name
    assert '<option value="not_tested">Not tested</option>' in form


def test_a_donor_saved_without_choosing_is_refused_field_by_field(client, auth, db):
    auth.login("marketing")
    posted = form_fields(client.get("/admin/donor/new/").text)  # exactly what the browser posts, untouched

    for chosen in ({}, dict.fromkeys(("sex", "cmv_status", "ebv_status", "smoking"), "")):
        response = client.post("/admin/donor/new/", data={**posted, **DONOR, **chosen})

        assert response.status_code == 200
        assert page(response).count("A value is required: choose one") == 4
        assert db.session.scalar(select(Donor)) is None


def test_not_tested_is_a_choice_the_shop_shows_and_no_negative_filter_matches(client, auth, db):
    auth.login("marketing")
    data = {**DONOR, "sex": "M", "cmv_status": "not_tested", "ebv_status": "not_tested", "smoking": "unknown"}
    assert client.post("/admin/donor/new/", data=data).status_code == 302
    donor = db.session.scalar(select(Donor))
    assert (donor.cmv_status, donor.ebv_status, donor.smoking) == ("not_tested", "not_tested", "unknown")
    product = ProductFactory(name="PBMC for facets")
    LotFactory(product=product, donor=donor)
    db.session.commit()
    client.post("/logout")

    catalog = client.get("/products/").text
    assert facet_counts(catalog, "cmv")["Not tested"] == 1
    assert facet_counts(catalog, "cmv")["Negative"] == 0
    assert "PBMC for facets" not in client.get("/products/?cmv=negative").text
    assert "PBMC for facets" in client.get("/products/?cmv=not_tested").text
    assert "Not tested / Not tested" in page(client.get(f"/products/{product.slug}"))


def test_a_new_lot_starts_with_no_product_and_no_donor(client, auth, db):
    ProductFactory()
    DonorFactory()
    auth.login("marketing")
    posted = form_fields(client.get("/admin/lot/new/").text)

    assert posted.get("product", "") == "" and posted.get("donor", "") == ""
    data = {**posted, "lot_number": "2611-D40001-01", "collected_on": "2026-11-01", "units_available": "1"}
    data["status"] = "available"
    response = client.post("/admin/lot/new/", data=data)
    assert response.status_code == 200
    assert db.session.scalar(select(Lot)) is None


# The product form


def test_the_product_form_is_in_sections_and_every_field_is_in_one(client, auth, db):
    auth.login("marketing")
    form = client.get("/admin/product/new/").text

    legends = re.findall(r"<legend[^>]*>([^<]+)</legend>", form)
    assert legends == ["Identity", "Specification", "Donor selection", "Shipping and stability", "Pricing", "Images"]
    in_sections = {name for section in PRODUCT_SECTIONS for name in section.visible_fields}
    assert set(ProductView.form_columns) - in_sections == {"image_upload", "remove_image"}


def test_product_labels_are_in_sentence_case(client, auth, db):
    auth.login("marketing")
    form = client.get("/admin/product/new/").text

    labels = [html.unescape(label).strip() for label in re.findall(r'class="col-form-label[^"]*">\s*([^<]+)', form)]
    assert "Cell type" in labels and "Tissue source" in labels and "Catalog number" in labels
    for label in labels:
        words = label.split()
        assert not any(w[0].isupper() for w in words[1:] if w.isalpha() and w not in ("CSV",)), label


def test_a_new_product_offers_no_image_to_remove_and_an_edit_with_one_shows_it(client, auth, db):
    auth.login("marketing")
    assert "Remove the current image" not in client.get("/admin/product/new/").text
    without = ProductFactory(image=None)
    assert "Remove the current image" not in client.get(f"/admin/product/edit/?id={without.id}").text
    with_image = ProductFactory(image="abc.webp")
    form = page(client.get(f"/admin/product/edit/?id={with_image.id}"))
    assert "Remove the current image" in form
    assert "/uploads/products/abc-thumb.webp" in form


CELL_COUNTS = [
    ("1e7", 10_000_000),
    ("1×10^7", 10_000_000),
    ("1x10^7", 10_000_000),
    ("1 x 10^7", 10_000_000),
    ("10 million", 10_000_000),
    ("10,000,000", 10_000_000),
    ("2.5 × 10⁷", 25_000_000),
    ("2.5 billion", 2_500_000_000),
]


@pytest.mark.parametrize(("typed", "count"), CELL_COUNTS)
def test_cells_per_unit_is_read_as_people_write_it_and_says_what_it_understood(client, auth, db, typed, count):
    product = ProductFactory(cells_per_unit=None)
    auth.login("marketing")
    url = f"/admin/product/edit/?id={product.id}"

    assert client.post(url, data=product_form(product, cells_per_unit=typed)).status_code == 302
    db.session.expire_all()
    assert product.cells_per_unit == count
    form = page(client.get(url))
    assert f'value="{count:,}"' in form
    assert f"Understood as {count:,} (" in form
    answer = client.get("/admin/product/cell-count", query_string={"text": typed}).get_json()
    assert answer["understood"] == count and answer["message"].startswith(f"Understood as {count:,} (")


@pytest.mark.parametrize("typed", ["1e7.5", "ten million", "1,00,000", "0", "-5", "1x10^99", "1e7 cells"])
def test_a_cell_count_that_is_not_one_is_refused_with_what_to_write(client, auth, db, typed):
    product = ProductFactory(cells_per_unit=1000)
    auth.login("marketing")

    response = client.post(f"/admin/product/edit/?id={product.id}", data=product_form(product, cells_per_unit=typed))

    assert response.status_code == 200
    assert "like 25000000, 2.5e7, 2.5×10^7 or 25 million" in page(response)
    assert "Not understood" in page(response)
    db.session.expire_all()
    assert product.cells_per_unit == 1000
    answer = client.get("/admin/product/cell-count", query_string={"text": typed}).get_json()
    assert answer["understood"] is None


def test_a_lot_total_reads_the_same_way(client, auth, db):
    lot = LotFactory(total_cells=None)
    auth.login("marketing")
    url = f"/admin/lot/edit/?id={lot.id}"
    data = {**form_fields(client.get(url).text), "total_cells": "1.2 billion"}

    assert client.post(url, data=data).status_code == 302
    db.session.expire_all()
    assert lot.total_cells == 1_200_000_000


def test_the_product_page_lists_its_lots_and_adds_one_with_the_product_chosen(client, auth, db):
    product = ProductFactory(catalog_number="CT-LOTS-1")
    donor = DonorFactory(code="D40002")
    LotFactory(product=product, donor=donor, lot_number="2610-D40002-01")
    LotFactory(lot_number="2610-D40003-01")  # another product's
    auth.login("marketing")
    edit_url = f"/admin/product/edit/?id={product.id}"

    edit = page(client.get(edit_url))
    assert "Lots of this product" in edit
    assert "2610-D40002-01" in edit and "D40002" in edit
    assert "2610-D40003-01" not in edit
    add = re.search(r'<a class="btn btn-primary btn-sm" href="([^"]+)">Add lot</a>', edit).group(1)

    new_lot = client.get(add)
    posted = form_fields(new_lot.text)
    assert posted["product"] == "CT-LOTS-1"
    data = {**posted, "donor": "D40002", "lot_number": "2611-D40002-02", "collected_on": "2026-11-01"}
    saved = client.post(add, data={**data, "units_available": "2", "status": "available"})
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(edit_url)
    lot = db.session.scalar(select(Lot).where(Lot.lot_number == "2611-D40002-02"))
    assert lot.product_id == product.id


def test_many_lots_show_the_newest_and_link_to_all(client, auth, db):
    product = ProductFactory()
    for n in range(ProductView.LOTS_SHOWN + 3):
        LotFactory(product=product, lot_number=f"2601-D{41000 + n}-01")
    LotFactory(lot_number="2601-D49999-01")  # another product's
    auth.login("marketing")

    edit = page(client.get(f"/admin/product/edit/?id={product.id}"))

    assert edit.count("2601-D41") == ProductView.LOTS_SHOWN
    link = re.search(r'<a href="([^"]+)">All 23 lots of this product</a>', edit).group(1)
    listed = page(client.get(link))
    assert "2601-D41022-01" in listed and "2601-D41000-01" in listed
    assert "2601-D49999-01" not in listed


# Conflicts


def test_a_stale_save_shows_their_values_beside_mine_and_saves_my_choice_per_field(app, db, make_user):
    product = ProductFactory(name="PBMC 10M", price_cents=110000, unit_size="1 vial")
    url = f"/admin/product/edit/?id={product.id}"
    first, second = signed_in(app, make_user, "first@staff.test"), signed_in(app, make_user, "second@staff.test")
    first_form, second_form = form_fields(first.get(url).text), form_fields(second.get(url).text)
    assert first.post(url, data={**first_form, "price": "1111", "unit_size": "2 vials"}).status_code == 302

    refused = second.post(url, data={**second_form, "price": "1100", "name": "PBMC 10M (new)"})

    text = page(refused)
    assert "Their saved values are shown beside yours below" in text
    rows = {
        label: (mine, theirs)
        for label, mine, theirs in re.findall(
            r'<th scope="row"><a href="#\w+">([^<]+)</a></th>\s*<td class="conflict-value">(.*?)</td>\s*'
            r'<td class="conflict-value">(.*?)</td>',
            text,
            re.S,
        )
    }
    assert rows == {
        "Name": ("PBMC 10M (new)", "PBMC 10M"),
        "Unit size": ("1 vial", "2 vials"),
        "Price (in the currency below)": ("1100", "1111.00"),
    }
    again = form_fields(refused.text)
    assert again["price"] == "1100"  # what was typed is kept
    assert again["pick-price"] == "mine"

    # Take theirs for the price and the unit size, keep my name: the form now names the version seen.
    saved = second.post(url, data={**again, "pick-price": "theirs", "pick-unit_size": "theirs"})
    assert saved.status_code == 302, page(saved)[:2000]
    db.session.expire_all()
    assert (product.name, product.price_cents, product.unit_size) == ("PBMC 10M (new)", 111100, "2 vials")


def test_a_choice_does_not_survive_a_third_change(app, db, make_user):
    donor = DonorFactory(ethnicity="White", age=30)
    url = f"/admin/donor/edit/?id={donor.id}"
    a, b = signed_in(app, make_user, "a@staff.test"), signed_in(app, make_user, "b@staff.test")
    a_form, b_form = form_fields(a.get(url).text), form_fields(b.get(url).text)
    assert a.post(url, data={**a_form, "age": "31"}).status_code == 302
    refused = form_fields(b.post(url, data={**b_form, "ethnicity": "Asian"}).text)
    assert a.post(url, data={**form_fields(a.get(url).text), "age": "32"}).status_code == 302

    response = b.post(url, data={**refused, "pick-age": "theirs"})

    assert "Not saved: someone else changed this record" in page(response)
    db.session.expire_all()
    assert (donor.age, donor.ethnicity) == (32, "White")


def test_a_password_typed_into_a_stale_form_is_never_shown(app, db, make_user):
    from shop.accounts.models import User

    user = make_user("sales", email="sam@staff.test")
    url = f"/admin/users/edit/?id={user.id}"
    a, b = signed_in(app, make_user, "a@staff.test"), signed_in(app, make_user, "b@staff.test")
    a_form, b_form = form_fields(a.get(url).text), form_fields(b.get(url).text)
    assert a.post(url, data={**a_form, "name": "Sam A"}).status_code == 302

    secret = "correct horse battery staple 42"
    refused = b.post(url, data={**b_form, "name": "Sam B", "new_password": secret})

    assert "Their saved values are shown beside yours below" in page(refused)
    assert secret not in refused.text
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "Sam A"
