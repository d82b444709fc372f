"""Export the products as CSV, and import a CSV (validated as a whole before anything is written)."""

import io
from datetime import UTC, datetime

from flask import Response, flash, redirect, request, url_for
from flask_admin import expose

from shop import audit
from shop.admin.security import StaffView
from shop.catalog import csv_io
from shop.extensions import db

MAX_ERRORS_SHOWN = 100


class CatalogCSVView(StaffView):
    """Products in and out of spreadsheets."""

    view_permission = "catalog.view"
    edit_permission = "catalog.edit"

    @expose("/")
    def index(self):
        """The page with the export link and the import form."""
        return self.render("admin/catalog_csv.html", columns=csv_io.PRODUCT_COLUMNS, may_import=self.may_edit())

    @expose("/export.csv")
    def export_csv(self):
        """Every product as CSV, the same columns the import reads."""
        buffer = io.StringIO()
        csv_io.export_products(buffer)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
        return Response(
            buffer.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="products-{stamp}.csv"'},
        )

    @expose("/import", methods=["POST"])
    def import_csv(self):
        """Validate the uploaded file; import it only if every row is good."""
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("Choose a CSV file to import.", "error")
            return redirect(url_for(".index"))
        report = csv_io.import_products(upload.stream)
        if report.errors:
            flash(f"Nothing was imported: {len(report.errors)} problem(s) found. Fix them and upload again.", "error")
            return self.render(
                "admin/catalog_csv.html",
                columns=csv_io.PRODUCT_COLUMNS,
                may_import=True,
                errors=report.errors[:MAX_ERRORS_SHOWN],
                more_errors=max(0, len(report.errors) - MAX_ERRORS_SHOWN),
                filename=upload.filename,
            ), 422
        audit.record("import", "product", f"CSV import of {upload.filename}", report_counts(report))
        db.session.commit()
        flash(
            f"Imported {upload.filename}: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged.",
            "success",
        )
        return redirect(url_for(".index"))


def report_counts(report) -> dict:
    """The numbers of an import report, for the audit log."""
    return {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
