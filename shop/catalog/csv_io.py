"""Export the product catalog to CSV and import it back.

A row holds the whole specification of one product: an empty optional cell
means that column's default (no price = quote only, no grade = research), so
a file describes its products completely and re-importing an export changes
nothing. Images, lots and timestamps are not part of the file. Text a
spreadsheet would run as a formula is written with a leading quote
(shop/csv_safety.py), which the import takes off again.

Import is all or nothing. Every row is checked before anything is written and
every problem is reported with its line and column; one bad row writes none.
Rows are matched to products by catalog number: known ones are updated, the
others created, in one transaction.
"""

import csv
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO

from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from shop.catalog.models import Category, Donor, DonorAllele, Lot, Product, description_to_html
from shop.catalog.rules import (
    DONOR_FIELDS,
    LOT_FIELDS,
    PRODUCT_FIELDS,
    TEXT_LENGTHS,
    decimal_comma,
    donor_values,
    lot_values,
    product_values,
)
from shop.content_clock import mark_content_changed
from shop.csv_safety import SafeWriter, unguard
from shop.extensions import db
from shop.urls import free_slug, slugify

# The file's header: every field of a product, in the order the export writes them.
PRODUCT_COLUMNS = PRODUCT_FIELDS
DONOR_COLUMNS = DONOR_FIELDS
LOT_COLUMNS = LOT_FIELDS
FILE_COLUMNS = {"products": PRODUCT_COLUMNS, "donors": DONOR_COLUMNS, "lots": LOT_COLUMNS}
MAX_IMPORT_ROWS = 50_000
# Rows per flush: keeps each batch of statements bounded and gives the progress bar a tick.
WRITE_BATCH = 1_000
ANALYZE_AFTER_ROWS = 1_000
# Catalog numbers per IN (...) lookup, well under SQLite's and PostgreSQL's limits on parameters.
LOOKUP_CHUNK = 500
APPLICATION_SEPARATOR = "; "

NOT_UTF8 = "the file is not UTF-8 text; save it as CSV UTF-8 and import it again"


@dataclass(frozen=True)
class RowError:
    """One problem in an import file: its line (header = 1, 0 = the whole file), column and what is wrong."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}, column {self.column}" if self.column else f"row {self.row}"
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    """What an import did, or, when ``errors`` is not empty, every reason it did nothing."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


class _UnreadableFile(Exception):
    """The file cannot be read as CSV at all; carries the one error to report."""

    def __init__(self, error: RowError):
        super().__init__(error.message)
        self.error = error


# Export


def export_products(stream: IO[str]) -> int:
    """Write every product, active or not, as CSV ordered by catalog number; return how many."""
    category_slugs = dict(db.session.execute(select(Category.id, Category.slug)).all())
    query = select(Product).order_by(Product.catalog_number).execution_options(yield_per=WRITE_BATCH)
    writer = SafeWriter(stream)
    writer.writerow(PRODUCT_COLUMNS)
    count = 0
    for product in db.session.scalars(query):
        writer.writerow(_export_row(product, category_slugs))
        count += 1
    return count


def _export_row(product: Product, category_slugs: dict[int, str]) -> list[str | int | float | Decimal]:
    """One product as CSV cells, in PRODUCT_COLUMNS order; numbers stay numbers, so no formula guard touches them."""
    cells = []
    for column in PRODUCT_COLUMNS:
        if column == "category":
            cells.append(category_slugs[product.category_id])
        elif column == "price":
            cells.append(_format_price(product.price_cents))
        else:
            cells.append(_format_cell(getattr(product, column)))
    return cells


def _format_price(cents: int | None) -> Decimal | str:
    """Integer cents as decimal dollars (190000 -> 1900.00); empty for quote only."""
    return "" if cents is None else Decimal(cents).scaleb(-2)


def _format_cell(value) -> str | int | float:
    """A model value as the cell an import reads back to the same value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # The csv module writes a float as its repr, the shortest text that reads back to it; 85.0 reads nicer as 85.
        return int(value) if value.is_integer() else value
    if isinstance(value, list):
        return APPLICATION_SEPARATOR.join(value)
    if isinstance(value, int):
        return value
    return str(value)


# Import


def import_products(stream: IO, progress: Callable[[int], None] | None = None) -> ImportReport:
    """Create or update products from a CSV stream, all or nothing; ``progress(rows_done)`` is told as it writes."""
    try:
        header_line, header, records = _read_csv(stream, PRODUCT_COLUMNS)
    except _UnreadableFile as exc:
        return ImportReport(errors=[exc.error])
    errors = _check_header(header_line, header, PRODUCT_COLUMNS, "products")
    if errors:
        return ImportReport(errors=errors)
    catalog = _Catalog.load()
    rows, errors = _check_rows(header, records, catalog)
    if errors:
        return ImportReport(errors=errors)
    return _write(rows, catalog.products_in(rows), progress)


def _read_csv(stream: IO, columns: tuple[str, ...]) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """Read the header and every non-blank record, each with the line it starts on.

    A file that is not CSV text at all (a workbook, a PDF ...) is one error that says what it looks like,
    and a file separated by semicolons (Excel's CSV where the decimal separator is a comma) is read as such.
    """
    try:
        head, stream = _peek(stream)  # a text stream decodes as it is read
    except UnicodeDecodeError:
        raise _UnreadableFile(RowError(0, "", NOT_UTF8)) from None
    looks_like = describe_non_csv(head)
    if looks_like:
        raise _UnreadableFile(RowError(0, "", not_csv_message(looks_like)))
    text = _as_text(stream)
    try:
        return _read_records(text, columns)
    except UnicodeDecodeError:
        raise _UnreadableFile(RowError(0, "", NOT_UTF8)) from None
    finally:
        if text is not stream:
            text.detach()  # leave the caller's binary stream open


SNIFF_BYTES = 8192


def _peek(stream: IO) -> tuple[bytes, IO]:
    """The stream's first bytes (as UTF-8 for a text stream), and the stream to read from its start."""
    head = stream.read(SNIFF_BYTES)
    if stream.seekable():
        stream.seek(0)
    else:
        rest = stream.read()
        stream = io.BytesIO(head + rest) if isinstance(head, bytes) else io.StringIO(head + rest)
    return (head if isinstance(head, bytes) else head.encode("utf-8", "replace")), stream


# What a file is when it is not CSV: by its first bytes (magic numbers), then by how its text starts.
_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls) or another old Office file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\xff\xfe", "UTF-16 text (Excel's “Unicode Text”)"),
    (b"\xfe\xff", "UTF-16 text (Excel's “Unicode Text”)"),
    (b"{\\rtf", "an RTF document"),
)
_ZIPPED = (
    (b"xl/", "an Excel workbook (.xlsx)"),
    (b"word/", "a Word document (.docx)"),
    (b"opendocument.spreadsheet", "an OpenDocument spreadsheet (.ods)"),
    (b"opendocument.text", "an OpenDocument text (.odt)"),
)
_MARKUP = (("<!doctype html", "a web page (HTML)"), ("<html", "a web page (HTML)"), ("<?xml", "an XML document"))


def describe_non_csv(head: bytes) -> str | None:
    """What a file whose first bytes are ``head`` looks like when it is not CSV text; None when it could be."""
    if head.startswith(b"PK\x03\x04"):
        return next((what for marker, what in _ZIPPED if marker in head), "a ZIP archive")
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if b"\x00" in head:
        return "a binary file, not text"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").decode("utf-8", "replace").lower()
    for marker, what in _MARKUP:
        if start.startswith(marker):
            return what
    if start[:1] in ("{", "["):
        return "JSON"
    return None


def not_csv_message(looks_like: str) -> str:
    """The one message for a file that is not CSV, saying what it looks like."""
    return (
        f"this file looks like {looks_like}, not CSV text; in the spreadsheet, save it as “CSV UTF-8” and import that"
    )


def _as_text(stream: IO) -> IO[str]:
    """The stream as text: binary streams (uploads, files opened "rb") are decoded as strict UTF-8."""
    if isinstance(stream.read(0), bytes):
        return io.TextIOWrapper(stream, encoding="utf-8", newline="")
    return stream


# Excel writes CSV with its list separator: a comma in English locales, a semicolon where the comma is decimal.
DELIMITERS = (",", ";", "\t")


def _delimiter(first_line: str, columns: tuple[str, ...]) -> str:
    """The separator under which the header names the most of ``columns`` (a comma when none does better)."""

    def known(delimiter: str) -> int:
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        return len({cell.strip() for cell in cells} & set(columns))

    return max(DELIMITERS, key=known)


def _read_records(stream: IO[str], columns: tuple[str, ...]) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """Split the text into the header and the records after it; blank lines are skipped but counted."""
    lines = _without_bom(stream)
    first = next(lines, "")
    delimiter = _delimiter(first, columns)
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    header: tuple[int, list[str]] | None = None
    records: list[tuple[int, list[str]]] = []
    end_of_last = 0
    try:
        for cells in reader:
            line, end_of_last = end_of_last + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = (line, [cell.strip() for cell in cells])
            elif len(records) == MAX_IMPORT_ROWS:
                message = f"the file has more than {MAX_IMPORT_ROWS:,} rows; split it into smaller files"
                raise _UnreadableFile(RowError(line, "", message))
            else:
                records.append((line, _decimal_points(cells) if delimiter == ";" else cells))
    except csv.Error as exc:
        raise _UnreadableFile(RowError(reader.line_num, "", f"this is not valid CSV ({exc})")) from None
    if header is None:
        raise _UnreadableFile(RowError(0, "", "the file is empty"))
    return header[0], header[1], records


def _without_bom(stream: IO[str]) -> Iterator[str]:
    """The stream's lines with a UTF-8 byte order mark (as Excel writes one) dropped from the first."""
    first = stream.readline()
    return itertools.chain([first.removeprefix("\ufeff")], stream)


def _decimal_points(cells: list[str]) -> list[str]:
    """Numbers a semicolon-separated file writes with a decimal comma (97,5), as the rules read them (97.5)."""
    return [decimal_comma(cell) for cell in cells]


def _check_header(line: int, header: list[str], columns: tuple[str, ...], kind: str) -> list[RowError]:
    """Every column named once, none missing, none unknown; a header that names none of them is one error."""
    if not set(header) & set(columns):
        return [RowError(line, "", _not_this_kind(header, kind))]
    errors = []
    seen: set[str] = set()
    for name in header:
        if name in seen:
            errors.append(RowError(line, name, "this column appears more than once"))
        elif name not in columns:
            errors.append(RowError(line, name or "(blank)", "unknown column"))
        seen.add(name)
    errors.extend(RowError(line, name, "missing column") for name in columns if name not in seen)
    return errors


def _not_this_kind(header: list[str], kind: str) -> str:
    """Why a header naming none of ``kind``'s columns was refused: another kind's file, or what it starts with."""
    for other, columns in FILE_COLUMNS.items():
        if other != kind and len(set(header) & set(columns)) * 2 > len(columns):
            return f"this is a file of {other}, not of {kind}: import it as {other}"
    start = ", ".join(cell[:30] for cell in header[:4])
    return (
        f"the first line should name the {kind} columns ({', '.join(FILE_COLUMNS[kind][:3])} ...), "
        f"but it starts “{start[:80]}”: export the {kind} to see the layout"
    )


@dataclass
class _Catalog:
    """The categories and the products' slugs, loaded once so that checking a row costs no query."""

    category_ids: dict[str, int]
    slug_owners: dict[str, str]  # slug -> catalog number of the product that has it
    slugs: dict[str, str]  # catalog number -> slug

    @classmethod
    def load(cls) -> "_Catalog":
        """Load every category and every product's catalog number and slug."""
        category_ids = dict(db.session.execute(select(Category.slug, Category.id)).all())
        slugs = dict(db.session.execute(select(Product.catalog_number, Product.slug)).all())
        return cls(category_ids, {slug: number for number, slug in slugs.items()}, slugs)

    def products_in(self, rows: list[dict]) -> dict[str, Product]:
        """The existing products the rows update, by catalog number, fetched a chunk at a time."""
        numbers = [fields["catalog_number"] for fields in rows if fields["catalog_number"] in self.slugs]
        products = {}
        for start in range(0, len(numbers), LOOKUP_CHUNK):
            query = select(Product).where(Product.catalog_number.in_(numbers[start : start + LOOKUP_CHUNK]))
            products.update((product.catalog_number, product) for product in db.session.scalars(query))
        return products


@dataclass
class _FileSoFar:
    """The catalog numbers and slugs seen on earlier rows of the file, with their lines."""

    catalog_numbers: dict[str, int] = field(default_factory=dict)
    slugs: dict[str, int] = field(default_factory=dict)


def _check_rows(header: list[str], records, catalog: _Catalog) -> tuple[list[dict], list[RowError]]:
    """Parse and check every record; return the model fields of each row, or every error found."""
    rows, errors = [], []
    so_far = _FileSoFar()
    for line, cells in records:
        values, row_errors = _parse_row(line, header, cells)
        row_errors += _check_against_others(line, values, catalog, so_far)
        errors += row_errors
        if not row_errors:
            rows.append(_model_fields(values, catalog))
    if not errors:
        _fill_in_slugs(rows, catalog, taken=set(catalog.slug_owners) | set(so_far.slugs))
    return rows, errors


def _parse_row(line: int, header: list[str], cells: list[str], read=product_values) -> tuple[dict, list[RowError]]:
    """Read one record's cells by the catalog's rules (``read``); a cell that breaks its rule becomes an error."""
    extra = cells[len(header) :]
    if len(cells) < len(header) or any(cell.strip() for cell in extra):
        return {}, [RowError(line, "", f"this row has {len(cells)} cells, the header {len(header)}")]
    # The export put a quote before text a spreadsheet would run (=, +, -, @ ...); take it off first.
    values, errors = read({column: unguard(cell) for column, cell in zip(header, cells, strict=False)})
    return values, [RowError(line, column, errors[column]) for column in header if column in errors]


def _check_against_others(line: int, values: dict, catalog: _Catalog, so_far: _FileSoFar) -> list[RowError]:
    """The checks one row cannot make alone: known category, catalog numbers and slugs used once."""
    errors = []
    number, slug, category = values.get("catalog_number"), values.get("slug"), values.get("category")
    if category and category not in catalog.category_ids:
        errors.append(RowError(line, "category", f"there is no category with the slug {category!r}"))
    if number and number in so_far.catalog_numbers:
        errors.append(RowError(line, "catalog_number", f"{number} is also on row {so_far.catalog_numbers[number]}"))
    elif number:
        so_far.catalog_numbers[number] = line
    if slug and slug in so_far.slugs:
        errors.append(RowError(line, "slug", f"{slug} is also on row {so_far.slugs[slug]}"))
    elif slug and catalog.slug_owners.get(slug, number) != number:
        errors.append(RowError(line, "slug", f"{slug} is the slug of product {catalog.slug_owners[slug]}"))
    if slug:
        so_far.slugs.setdefault(slug, line)
    return errors


def _model_fields(values: dict, catalog: _Catalog) -> dict:
    """A checked row as Product attributes."""
    fields = {column: value for column, value in values.items() if column not in ("category", "price")}
    fields["category_id"] = catalog.category_ids[values["category"]]
    fields["price_cents"] = values["price"]
    fields["applications"] = list(values["applications"])
    return fields


def _fill_in_slugs(rows: list[dict], catalog: _Catalog, taken: set[str]) -> None:
    """Give rows without a slug one: a product keeps its own, a new one gets a free slug made from its name."""
    for fields in rows:
        if fields["slug"] is not None:
            continue
        own_slug = catalog.slugs.get(fields["catalog_number"])
        fields["slug"] = own_slug or _free_slug(fields, taken)
        taken.add(fields["slug"])


def _free_slug(fields: dict, taken: set[str]) -> str:
    """A slug made from the product's name (or catalog number) that no product and no other row uses."""
    base = slugify(fields["name"]) or slugify(fields["catalog_number"]) or "product"
    return free_slug(base, taken, TEXT_LENGTHS["slug"])


# Writing


def _write(rows: list[dict], products: dict[str, Product], progress: Callable[[int], None] | None) -> ImportReport:
    """Create or update every row's product in one transaction, a batch at a time, and commit."""
    report = ImportReport()
    try:
        for start in range(0, len(rows), WRITE_BATCH):
            batch = rows[start : start + WRITE_BATCH]
            _write_batch(batch, products, report)
            if progress:
                progress(start + len(batch))
        db.session.commit()
    except (IntegrityError, StaleDataError):
        # Since the rows were checked, someone else saved one of these catalog numbers or slugs,
        # or changed a product this import updates (its version moved on).
        db.session.rollback()
        return ImportReport(errors=[RowError(0, "", "the catalog changed during the import; nothing was imported")])
    if report.created + report.updated >= ANALYZE_AFTER_ROWS and db.engine.dialect.name == "postgresql":
        # Fresh planner statistics: without them a big import leaves search and facet queries
        # on plans made for an empty table (seconds instead of milliseconds) until autovacuum runs.
        db.session.execute(text("ANALYZE product"))
        db.session.commit()
    return report


def _write_batch(batch: list[dict], products: dict[str, Product], report: ImportReport) -> None:
    """Update the batch's existing products through the unit of work and insert its new ones in bulk."""
    new = []
    for fields in batch:
        product = products.get(fields["catalog_number"])
        if product is None:
            new.append({**fields, "description_html": description_to_html(fields.get("description"))})
        elif _set_changed(product, fields):
            report.updated += 1
        else:
            report.unchanged += 1
    db.session.flush()
    if new:
        # An ORM bulk INSERT (one executemany, no RETURNING) is several times faster than flushing
        # new Product objects and still applies the model's defaults and version. render_nulls keeps
        # None cells (quote only, no purity) in the statement, so every row has the same columns and
        # the batch goes to the driver as one executemany instead of one per pattern of empty cells.
        db.session.execute(insert(Product).execution_options(render_nulls=True), new)
        mark_content_changed("catalog")  # a bulk INSERT skips the session hook that does this
    report.created += len(new)


def _set_changed(record, fields: dict) -> bool:
    """Set the fields that differ, so that only real changes are saved, versioned and audited; True if any did.

    Products, donors and lots alike."""
    changed = {name: value for name, value in fields.items() if getattr(record, name) != value}
    for name, value in changed.items():
        setattr(record, name, value)
    return bool(changed)


# Donors and lots: the same file format as seeds/donors.csv and seeds/lots.csv, read by the same rules.
# Both tables are small beside the products (a donor gives a few lots), so rows go through the unit of
# work one by one: every change is versioned and audited as a back-office save would be.


def export_donors(stream: IO[str]) -> int:
    """Write every donor, with their HLA alleles, as CSV ordered by code; return how many."""
    query = select(Donor).order_by(Donor.code).options(selectinload(Donor.alleles))
    writer = SafeWriter(stream)
    writer.writerow(DONOR_COLUMNS)
    count = 0
    for donor in db.session.scalars(query):
        writer.writerow([_format_cell(value) for value in _donor_cells(donor)])
        count += 1
    return count


def _donor_cells(donor: Donor) -> list:
    """One donor's values in DONOR_COLUMNS order."""
    return [
        donor.code, donor.sex, donor.age, donor.ethnicity, donor.bmi, donor.blood_type, donor.hla_typing,
        donor.cmv_status, donor.ebv_status, donor.smoking, donor.disease_state, donor.recallable, donor.donations,
    ]  # fmt: skip


def export_lots(stream: IO[str]) -> int:
    """Write every lot, naming its product by catalog number and its donor by code, ordered by lot number."""
    query = (
        select(Lot, Product.catalog_number, Donor.code)
        .join(Product, Lot.product_id == Product.id)
        .join(Donor, Lot.donor_id == Donor.id)
        .order_by(Lot.lot_number)
    )
    writer = SafeWriter(stream)
    writer.writerow(LOT_COLUMNS)
    count = 0
    for lot, catalog_number, donor_code in db.session.execute(query):
        cells = {"catalog_number": catalog_number, "donor_code": donor_code}
        writer.writerow([_format_cell(cells.get(c, getattr(lot, c, None))) for c in LOT_COLUMNS])
        count += 1
    return count


def import_donors(stream: IO) -> ImportReport:
    """Create or update donors (and their HLA alleles) by code from a CSV stream, all or nothing."""
    return _import_records(stream, "donors", donor_values, _check_donors, _write_donor)


def import_lots(stream: IO) -> ImportReport:
    """Create or update lots by lot number from a CSV stream, all or nothing; products and donors must exist."""
    return _import_records(stream, "lots", lot_values, _check_lots, _write_lot)


def _import_records(stream: IO, kind: str, read, check_all, write_one) -> ImportReport:
    """Read, check every row, and only then write them all in one transaction (the products' import, row by row)."""
    columns = FILE_COLUMNS[kind]
    try:
        header_line, header, records = _read_csv(stream, columns)
    except _UnreadableFile as exc:
        return ImportReport(errors=[exc.error])
    errors = _check_header(header_line, header, columns, kind)
    if errors:
        return ImportReport(errors=errors)
    rows, errors = [], []
    for line, cells in records:
        values, row_errors = _parse_row(line, header, cells, read)
        errors += row_errors
        if not row_errors:
            rows.append((line, values))
    context, more_errors = check_all(rows)
    errors += more_errors
    if errors:
        return ImportReport(errors=sorted(errors, key=lambda e: e.row))
    report = ImportReport()
    try:
        for _, values in rows:
            write_one(values, context, report)
        db.session.commit()
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        return ImportReport(errors=[RowError(0, "", "the catalog changed during the import; nothing was imported")])
    return report


def _once_each(rows, column: str) -> list[RowError]:
    """An error for each row whose ``column`` an earlier row of the file has already."""
    seen: dict[str, int] = {}
    errors = []
    for line, values in rows:
        key = values[column]
        if key in seen:
            errors.append(RowError(line, column, f"{key} is also on row {seen[key]}"))
        seen.setdefault(key, line)
    return errors


def _by_key(model, column, keys: list[str], *options) -> dict:
    """The records whose ``column`` is one of ``keys``, by that key, fetched a chunk at a time."""
    found = {}
    for start in range(0, len(keys), LOOKUP_CHUNK):
        query = select(model).where(column.in_(keys[start : start + LOOKUP_CHUNK])).options(*options)
        found.update((getattr(record, column.key), record) for record in db.session.scalars(query))
    return found


def _check_donors(rows) -> tuple[dict, list[RowError]]:
    """Each code once in the file; the donors the rows update, by code."""
    codes = [values["code"] for _, values in rows]
    return _by_key(Donor, Donor.code, codes, selectinload(Donor.alleles)), _once_each(rows, "code")


def _check_lots(rows) -> tuple[dict, list[RowError]]:
    """Each lot number once; every product and donor named exists. Returns the lots, products and donors."""
    errors = _once_each(rows, "lot_number")
    products = _by_key(Product, Product.catalog_number, sorted({v["catalog_number"] for _, v in rows}))
    donors = _by_key(Donor, Donor.code, sorted({v["donor_code"] for _, v in rows}))
    for line, values in rows:
        if values["catalog_number"] not in products:
            errors.append(RowError(line, "catalog_number", f"there is no product {values['catalog_number']}"))
        if values["donor_code"] not in donors:
            errors.append(
                RowError(line, "donor_code", f"there is no donor {values['donor_code']}: import donors first")
            )
    lots = _by_key(Lot, Lot.lot_number, [values["lot_number"] for _, values in rows])
    return {"lots": lots, "products": products, "donors": donors}, errors


def _write_donor(values: dict, donors: dict[str, Donor], report: ImportReport) -> None:
    """Create or update one donor from a checked row."""
    values = dict(values)
    code, alleles = values.pop("code"), values.pop("hla")
    values.update(cmv_status=values.pop("cmv"), ebv_status=values.pop("ebv"))
    donor = donors.get(code)
    if donor is None:
        donor = Donor(code=code, **values, alleles=[DonorAllele(allele=a) for a in alleles])
        db.session.add(donor)
        report.created += 1
        return
    changed = _set_changed(donor, values)
    if [a.allele for a in donor.alleles] != alleles:
        donor.alleles = [DonorAllele(allele=a) for a in alleles]
        changed = True
    if changed:
        report.updated += 1
    else:
        report.unchanged += 1


def _write_lot(values: dict, context: dict, report: ImportReport) -> None:
    """Create or update one lot from a checked row."""
    values = dict(values)
    number = values.pop("lot_number")
    values["product"] = context["products"][values.pop("catalog_number")]
    values["donor"] = context["donors"][values.pop("donor_code")]
    lot = context["lots"].get(number)
    if lot is None:
        db.session.add(Lot(lot_number=number, **values))
        report.created += 1
    elif _set_changed(lot, values):
        report.updated += 1
    else:
        report.unchanged += 1


@dataclass(frozen=True)
class FileKind:
    """One kind of catalog file: its columns, its key, and how it is exported and imported."""

    name: str
    key: str
    export: Callable[[IO[str]], int]
    import_file: Callable[[IO], ImportReport]

    @property
    def columns(self) -> tuple[str, ...]:
        """The file's header, in the export's order."""
        return FILE_COLUMNS[self.name]


FILE_KINDS = {
    "products": FileKind("products", "catalog_number", export_products, import_products),
    "donors": FileKind("donors", "code", export_donors, import_donors),
    "lots": FileKind("lots", "lot_number", export_lots, import_lots),
}
