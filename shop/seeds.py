"""Load the demo data in seeds/ (YAML, CSV and Markdown with front matter).

Loading is an upsert on each row's natural key (slug, catalog number, donor
code, lot number), so running it again updates rows instead of duplicating them.
"""

import csv
from datetime import date
from pathlib import Path

import yaml
from sqlalchemy import select

from shop.catalog.models import Category, Donor, DonorAllele, Lot, Product
from shop.extensions import db

PRODUCT_FIELDS = (
    "name",
    "slug",
    "cell_type",
    "markers",
    "tissue_source",
    "mobilization",
    "donor_health",
    "format",
    "container",
    "unit_size",
    "cells_per_unit",
    "isolation_method",
    "min_purity",
    "min_viability",
    "grade",
    "price_cents",
    "lead_time_days",
    "shipping_condition",
    "stability",
    "donor_selectable",
    "recallable_donors",
    "applications",
    "featured",
)


def read_front_matter(path: Path) -> tuple[dict, str]:
    """Split a Markdown file into its YAML front matter and its body."""
    text = path.read_text(encoding="utf-8")
    _, header, body = text.split("---\n", 2)
    return yaml.safe_load(header), body.strip() + "\n"


def _upsert(model, key: str, value, fields: dict) -> tuple[object, bool]:
    """Find a row by its natural key and set its fields; return (row, created)."""
    row = db.session.scalar(select(model).where(getattr(model, key) == value))
    created = row is None
    if created:
        row = model(**{key: value})
        db.session.add(row)
    for name, field_value in fields.items():
        if getattr(row, name) != field_value:
            setattr(row, name, field_value)
    return row, created


def _blank_to_none(value: str):
    return value if value not in ("", None) else None


def _number(value: str, kind=float):
    return kind(value) if value not in ("", None) else None


def load_categories(folder: Path) -> tuple[int, int]:
    """Upsert categories from categories.yaml."""
    created = updated = 0
    for item in yaml.safe_load((folder / "categories.yaml").read_text(encoding="utf-8")):
        slug = item.pop("slug")
        _, new = _upsert(Category, "slug", slug, item)
        created, updated = created + new, updated + (not new)
    db.session.flush()
    return created, updated


def load_products(folder: Path) -> tuple[int, int]:
    """Upsert products from products/*.md."""
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    created = updated = 0
    for path in sorted((folder / "products").glob("*.md")):
        meta, body = read_front_matter(path)
        fields = {name: meta.get(name) for name in PRODUCT_FIELDS}
        fields["category"] = categories[meta["category"]]
        fields["description"] = body
        fields["applications"] = list(meta.get("applications") or [])
        _, new = _upsert(Product, "catalog_number", meta["catalog_number"], fields)
        created, updated = created + new, updated + (not new)
    db.session.flush()
    return created, updated


def load_donors(folder: Path) -> tuple[int, int]:
    """Upsert donors and their HLA alleles from donors.csv."""
    created = updated = 0
    with (folder / "donors.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            fields = {
                "sex": row["sex"],
                "age": int(row["age"]),
                "ethnicity": row["ethnicity"],
                "bmi": _number(row["bmi"]),
                "blood_type": row["blood_type"],
                "cmv_status": row["cmv"],
                "ebv_status": row["ebv"],
                "smoking": row["smoking"] or "none",
                "disease_state": _blank_to_none(row["disease_state"]),
                "recallable": row["recallable"].strip().lower() == "true",
                "donations": int(row["donations"]),
            }
            donor, new = _upsert(Donor, "code", row["code"], fields)
            alleles = row["hla"].split()
            if [a.allele for a in donor.alleles] != sorted(alleles):
                donor.alleles = [DonorAllele(allele=a) for a in sorted(alleles)]
            created, updated = created + new, updated + (not new)
    db.session.flush()
    return created, updated


def load_lots(folder: Path) -> tuple[int, int]:
    """Upsert lots from lots.csv."""
    products = {p.catalog_number: p for p in db.session.scalars(select(Product))}
    donors = {d.code: d for d in db.session.scalars(select(Donor))}
    created = updated = 0
    with (folder / "lots.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            fields = {
                "product": products[row["catalog_number"]],
                "donor": donors[row["donor_code"]],
                "collected_on": date.fromisoformat(row["collected_on"]),
                "frozen_on": date.fromisoformat(row["frozen_on"]) if row["frozen_on"] else None,
                "total_cells": _number(row["total_cells"], int),
                "viability": _number(row["viability"]),
                "purity": _number(row["purity"]),
                "units_available": int(row["units_available"]),
                "status": row["status"],
            }
            for marker in ("cd3", "cd4", "cd8", "cd19", "cd14", "cd56"):
                fields[f"{marker}_pct"] = _number(row[f"{marker}_pct"])
            _, new = _upsert(Lot, "lot_number", row["lot_number"], fields)
            created, updated = created + new, updated + (not new)
    return created, updated


def load_seeds(path: str | Path) -> dict[str, tuple[int, int]]:
    """Load every seed file in one transaction; returns (created, updated) per kind."""
    folder = Path(path)
    report = {
        "categories": load_categories(folder),
        "products": load_products(folder),
        "donors": load_donors(folder),
        "lots": load_lots(folder),
    }
    db.session.commit()
    return report
