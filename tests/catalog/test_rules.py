"""One table of good and bad values, run through every way a value enters the catalog: the back-office
form, the CSV import and the seed loader (and the search, for what a URL can filter on). Each path must
give the same verdict: the same stored value, or a refusal with the same message (shop/catalog/rules.py).
"""

import csv
import html
import io
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from shop.catalog.csv_io import PRODUCT_COLUMNS, import_products
from shop.catalog.models import Donor, Lot, Product
from shop.catalog.services import read_filters
from shop.seeds import SeedError, load_categories, load_donors, load_lots, load_products
from tests.catalog.test_csv_io import product_row
from tests.factories import CategoryFactory, DonorFactory, ProductFactory

REFUSED = object()

# A good product as a person types it (the CSV tests' row); each case below changes one field.
PRODUCT = product_row(1)

# (field, what is typed, what is stored: the Product attribute's value, or REFUSED)
PRODUCT_CASES = [
    ("price", "1900", 190_000),
    ("price", "1900.5", 190_050),
    ("price", "1,900.00", 190_000),
    ("price", " 12,500 ", 1_250_000),
    ("price", "0", 0),
    ("price", "", None),
    ("price", "10,000,000.00", 1_000_000_000),
    ("price", "10000000.01", REFUSED),
    ("price", "15,000,000.00", REFUSED),
    ("price", "-5", REFUSED),
    ("price", "1.005", REFUSED),
    ("price", "1,90.00", REFUSED),
    ("price", "1 900", REFUSED),
    ("price", "$1900", REFUSED),
    ("price", "1e3", REFUSED),
    ("price", "NaN", REFUSED),
    ("catalog_number", "CT-PBMC-CR-25M", "CT-PBMC-CR-25M"),
    ("catalog_number", "ct-pbmc-cr-25m", "CT-PBMC-CR-25M"),
    ("catalog_number", "ct pbmc lower 1", REFUSED),
    ("catalog_number", "CTPBMC", REFUSED),
    ("catalog_number", "CT--PBMC", REFUSED),
    ("catalog_number", "-CT-PBMC", REFUSED),
    ("catalog_number", "CT-PBMC-Ä", REFUSED),
    ("catalog_number", "CT-" + "9" * 38, REFUSED),
    ("slug", "pbmc-10m", "pbmc-10m"),
    ("slug", "", "imported-pbmc-1"),  # made from the name
    ("slug", "Not A Slug", REFUSED),
    ("slug", "double--hyphen", REFUSED),
    ("slug", "trailing-", REFUSED),
    ("slug", "s" * 121, REFUSED),
    ("min_purity", "95", 95.0),
    ("min_purity", "97.5", 97.5),
    ("min_purity", "97.5%", 97.5),
    ("min_purity", "100", 100.0),
    ("min_purity", "", None),
    ("min_purity", "100.5", REFUSED),
    ("min_purity", "-1", REFUSED),
    ("min_purity", "nan", REFUSED),
    ("min_purity", "inf", REFUSED),
    ("min_purity", "1e400", REFUSED),
    ("min_purity", "high", REFUSED),
    ("min_viability", "85,5", REFUSED),
    ("lead_time_days", "0", 0),
    ("lead_time_days", "365", 365),
    ("lead_time_days", "366", REFUSED),
    ("lead_time_days", "-2", REFUSED),
    ("lead_time_days", "2.5", REFUSED),
    ("cells_per_unit", "25000000", 25_000_000),
    ("cells_per_unit", "2.5e7", 25_000_000),
    ("cells_per_unit", "", None),
    ("cells_per_unit", "0", REFUSED),
    ("cells_per_unit", "2.5e-1", REFUSED),
    ("cells_per_unit", "lots", REFUSED),
    ("cells_per_unit", "9223372036854775808", REFUSED),
    ("currency", "eur", "EUR"),
    ("currency", "", "USD"),
    ("currency", "US", REFUSED),
    ("currency", "U5D", REFUSED),
]
ATTRIBUTES = {"price": "price_cents"}


@pytest.fixture
def pbmc(db):
    category = CategoryFactory(slug="pbmc", name="PBMCs")
    db.session.commit()
    return category


def through_the_form(client, category_id: int, fields: dict) -> tuple[Product | None, str]:
    """POST the back office's new-product form; the product saved, or the page that refused it."""
    ticks = ("active", "featured", "donor_selectable", "recallable_donors")
    data = {name: value for name, value in fields.items() if name not in ("category", "applications", *ticks)}
    data.update(category=str(category_id), applications_text="", active="y")
    response = client.post("/admin/product/new/", data=data)
    return _saved(fields), html.unescape(response.text) if response.status_code == 200 else ""


def through_the_csv_import(fields: dict) -> tuple[Product | None, str]:
    """Import a one-row CSV file; the product saved, or the import's message for the row."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=PRODUCT_COLUMNS)
    writer.writeheader()
    writer.writerow(fields)
    report = import_products(io.StringIO(buffer.getvalue()))
    return _saved(fields), " ".join(error.message for error in report.errors)


def through_the_seeds(folder: Path, fields: dict) -> tuple[Product | None, str]:
    """Load a seeds folder with the product's front matter written as text; the product, or the SeedError."""
    (folder / "products").mkdir(parents=True)
    (folder / "categories.yaml").write_text("- {slug: pbmc, name: PBMCs, position: 1}\n")
    meta = {name: value for name, value in fields.items() if name != "description"}
    text = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n\n" + fields["description"] + "\n"
    (folder / "products" / "rule.md").write_text(text, encoding="utf-8")
    try:
        load_categories(folder)
        load_products(folder)
    except SeedError as exc:
        return None, str(exc)
    return _saved(fields), ""


def _saved(fields: dict) -> Product | None:
    from shop.extensions import db

    db.session.expire_all()
    return db.session.scalar(select(Product).where(Product.name == fields["name"]))


@pytest.mark.parametrize(("field", "typed", "stored"), PRODUCT_CASES)
def test_a_product_value_gets_one_verdict_on_every_path(client, auth, db, pbmc, tmp_path, field, typed, stored):
    fields = {**PRODUCT, field: typed}
    auth.login("marketing")
    outcomes = {}
    for path, run in (
        ("form", lambda: through_the_form(client, pbmc.id, fields)),
        ("csv", lambda: through_the_csv_import(fields)),
        ("seeds", lambda: through_the_seeds(tmp_path / "seeds", fields)),
    ):
        product, message = run()
        outcomes[path] = getattr(product, ATTRIBUTES.get(field, field)) if product else REFUSED, message
        if product is not None:
            db.session.delete(product)
            db.session.commit()
    assert {path: value for path, (value, _) in outcomes.items()} == dict.fromkeys(outcomes, stored)
    if stored is REFUSED:
        csv_message = outcomes["csv"][1]
        assert csv_message, "the import gave no reason"
        assert csv_message in outcomes["seeds"][1]
        assert csv_message in outcomes["form"][1]  # shown next to the field, with what was typed kept


# Donors and lots come in through the back office and the seeds (and HLA alleles through the catalog's URL too).

DONOR = {
    "code": "D20001", "sex": "F", "age": "34", "ethnicity": "", "bmi": "", "blood_type": "", "hla": "A*02:01",
    "cmv": "positive", "ebv": "negative", "smoking": "none", "disease_state": "", "recallable": "false",
    "donations": "1",
}  # fmt: skip
HLA_CASES = [
    ("A*02:01 B*07:02", ["A*02:01", "B*07:02"]),
    ("hla-a*02:01", ["A*02:01"]),
    ("DRB1*04:01:01:02 A*02", ["A*02", "DRB1*04:01:01:02"]),
    ("a*24:02 A*24:02", ["A*24:02"]),
    ("", []),
    ("A*2:01", REFUSED),
    ("A02:01", REFUSED),
    ("A*02:01:01:01:01", REFUSED),
    ("B*07;02", REFUSED),
]
DONOR_CASES = [("hla", typed, stored) for typed, stored in HLA_CASES] + [
    ("code", "d20002", "D20002"),
    ("code", "20002", REFUSED),
    ("age", "18", 18),
    ("age", "17", REFUSED),
    ("age", "101", REFUSED),
    ("bmi", "22.4", 22.4),
    ("bmi", "9", REFUSED),
    # Buyers filter on these: nothing is stored that nobody chose, and "not tested" is a choice of its own.
    ("cmv", "not_tested", "not_tested"),
    ("cmv", "Not tested", "not_tested"),
    ("cmv", "", REFUSED),
    ("ebv", "", REFUSED),
    ("sex", "", REFUSED),
    ("smoking", "", REFUSED),
    ("smoking", "unknown", "unknown"),
]
DONOR_ATTRIBUTES = {"cmv": "cmv_status", "ebv": "ebv_status"}


def donor_through_the_form(client, fields: dict):
    data = {name: value for name, value in fields.items() if name not in ("hla", "cmv", "ebv", "recallable")}
    data.update(hla_text=fields["hla"], cmv_status=fields["cmv"], ebv_status=fields["ebv"])
    response = client.post("/admin/donor/new/", data=data)
    return html.unescape(response.text) if response.status_code == 200 else ""


def donor_through_the_seeds(folder: Path, fields: dict):
    folder.mkdir(parents=True)
    with (folder / "donors.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(DONOR))
        writer.writeheader()
        writer.writerow(fields)
    try:
        load_donors(folder)
    except SeedError as exc:
        return str(exc)
    return ""


def _stored_donor(field: str):
    from shop.extensions import db

    db.session.expire_all()
    donor = db.session.scalar(select(Donor).order_by(Donor.id.desc()).limit(1))
    if donor is None:
        return REFUSED
    value = [a.allele for a in donor.alleles] if field == "hla" else getattr(donor, DONOR_ATTRIBUTES.get(field, field))
    db.session.delete(donor)
    db.session.commit()
    return value


@pytest.mark.parametrize(("field", "typed", "stored"), DONOR_CASES)
def test_a_donor_value_gets_one_verdict_on_every_path(client, auth, db, tmp_path, field, typed, stored):
    fields = {**DONOR, field: typed}
    auth.login("marketing")
    form_page = donor_through_the_form(client, fields)
    from_form = _stored_donor(field)
    seed_error = donor_through_the_seeds(tmp_path / "seeds", fields)
    from_seeds = _stored_donor(field)
    assert (from_form, from_seeds) == (stored, stored)
    if stored is REFUSED:
        message = seed_error.rsplit(f"{field}: ", 1)[-1]
        assert message and message in form_page


@pytest.mark.parametrize(("typed", "stored"), HLA_CASES)
def test_an_hla_allele_in_the_catalog_url_follows_the_same_rule(typed, stored):
    """The HLA facet takes one allele per parameter: the rule's alleles filter, any other is dropped."""
    words = typed.split()
    selected = read_filters(MultiDict([("hla", word) for word in words]), []).values("hla")
    assert sorted(set(selected)) == ([] if stored is REFUSED else stored)


LOT = {
    "lot_number": "2611-D20001-01", "catalog_number": "", "donor_code": "D20001", "collected_on": "2026-11-01",
    "frozen_on": "", "total_cells": "", "viability": "96.5", "purity": "", "cd3_pct": "", "cd4_pct": "",
    "cd8_pct": "", "cd19_pct": "", "cd14_pct": "", "cd56_pct": "", "units_available": "3", "status": "available",
}  # fmt: skip
LOT_CASES = [
    ("collected_on", "2026-05-12", "2026-05-12"),
    ("collected_on", "2026-5-12", REFUSED),
    ("collected_on", "12/05/2026", REFUSED),
    ("collected_on", "2026-02-30", REFUSED),
    ("frozen_on", "2026-11-01", "2026-11-01"),
    ("frozen_on", "2026-10-31", REFUSED),  # before it was collected
    ("viability", "96.5%", 96.5),
    ("viability", "101", REFUSED),
    ("units_available", "-1", REFUSED),
    ("lot_number", "2611-d20001-02", "2611-D20001-02"),
    ("lot_number", "26-D20001-01", REFUSED),
    ("total_cells", "1.1e10", 11_000_000_000),
]


@pytest.mark.parametrize(("field", "typed", "stored"), LOT_CASES)
def test_a_lot_value_gets_one_verdict_on_every_path(client, auth, db, tmp_path, field, typed, stored):
    product, donor = ProductFactory(), DonorFactory(code="D20001")
    db.session.commit()
    fields = {**LOT, "catalog_number": product.catalog_number, field: typed}
    auth.login("marketing")
    data = {name: value for name, value in fields.items() if name not in ("catalog_number", "donor_code")}
    response = client.post("/admin/lot/new/", data={**data, "product": product.catalog_number, "donor": donor.code})
    form_page = html.unescape(response.text) if response.status_code == 200 else ""
    from_form = _stored_lot(field)
    folder = tmp_path / "seeds"
    folder.mkdir()
    with (folder / "lots.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(LOT))
        writer.writeheader()
        writer.writerow(fields)
    try:
        load_lots(folder)
        seed_error = ""
    except SeedError as exc:
        seed_error = str(exc)
    from_seeds = _stored_lot(field)
    assert (from_form, from_seeds) == (stored, stored)
    if stored is REFUSED:
        message = seed_error.rsplit(f"{field}: ", 1)[-1]
        assert message and message in form_page


def _stored_lot(field: str):
    from shop.extensions import db

    db.session.expire_all()
    lot = db.session.scalar(select(Lot).limit(1))
    if lot is None:
        return REFUSED
    value = getattr(lot, field)
    db.session.delete(lot)
    db.session.commit()
    return value.isoformat() if hasattr(value, "isoformat") else value
