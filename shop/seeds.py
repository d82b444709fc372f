"""Load the demo data in seeds/ (YAML, CSV and Markdown with front matter).

Loading is an upsert on each row's natural key (slug, catalog number, donor
code, lot number), so running it again updates rows instead of duplicating them.
"""

import csv
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import yaml
from sqlalchemy import select

from shop.blog.models import Post, Topic
from shop.blog.services import PostContent, publish_post, save_post
from shop.catalog import rules
from shop.catalog.models import Category, Donor, DonorAllele, Lot, Product
from shop.extensions import db
from shop.pages.models import Page
from shop.pages.services import PageContent, save_page
from shop.urls import slugify


class SeedError(ValueError):
    """A seed file holds a value the catalog's rules refuse: the message names the file, the field and the rule."""


def _checked(where: str, errors: Mapping[str, str]) -> None:
    """Refuse the whole load, naming every field of ``where`` that breaks a rule."""
    if errors:
        raise SeedError(f"{where}: " + "; ".join(f"{name}: {message}" for name, message in errors.items()))


def _read_row(where: str, row: Mapping[str, str], read: Callable) -> dict:
    """A CSV row's cells read by their rules (``rules.donor_values`` ...); every broken rule is reported at once."""
    values, errors = read(row)
    _checked(where, errors)
    return values


def _as_text(value) -> str:
    """A YAML value as the text a CSV cell would hold, for the same rules to read."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return str(value)


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
    """Upsert products from products/*.md, each field read by the catalog's rules as the CSV import reads it."""
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    tally = Tally()
    for path in sorted((folder / "products").glob("*.md")):
        meta, body = read_front_matter(path)
        unknown = sorted(set(meta) - set(rules.PRODUCT_FIELDS))
        texts = {name: _as_text(value) for name, value in meta.items()}
        values, errors = rules.product_values({**texts, "description": body})
        errors.update(dict.fromkeys(unknown, "not a product field"))
        if "category" in values and values["category"] not in categories:
            errors["category"] = f"There is no category with the slug {values['category']!r}."
        _checked(str(path), errors)
        number = values.pop("catalog_number")
        fields = {name: value for name, value in values.items() if name not in ("price", "slug", "category")}
        fields.update(category=categories[values["category"]], price_cents=values["price"])
        fields["slug"] = values["slug"] or slugify(values["name"])
        product, new = _upsert(Product, "catalog_number", number, fields)
        tally.add(product, new)
    db.session.flush()
    return tally


def load_donors(folder: Path) -> Tally:
    """Upsert donors and their HLA alleles from donors.csv."""
    tally = Tally()
    path = folder / "donors.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            values = _read_row(f"{path}, line {line}", row, rules.donor_values)
            code, alleles = values.pop("code"), values.pop("hla")
            values.update(cmv_status=values.pop("cmv"), ebv_status=values.pop("ebv"))
            donor, new = _upsert(Donor, "code", code, values)
            if [a.allele for a in donor.alleles] != alleles:
                donor.alleles = [DonorAllele(allele=a) for a in alleles]
            tally.add(donor, new)
    db.session.flush()
    return tally


def load_lots(folder: Path) -> Tally:
    """Upsert lots from lots.csv."""
    products = {p.catalog_number: p for p in db.session.scalars(select(Product))}
    donors = {d.code: d for d in db.session.scalars(select(Donor))}
    tally = Tally()
    path = folder / "lots.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            where = f"{path}, line {line}"
            values = _read_row(where, row, rules.lot_values)
            _checked(where, _lot_errors(values, products, donors))
            number = values.pop("lot_number")
            values.update(product=products[values.pop("catalog_number")], donor=donors[values.pop("donor_code")])
            lot, new = _upsert(Lot, "lot_number", number, values)
            tally.add(lot, new)
    return tally


def _lot_errors(values: dict, products: dict, donors: dict) -> dict[str, str]:
    """What a lot's row gets wrong beyond its own cells: an unknown product or donor."""
    errors = {}
    if values["catalog_number"] not in products:
        errors["catalog_number"] = f"There is no product {values['catalog_number']}."
    if values["donor_code"] not in donors:
        errors["donor_code"] = f"There is no donor {values['donor_code']}."
    return errors


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


def load_pages(folder: Path) -> Tally:
    """Write the pages of pages/*.md that don't exist yet; a page that exists is marketing's and is left alone."""
    existing = set(db.session.scalars(select(Page.slug)))
    tally = Tally()
    for path in sorted((folder / "pages").glob("*.md")):
        meta, body = read_front_matter(path)
        if meta["slug"] in existing:
            tally.unchanged += 1
            continue
        save_page(Page(), PageContent(meta["title"], meta["slug"], meta.get("summary", ""), body), actor="seeds")
        tally.created += 1
    db.session.flush()
    return tally


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
        "pages": load_pages(folder),
    }
    db.session.commit()
    return report
