"""Product search: which products match a search, and whether it names a catalog number."""

import re

from sqlalchemy import Select, func, select

from shop.catalog.models import Product
from shop.fulltext import MAX_QUERY_LENGTH, Fields, matching_ids, matching_ids_and_places, search_terms

__all__ = [
    "MAX_QUERY_LENGTH",
    "RELEVANCE",
    "looks_like_catalog_number",
    "matching_products",
    "matching_products_and_places",
    "search_terms",
]

CATALOG_NUMBER = re.compile(r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)+$")
# Relevance: each word scores by the best place it is found in a product, and the scores add up.
# Within equal scores the catalog's own order applies (featured, category, name).
NAME = Fields(("name", "catalog_number"), "A")
SPECIFICATION = Fields(("markers", "cell_type"), "B")
RELEVANCE = ((NAME, 10), (SPECIFICATION, 5))  # anywhere else (the description): 1


def looks_like_catalog_number(q: str | None) -> bool:
    """True when the text has the shape of a catalog number (CT-PBMC-CR-10M)."""
    return bool(q) and len(q) <= 40 and bool(CATALOG_NUMBER.match(q.strip()))


def matching_products(terms: list[str], fields: Fields | None = None) -> Select:
    """A query of the ids of products matching every term (within ``fields`` when given)."""
    return matching_ids("product", terms, fields)


def matching_products_and_places(terms: list[str]) -> Select:
    """PostgreSQL: ids of products matching every term, with a flag per word and RELEVANCE place."""
    return matching_ids_and_places("product", terms, [fields for fields, _weight in RELEVANCE])


def catalog_number_prefix(q: str) -> Select:
    """A query of the ids of products whose catalog number starts with ``q`` (any case)."""
    return select(Product.id).where(func.upper(Product.catalog_number).startswith(q.strip().upper(), autoescape=True))
