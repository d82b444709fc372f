"""Create (or reuse) the bench database: schema from the migrations, rows by Core bulk inserts.

A ``bench_meta`` table records the sizes, seed, generator version and alembic
head the data was made with; when they all match, the database is reused.
It is written last, so an interrupted generation is redone next time.
"""

import json
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import Column, MetaData, String, Table, Text, insert, inspect, select, text

from bench import ROOT, synth

GENERATOR_VERSION = 3  # 3: lot numbers the back office accepts
CHUNK = 5_000
META = Table("bench_meta", MetaData(), Column("key", String(40), primary_key=True), Column("value", Text))
SEQUENCED_TABLES = ("category", "donor", "donor_allele", "product", "lot", "topic", "post")


@dataclass
class Sizes:
    """How much data to make."""

    products: int
    posts: int
    donors: int
    seed: int = 1


@dataclass
class Dataset:
    """The data a run uses: what it was made with, its stats, and whether it was reused."""

    meta: dict
    stats: dict
    seconds: float
    reused: bool


def ensure_dataset(app, sizes: Sizes, regenerate: bool = False) -> Dataset:
    """Reuse the bench database when it matches ``sizes`` and the migrations; otherwise rebuild it."""
    from shop.extensions import db

    with app.app_context():
        wanted = {**sizes.__dict__, "generator": GENERATOR_VERSION, "alembic_head": alembic_head()}
        stored = read_meta()
        if not regenerate and stored and {k: stored["dataset"].get(k) for k in wanted} == wanted:
            return Dataset(stored["dataset"], stored["stats"], stored["dataset"]["seconds"], True)
        started = time.perf_counter()
        reset_database()
        stats, rows = generate(sizes)
        analyze()
        seconds = round(time.perf_counter() - started, 1)
        meta = {**wanted, "seconds": seconds, "rows": rows}
        write_meta({"dataset": meta, "stats": stats})
        db.session.commit()
        return Dataset(meta, stats, seconds, False)


def alembic_head() -> str:
    """The head revision(s) of the app's migrations."""
    from alembic.script import ScriptDirectory
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config()
    return ",".join(sorted(ScriptDirectory.from_config(config).get_heads()))


def read_meta() -> dict | None:
    """What the database was generated with, or None when it was not (completely) generated."""
    from shop.extensions import db

    if not inspect(db.engine).has_table(META.name):
        return None
    rows = dict(db.session.execute(select(META.c.key, META.c.value)).all())
    db.session.rollback()
    return {key: json.loads(value) for key, value in rows.items()} if "dataset" in rows else None


def write_meta(values: dict) -> None:
    """Record the dataset's description (the caller commits)."""
    from shop.extensions import db

    META.create(db.session.connection(), checkfirst=True)
    db.session.execute(META.delete())
    db.session.execute(insert(META), [{"key": k, "value": json.dumps(v)} for k, v in values.items()])


def reset_database() -> None:
    """An empty database with the schema from the migrations."""
    from flask_migrate import upgrade

    from shop.extensions import db

    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        db.engine.dispose()
        path = Path(db.engine.url.database)
        for suffix in ("", "-journal", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    upgrade()


def generate(sizes: Sizes) -> tuple[dict, dict]:
    """Insert the whole dataset in one transaction; return the stats and the row counts."""
    from shop.extensions import db

    rng = random.Random(sizes.seed)
    now = synth.utcnow()
    if db.engine.dialect.name == "sqlite":
        # A 256 MB page cache for this connection: index and FTS pages stay in memory while loading.
        db.session.execute(text("PRAGMA cache_size=-262144"))
    rows: dict[str, int] = {}
    categories = insert_categories(rows)
    donors = insert_donors(sizes.donors, rng, rows)
    builder = synth.CatalogBuilder(rng, categories, donors, now)
    with fts_triggers_paused():
        insert_catalog(builder, sizes.products, rows)
        topic_ids = insert_topics(builder.active_ids, rng, rows)
        insert_posts(sizes.posts, topic_ids, builder.active_ids, now, rng, rows)
    if db.engine.dialect.name == "postgresql":
        for name in SEQUENCED_TABLES:
            db.session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
            )
    db.session.commit()
    return builder.stats.as_dict(), rows


@contextmanager
def fts_triggers_paused():
    """SQLite: load without the FTS triggers, then index every row in one pass and restore the triggers."""
    # The triggers come back from their own SQL (as the migrations wrote it), in the same transaction;
    # indexing 100,000 rows at once is several times faster than row by row. PostgreSQL's search
    # vectors are generated columns: nothing to do.
    from shop.extensions import db

    if db.engine.dialect.name != "sqlite":
        yield
        return
    master = "SELECT name, sql FROM sqlite_master WHERE type = :type AND sql LIKE :sql"
    fts = db.session.execute(text(master), {"type": "table", "sql": "CREATE VIRTUAL TABLE % USING fts5%"}).all()
    triggers = db.session.execute(text(master), {"type": "trigger", "sql": "%_fts%"}).all()
    for name, _ in triggers:
        db.session.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for name, _ in fts:
        db.session.execute(text(f'INSERT INTO "{name}"("{name}") VALUES (\'rebuild\')'))
    for _, sql in triggers:
        db.session.execute(text(sql))


def bulk(model, rows: list[dict], counts: dict[str, int]) -> None:
    """Insert rows (dicts) with executemany, a chunk at a time."""
    from shop.extensions import db

    # render_nulls: None is sent as NULL, so rows with and without NULLs share one executemany batch.
    statement = insert(model).execution_options(render_nulls=True)
    for start in range(0, len(rows), CHUNK):
        db.session.execute(statement, rows[start : start + CHUNK])
    name = getattr(model, "__tablename__", None) or model.name
    counts[name] = counts.get(name, 0) + len(rows)


def insert_categories(counts: dict) -> dict[str, int]:
    """The seed categories; returns slug -> id."""
    from shop.catalog.models import Category

    items = yaml.safe_load((ROOT / "seeds" / "categories.yaml").read_text(encoding="utf-8"))
    rows = [
        {"id": i, "slug": c["slug"], "name": c["name"], "description": c.get("description", ""), "position": i}
        for i, c in enumerate(items, start=1)
    ]
    bulk(Category, rows, counts)
    return {row["slug"]: row["id"] for row in rows}


def insert_donors(count: int, rng: random.Random, counts: dict) -> list[synth.DonorInfo]:
    """Donors and their HLA alleles."""
    from shop.catalog.models import Donor, DonorAllele

    donors, alleles, infos = synth.donor_rows(count, rng)
    bulk(Donor, donors, counts)
    bulk(DonorAllele, alleles, counts)
    return infos


def insert_catalog(builder: synth.CatalogBuilder, count: int, counts: dict) -> None:
    """Products and their lots, a chunk at a time (the FTS index follows by the migration's triggers)."""
    from shop.catalog.models import Lot, Product, description_to_html

    for first in range(1, count + 1, CHUNK):
        batch = builder.batch(first, min(CHUNK, count + 1 - first))
        # A Core insert skips the model, which renders the description when it is set.
        for product in batch.products:
            product["description_html"] = description_to_html(product["description"])
        bulk(Product, batch.products, counts)
        bulk(Lot, batch.lots, counts)


def insert_topics(product_ids: list[int], rng: random.Random, counts: dict) -> list[int]:
    """The seed topics, each with a few products; returns their ids."""
    from shop.blog.models import Topic, topic_product

    items = yaml.safe_load((ROOT / "seeds" / "topics.yaml").read_text(encoding="utf-8"))
    rows = [
        {"id": i, "name": t["name"], "slug": t["slug"], "description": t.get("description", "")}
        for i, t in enumerate(items, start=1)
    ]
    bulk(Topic, rows, counts)
    ids = [row["id"] for row in rows]
    bulk(topic_product, synth.topic_product_rows(ids, product_ids, rng), counts)
    return ids


def insert_posts(count: int, topic_ids: list[int], product_ids: list[int], now, rng, counts: dict) -> None:
    """Published posts with their topics and related products."""
    from shop.blog.models import Post, post_product, post_topic

    posts = synth.post_rows(count, post_templates(), now, rng)
    bulk(Post, posts, counts)
    topics, products = synth.post_link_rows(range(1, count + 1), topic_ids, product_ids, rng)
    bulk(post_topic, topics, counts)
    bulk(post_product, products, counts)


def post_templates() -> list[synth.PostTemplate]:
    """The seed posts' bodies, each rendered once with the site's Markdown renderer."""
    from shop.markdown import render_markdown
    from shop.seeds import read_front_matter

    templates = []
    for path in sorted((ROOT / "seeds" / "posts").glob("*.md")):
        meta, body = read_front_matter(path)
        references = list(meta.get("references") or [])
        templates.append(synth.PostTemplate(body, str(render_markdown(body)), meta.get("summary", ""), references))
    if not templates:
        body = "A synthetic post.\n\n## Background\n\nT cells, NK cells and donors.\n"
        templates.append(synth.PostTemplate(body, str(render_markdown(body)), "", []))
    return templates


def analyze() -> None:
    """Fresh planner statistics (ANALYZE on both databases)."""
    from shop.extensions import db

    db.session.execute(text("ANALYZE"))
    db.session.commit()
