"""Rows of the synthetic catalog and blog, as dicts ready for bulk inserts (no database here).

Everything is drawn from one seeded ``random.Random``, so the same sizes and seed
give the same data. While building rows, ``Stats`` counts how often each facet
value and each generic description word occurs among active products; the URL
lists use it to ask only for result pages that exist.
"""

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import accumulate

from bench import vocab
from shop.catalog.models import age_band

WORD = re.compile(r"[a-z][a-z0-9]+")
SLUG_PART = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=8192)
def slugify(text: str) -> str:
    """Lower-case words joined by hyphens."""
    return "-".join(SLUG_PART.findall(text.lower()))


class Picker:
    """Weighted random choice from a {value: weight} table, with precomputed cumulative weights."""

    def __init__(self, table: dict):
        self.values = list(table)
        self.cum = list(accumulate(table.values()))

    def __call__(self, rng: random.Random):
        """One value drawn by weight."""
        return rng.choices(self.values, cum_weights=self.cum)[0]


SENTENCE_WORDS = [frozenset(WORD.findall(s.lower())) - vocab.STOPWORDS for s in vocab.GENERIC_SENTENCES]
PICK_CATEGORY = Picker(vocab.CATEGORY_WEIGHTS)
PICK_STATUS = Picker(vocab.LOT_STATUS)
PICK_LOTS = Picker(vocab.LOTS_PER_PRODUCT)
PICK_ETHNICITY = Picker(vocab.ETHNICITIES)
PICK_BLOOD = Picker(vocab.BLOOD_TYPES)
PICK_SMOKING = Picker(vocab.SMOKING)
PICK_ALLELE = {locus: Picker(pool) for locus, pool in vocab.HLA_POOLS.items()}


@dataclass
class Stats:
    """How many active products have each facet value, and each generic description word."""

    active: int = 0
    facets: dict[str, Counter] = field(default_factory=dict)
    words: Counter = field(default_factory=Counter)

    def count(self, facet: str, values) -> None:
        """Count one product for each of ``values`` of ``facet``."""
        counter = self.facets.setdefault(facet, Counter())
        for value in values:
            counter[value] += 1

    def as_dict(self) -> dict:
        """A JSON-ready copy."""
        return {
            "active": self.active,
            "facets": {k: dict(v) for k, v in self.facets.items()},
            "words": dict(self.words),
        }


@dataclass
class DonorInfo:
    """What the donor facets look at."""

    cmv: str
    sex: str
    age: str
    alleles: tuple[str, ...]


def donor_rows(count: int, rng: random.Random) -> tuple[list[dict], list[dict], list[DonorInfo]]:
    """Donors, their HLA alleles (two per locus, one row when homozygous) and their facet values."""
    donors, alleles, infos = [], [], []
    for donor_id in range(1, count + 1):
        typing = sorted({f"{locus}*{pick(rng)}" for locus, pick in PICK_ALLELE.items() for _ in range(2)})
        row = _donor(donor_id, rng)
        donors.append(row)
        alleles += [{"id": len(alleles) + 1 + i, "donor_id": donor_id, "allele": a} for i, a in enumerate(typing)]
        infos.append(DonorInfo(row["cmv_status"], row["sex"], age_band(row["age"]), tuple(typing)))
    return donors, alleles, infos


def _donor(donor_id: int, rng: random.Random) -> dict:
    return {
        "id": donor_id,
        "code": f"D{10000 + donor_id}",
        "sex": rng.choice("FM"),
        "age": min(70, 18 + int(rng.expovariate(1 / 16))),
        "ethnicity": PICK_ETHNICITY(rng),
        "bmi": round(rng.uniform(18.5, 34.0), 1),
        "blood_type": PICK_BLOOD(rng),
        "cmv_status": rng.choice(("positive", "negative")),
        "ebv_status": "positive" if rng.random() < 0.9 else "negative",
        "smoking": PICK_SMOKING(rng),
        "disease_state": rng.choice(vocab.DISEASES) if rng.random() < 0.08 else None,
        "recallable": rng.random() < 0.6,
        "donations": rng.randint(1, 30),
        "version": 1,
    }


@dataclass
class ProductBatch:
    """One chunk of products with their lots."""

    products: list[dict]
    lots: list[dict]


class CatalogBuilder:
    """Builds products and lots chunk by chunk, keeping ids, active ids and stats."""

    def __init__(self, rng: random.Random, categories: dict[str, int], donors: list[DonorInfo], now: datetime):
        self.rng, self.categories, self.donors, self.now = rng, categories, donors, now
        self.stats = Stats()
        self.active_ids: list[int] = []
        self.next_lot = 1
        self.lots_of_donor: dict[int, int] = {}
        # Collection dates over the last ~two years, with their "yymm" lot-number prefix and the next day.
        days = [(now - timedelta(days=n)).date() for n in range(1, 700)]
        self.days = [(d, f"{d:%y%m}", d + timedelta(days=1)) for d in days]

    def batch(self, first_id: int, count: int) -> ProductBatch:
        """Products ``first_id``... (``count`` of them) and their lots."""
        batch = ProductBatch([], [])
        for product_id in range(first_id, first_id + count):
            product = self.product(product_id)
            category, generic = product.pop("_category"), product.pop("_generic")
            lots = [self.lot(product, n) for n in range(PICK_LOTS(self.rng))]
            batch.products.append(product)
            batch.lots += lots
            if product["active"]:
                self.active_ids.append(product_id)
                self.count(product, lots, category, generic)
        return batch

    def product(self, product_id: int) -> dict:
        """One product row."""
        rng = self.rng
        slug = PICK_CATEGORY(rng)
        family = rng.choice(vocab.FAMILIES.get(slug, (vocab.GENERIC_FAMILY,)))
        fmt = "fresh" if rng.random() < 0.3 else "cryopreserved"
        size, cells = rng.choice(family.sizes)
        grade = "gmp" if rng.random() < 0.15 else "research"
        qualifier = rng.choice(vocab.QUALIFIERS) + " " if rng.random() < 0.5 else ""
        name = f"{qualifier}{family.base}, {fmt}, {size}" + (", GMP" if grade == "gmp" else "")
        created = self.now - timedelta(days=rng.uniform(1, 1500))
        generic = rng.sample(range(len(vocab.GENERIC_SENTENCES)), vocab.GENERIC_SENTENCES_PER_PRODUCT)
        uses = rng.sample(family.uses, min(len(family.uses), rng.randint(2, 3)))
        return {
            "id": product_id,
            "catalog_number": f"CB-{family.code}-{fmt[:2].upper()}-{product_id:06d}",
            "slug": f"{slugify(name)}-{product_id}",
            "name": name,
            "category_id": self.categories.get(slug) or next(iter(self.categories.values())),
            "cell_type": family.cell_type,
            "markers": family.markers,
            "tissue_source": "Peripheral blood" if family.container == "vial" else "Peripheral blood (apheresis)",
            "mobilization": rng.choice(vocab.MOBILIZATION) if slug in ("leukopak", "hspc") else "none",
            "donor_health": rng.choice(vocab.DONOR_HEALTH),
            "format": fmt,
            "container": family.container,
            "unit_size": f"1 {family.container}" if family.container != "bag" else f"{size} bag",
            "cells_per_unit": cells,
            "isolation_method": family.isolation,
            "min_purity": family.purity,
            "min_viability": float(rng.choice((80, 85, 90))),
            "grade": grade,
            "price_cents": None if rng.random() < 0.15 else rng.randrange(300, 30_000) * 100,
            "currency": "USD",
            "lead_time_days": rng.randint(1, 21),
            "shipping_condition": rng.choice(vocab.SHIPPING[fmt]),
            "stability": vocab.STABILITY[fmt],
            "donor_selectable": rng.random() < 0.5,
            "recallable_donors": rng.random() < 0.4,
            "applications": uses,
            "description": self.description(family, fmt, cells, generic, uses),
            "image": None,
            "featured": rng.random() < 0.003,
            "active": rng.random() < 0.95,
            "created_at": created,
            "updated_at": created + timedelta(days=rng.uniform(0, 30)),
            "version": 1,
            "_category": slug if slug in self.categories else next(iter(self.categories)),
            "_generic": generic,
        }

    def description(self, family: vocab.Family, fmt: str, cells: int, generic: list[int], uses: list[str]) -> str:
        """A Markdown description: an intro, generic sentences and a list of uses."""
        s = [vocab.GENERIC_SENTENCES[i] for i in generic]
        intro = (
            f"{family.cell_type} from a consented donor, isolated by {family.isolation.lower()} and "
            f"supplied {fmt}, about {cells:,} cells per {family.container}."
        )
        items = "\n".join(f"- {use}" for use in uses)
        return f"{intro} {s[0]} {s[1]}\n\n## Typical uses\n\n{items}\n\n{s[2]} {s[3]}\n"

    def lot(self, product: dict, n: int) -> dict:
        """One lot of a product, from a random donor."""
        rng = self.rng
        donor_id = rng.randrange(len(self.donors)) + 1
        status = PICK_STATUS(rng)
        collected, prefix, next_day = rng.choice(self.days)
        lot_id, self.next_lot = self.next_lot, self.next_lot + 1
        # Lot numbers as the back office accepts them (shop.catalog.rules.lot_number: 2506-D10482-01), made
        # unique by the donor's own count of lots, so a salesperson can save any lot of the bench data.
        count = self.lots_of_donor[donor_id] = self.lots_of_donor.get(donor_id, 0) + 1
        cd3 = round(rng.uniform(40, 75), 1)
        cd4 = round(cd3 * rng.uniform(0.55, 0.7), 1)
        return {
            "id": lot_id,
            "lot_number": f"{prefix}-D{10000 + donor_id}{count // 100:03d}-{count % 100:02d}",
            "product_id": product["id"],
            "donor_id": donor_id,
            "collected_on": collected,
            "frozen_on": next_day if product["format"] == "cryopreserved" else None,
            "total_cells": product["cells_per_unit"] * rng.randint(5, 40),
            "viability": round(rng.uniform(85, 99.5), 1),
            "purity": round(rng.uniform(product["min_purity"], 99.5), 1) if product["min_purity"] else None,
            "cd3_pct": cd3,
            "cd4_pct": cd4,
            "cd8_pct": round(cd3 - cd4 - rng.uniform(1, 5), 1),
            "cd19_pct": round(rng.uniform(5, 15), 1),
            "cd14_pct": round(rng.uniform(10, 25), 1),
            "cd56_pct": round(rng.uniform(5, 15), 1),
            "units_available": _units(status, rng),
            "status": status,
            "version": 1,
        }

    def count(self, product: dict, lots: list[dict], category: str, generic: list[int]) -> None:
        """Add an active product to the stats."""
        stats = self.stats
        stats.active += 1
        for facet, value in (
            ("category", category),
            ("format", product["format"]),
            ("grade", product["grade"]),
            ("pricing", "quote" if product["price_cents"] is None else "list"),
        ):
            stats.count(facet, (value,))
        donors = [self.donors[x["donor_id"] - 1] for x in lots if x["status"] == "available" and x["units_available"]]
        if donors:
            stats.count("stock", ("in",))
            stats.count("cmv", {d.cmv for d in donors})
            stats.count("sex", {d.sex for d in donors})
            stats.count("age", {d.age for d in donors})
            stats.count("hla", {a for d in donors for a in d.alleles})
        stats.words.update(set().union(*(SENTENCE_WORDS[i] for i in generic)))


def _units(status: str, rng: random.Random) -> int:
    if status == "available":
        return rng.randint(1, 12)
    if status == "reserved":
        return rng.randint(1, 3)
    return rng.randint(0, 4) if status == "quarantine" else 0


def topic_product_rows(topic_ids: list[int], product_ids: list[int], rng: random.Random) -> list[dict]:
    """3 to 6 products that go with each topic."""
    rows = []
    for topic_id in topic_ids:
        chosen = rng.sample(product_ids, min(len(product_ids), rng.randint(3, 6)))
        rows += [{"topic_id": topic_id, "product_id": p} for p in chosen]
    return rows


@dataclass
class PostTemplate:
    """A body (with its summary and references) that many generated posts share."""

    body: str
    body_html: str
    summary: str
    references: list[str]


def post_titles(count: int, rng: random.Random) -> list[str]:
    """Distinct titles: subject and angle, numbered when there are more posts than pairs."""
    pairs = [f"{s}: {a}" for s in vocab.POST_SUBJECTS for a in vocab.POST_ANGLES]
    rng.shuffle(pairs)
    return [pairs[i % len(pairs)] + (f" ({i // len(pairs) + 1})" if i >= len(pairs) else "") for i in range(count)]


def post_rows(count: int, templates: list[PostTemplate], now: datetime, rng: random.Random) -> list[dict]:
    """Published posts over the last four years."""
    rows, taken = [], set()
    for post_id, title in enumerate(post_titles(count, rng), start=1):
        slug = slugify(title)[:180]
        slug = f"{slug}-{post_id}" if slug in taken else slug
        taken.add(slug)
        rows.append(post_row(post_id, title, slug, rng.choice(templates), now, rng))
    return rows


def post_row(post_id: int, title: str, slug: str, template: PostTemplate, now: datetime, rng: random.Random) -> dict:
    """One published post with a body from ``template``."""
    published = now - timedelta(hours=rng.uniform(1, 4 * 365 * 24))
    return {
        "id": post_id,
        "title": title,
        "slug": slug,
        "summary": template.summary or title,
        "body": template.body,
        "body_html": template.body_html,
        "references": template.references,
        "cover_image": None,
        "cover_alt": "",
        "author_id": None,
        "author_name": rng.choice(vocab.AUTHORS),
        "status": "published",
        "published_at": published,
        "announced_at": published,
        "created_at": published - timedelta(days=rng.uniform(0, 10)),
        "updated_at": min(now, published + timedelta(days=rng.choice((0, 0, 0, rng.uniform(0, 60))))),
        "revision": 1,
        "version": 1,
    }


def post_link_rows(
    post_ids: range, topic_ids: list[int], product_ids: list[int], rng: random.Random
) -> tuple[list[dict], list[dict]]:
    """Each post's 1-3 topics and 0-3 related products."""
    topics, products = [], []
    for post_id in post_ids:
        chosen_topics = rng.sample(topic_ids, min(len(topic_ids), rng.randint(1, 3)))
        topics += [{"post_id": post_id, "topic_id": t} for t in chosen_topics]
        chosen = rng.sample(product_ids, min(len(product_ids), rng.randint(0, 3)))
        products += [{"post_id": post_id, "product_id": p} for p in chosen]
    return topics, products


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)
