"""Full-text search over products, behind one function for both databases.

SQLite uses an FTS5 table (``product_fts``, kept in step with ``product`` by
triggers); PostgreSQL uses the generated ``product.search_vector`` tsvector
column with a GIN index. Both are created by the migrations.

The user's text is never passed to the database's query syntax: it is cut
into word tokens, and each token becomes a quoted prefix term, so quotes,
``*``, ``-``, ``NEAR``, ``OR`` and parentheses are just words.
"""

import re

from sqlalchemy import Select, bindparam, column, func, literal_column, select, table, text

from shop.extensions import db

MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
CATALOG_NUMBER = re.compile(r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)+$")


def search_terms(q: str | None) -> list[str]:
    """The words of a search, lower-cased, at most MAX_TERMS of them."""
    if not q:
        return []
    return [word.lower() for word in _WORD.findall(q[:MAX_QUERY_LENGTH])][:MAX_TERMS]


def looks_like_catalog_number(q: str | None) -> bool:
    """True when the text has the shape of a catalog number (CT-PBMC-CR-10M)."""
    return bool(q) and len(q) <= 40 and bool(CATALOG_NUMBER.match(q.strip()))


def product_hits(terms: list[str]) -> Select:
    """A query of (product_id, score) for products matching every term; higher score ranks first."""
    if db.engine.dialect.name == "postgresql":
        return _postgres_hits(terms)
    return _sqlite_hits(terms)


def _sqlite_hits(terms: list[str]) -> Select:
    fts = table("product_fts", column("rowid"))
    match = " ".join(f'"{term}"*' for term in terms)
    # bm25() is lower for better matches; weights follow the FTS5 column order:
    # name, catalog_number, markers, cell_type, description.
    score = -func.bm25(literal_column("product_fts"), 10.0, 8.0, 5.0, 5.0, 1.0)
    return select(fts.c.rowid.label("product_id"), score.label("score")).where(
        text("product_fts MATCH :fts_match").bindparams(bindparam("fts_match", match))
    )


def _postgres_hits(terms: list[str]) -> Select:
    query = func.to_tsquery("english", bindparam("ts_query", " & ".join(f"{term}:*" for term in terms)))
    vector = literal_column("product.search_vector")
    product = table("product", column("id"))
    return select(product.c.id.label("product_id"), func.ts_rank_cd(vector, query).label("score")).where(
        vector.op("@@")(query)
    )
