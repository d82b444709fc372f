"""Full-text search behind one function, for any table that has an index built by a migration.

SQLite: an FTS5 table named ``<table>_fts`` (external content, kept in step
by triggers). PostgreSQL: a generated ``<table>.search_vector`` tsvector
column with a GIN index (posts), or a table of its own (products: see
``shop.catalog.search``). See the migrations that create them.

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


def search_terms(q: str | None) -> list[str]:
    """The words of a search, lower-cased, at most MAX_TERMS of them."""
    if not q:
        return []
    return [word.lower() for word in _WORD.findall(q[:MAX_QUERY_LENGTH])][:MAX_TERMS]


def fts5_query(terms: list[str], columns: tuple[str, ...] = ()) -> str:
    """An FTS5 MATCH string: every term as a quoted prefix, within ``columns`` when given."""
    match = " ".join(f'"{term}"*' for term in terms)
    return "{" + " ".join(columns) + "} : (" + match + ")" if columns else match


def prefix_tsquery(terms: list[str], name: str = "ts_query"):
    """A PostgreSQL tsquery matching every term as a prefix (``to_tsquery('english', 'a:* & b:*')``)."""
    return func.to_tsquery("english", bindparam(name, " & ".join(f"{term}:*" for term in terms)))


def matches(table_name: str, terms: list[str], sqlite_weights: tuple[float, ...]) -> Select:
    """A query of (id, score) for rows of ``table_name`` matching every term; higher scores first.

    ``sqlite_weights`` are bm25 weights in the FTS5 table's column order;
    PostgreSQL's weights are in the tsvector (setweight A-D) instead.
    """
    if db.engine.dialect.name == "postgresql":
        return _postgres(table_name, terms)
    return _sqlite(table_name, terms, sqlite_weights)


def _sqlite(table_name: str, terms: list[str], weights: tuple[float, ...]) -> Select:
    fts_name = f"{table_name}_fts"
    fts = table(fts_name, column("rowid"))
    match = fts5_query(terms)
    # bm25() is lower for better matches.
    score = -func.bm25(literal_column(fts_name), *weights)
    return select(fts.c.rowid.label("id"), score.label("score")).where(
        text(f"{fts_name} MATCH :fts_match").bindparams(bindparam("fts_match", match))
    )


def _postgres(table_name: str, terms: list[str]) -> Select:
    query = prefix_tsquery(terms)
    vector = literal_column(f"{table_name}.search_vector")
    rows = table(table_name, column("id"))
    return select(rows.c.id.label("id"), func.ts_rank_cd(vector, query).label("score")).where(vector.op("@@")(query))
