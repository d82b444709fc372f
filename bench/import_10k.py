"""Time a CSV import of 10,000 new products, a re-import of the same file, and one that changes prices.

    .venv/bin/python bench/import_10k.py                       # a fresh SQLite file in a temp dir
    DATABASE_URL=postgresql://postgres@127.0.0.1/bench_import .venv/bin/python bench/import_10k.py

The schema is built with the migrations first. Catalog numbers carry a run id,
so every run imports 10,000 new products even into a database used before.
"""

import csv
import os
import sys
import tempfile
import time
from pathlib import Path

ROWS = 10_000
CATEGORY = "bench-cells"


def write_csv(path: Path, run: str, price_step: int = 0) -> None:
    """Write ROWS distinct products in the import format."""
    from shop.catalog.csv_io import PRODUCT_COLUMNS

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=PRODUCT_COLUMNS)
        writer.writeheader()
        writer.writerows(product_row(n, run, price_step) for n in range(ROWS))


def product_row(n: int, run: str, price_step: int = 0) -> dict[str, str]:
    """One product row; the numbers vary so rows are not all alike."""
    return {
        "catalog_number": f"BENCH-{run}-{n:05d}",
        "name": f"Bench PBMC {run} {n}, cryopreserved, {10 + n % 90}M",
        "slug": "",
        "category": CATEGORY,
        "cell_type": "PBMC",
        "markers": "CD3+ CD19+ CD14+ CD56+",
        "tissue_source": "Peripheral blood",
        "mobilization": "none",
        "donor_health": "Healthy",
        "format": ("fresh", "cryopreserved")[n % 2],
        "container": ("bag", "vial", "tube")[n % 3],
        "unit_size": "1 vial",
        "cells_per_unit": f"{10 + n % 90}e6",
        "isolation_method": "Density gradient (Ficoll-Paque)",
        "min_purity": "",
        "min_viability": f"{80 + n % 20}.5",
        "grade": ("research", "gmp")[n % 2],
        "price": "" if n % 7 == 0 else f"{300 + price_step + n % 1000}.{n % 100:02d}",
        "currency": "USD",
        "lead_time_days": str(n % 14),
        "shipping_condition": ("ambient", "refrigerated", "dry_ice", "ln2")[n % 4],
        "stability": "Stable in LN2 vapour phase.",
        "donor_selectable": ("true", "false")[n % 2],
        "recallable_donors": "no",
        "applications": "Assay development; CAR-T manufacturing",
        "featured": "false",
        "active": "true",
        "description": f"Peripheral blood mononuclear cells, lot family {n}.\n\nFor research use only.",
    }


def timed_import(path: Path) -> tuple[float, object]:
    """Import the file; return the seconds it took and the report."""
    from shop.catalog.csv_io import import_products

    started = time.perf_counter()
    with path.open("rb") as handle:
        report = import_products(handle)
    return time.perf_counter() - started, report


def main() -> None:
    """Build the schema, write the files, import new, unchanged and changed rows, and print the timings."""
    workdir = Path(tempfile.mkdtemp(prefix="cellshop-bench-"))
    # Config reads DATABASE_URL when shop.config is imported, so set it first.
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.db'}")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.appctx import SERVER_SETTINGS

    # The production Config, given what production must be (and no statement limit for bulk imports).
    for name, value in {**SERVER_SETTINGS, "DATABASE_STATEMENT_TIMEOUT_MS": "0"}.items():
        os.environ.setdefault(name, value)
    from flask_migrate import upgrade
    from sqlalchemy import select

    from shop import create_app
    from shop.catalog.models import Category
    from shop.config import Config
    from shop.extensions import db

    app = create_app(type("ImportConfig", (Config,), {"MIGRATIONS": True}))  # it migrates its database first
    with app.app_context():
        upgrade()
        if db.session.scalar(select(Category).where(Category.slug == CATEGORY)) is None:
            db.session.add(Category(slug=CATEGORY, name="Bench cells", description="", position=99))
            db.session.commit()
        run = str(int(time.time()))
        new, changed = workdir / "products.csv", workdir / "repriced.csv"
        write_csv(new, run)
        write_csv(changed, run, price_step=10)
        print(f"database: {db.engine.dialect.name} ({db.engine.url.render_as_string(hide_password=True)})")
        steps = [
            ("import (10,000 new)", new),
            ("re-import (10,000 unchanged)", new),
            ("re-price (8,571 changed)", changed),
        ]
        for label, path in steps:
            seconds, report = timed_import(path)
            counts = f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged"
            print(f"{label}: {seconds:.2f} s  [{counts}; {len(report.errors)} errors]")


if __name__ == "__main__":
    main()
