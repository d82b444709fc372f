"""CSV export and import of the catalog: round trips, upserts, all-or-nothing checks, the CLI and a big file."""

import csv
import io

import pytest
from sqlalchemy import func, select

from shop.audit import AuditEntry
from shop.catalog import csv_io
from shop.catalog.cli import catalog_cli
from shop.catalog.csv_io import PRODUCT_COLUMNS, RowError, export_products, import_products
from shop.catalog.models import Product
from tests.factories import CategoryFactory, ProductFactory


@pytest.fixture(scope="module", autouse=True)
def catalog_commands(app):
    """``flask catalog`` on the test app, whether or not shop/cli.py registers it already."""
    if "catalog" not in app.cli.commands:
        app.cli.add_command(catalog_cli)


@pytest.fixture
def category(db):
    """The category the rows below name, committed so that CLI commands see it too."""
    category = CategoryFactory(slug="pbmc", name="PBMCs")
    db.session.commit()
    return category


def product_row(n: int = 1, **cells: str) -> dict[str, str]:
    """A good import row for catalog number CT-IMP-<n>; keyword arguments replace cells."""
    row = {
        "catalog_number": f"CT-IMP-{n}",
        "name": f"Imported PBMC {n}",
        "slug": "",
        "category": "pbmc",
        "cell_type": "PBMC",
        "markers": "CD3+ CD19+",
        "tissue_source": "Peripheral blood",
        "mobilization": "none",
        "donor_health": "Healthy",
        "format": "cryopreserved",
        "container": "vial",
        "unit_size": "1 vial",
        "cells_per_unit": "2.5e7",
        "isolation_method": "Density gradient (Ficoll-Paque)",
        "min_purity": "",
        "min_viability": "85",
        "grade": "research",
        "price": "1900.00",
        "currency": "USD",
        "lead_time_days": "3",
        "shipping_condition": "dry_ice",
        "stability": "Stable in LN2 vapour phase.",
        "donor_selectable": "true",
        "recallable_donors": "false",
        "applications": "Assay development; CAR-T manufacturing",
        "featured": "false",
        "active": "true",
        "description": "PBMCs for assays.",
    }
    row.update(cells)
    return row


def csv_text(rows: list[dict[str, str]]) -> str:
    """The rows as CSV text under the PRODUCT_COLUMNS header."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=PRODUCT_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def run_import(text: str) -> csv_io.ImportReport:
    """Import CSV text."""
    return import_products(io.StringIO(text))


def export_text() -> str:
    """The catalog as exported CSV text."""
    buffer = io.StringIO()
    export_products(buffer)
    return buffer.getvalue()


def product_count(db) -> int:
    """How many products the database holds."""
    return db.session.scalar(select(func.count()).select_from(Product))


def product(db, catalog_number: str) -> Product | None:
    """The product with this catalog number, read afresh."""
    db.session.expire_all()
    return db.session.scalar(select(Product).where(Product.catalog_number == catalog_number))


def counts(report: csv_io.ImportReport) -> tuple[int, int, int]:
    """(created, updated, unchanged)."""
    return report.created, report.updated, report.unchanged


# Export


def test_export_writes_every_product_in_catalog_number_order(db, category):
    ProductFactory(
        catalog_number="CT-B",
        category=category,
        price_cents=190_000,
        active=False,
        featured=True,
        applications=["Assays", "CAR-T"],
        min_viability=85.0,
        min_purity=92.5,
        cells_per_unit=25_000_000,
    )
    ProductFactory(catalog_number="CT-A", category=category, price_cents=None)

    rows = list(csv.DictReader(io.StringIO(export_text())))

    assert list(rows[0]) == list(PRODUCT_COLUMNS)
    assert [row["catalog_number"] for row in rows] == ["CT-A", "CT-B"]
    quote_only, inactive = rows
    assert quote_only["price"] == ""
    assert quote_only["active"] == "true"
    assert inactive["price"] == "1900.00"
    assert (inactive["active"], inactive["featured"], inactive["donor_selectable"]) == ("false", "true", "false")
    assert inactive["applications"] == "Assays; CAR-T"
    assert inactive["category"] == "pbmc"
    assert (inactive["min_viability"], inactive["min_purity"]) == ("85", "92.5")
    assert inactive["cells_per_unit"] == "25000000"


def test_export_then_import_changes_nothing(seeded):
    db = seeded
    first = db.session.scalars(select(Product).order_by(Product.catalog_number)).first()
    first.active = False
    first.price_cents = None
    first.description = 'Line one; with, commas and "quotes".\n\n    indented Markdown\n'
    db.session.commit()
    before = export_text()
    stamps = dict(db.session.execute(select(Product.catalog_number, Product.updated_at)).all())

    report = run_import(before)

    assert report.errors == []
    assert counts(report) == (0, 0, product_count(db))
    assert export_text() == before
    assert dict(db.session.execute(select(Product.catalog_number, Product.updated_at)).all()) == stamps


# Import: creating and updating


def test_import_creates_products_and_a_second_import_changes_nothing(db, category):
    text = csv_text([product_row(1), product_row(2, price="", applications="", featured="yes")])

    first = run_import(text)
    second = run_import(text)

    assert first.errors == second.errors == []
    assert counts(first) == (2, 0, 0)
    assert counts(second) == (0, 0, 2)
    assert product_count(db) == 2
    created = product(db, "CT-IMP-1")
    assert created.category_id == category.id
    assert created.slug == "imported-pbmc-1"
    assert created.price_cents == 190_000
    assert created.cells_per_unit == 25_000_000
    assert created.applications == ["Assay development", "CAR-T manufacturing"]
    assert (created.min_purity, created.min_viability) == (None, 85.0)
    assert (created.donor_selectable, created.recallable_donors, created.active) == (True, False, True)
    quote_only = product(db, "CT-IMP-2")
    assert (quote_only.price_cents, quote_only.applications, quote_only.featured) == (None, [], True)


def test_import_updates_products_by_catalog_number(db, category):
    existing = ProductFactory(
        catalog_number="CT-IMP-1", slug="kept-slug", category=category, image="pbmc.webp", featured=True
    )
    db.session.commit()
    product_id = existing.id

    report = run_import(csv_text([product_row(1, name="Renamed PBMC", price="1234.50"), product_row(2)]))

    assert report.errors == []
    assert counts(report) == (1, 1, 0)
    updated = product(db, "CT-IMP-1")
    assert updated.id == product_id
    assert (updated.name, updated.price_cents, updated.featured) == ("Renamed PBMC", 123_450, False)
    assert updated.slug == "kept-slug"  # an empty slug keeps a product's URL
    assert updated.image == "pbmc.webp"  # not a column of the file
    assert product_count(db) == 2


def test_empty_slugs_are_made_from_the_name_and_kept_unique(db, category):
    ProductFactory(slug="pbmc-cryopreserved-10m", category=category)
    rows = [
        product_row(1, name="PBMC, cryopreserved, 10M"),
        product_row(2, name="PBMC – cryopreserved – 10M"),
        product_row(3, slug="pbmc-cryopreserved-10m-2"),
    ]

    report = run_import(csv_text(rows))

    assert report.errors == []
    assert product(db, "CT-IMP-1").slug == "pbmc-cryopreserved-10m-3"
    assert product(db, "CT-IMP-2").slug == "pbmc-cryopreserved-10m-4"
    assert product(db, "CT-IMP-3").slug == "pbmc-cryopreserved-10m-2"


@pytest.mark.parametrize(
    ("price", "cents"),
    [("1900.00", 190_000), ("1900", 190_000), ("0.29", 29), ("19.1", 1910), ("0", 0), ("1.10000", 110), ("", None)],
)
def test_prices_become_exact_cents(db, category, price, cents):
    report = run_import(csv_text([product_row(1, price=price)]))

    assert report.errors == []
    assert product(db, "CT-IMP-1").price_cents == cents


def test_bom_whitespace_capitals_and_byte_streams_are_accepted(db, category):
    row = product_row(
        1,
        name="  Padded name  ",
        format=" Cryopreserved ",
        donor_selectable="YES",
        recallable_donors="1",
        active="0",
        currency="eur",
        cells_per_unit="1E7",
    )
    text = csv_text([row]).replace("catalog_number,", " catalog_number ,", 1)

    report = import_products(io.BytesIO(("\ufeff" + text).encode("utf-8")))

    assert report.errors == []
    created = product(db, "CT-IMP-1")
    assert (created.name, created.format, created.currency) == ("Padded name", "cryopreserved", "EUR")
    assert (created.donor_selectable, created.recallable_donors, created.active) == (True, True, False)
    assert created.cells_per_unit == 10_000_000


def test_header_only_file_imports_nothing(db, category):
    report = run_import(csv_text([]))

    assert report.errors == []
    assert counts(report) == (0, 0, 0)


# Import: bad files write nothing

BAD_CELLS = [
    ("name", "", "required"),
    ("cell_type", "   ", "required"),
    ("category", "no-such-category", "no category"),
    ("format", "frozen", "fresh, cryopreserved"),
    ("grade", "clinical", "research, gmp"),
    ("container", "bottle", "bag, vial, tube"),
    ("shipping_condition", "courier", "ambient"),
    ("price", "abc", "not a price"),
    ("price", "1,90.00", "not a price"),
    ("price", "-5.00", "negative"),
    ("price", "1.005", "two decimals"),
    ("price", "99999999.00", "too large"),
    ("min_purity", "high", "percentage"),
    ("min_purity", "-1", "percentage"),
    ("min_viability", "100.5", "percentage"),
    ("lead_time_days", "-2", "Between 0 and 365 days"),
    ("lead_time_days", "2.5", "Between 0 and 365 days"),
    ("cells_per_unit", "0", "positive whole number"),
    ("cells_per_unit", "2.5e-1", "positive whole number"),
    ("cells_per_unit", "lots", "positive whole number"),
    ("donor_selectable", "maybe", "true, false"),
    ("active", "y", "true, false"),
    ("slug", "Not A Slug", "lower-case letters, digits and single hyphens"),
    ("slug", "double--hyphen", "lower-case letters, digits and single hyphens"),
    ("slug", "s" * 121, "at most 120"),
    ("name", "n" * 201, "at most 200"),
    ("catalog_number", "C" * 41, "at most 40"),
    ("markers", "M" * 201, "at most 200"),
    ("currency", "US", "currency code"),
    ("currency", "U5D", "currency code"),
]


@pytest.mark.parametrize(("column", "value", "fragment"), BAD_CELLS)
def test_each_bad_cell_is_reported_with_its_row_and_column(db, category, column, value, fragment):
    report = run_import(csv_text([product_row(1, **{column: value})]))

    assert [(error.row, error.column) for error in report.errors] == [(2, column)]
    assert fragment in report.errors[0].message
    assert product_count(db) == 0


def test_a_file_with_bad_rows_reports_every_error_and_writes_nothing(db, category):
    ProductFactory(catalog_number="CT-OTHER", slug="taken-slug", category=category)
    db.session.commit()
    rows = [product_row(0)]  # good, on line 2
    rows += [product_row(n, **{column: value}) for n, (column, value, _) in enumerate(BAD_CELLS, start=1)]
    rows += [
        product_row(0, name="The same catalog number again"),
        product_row(100, slug="same-slug"),
        product_row(101, slug="same-slug"),
        product_row(102, slug="taken-slug"),
        product_row(103, format="frozen", price="-1", lead_time_days="soon"),
    ]
    first_extra = 3 + len(BAD_CELLS)
    expected = [(line, column) for line, (column, _, _) in enumerate(BAD_CELLS, start=3)]
    expected += [
        (first_extra, "catalog_number"),
        (first_extra + 2, "slug"),
        (first_extra + 3, "slug"),
        (first_extra + 4, "format"),
        (first_extra + 4, "price"),
        (first_extra + 4, "lead_time_days"),
    ]

    report = run_import(csv_text(rows))

    assert [(error.row, error.column) for error in report.errors] == expected
    assert "also on row 2" in report.errors[len(BAD_CELLS)].message
    assert "CT-OTHER" in report.errors[len(BAD_CELLS) + 2].message
    assert counts(report) == (0, 0, 0)
    assert product_count(db) == 1
    assert product(db, "CT-IMP-0") is None


def test_a_bad_row_stops_updates_too(db, category):
    ProductFactory(catalog_number="CT-IMP-1", name="Original name", category=category)
    db.session.commit()

    report = run_import(csv_text([product_row(1, name="New name"), product_row(2, grade="clinical")]))

    assert [(error.row, error.column) for error in report.errors] == [(3, "grade")]
    assert product(db, "CT-IMP-1").name == "Original name"


def test_a_product_saved_between_the_checks_and_the_write_fails_the_import_cleanly(db, category, monkeypatch):
    load = csv_io._Catalog.load

    def load_then_race(cls):
        catalog = load()
        ProductFactory(catalog_number="CT-IMP-2", category=category)  # as if another import got there first
        return catalog

    monkeypatch.setattr(csv_io._Catalog, "load", classmethod(load_then_race))

    report = run_import(csv_text([product_row(1), product_row(2)]))

    assert [(error.row, error.column) for error in report.errors] == [(0, "")]
    assert "changed during the import" in report.errors[0].message
    assert product_count(db) == 0


def test_duplicate_catalog_number_in_the_file(db, category):
    report = run_import(csv_text([product_row(1), product_row(2), product_row(1, name="Twin")]))

    assert report.errors == [RowError(4, "catalog_number", "CT-IMP-1 is also on row 2")]
    assert product_count(db) == 0


def test_a_row_with_the_wrong_number_of_cells(db, category):
    text = csv_text([product_row(1)]) + "CT-IMP-2,Short row\r\n"

    report = run_import(text)

    assert [(error.row, error.column) for error in report.errors] == [(3, "")]
    assert "2 cells" in report.errors[0].message
    assert product_count(db) == 0


def test_line_numbers_count_blank_lines_and_multiline_cells(db, category):
    rows = [product_row(1, description="First line.\nSecond line.\n"), product_row(2, grade="clinical")]
    text = csv_text(rows).replace("\r\n", "\r\n\r\n", 1)  # a blank line after the header

    report = run_import(text)

    # header 1, blank 2, the first row on 3-5 (its description spans three lines), the bad row on 6
    assert [(error.row, error.column) for error in report.errors] == [(6, "grade")]


def test_header_problems_are_reported_on_line_1(db, category):
    header = [c for c in PRODUCT_COLUMNS if c != "grade"] + ["colour", "name"]
    text = ",".join(header) + "\r\n"

    report = run_import(text)

    assert report.errors == [
        RowError(1, "colour", "unknown column"),
        RowError(1, "name", "this column appears more than once"),
        RowError(1, "grade", "missing column"),
    ]


def test_missing_column(db, category):
    buffer = io.StringIO()
    columns = [c for c in PRODUCT_COLUMNS if c != "price"]
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerow(product_row(1))

    report = run_import(buffer.getvalue())

    assert report.errors == [RowError(1, "price", "missing column")]
    assert product_count(db) == 0


def test_non_utf8_file_is_rejected_as_a_whole(db, category, tmp_path):
    data = csv_text([product_row(1, name="Zellen für Tests")]).encode("latin-1")
    path = tmp_path / "latin-1.csv"
    path.write_bytes(data)

    from_bytes = import_products(io.BytesIO(data))
    with path.open(encoding="utf-8", newline="") as handle:
        from_text = import_products(handle)

    assert from_bytes.errors == from_text.errors == [RowError(0, "", csv_io.NOT_UTF8)]
    assert "UTF-8" in csv_io.NOT_UTF8
    assert product_count(db) == 0


@pytest.mark.parametrize("text", ["", "\r\n\r\n", "  \n"])
def test_empty_file_is_rejected(db, category, text):
    report = run_import(text)

    assert report.errors == [RowError(0, "", "the file is empty")]


def test_too_many_rows_are_rejected(db, category, monkeypatch):
    monkeypatch.setattr(csv_io, "MAX_IMPORT_ROWS", 3)

    report = run_import(csv_text([product_row(n) for n in range(4)]))

    assert [(error.row, error.column) for error in report.errors] == [(5, "")]
    assert "more than 3 rows" in report.errors[0].message
    assert product_count(db) == 0


def test_ten_thousand_rows_import(db, category):
    rows_done: list[int] = []
    text = csv_text([product_row(n) for n in range(10_000)])

    report = import_products(io.StringIO(text), progress=rows_done.append)

    assert report.errors == []
    assert counts(report) == (10_000, 0, 0)
    assert product_count(db) == 10_000
    assert rows_done[-1] == 10_000
    assert rows_done == sorted(rows_done)


# The CLI


def write_csv(tmp_path, rows: list[dict[str, str]]) -> str:
    """Write the rows to a CSV file; return its path."""
    path = tmp_path / "products.csv"
    path.write_text(csv_text(rows), encoding="utf-8", newline="")
    return str(path)


def test_cli_import_prints_counts(runner, db, category, tmp_path):
    path = write_csv(tmp_path, [product_row(1), product_row(2)])

    first = runner.invoke(args=["catalog", "import", path])
    second = runner.invoke(args=["catalog", "import", path])

    assert first.exit_code == 0, first.output
    assert first.output == "2 created, 0 updated, 0 unchanged\n"
    assert second.exit_code == 0, second.output
    assert second.output == "0 created, 0 updated, 2 unchanged\n"
    assert product_count(db) == 2
    summaries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "import").order_by(AuditEntry.id)
    ).all()
    summary = ("cli: flask catalog import", "CSV import of products.csv")
    assert [(entry.actor, entry.label) for entry in summaries] == [summary, summary]
    assert summaries[0].changes == {"created": 2, "updated": 0, "unchanged": 0}


def test_cli_import_prints_errors_and_exits_1(runner, db, category, tmp_path):
    path = write_csv(tmp_path, [product_row(1), product_row(2, price="-1"), product_row(3, format="frozen")])

    result = runner.invoke(args=["catalog", "import", path])

    assert result.exit_code == 1
    assert "Nothing was imported: 2 problem(s) found." in result.output
    assert "row 3, column price: The price can't be negative" in result.output
    assert "row 4, column format: “frozen” is not one of fresh, cryopreserved" in result.output
    assert product_count(db) == 0


def test_cli_import_shows_at_most_50_errors(runner, db, category, tmp_path):
    path = write_csv(tmp_path, [product_row(n, price="free") for n in range(60)])

    result = runner.invoke(args=["catalog", "import", path])

    assert result.exit_code == 1
    assert sum(line.startswith("row ") for line in result.output.splitlines()) == 50
    assert result.output.splitlines()[-1] == "... and 10 more"


def test_cli_import_of_a_non_utf8_file(runner, db, category, tmp_path):
    path = tmp_path / "products.csv"
    path.write_bytes(csv_text([product_row(1, name="Zellen für Tests")]).encode("cp1252"))

    result = runner.invoke(args=["catalog", "import", str(path)])

    assert result.exit_code == 1
    assert f"row 0: {csv_io.NOT_UTF8}" in result.output


def test_cli_import_of_a_big_file_shows_a_progress_bar(runner, db, category, tmp_path):
    path = write_csv(tmp_path, [product_row(n) for n in range(1_500)])

    result = runner.invoke(args=["catalog", "import", path])

    assert result.exit_code == 0, result.output
    assert "Importing products" in result.stderr
    assert result.stdout == "1500 created, 0 updated, 0 unchanged\n"
    assert product_count(db) == 1_500


def test_cli_export_to_stdout_and_to_a_file(runner, db, category, tmp_path):
    ProductFactory(catalog_number="CT-1", category=category)
    ProductFactory(catalog_number="CT-2", category=category, active=False)
    db.session.commit()
    path = tmp_path / "export.csv"

    to_stdout = runner.invoke(args=["catalog", "export"])
    to_file = runner.invoke(args=["catalog", "export", str(path)])

    assert to_stdout.exit_code == 0, to_stdout.output
    rows = list(csv.DictReader(io.StringIO(to_stdout.stdout)))
    assert [row["catalog_number"] for row in rows] == ["CT-1", "CT-2"]
    assert to_file.exit_code == 0, to_file.output
    assert to_file.output == f"2 products written to {path}\n"
    assert path.read_text(encoding="utf-8") == to_stdout.stdout
