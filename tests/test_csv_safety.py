"""CSV injection: no CSV the shop writes holds a cell a spreadsheet would run, and the import reads the export back."""

import csv
import io
import re
import unicodedata
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from shop.audit import AuditEntry
from shop.catalog.csv_io import export_products, import_products
from shop.catalog.models import Product
from shop.csv_safety import SafeWriter, guard, unguard
from tests.factories import CategoryFactory, ProductFactory

# 21 hostile cells: OWASP's triggers, a real payload, whitespace before a trigger, and compatibility forms.
HOSTILE = [
    "=1+1",
    "+1",
    "-1+1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    '=HYPERLINK("http://x","click")',
    "=cmd|' /C calc'!A0",
    " =1+1",
    "   +1",
    "\n=1",
    "\u00a0=1",  # no-break space
    "\u3000@SUM(A1)",  # ideographic space
    "＝1+1",  # fullwidth
    "＋1",
    "－1",
    "＠SUM(A1)",
    "﹦1",  # small form
    "'=1+1",  # looks guarded already: must survive the round trip as typed
    "-5",  # a number as text, in a text column, is text
    " \t-x",
]
HARMLESS = ["", "hello", "a=b", "5", "1.5", "'quoted", "''", "'", " x", "x=1+1", "CD3+ CD19-"]
TRIGGERS = frozenset("=+-@\t\r")
PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def runs_as_formula(cell: str) -> bool:
    """What a spreadsheet sees, read independently of shop.csv_safety: a trigger first, after any whitespace."""
    visible = unicodedata.normalize("NFKC", cell)
    return visible[:1] in TRIGGERS or visible.lstrip()[:1] in TRIGGERS


def cells_of(text: str) -> list[list[str]]:
    """Every row of a CSV text as a list of cells."""
    return list(csv.reader(io.StringIO(text)))


def dangerous_cells(text: str) -> list[str]:
    """The cells of a CSV text that a spreadsheet would run; a plain number (-5, -1.5) is a value, not a formula."""
    return [cell for row in cells_of(text) for cell in row if runs_as_formula(cell) and not PLAIN_NUMBER.match(cell)]


@pytest.fixture
def hostile_products(db):
    """One product per hostile cell, in its name, markers and description; committed for the CLI."""
    category = CategoryFactory(slug="pbmc")
    for n, cell in enumerate(HOSTILE):
        ProductFactory(catalog_number=f"CT-X{n:02d}", name=cell, markers=cell, description=cell, category=category)
    db.session.commit()
    return category


# The rule


@pytest.mark.parametrize("cell", HOSTILE)
def test_every_hostile_cell_is_guarded_and_reads_back(cell):
    guarded = guard(cell)
    assert guarded.startswith("'") and not runs_as_formula(guarded)
    assert unguard(guarded) == cell


@pytest.mark.parametrize("cell", HARMLESS)
def test_harmless_text_is_written_as_it_is(cell):
    assert guard(cell) == cell
    assert unguard(cell) == cell


@pytest.mark.parametrize("number", [-5, -1.5, Decimal("-5.00"), 0, 3])
def test_numbers_are_never_guarded(number):
    assert guard(number) is number


# Every writer


def test_product_export_guards_every_hostile_cell(hostile_products):
    buffer = io.StringIO()
    export_products(buffer)

    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert dangerous_cells(buffer.getvalue()) == []
    assert len(rows) == len(HOSTILE)
    for row, cell in zip(rows, HOSTILE, strict=True):
        assert row["name"] == row["markers"] == row["description"] == "'" + cell


def test_negative_numbers_stay_numbers_and_text_that_looks_like_one_is_text():
    buffer = io.StringIO()
    SafeWriter(buffer).writerow(["-5", -5, -1.5, Decimal("-5.00"), ""])

    # Numbers are written bare (unquoted, unguarded), so a spreadsheet reads them as numbers.
    assert buffer.getvalue() == '"\'-5",-5,-1.5,-5.00,""\r\n'


def test_product_export_writes_numeric_columns_as_bare_numbers(db):
    ProductFactory(catalog_number="CT-N", min_purity=92.5, min_viability=85.0, lead_time_days=3, price_cents=190_000)
    db.session.commit()
    buffer = io.StringIO()
    export_products(buffer)

    line = buffer.getvalue().splitlines()[1]
    assert ',92.5,85,"research",1900.00,"USD",3,' in line


def test_back_office_product_export_is_guarded(client, auth, hostile_products):
    auth.login("sales")
    response = client.get("/admin/catalog_csv/export.csv")

    assert response.status_code == 200
    assert dangerous_cells(response.text) == []
    assert sum(row[1].startswith("'") for row in cells_of(response.text)[1:]) == len(HOSTILE)


def test_cli_product_export_is_guarded(runner, hostile_products):
    result = runner.invoke(args=["catalog", "export"])

    assert result.exit_code == 0, result.output
    assert dangerous_cells(result.stdout) == []
    assert sum(row[1].startswith("'") for row in cells_of(result.stdout)[1:]) == len(HOSTILE)


def test_audit_log_export_is_guarded(client, auth, db):
    for cell in HOSTILE:
        db.session.add(AuditEntry(actor=cell, action=cell[:20], entity=cell[:40], entity_id=-5, label=cell))
    db.session.commit()
    auth.login("admin")

    response = client.get("/admin/audit/export/csv/")

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    # entity_id is an integer column: -5 is written bare, as a number, not guarded.
    assert response.text.count(",-5,") == len(HOSTILE)
    hostile_rows = [row for row in rows if row["Record id"] == "-5"]
    assert len(hostile_rows) == len(HOSTILE)
    assert dangerous_cells(response.text) == []
    assert sorted(row["Record"] for row in hostile_rows) == sorted("'" + cell for cell in HOSTILE)


# Reading back


def test_export_then_import_gives_back_the_same_text(db, hostile_products):
    ProductFactory(catalog_number="CT-Y", name="'plain quote", description="- a Markdown list\n- of two\n")
    db.session.commit()
    before = {p.catalog_number: (p.name, p.markers, p.description) for p in db.session.scalars(select(Product))}
    buffer = io.StringIO()
    export_products(buffer)
    db.session.execute(delete(Product))
    db.session.commit()

    report = import_products(io.StringIO(buffer.getvalue()))

    assert report.errors == []
    assert report.created == len(before)
    after = {p.catalog_number: (p.name, p.markers, p.description) for p in db.session.scalars(select(Product))}
    # The import strips names and markers (never descriptions), as it always has.
    assert after == {number: (n.strip(), m.strip(), d) for number, (n, m, d) in before.items()}


def test_many_leading_quotes_round_trip_without_recursion():
    cell = "'" * 5000 + "=1+1"
    assert guard(cell) == "'" + cell
    assert unguard(guard(cell)) == cell
