"""Product search: which products match a search, and whether it names a catalog number."""

import re

from sqlalchemy import Select

from shop.fulltext import MAX_QUERY_LENGTH, matches, search_terms

__all__ = ["MAX_QUERY_LENGTH", "looks_like_catalog_number", "product_hits", "search_terms"]

CATALOG_NUMBER = re.compile(r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)+$")
# bm25 weights in product_fts's column order: name, catalog_number, markers, cell_type, description.
PRODUCT_WEIGHTS = (10.0, 8.0, 5.0, 5.0, 1.0)


def looks_like_catalog_number(q: str | None) -> bool:
    """True when the text has the shape of a catalog number (CT-PBMC-CR-10M)."""
    return bool(q) and len(q) <= 40 and bool(CATALOG_NUMBER.match(q.strip()))


def product_hits(terms: list[str]) -> Select:
    """A query of (id, score) for products matching every term; higher score ranks first."""
    return matches("product", terms, PRODUCT_WEIGHTS)
