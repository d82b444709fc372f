"""Full-text search behind one function, for any table that has an index built by a migration.

SQLite: an FTS5 table named ``<table>_fts`` (external content, kept in step
by triggers). PostgreSQL: a generated ``<table>.search_vector`` tsvector
column with a GIN index. See the migrations that create them.

The user's text is never passed to the database's query syntax: it is cut
into word tokens, and each token becomes a quoted prefix term, so quotes,
``*``, ``-``, ``NEAR``, ``OR`` and parentheses are just words.
"""

import re
from typing import NamedTuple

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


class Fields(NamedTuple):
    """Some of a table's searchable text: FTS5 columns on SQLite, tsvector weight letters on PostgreSQL."""

    sqlite_columns: tuple[str, ...]
    postgres_weights: str


def matching_ids(table_name: str, terms: list[str], fields: Fields | None = None) -> Select:
    """A query of the ids of rows matching every term (all of them within ``fields``, when given); unranked.

    Cheaper than :func:`matches`: no score is computed, so a word found in
    most rows costs a read of its index entries, not a score per row.
    """
    if db.engine.dialect.name == "postgresql":
        weights = fields.postgres_weights if fields else ""
        query = func.to_tsquery("english", bindparam("ts_query", " & ".join(f"{term}:*{weights}" for term in terms)))
        rows = table(table_name, column("id"))
        return select(rows.c.id).where(literal_column(f"{table_name}.search_vector").op("@@")(query))
    fts_name = f"{table_name}_fts"
    match = " ".join(f'"{term}"*' for term in terms)
    if fields:
        match = "{" + " ".join(fields.sqlite_columns) + "} : (" + match + ")"
    return select(table(fts_name, column("rowid")).c.rowid.label("id")).where(
        text(f"{fts_name} MATCH :fts_match").bindparams(bindparam("fts_match", match))
    )


def matching_ids_and_places(table_name: str, terms: list[str], places: list[Fields]) -> Select:
    """PostgreSQL only: ids of rows matching every term, each with one boolean per (term, fields) pair,
    term by term: is the term found within those fields? One pass over the matching rows, where
    asking :func:`matching_ids` once per pair would recheck every match's tsvector each time.
    """
    vector = literal_column(f"{table_name}.search_vector")
    everything = func.to_tsquery("english", bindparam("ts_query", " & ".join(f"{term}:*" for term in terms)))
    flags = [
        vector.op("@@")(func.to_tsquery("english", bindparam(f"ts_{i}_{j}", f"{term}:*{fields.postgres_weights}")))
        for i, term in enumerate(terms)
        for j, fields in enumerate(places)
    ]
    rows = table(table_name, column("id"))
    return select(rows.c.id, *flags).where(vector.op("@@")(everything))


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
    match = " ".join(f'"{term}"*' for term in terms)
    # bm25() is lower for better matches.
    score = -func.bm25(literal_column(fts_name), *weights)
    return select(fts.c.rowid.label("id"), score.label("score")).where(
        text(f"{fts_name} MATCH :fts_match").bindparams(bindparam("fts_match", match))
    )


def _postgres(table_name: str, terms: list[str]) -> Select:
    query = func.to_tsquery("english", bindparam("ts_query", " & ".join(f"{term}:*" for term in terms)))
    vector = literal_column(f"{table_name}.search_vector")
    rows = table(table_name, column("id"))
    return select(rows.c.id.label("id"), func.ts_rank_cd(vector, query).label("score")).where(vector.op("@@")(query))
