"""CSV files as staff really have them: semicolon-separated from Excel, not CSV at all, and donors and lots.

Donor and lot files have the columns of seeds/donors.csv and seeds/lots.csv and are read by the same
rules (shop/catalog/rules.py); like products, they are imported all or nothing and exported
spreadsheet-safe, in the back office and with ``flask catalog --kind``.
"""

import csv
import io
import zipfile

import pytest
from sqlalchemy import func, select

from shop.audit import AuditEntry
from shop.catalog import csv_io
from shop.catalog.cli import catalog_cli
from shop.catalog.models import Donor, Lot, Product
from tests.catalog.test_csv_io import csv_text, product_row
from tests.factories import CategoryFactory, DonorFactory, LotFactory, ProductFactory


@pytest.fixture(scope="module", autouse=True)
def catalog_commands(app):
    if "catalog" not in app.cli.commands:
        app.cli.add_command(catalog_cli)


@pytest.fixture
def category(db):
    category = CategoryFactory(slug="pbmc", name="PBMCs")
    db.session.commit()
    return category


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def semicolon_text(rows: list[dict[str, str]], columns=csv_io.PRODUCT_COLUMNS) -> str:
    """The rows as Excel writes CSV where the decimal separator is a comma: ';' between cells, 97,5 for 97.5."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    return "\ufeff" + buffer.getvalue()


# Semicolons


def test_a_semicolon_separated_file_from_european_excel_is_imported(db, category):
    rows = [product_row(1, price="1900,50", min_viability="97,5", cells_per_unit="2,5E+07"), product_row(2)]

    report = csv_io.import_products(io.BytesIO(semicolon_text(rows).encode("utf-8")))

    assert report.errors == []
    assert report.created == 2
    imported = db.session.scalar(select(Product).where(Product.catalog_number == "CT-IMP-1"))
    assert (imported.price_cents, imported.min_viability, imported.cells_per_unit) == (190050, 97.5, 25_000_000)
    assert imported.applications == ["Assay development", "CAR-T manufacturing"]


def test_a_semicolon_file_with_a_bad_cell_names_its_row_and_column_only(db, category):
    rows = [product_row(1), product_row(2, min_viability="120")]

    report = csv_io.import_products(io.StringIO(semicolon_text(rows)))

    assert [str(e) for e in report.errors] == ["row 3, column min_viability: A percentage between 0 and 100."]
    assert count(db, Product) == 0


def test_a_comma_file_still_keeps_commas_inside_cells(db, category):
    report = csv_io.import_products(io.StringIO(csv_text([product_row(1, price="1,900.00", name="PBMC, 25M")])))

    assert report.errors == []
    imported = db.session.scalar(select(Product))
    assert (imported.price_cents, imported.name) == (190000, "PBMC, 25M")


# Files that are not CSV: one message that says what the file is


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as workbook:
        workbook.writestr("[Content_Types].xml", "<Types/>")
        workbook.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


NOT_CSV = [
    (_xlsx(), "an Excel workbook (.xlsx)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "an Excel 97-2003 workbook (.xls)"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n" + bytes(100), "a PNG image"),
    ("catalog_number\tname\n".encode("utf-16"), "UTF-16 text"),
    (b"<!DOCTYPE html><html><body>Products</body></html>", "a web page (HTML)"),
    (b'{"products": []}', "JSON"),
    (b"abc\x00\x01\x02def", "a binary file"),
]


@pytest.mark.parametrize(("data", "looks_like"), NOT_CSV, ids=[what for _, what in NOT_CSV])
@pytest.mark.parametrize("kind", csv_io.FILE_KINDS)
def test_a_file_that_is_not_csv_gets_one_message_saying_what_it_looks_like(db, data, looks_like, kind):
    report = csv_io.FILE_KINDS[kind].import_file(io.BytesIO(data))

    assert len(report.errors) == 1
    assert looks_like in report.errors[0].message
    assert "CSV UTF-8" in report.errors[0].message


def test_a_text_file_with_none_of_the_columns_is_one_message_not_29(db):
    report = csv_io.import_products(io.StringIO("Dear sales,\nplease find attached our order.\n"))

    assert len(report.errors) == 1
    message = report.errors[0].message
    assert "should name the products columns (catalog_number, name, slug ...)" in message
    assert "“Dear sales" in message


def test_a_donor_file_offered_as_products_says_so(db):
    report = csv_io.import_products(io.StringIO(",".join(csv_io.DONOR_COLUMNS) + "\n"))

    assert [e.message for e in report.errors] == ["this is a file of donors, not of products: import it as donors"]


def test_a_file_with_some_product_columns_still_lists_each_missing_one(db, category):
    report = csv_io.import_products(io.StringIO("catalog_number,name\nCT-A-1,PBMC\n"))

    assert len(report.errors) == len(csv_io.PRODUCT_COLUMNS) - 2
    assert all(e.message == "missing column" for e in report.errors)


# Donors


def donor_row(code: str = "D30001", **cells: str) -> dict[str, str]:
    row = {
        "code": code, "sex": "F", "age": "34", "ethnicity": "White", "bmi": "22.4", "blood_type": "O+",
        "hla": "A*02:01 B*07:02", "cmv": "negative", "ebv": "not tested", "smoking": "none", "disease_state": "",
        "recallable": "true", "donations": "3",
    }  # fmt: skip
    row.update(cells)
    return row


def rows_text(rows, columns) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def test_donors_are_imported_and_updated_by_code(db):
    DonorFactory(code="D30002", age=40, hla=["A*01:01"])
    db.session.commit()
    text = rows_text([donor_row("D30001"), donor_row("d30002", age="41")], csv_io.DONOR_COLUMNS)

    report = csv_io.import_donors(io.StringIO(text))

    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    db.session.expire_all()
    new, updated = db.session.scalars(select(Donor).order_by(Donor.code)).all()
    assert (new.cmv_status, new.ebv_status, new.hla_typing) == ("negative", "not_tested", "A*02:01 B*07:02")
    assert (updated.age, updated.hla_typing) == (41, "A*02:01 B*07:02")
    again = csv_io.import_donors(io.StringIO(text))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_a_donor_file_with_bad_rows_imports_nothing_and_lists_every_problem_by_row(db):
    rows = [
        donor_row("D30001"),
        donor_row("D30002", cmv="", sex="X"),
        donor_row("D30001"),
        donor_row("D30003", hla="A*2:01", age="17"),
    ]

    report = csv_io.import_donors(io.StringIO(rows_text(rows, csv_io.DONOR_COLUMNS)))

    assert [(e.row, e.column) for e in report.errors] == [
        (3, "sex"), (3, "cmv"), (4, "code"), (5, "age"), (5, "hla"),
    ]  # fmt: skip
    assert "A value is required" in report.errors[1].message
    assert report.errors[2].message == "D30001 is also on row 2"
    assert count(db, Donor) == 0


def test_donors_export_reads_back_unchanged_and_is_spreadsheet_safe(db):
    DonorFactory(code="D30001", ethnicity='=HYPERLINK("http://x")', cmv_status="not_tested", hla=["A*02:01"])
    db.session.commit()
    buffer = io.StringIO()

    assert csv_io.export_donors(buffer) == 1

    exported = buffer.getvalue()
    assert list(csv.DictReader(io.StringIO(exported)))[0]["ethnicity"] == '\'=HYPERLINK("http://x")'
    report = csv_io.import_donors(io.StringIO(exported))
    assert (report.errors, report.unchanged) == ([], 1)


# Lots


def lot_row(number: str = "2611-D30001-01", **cells: str) -> dict[str, str]:
    row = dict.fromkeys(csv_io.LOT_COLUMNS, "")
    row.update(
        lot_number=number, catalog_number="CT-LOT-1", donor_code="D30001", collected_on="2026-11-02",
        frozen_on="2026-11-02", total_cells="1.2e9", viability="96.5", units_available="4", status="available",
    )  # fmt: skip
    row.update(cells)
    return row


@pytest.fixture
def product_and_donor(db):
    product = ProductFactory(catalog_number="CT-LOT-1")
    donor = DonorFactory(code="D30001")
    db.session.commit()
    return product, donor


def test_lots_are_imported_from_a_semicolon_file_and_updated_by_lot_number(db, product_and_donor):
    product, donor = product_and_donor
    LotFactory(lot_number="2611-D30001-02", product=product, donor=donor, units_available=1)
    db.session.commit()
    text = semicolon_text(
        [lot_row(viability="96,5"), lot_row("2611-D30001-02", units_available="7")], csv_io.LOT_COLUMNS
    )

    report = csv_io.import_lots(io.StringIO(text))

    assert report.errors == []
    assert (report.created, report.updated) == (1, 1)
    db.session.expire_all()
    new, updated = db.session.scalars(select(Lot).order_by(Lot.lot_number)).all()
    assert (new.product_id, new.donor_id, new.viability, new.total_cells) == (product.id, donor.id, 96.5, 1_200_000_000)
    assert updated.units_available == 7


def test_a_lot_file_naming_unknown_products_or_donors_or_bad_dates_imports_nothing(db, product_and_donor):
    rows = [
        lot_row(),
        lot_row("2611-D30001-02", catalog_number="CT-NONE-1", donor_code="D39999"),
        lot_row("2611-D30001-03", collected_on="2026-11-05", frozen_on="2026-11-01"),
        lot_row("2611-D30001-04", status="", collected_on=""),
    ]

    report = csv_io.import_lots(io.StringIO(rows_text(rows, csv_io.LOT_COLUMNS)))

    assert [(e.row, e.column) for e in report.errors] == [
        (3, "catalog_number"), (3, "donor_code"), (4, "frozen_on"), (5, "collected_on"), (5, "status"),
    ]  # fmt: skip
    assert "import donors first" in report.errors[1].message
    assert count(db, Lot) == 0


def test_lots_export_names_products_and_donors_and_reads_back_unchanged(db, product_and_donor):
    product, donor = product_and_donor
    LotFactory(lot_number="2611-D30001-01", product=product, donor=donor, purity=None)
    db.session.commit()
    buffer = io.StringIO()

    csv_io.export_lots(buffer)

    row = list(csv.DictReader(io.StringIO(buffer.getvalue())))[0]
    assert (row["catalog_number"], row["donor_code"], row["purity"]) == ("CT-LOT-1", "D30001", "")
    report = csv_io.import_lots(io.StringIO(buffer.getvalue()))
    assert (report.errors, report.unchanged) == ([], 1)


# Back office and command line


def test_the_back_office_imports_and_exports_donors_and_lots(client, auth, db, product_and_donor):
    auth.login("marketing")
    page = client.get("/admin/catalog_csv/").text
    for kind in ("products", "donors", "lots"):
        assert f"Download {kind}.csv" in page
        assert f"Check and import {kind}" in page

    donors = client.get("/admin/catalog_csv/export.csv?kind=donors")
    assert donors.status_code == 200
    assert donors.headers["Content-Disposition"].startswith('attachment; filename="donors-')
    assert donors.text.startswith('"code","sex"')

    upload = (io.BytesIO(rows_text([lot_row()], csv_io.LOT_COLUMNS).encode()), "lots.csv")
    response = client.post("/admin/catalog_csv/import?kind=lots", data={"file": upload}, follow_redirects=True)
    assert "Imported lots.csv (lots): 1 created, 0 updated, 0 unchanged." in response.text
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
    assert (entry.entity, entry.label) == ("lot", "CSV import of lots.csv")


def test_the_back_office_shows_one_message_for_a_workbook(client, auth, db):
    auth.login("marketing")

    response = client.post("/admin/catalog_csv/import?kind=donors", data={"file": (io.BytesIO(_xlsx()), "donors.xlsx")})

    assert response.status_code == 422
    assert response.text.count("<td>file</td>") == 1
    assert "this file looks like an Excel workbook (.xlsx), not CSV text" in response.text


def test_an_unknown_kind_is_a_404(client, auth, db):
    auth.login("marketing")

    assert client.get("/admin/catalog_csv/export.csv?kind=orders").status_code == 404
    assert client.post("/admin/catalog_csv/import?kind=orders").status_code == 404


def test_sales_may_export_donors_but_not_import_them(client, auth, db):
    auth.login("sales")

    assert client.get("/admin/catalog_csv/export.csv?kind=lots").status_code == 200
    upload = (io.BytesIO(b"code\n"), "donors.csv")
    assert client.post("/admin/catalog_csv/import?kind=donors", data={"file": upload}).status_code == 403


def test_the_cli_exports_and_imports_donors_and_lots(runner, db, product_and_donor, tmp_path):
    LotFactory(lot_number="2611-D30001-01", product=product_and_donor[0], donor=product_and_donor[1])
    db.session.commit()
    donors, lots = tmp_path / "donors.csv", tmp_path / "lots.csv"

    assert runner.invoke(args=["catalog", "export", str(donors), "--kind", "donors"]).output == (
        f"1 donors written to {donors}\n"
    )
    assert runner.invoke(args=["catalog", "export", str(lots), "--kind", "lots"]).exit_code == 0
    imported = runner.invoke(args=["catalog", "import", str(lots), "--kind", "lots"])
    assert imported.output == "0 created, 0 updated, 1 unchanged\n"

    lots.write_text(rows_text([lot_row(catalog_number="CT-NONE-1")], csv_io.LOT_COLUMNS))
    refused = runner.invoke(args=["catalog", "import", str(lots), "--kind", "lots"])
    assert refused.exit_code == 1
    assert "row 2, column catalog_number: there is no product CT-NONE-1" in refused.output


def test_the_seed_files_are_donor_and_lot_files(db, seeded):
    """seeds/donors.csv and seeds/lots.csv import as they are: one format, one set of rules."""
    from tests.conftest import SEEDS

    for kind in ("donors", "lots"):
        with (SEEDS / f"{kind}.csv").open("rb") as handle:
            report = csv_io.FILE_KINDS[kind].import_file(handle)
        assert report.errors == []
        assert report.created == 0 and report.unchanged > 10
