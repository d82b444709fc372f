"""Load the demo data in seeds/ (YAML, CSV and Markdown with front matter).

Loading is an upsert on each row's natural key (slug, catalog number, donor
code, lot number), so running it again updates rows instead of duplicating them.
"""

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import yaml
from sqlalchemy import select

from shop.blog.models import Post, Topic
from shop.blog.services import PostContent, publish_post, save_post
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
    """Find a row by its natural key and set the fields that differ; return (row, created)."""
    row = db.session.scalar(select(model).where(getattr(model, key) == value))
    created = row is None
    if created:
        row = model(**{key: value})
        db.session.add(row)
    for name, field_value in fields.items():
        if getattr(row, name) != field_value:
            setattr(row, name, field_value)
    return row, created


class Tally:
    """Counts of rows created, changed and left as they were."""

    def __init__(self):
        self.created = self.updated = self.unchanged = 0

    def add(self, row, created: bool) -> None:
        """Count one upserted row."""
        if created:
            self.created += 1
        elif db.session.is_modified(row):
            self.updated += 1
        else:
            self.unchanged += 1

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


def _blank_to_none(value: str):
    return value if value not in ("", None) else None


def _number(value: str, kind=float):
    return kind(value) if value not in ("", None) else None


def load_categories(folder: Path) -> Tally:
    """Upsert categories from categories.yaml."""
    tally = Tally()
    for item in yaml.safe_load((folder / "categories.yaml").read_text(encoding="utf-8")):
        slug = item.pop("slug")
        category, new = _upsert(Category, "slug", slug, item)
        tally.add(category, new)
    db.session.flush()
    return tally


def load_products(folder: Path) -> Tally:
    """Upsert products from products/*.md."""
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    tally = Tally()
    for path in sorted((folder / "products").glob("*.md")):
        meta, body = read_front_matter(path)
        fields = {name: meta.get(name) for name in PRODUCT_FIELDS}
        fields["category"] = categories[meta["category"]]
        fields["description"] = body
        fields["applications"] = list(meta.get("applications") or [])
        product, new = _upsert(Product, "catalog_number", meta["catalog_number"], fields)
        tally.add(product, new)
    db.session.flush()
    return tally


def load_donors(folder: Path) -> Tally:
    """Upsert donors and their HLA alleles from donors.csv."""
    tally = Tally()
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
            tally.add(donor, new)
    db.session.flush()
    return tally


def load_lots(folder: Path) -> Tally:
    """Upsert lots from lots.csv."""
    products = {p.catalog_number: p for p in db.session.scalars(select(Product))}
    donors = {d.code: d for d in db.session.scalars(select(Donor))}
    tally = Tally()
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
            lot, new = _upsert(Lot, "lot_number", row["lot_number"], fields)
            tally.add(lot, new)
    return tally


def load_topics(folder: Path) -> Tally:
    """Upsert blog topics (and the products that go with each) from topics.yaml."""
    products = {p.catalog_number: p for p in db.session.scalars(select(Product))}
    tally = Tally()
    for item in yaml.safe_load((folder / "topics.yaml").read_text(encoding="utf-8")):
        fields = {"name": item["name"], "description": item.get("description", "")}
        topic, new = _upsert(Topic, "slug", item["slug"], fields)
        wanted = [products[number] for number in item.get("products", [])]
        if [p.id for p in topic.products] != [p.id for p in wanted]:
            topic.products = wanted
        tally.add(topic, new)
    db.session.flush()
    return tally


def load_posts(folder: Path) -> Tally:
    """Upsert published blog posts from posts/*.md (front matter + Markdown body)."""
    topics = {t.name: t for t in db.session.scalars(select(Topic))}
    products = {p.catalog_number: p for p in db.session.scalars(select(Product))}
    tally = Tally()
    for path in sorted((folder / "posts").glob("*.md")):
        meta, body = read_front_matter(path)
        post = db.session.scalar(select(Post).where(Post.slug == meta["slug"]))
        new = post is None
        content = PostContent(
            title=meta["title"],
            slug=meta["slug"],
            summary=meta.get("summary", ""),
            body=body,
            references=list(meta.get("references") or []),
            topic_names=[topics[name].name for name in meta.get("topics", [])],
            related_products=[products[n] for n in meta.get("related_products") or []],
            cover_alt=meta.get("cover_alt") or "",
            author_name=meta.get("author", ""),
        )
        if new or _post_differs(post, content):
            post = save_post(post or Post(), content, actor="seeds")
            post.published_at = _aware(meta["published_at"])
            post.created_at = post.published_at
            post.updated_at = post.published_at
            publish_post(post, now=post.published_at)
            tally.created += new
            tally.updated += not new
        else:
            tally.unchanged += 1
    db.session.flush()
    return tally


def _post_differs(post: Post, content: PostContent) -> bool:
    return (
        post.title != content.title
        or post.summary != content.summary.strip()
        or post.body != content.body
        or post.references != content.references
        or [t.name for t in post.topics] != sorted(content.topic_names)
        or post.author_name != content.author_name
    )


def _aware(value) -> datetime:
    """A YAML timestamp as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def load_seeds(path: str | Path) -> dict[str, Tally]:
    """Load every seed file in one transaction; returns the tally per kind."""
    folder = Path(path)
    report = {
        "categories": load_categories(folder),
        "products": load_products(folder),
        "donors": load_donors(folder),
        "lots": load_lots(folder),
        "topics": load_topics(folder),
        "posts": load_posts(folder),
    }
    db.session.commit()
    return report
