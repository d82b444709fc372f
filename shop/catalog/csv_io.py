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
from sqlalchemy.orm.exc import StaleDataError

from shop.catalog.models import Category, Product, description_to_html
from shop.catalog.rules import PRODUCT_FIELDS, TEXT_LENGTHS, product_values
from shop.content_clock import mark_content_changed
from shop.csv_safety import SafeWriter, unguard
from shop.extensions import db
from shop.urls import free_slug, slugify

# The file's header: every field of a product, in the order the export writes them.
PRODUCT_COLUMNS = PRODUCT_FIELDS
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
        header_line, header, records = _read_csv(stream)
    except _UnreadableFile as exc:
        return ImportReport(errors=[exc.error])
    errors = _check_header(header_line, header)
    if errors:
        return ImportReport(errors=errors)
    catalog = _Catalog.load()
    rows, errors = _check_rows(header, records, catalog)
    if errors:
        return ImportReport(errors=errors)
    return _write(rows, catalog.products_in(rows), progress)


def _read_csv(stream: IO) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """Read the header and every non-blank record, each with the line it starts on."""
    text = _as_text(stream)
    try:
        return _read_records(text)
    except UnicodeDecodeError:
        raise _UnreadableFile(RowError(0, "", NOT_UTF8)) from None
    finally:
        if text is not stream:
            text.detach()  # leave the caller's binary stream open


def _as_text(stream: IO) -> IO[str]:
    """The stream as text: binary streams (uploads, files opened "rb") are decoded as strict UTF-8."""
    if isinstance(stream.read(0), bytes):
        return io.TextIOWrapper(stream, encoding="utf-8", newline="")
    return stream


def _read_records(stream: IO[str]) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """Split the text into the header and the records after it; blank lines are skipped but counted."""
    reader = csv.reader(_without_bom(stream))
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
                records.append((line, cells))
    except csv.Error as exc:
        raise _UnreadableFile(RowError(reader.line_num, "", f"this is not valid CSV ({exc})")) from None
    if header is None:
        raise _UnreadableFile(RowError(0, "", "the file is empty"))
    return header[0], header[1], records


def _without_bom(stream: IO[str]) -> Iterator[str]:
    """The stream's lines with a UTF-8 byte order mark (as Excel writes one) dropped from the first."""
    first = stream.readline()
    return itertools.chain([first.removeprefix("\ufeff")], stream)


def _check_header(line: int, header: list[str]) -> list[RowError]:
    """Every column named once, none missing, none unknown."""
    errors = []
    seen: set[str] = set()
    for name in header:
        if name in seen:
            errors.append(RowError(line, name, "this column appears more than once"))
        elif name not in PRODUCT_COLUMNS:
            errors.append(RowError(line, name or "(blank)", "unknown column"))
        seen.add(name)
    errors.extend(RowError(line, name, "missing column") for name in PRODUCT_COLUMNS if name not in seen)
    return errors


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


def _parse_row(line: int, header: list[str], cells: list[str]) -> tuple[dict, list[RowError]]:
    """Read one record's cells by the catalog's rules; a cell that breaks its rule becomes an error instead."""
    extra = cells[len(header) :]
    if len(cells) < len(header) or any(cell.strip() for cell in extra):
        return {}, [RowError(line, "", f"this row has {len(cells)} cells, the header {len(header)}")]
    # The export put a quote before text a spreadsheet would run (=, +, -, @ ...); take it off first.
    values, errors = product_values({column: unguard(cell) for column, cell in zip(header, cells, strict=False)})
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
        elif _update_product(product, fields):
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


def _update_product(product: Product, fields: dict) -> bool:
    """Set the fields that differ, so that only real changes are saved, versioned and audited; True if any did."""
    changed = {name: value for name, value in fields.items() if getattr(product, name) != value}
    for name, value in changed.items():
        setattr(product, name, value)
    return bool(changed)
