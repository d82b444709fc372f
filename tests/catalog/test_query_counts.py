"""The number of SQL statements a catalog page costs does not grow with the catalog."""

from datetime import date

from sqlalchemy import func, insert, select, text

from shop.catalog.models import Category, Donor, DonorAllele, Lot, Product
from shop.content_clock import mark_content_changed
from tests.conftest import statements_per_page

MAX_QUERIES = 8
SEARCH = "/products/?q=cells&format=cryopreserved&cmv=positive&hla=A*02:01&category=bulk-1"
PRODUCT = "/products/bulk-00000"
# A search whose words are donor filters, a product page reached with them, and the site-wide search.
DONOR_SEARCH = "/products/?q=cells+HLA-A*02:01+cmv+positive+female+under+60"
DONOR_PRODUCT = "/products/bulk-00000?cmv=positive&hla=A*02&age=20-60"
SITE_SEARCH = "/search?q=bulk+A2+CMV%2B"
URLS = ("/products/", SEARCH, PRODUCT, DONOR_SEARCH, DONOR_PRODUCT, SITE_SEARCH)
ALLELES = ("A*02:01", "A*01:01", "A*03:01", "B*07:02", "B*08:01", "C*07:01")


def add_categories_and_donors(db) -> tuple[list[int], list[int]]:
    """Five categories and twenty donors with HLA alleles; returns their ids."""
    db.session.execute(insert(Category), [{"slug": f"bulk-{n}", "name": f"Bulk {n}", "position": n} for n in range(5)])
    db.session.execute(
        insert(Donor),
        [
            {
                "code": f"D{30000 + n}",
                "sex": "FM"[n % 2],
                "age": 20 + 2 * n,
                "cmv_status": ("positive", "negative")[n % 2],
                "ebv_status": "positive",
            }
            for n in range(20)
        ],
    )
    donors = db.session.scalars(select(Donor.id).order_by(Donor.id)).all()
    db.session.execute(
        insert(DonorAllele),
        [{"donor_id": d, "allele": a} for n, d in enumerate(donors) for a in ALLELES[n % 3 :: 2]],
    )
    return db.session.scalars(select(Category.id).order_by(Category.position)).all(), donors


def add_products(db, start: int, stop: int, categories: list[int], donors: list[int]) -> None:
    """Products start..stop-1, each with an available lot and a depleted lot, in bulk."""
    db.session.execute(
        insert(Product),
        [
            {
                "catalog_number": f"CT-BULK-{n:05d}",
                "slug": f"bulk-{n:05d}",
                "name": f"Bulk cells {n}",
                "category_id": categories[n % len(categories)],
                "cell_type": "PBMC",
                "markers": "CD3+ CD8+",
                "tissue_source": "Peripheral blood",
                "format": ("cryopreserved", "fresh")[n % 4 == 3],
                "container": "vial",
                "unit_size": "1 vial",
                "cells_per_unit": 10_000_000,
                "isolation_method": "Density gradient",
                "price_cents": None if n % 5 == 0 else 10_000 + n,
                "lead_time_days": 3,
                "shipping_condition": "dry_ice",
                "description": "Primary human cells for research.",
                "featured": n % 50 == 0,
            }
            for n in range(start, stop)
        ],
    )
    new = db.session.execute(
        select(Product.id, Product.slug).where(Product.slug >= f"bulk-{start:05d}", Product.slug < f"bulk-{stop:05d}")
    )
    lots = []
    for product_id, slug in new:
        n = int(slug.removeprefix("bulk-"))
        for k, (status, units) in enumerate((("available", 5), ("depleted", 0))):
            lots.append(
                {
                    "lot_number": f"BULK-{n:05d}-{k}",
                    "product_id": product_id,
                    "donor_id": donors[(n + k) % len(donors)],
                    "collected_on": date(2026, 10, 1),
                    "viability": 92.0,
                    "units_available": units,
                    "status": status,
                }
            )
    db.session.execute(insert(Lot), lots)
    mark_content_changed("catalog")  # Core bulk writes move the catalog clock themselves (shop/content_clock.py)
    # Refresh the planner's statistics as autovacuum would after a bulk load; without them PostgreSQL
    # picks nested loops sized for empty tables and the filtered search takes seconds.
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def measure(client, count_queries) -> dict[str, int]:
    """Statements sent for each page (after one warm-up request each)."""
    return statements_per_page(client, count_queries, URLS)


def test_query_counts_do_not_grow_with_the_catalog(client, db, count_queries):
    """The catalog, a filtered search and a product page cost the same at 100 and 2,000 products, and <= 8."""
    categories, donors = add_categories_and_donors(db)
    add_products(db, 0, 100, categories, donors)
    small = measure(client, count_queries)
    assert "Bulk cells" in client.get(SEARCH).text  # the filtered search finds something

    add_products(db, 100, 2_000, categories, donors)
    assert db.session.scalar(select(func.count()).select_from(Product)) == 2_000
    large = measure(client, count_queries)
    assert "Bulk cells 1999" in client.get("/products/?q=bulk&sort=newest").text  # the new products are found

    print(f"\nqueries per page at 100 products: {small}\nqueries per page at 2,000 products: {large}")
    assert large == small
    assert all(n <= MAX_QUERIES for n in large.values()), large
