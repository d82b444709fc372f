"""``flask catalog``: export products, donors and lots to CSV and import them back."""

import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import click
from flask.cli import AppGroup

from shop import audit
from shop.catalog.csv_io import FILE_KINDS, ImportReport, import_products
from shop.extensions import db

catalog_cli = AppGroup("catalog", help="Export and import products, donors and lots as CSV.")
KIND_OPTION = click.option(
    "--kind",
    type=click.Choice(list(FILE_KINDS)),
    default="products",
    show_default=True,
    help="What the file holds.",
)

# Smaller files import in well under a second; a bar would only flicker.
PROGRESS_BAR_ROWS = 1_000
ERRORS_SHOWN = 50


@catalog_cli.command("export")
@click.argument("file", default="-", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@KIND_OPTION
def export_command(file: Path, kind: str) -> None:
    """Write every product (or donor, or lot) to FILE as CSV (standard output when FILE is - or left out)."""
    export = FILE_KINDS[kind].export
    if str(file) == "-":
        export(sys.stdout)
        return
    with file.open("w", encoding="utf-8", newline="") as handle:
        count = export(handle)
    click.echo(f"{count} {kind} written to {file}")


@catalog_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@KIND_OPTION
@click.pass_context
def import_command(ctx: click.Context, file: Path, kind: str) -> None:
    """Create or update products (or donors, or lots) from the CSV FILE by their key; if any row is bad,
    nothing is imported."""
    with audit.acting_as("cli: flask catalog import"):
        with file.open("rb") as handle:
            if kind == "products":
                with _progress_bar(_count_rows(file)) as bar:
                    report = import_products(handle, progress=_advance(bar) if bar else None)
            else:
                report = FILE_KINDS[kind].import_file(handle)
        if report.errors:
            _echo_errors(report)
            ctx.exit(1)
        _record_import(file, report, kind)
    click.echo(f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged")


def _record_import(file: Path, report: ImportReport, kind: str) -> None:
    """Log the import as a whole: new products are inserted in bulk, without an audit entry each."""
    counts = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
    audit.record("import", kind.removesuffix("s"), f"CSV import of {file.name}", counts)
    db.session.commit()


def _count_rows(file: Path) -> int:
    """The number of lines after the header: the rows, or a few more when descriptions span lines."""
    with file.open("rb") as handle:
        return sum(1 for _ in handle) - 1


def _progress_bar(rows: int):
    """A progress bar over the rows for a big file, or nothing for a small one."""
    if rows <= PROGRESS_BAR_ROWS:
        return nullcontext()
    return click.progressbar(length=rows, label="Importing products", file=sys.stderr)


def _advance(bar) -> Callable[[int], None]:
    """A ``progress(rows_done)`` callback that moves the bar to rows_done."""
    return lambda rows_done: bar.update(rows_done - bar.pos)


def _echo_errors(report: ImportReport) -> None:
    """Print the first errors, one a line, and how many more there are."""
    click.echo(f"Nothing was imported: {len(report.errors)} problem(s) found.", err=True)
    for error in report.errors[:ERRORS_SHOWN]:
        click.echo(str(error), err=True)
    if len(report.errors) > ERRORS_SHOWN:
        click.echo(f"... and {len(report.errors) - ERRORS_SHOWN} more", err=True)
