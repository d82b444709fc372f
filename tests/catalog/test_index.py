"""The facet index agrees with the catalog's rules, read the slow way from the rows themselves.

A random catalog (products with zero to six lots in stock or not, donors with
random attributes and alleles, some products hidden) is counted twice: by the
index, and by plain Python loops over the ORM objects following the rules in
``shop.catalog.services``. Every facet value's count and the total must agree
for many random filter combinations.
"""

import random

import pytest

from shop.catalog.index import DONOR_LEVEL, PRODUCT_LEVEL, CatalogIndex, catalog_index
from shop.catalog.models import AGE_BANDS, age_band
from shop.content_clock import reading
from shop.extensions import db as _db
from tests.catalog.conftest import ALLELES
from tests.factories import CategoryFactory, ProductFactory


def facet_value(product, facet: str) -> str | None:
    """A product's value for a product facet (None: not in stock)."""
    return {
        "category": product.category.slug,
        "format": product.format,
        "grade": product.grade,
        "pricing": "quote" if product.price_cents is None else "list",
        "stock": "in" if any(lot.in_stock for lot in product.lots) else None,
    }[facet]


def donor_values(donor, facet: str) -> set[str]:
    """A donor's values for a donor facet."""
    if facet == "hla":
        return {a.allele for a in donor.alleles}
    value = {
        "cmv": donor.cmv_status,
        "ebv": donor.ebv_status,
        "sex": donor.sex,
        "age": age_band(donor.age),
        "smoking": donor.smoking or "none",
        "blood": donor.blood_type,
    }[facet]
    return {value} if value else set()


def expected(products, selected: dict[str, list[str]]) -> tuple[dict[str, dict[str, int]], int]:
    """Counts and total the slow way: loops over products, lots and donors."""

    def product_ok(product, skip=None) -> bool:
        return all(
            facet_value(product, f) in values for f, values in selected.items() if f in PRODUCT_LEVEL and f != skip
        )

    def lot_ok(lot, skip=None) -> bool:
        return all(
            donor_values(lot.donor, f) & set(values) for f, values in selected.items() if f in DONOR_LEVEL and f != skip
        )

    def donors_ok(product, skip=None, value=None) -> bool:
        """One in-stock lot meets every donor filter (except ``skip``), and has ``value`` for ``skip``."""
        if value is None and not any(f in DONOR_LEVEL and f != skip for f in selected):
            return True
        return any(
            lot.in_stock and lot_ok(lot, skip) and (value is None or value in donor_values(lot.donor, skip))
            for lot in product.lots
        )

    counts: dict[str, dict[str, int]] = {f: {} for f in PRODUCT_LEVEL + DONOR_LEVEL}
    for product in products:
        for facet in PRODUCT_LEVEL:
            value = facet_value(product, facet)
            if value is not None and product_ok(product, skip=facet) and donors_ok(product):
                counts[facet][value] = counts[facet].get(value, 0) + 1
        if product_ok(product):
            for facet in DONOR_LEVEL:
                values = set().union(*(donor_values(lot.donor, facet) for lot in product.lots if lot.in_stock))
                for value in values:
                    if donors_ok(product, skip=facet, value=value):
                        counts[facet][value] = counts[facet].get(value, 0) + 1
    total = sum(1 for product in products if product_ok(product) and donors_ok(product))
    return counts, total


def random_selection(rng: random.Random, categories: list[str]) -> dict[str, list[str]]:
    """One to four facets, each with one or two values."""
    choices = {
        "category": categories,
        "format": ["fresh", "cryopreserved"],
        "grade": ["research", "gmp"],
        "pricing": ["list", "quote"],
        "stock": ["in"],
        "cmv": ["positive", "negative"],
        "ebv": ["positive", "negative"],
        "sex": ["F", "M"],
        "age": list(AGE_BANDS),
        "smoking": ["none", "tobacco", "vape", "thc"],
        "blood": ["O+", "A+", "B-", "AB+"],
        "hla": ALLELES,
    }
    facets = rng.sample(list(choices), rng.randint(1, 4))
    return {f: rng.sample(choices[f], min(len(choices[f]), rng.randint(1, 2))) for f in facets}


def test_counts_agree_with_the_rules(app, random_catalog):
    """200 random filter combinations: every count and every total is what the rules say."""
    from shop.catalog.models import Category, Product

    rng = random_catalog
    with app.test_request_context("/products/"):
        index = catalog_index()
        products = _db.session.query(Product).filter(Product.active).all()
        slugs = [c.slug for c in _db.session.query(Category)]
        for _ in range(200):
            selected = random_selection(rng, slugs)
            found = index.match(selected)
            counts, total = expected(products, selected)
            nonzero = {f: {v: n for v, n in found.counts[f].items() if n} for f in found.counts}
            assert (nonzero, found.total) == (counts, total), selected


def test_matching_products_and_pages(app, random_catalog):
    """The matched products are the ones the rules pick, and pages walk them in the sort order."""
    from shop.catalog.models import Product

    with app.test_request_context("/products/"):
        index = catalog_index()
        products = _db.session.query(Product).filter(Product.active).all()
        selected = {"cmv": ["positive"], "format": ["cryopreserved"]}
        found = index.match(selected)
        everything = index.page(found.products, 0, 1000, "name")
        wanted = sorted(
            (
                p
                for p in products
                if p.format == "cryopreserved"
                and any(lot.in_stock and lot.donor.cmv_status == "positive" for lot in p.lots)
            ),
            key=lambda p: (p.name.casefold(), p.id),
        )
        assert everything == [p.id for p in wanted]
        assert index.page(found.products, 2, 3, "name") == everything[2:5]
        assert index.page(found.products, len(everything), 3, "name") == []


def test_gather_and_spread_cross_no_product_boundary(app, db):
    """With runs of 1, 5 and 2 slots, folding and spreading stay inside each product."""
    index = CatalogIndex("test")
    index.size = 8
    starts = [0, 1, 6]
    index.starts = sum(1 << s for s in starts)
    index._index_folds(starts)
    assert index.gather(1 << 5) == (1 << 5) | (1 << 4) | (1 << 3) | (1 << 2) | (1 << 1)
    assert index.gather(1 << 5) & index.starts == 1 << 1
    assert index.gather(1 << 7) & index.starts == 1 << 6
    assert index.gather(1 << 0) & index.starts == 1 << 0
    assert index.spread(1 << 1) == 0b111110
    assert index.spread(1 << 6) == 0b11000000
    assert index.spread(1 << 0) == 1


def test_index_follows_the_catalog_clock(app, client, random_catalog):
    """Hiding a product is followed in place; any other product change builds a new index without it."""
    from shop.catalog.models import Product

    with app.test_request_context("/products/"):
        first = catalog_index()
        assert first.clock == reading("catalog")
        listed = first.listed.bit_count()
    product = _db.session.query(Product).filter(Product.active).first()
    product.active = False
    _db.session.commit()
    with app.test_request_context("/products/"):
        assert catalog_index() is first
        assert first.listed.bit_count() == listed - 1
        assert product.id not in first.page(first.listed, 0, 1000, "name")
    product.price_cents = 12_345
    _db.session.commit()
    with app.test_request_context("/products/"):
        second = catalog_index()
        assert second is not first
        assert product.id not in second.product_at


def test_a_search_skips_products_saved_after_the_index_was_built(app, random_catalog):
    """Another process may save a product the index has not seen yet: searches leave it out, without failing."""
    with app.test_request_context("/products/"):
        index = catalog_index()
        ProductFactory(name="Okapi cells", description="Okapi.")
        _db.session.flush()  # the full-text index sees it; this index object was built before
        assert index.search(["okapi"], "okapi").products == 0
        shown = index.search(["cells"], "cells")
        assert shown.products.bit_count() == index.starts.bit_count()


def test_relevance_pages_run_across_tiers(app, db):
    """Page 2 of a search continues where page 1 stopped, across relevance tiers, in display order within each."""
    category = CategoryFactory()
    named = [ProductFactory(name=f"Okapi cells {n:02d}", category=category) for n in range(3)]
    marked = [ProductFactory(name=f"Plain cells {n:02d}", markers="Okapi+", category=category) for n in range(30)]
    ProductFactory(name="Unrelated cells", category=category)
    db.session.commit()
    with app.test_request_context("/products/"):
        index = catalog_index()
        hits = index.search(["okapi"], "okapi")
        everything = [p.id for p in named] + [p.id for p in marked]  # names first, then by name
        assert index.page(index.starts, 0, 24, "relevance", hits) == everything[:24]
        assert index.page(index.starts, 24, 24, "relevance", hits) == everything[24:]
        assert index.page(index.starts, 1, 3, "relevance", hits) == everything[1:4]


@pytest.mark.parametrize("few", [True, False])
def test_pages_follow_each_order_whatever_share_matches(app, random_catalog, few):
    """Few matches are sorted by rank, many are found by walking the order: both give the order's slice."""
    rng = random_catalog
    with app.test_request_context("/products/"):
        index = catalog_index()
        firsts = [slot for slot in range(index.size) if index.starts >> slot & 1]
        count = index.size // 6 - 1 if few else len(firsts) - 3  # below / above the switch in _walk
        matched = sum(1 << slot for slot in rng.sample(firsts, count))
        for sort, order in index.orders.items():
            wanted = [index.product_at[slot] for slot in order if matched >> slot & 1]
            for offset, limit in ((0, 5), (3, 4), (len(wanted) - 2, 10)):
                offset = max(offset, 0)
                assert index.page(matched, offset, limit, sort) == wanted[offset : offset + limit], (sort, offset)


def test_ranges_and_groups_agree_with_the_rules(app, random_catalog):
    """Age and BMI ranges and HLA groups, as the search writes them: the index picks the products whose
    in-stock lots' donors donor_filters.donor_matches accepts, one lot meeting every filter."""
    from shop.catalog.donor_filters import donor_keys, donor_matches
    from shop.catalog.models import Product
    from shop.catalog.services import index_filters

    rng = random_catalog
    with app.test_request_context("/products/"):
        index = catalog_index()
        products = _db.session.query(Product).filter(Product.active).all()
        for _ in range(100):
            low = rng.randint(18, 70)
            choices = {
                "age": [f"{low}-{rng.randint(low, 100)}", "30-39"],
                "bmi": ["-25", "22.4-30", "29.9-"],
                "hla": [a.split(":")[0] for a in ALLELES] + ALLELES,
                "cmv": ["negative"],
                "smoking": ["none", "thc"],
            }
            facets = rng.sample(list(choices), rng.randint(1, 3))
            selected = {f: rng.sample(choices[f], 1) for f in facets}
            resolved, _notes = index_filters(selected, index)
            found = index.match(resolved)
            expected = {
                p.id
                for p in products
                if any(lot.in_stock and donor_matches(donor_keys(lot.donor), selected) for lot in p.lots)
            }
            assert set(index.page(found.products, 0, 1000, "name")) == expected, selected
