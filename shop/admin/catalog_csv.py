"""Products, donors and lots as CSV: export each, and import each (checked as a whole before anything is written)."""

import io
from datetime import UTC, datetime

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import expose

from shop import audit
from shop.admin.security import StaffView
from shop.catalog import csv_io
from shop.extensions import db

MAX_ERRORS_SHOWN = 100


def _kind(name: str) -> csv_io.FileKind:
    kind = csv_io.FILE_KINDS.get(name)
    if kind is None:
        abort(404, description="There is no such kind of catalog file: products, donors or lots.")
    return kind


class CatalogCSVView(StaffView):
    """Products, donors and lots in and out of spreadsheets."""

    view_permission = "catalog.view"
    edit_permission = "catalog.edit"

    @expose("/")
    def index(self):
        """The page with an export link and an import form for each kind of file."""
        return self._page()

    def _page(self, **problems):
        return self.render(
            "admin/catalog_csv.html", kinds=csv_io.FILE_KINDS.values(), may_import=self.may_edit(), **problems
        )

    @expose("/export.csv")
    def export_csv(self):
        """Every product (or donor, or lot: ``?kind=``) as CSV, the same columns the import reads."""
        kind = request.args.get("kind", "products")
        file_kind = _kind(kind)
        buffer = io.StringIO()
        file_kind.export(buffer)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
        return Response(
            buffer.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{kind}-{stamp}.csv"'},
        )

    @expose("/import", methods=["POST"])
    def import_csv(self):
        """Validate the uploaded file of products (or ``?kind=`` donors, lots); import it only if every row is good."""
        kind = request.args.get("kind", "products")
        file_kind = _kind(kind)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(f"Choose a CSV file of {kind} to import.", "error")
            return redirect(url_for(".index"))
        report = file_kind.import_file(upload.stream)
        if report.errors:
            flash(f"Nothing was imported: {len(report.errors)} problem(s) found. Fix them and upload again.", "error")
            return self._page(
                errors=report.errors[:MAX_ERRORS_SHOWN],
                more_errors=max(0, len(report.errors) - MAX_ERRORS_SHOWN),
                filename=upload.filename,
                failed_kind=kind,
            ), 422
        audit.record("import", kind.removesuffix("s"), f"CSV import of {upload.filename}", report_counts(report))
        db.session.commit()
        flash(
            f"Imported {upload.filename} ({kind}): {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged.",
            "success",
        )
        return redirect(url_for(".index"))


def report_counts(report) -> dict:
    """The numbers of an import report, for the audit log."""
    return {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
