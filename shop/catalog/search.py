"""Product search: which products match a search, and whether it names a catalog number."""

from typing import NamedTuple

from sqlalchemy import Select, bindparam, column, func, select, table, text

from shop.catalog.models import Product
from shop.catalog.rules import looks_like_catalog_number
from shop.extensions import db
from shop.fulltext import MAX_QUERY_LENGTH, fts5_query, prefix_tsquery, search_terms

__all__ = [
    "MAX_QUERY_LENGTH",
    "RELEVANCE",
    "looks_like_catalog_number",
    "matching_products",
    "matching_products_and_places",
    "search_terms",
]


class Place(NamedTuple):
    """Where in a product a word may be found: FTS5 columns on SQLite, a product_search column on PostgreSQL."""

    sqlite_columns: tuple[str, ...]
    postgres_column: str


# Relevance: each word scores by the best place it is found in a product, and the scores add up.
# Within equal scores the catalog's own order applies (featured, category, name).
NAME = Place(("name", "catalog_number"), "name_words")
SPECIFICATION = Place(("markers", "cell_type"), "spec_words")
RELEVANCE = ((NAME, 10), (SPECIFICATION, 5))  # anywhere else (the description): 1
# PostgreSQL keeps product words in a narrow table of their own, kept by a trigger (see its migration).
_SEARCH = table("product_search", column("product_id"), column("words"), column("name_words"), column("spec_words"))


def matching_products(terms: list[str], place: Place | None = None) -> Select:
    """A query of the ids of products matching every term (all within ``place`` when given), unranked.

    No score is computed, so a word found in most products costs a read of
    its index entries, not a score per product.
    """
    if db.engine.dialect.name == "postgresql":
        words = _SEARCH.c[place.postgres_column if place else "words"]
        return select(_SEARCH.c.product_id.label("id")).where(words.op("@@")(prefix_tsquery(terms)))
    match = fts5_query(terms, place.sqlite_columns if place else ())
    return select(table("product_fts", column("rowid")).c.rowid.label("id")).where(
        text("product_fts MATCH :fts_match").bindparams(bindparam("fts_match", match))
    )


def matching_products_and_places(terms: list[str]) -> Select:
    """PostgreSQL: ids of products matching every term, each with one flag per word and RELEVANCE place,
    word by word: is the word found there? One pass over the matches instead of one per word and place."""
    flags = [
        _SEARCH.c[place.postgres_column].op("@@")(prefix_tsquery([term], f"ts_{i}_{j}"))
        for i, term in enumerate(terms)
        for j, (place, _weight) in enumerate(RELEVANCE)
    ]
    return select(_SEARCH.c.product_id, *flags).where(_SEARCH.c.words.op("@@")(prefix_tsquery(terms)))


def catalog_number_prefix(q: str) -> Select:
    """A query of the ids of products whose catalog number starts with ``q`` (any case)."""
    return select(Product.id).where(func.upper(Product.catalog_number).startswith(q.strip().upper(), autoescape=True))
