"""The benchmark's own parts: the URLs it loads, the tables it writes, and the staff writer it runs beside the load.

The writer is driven against the shop served over HTTP with CSRF on, as the
benchmark drives gunicorn: its sales must really save (a 302, the lot's
units changed, the stock-change log written) or the write scenario measures nothing.
"""

import random

import pytest
from sqlalchemy import select

from bench import report
from bench.cli import parse_args
from bench.urls import Slugs, page_urls
from bench.writer import Staff, change_units, save_post
from shop.blog.models import Post
from shop.catalog import stock_log
from shop.catalog.models import Lot
from tests.blog.conftest import create_post
from tests.conftest import STAFF_PASSWORD
from tests.factories import LotFactory

STATS = {"active": 1000, "facets": {"category": {"pbmc": 600, "t-cells": 400}, "hla": {}}, "words": {}}
SLUGS = Slugs(
    products=["a", "b"], posts=[f"p{n}" for n in range(45)], topics=["car-t", "qc"], categories=["pbmc", "t-cells"]
)


def test_home_catalog_blog_and_feed_are_loaded_with_variety():
    """Many distinct URLs per list page: sorts and pages that exist, categories, topics, per-topic feeds."""
    rng = random.Random(1)
    catalog = page_urls("catalog", rng, STATS, SLUGS)
    assert len(catalog) == len(set(catalog)) > 40
    assert "/products/" in catalog and "/products/?sort=price&page=2" in catalog
    assert "/products/?category=t-cells&sort=newest&page=12" in catalog  # 400 products: 17 pages
    assert not any("category=t-cells" in url and "page=20" in url for url in catalog)  # past its end
    blog = page_urls("blog", rng, STATS, SLUGS)
    assert {"/blog/", "/blog/?page=5", "/blog/topics/", "/blog/topics/car-t"} <= set(blog)
    assert "/blog/?page=8" not in blog  # 45 posts: 5 pages
    assert page_urls("feed", rng, STATS, SLUGS) == [
        "/blog/feed.xml", "/blog/topics/car-t/feed.xml", "/blog/topics/qc/feed.xml"
    ]  # fmt: skip
    home = page_urls("home", rng, STATS, SLUGS)
    assert home[0] == "/" and all(url.startswith("/?utm_source=") for url in home[1:])


def test_lists_of_workers_and_connections():
    args = parse_args(["--workers", "1,2", "--concurrency", "8,1", "--writes"])
    assert (args.workers, args.concurrency, args.writes, args.no_page_cache) == ([1, 2], [8, 1], True, False)
    with pytest.raises(SystemExit):
        parse_args(["--workers", "0"])


def _row(page, rps, p99=50.0, hits=90, misses=10):
    load = {"rps": rps, "p50_ms": 5.0, "p95_ms": 20.0, "p99_ms": p99, "errors": 0,
            "cache_hits": hits, "cache_misses": misses}  # fmt: skip
    return report.row(page, load, 1000.0, 3.0, 4.2)


def _result(db, workers, rps):
    settings = {"products": 100_000, "posts": 2_000, "workers": workers, "threads": 4, "concurrency": 8,
                "duration": 10, "load_tool": "wrk", "page_cache": True}  # fmt: skip
    return {
        "db": db, "settings": settings, "git_commit": "abc", "load_average": {"before": "1.0", "after": "1.5"},
        "ceiling": _row("ceiling", 1000.0, hits=0, misses=0), "pages": [_row("catalog_facets", rps)],
        "latency": {"1": [_row("catalog_facets", rps / 4)]}, "with_writes": [_row("catalog_facets", rps * 0.9, 120.0)],
        "writer": {"lot_changes": 60}, "catalog_index_before_writes": {"1": {"builds": 1, "updates": 0}},
        "catalog_index_after_writes": {"1": {"builds": 1, "updates": 40}}, "worker_rss_mb": [120.0],
        "previews": {"previews": 1000, "ok": 1000}, "worker_rss_mb_after_previews": [125.0],
    }  # fmt: skip


def test_the_summary_has_every_table():
    """Hit rates, the one-connection run, the writes beside the quiet run, the worker ratio, memory, load."""
    text = report.summary_markdown([_result("sqlite", 1, 200.0), _result("sqlite", 2, 300.0)])
    assert "| catalog_facets | 200.0 | 20.0% | 5.0 | 20.0 | 50.0 | 90% |" in text
    assert "At 1 connection(s)" in text
    assert "| catalog_facets | 200.0 | 180.0 | 90% | 50.0 | 120.0 | 90% |" in text
    assert "| sqlite | catalog_facets | 200.0 | 300.0 | 1.50 |" in text
    assert "After the live preview rendered" in text and "load average before 1.0, after 1.5" in text


@pytest.fixture
def staff(live_server, make_user):
    user = make_user("admin")
    staff = Staff(live_server)
    staff.sign_in(user.email, STAFF_PASSWORD)
    return staff


def test_the_writer_sells_and_saves_through_the_back_office(staff, committing_db):
    """Each sale is a saved edit (302) that takes a unit off and logs its product; a post save changes it."""
    db = committing_db
    lot = LotFactory(units_available=5, lot_number="2611-D10482-01")
    post = create_post("Bench notes", slug="bench-notes")
    db.session.commit()
    before = stock_log.last_id()
    rng = random.Random(3)
    units = []
    for _ in range(4):
        assert change_units(staff, lot.id, rng) == 302
        units.append(db.session.scalar(select(Lot.units_available).where(Lot.id == lot.id)))
        db.session.rollback()
    assert all(u == prev - 1 or u == 0 or prev == 0 for prev, u in zip([5, *units], units, strict=False))
    assert stock_log.changes_after(before)[1] == {lot.product_id}
    assert save_post(staff, post.id, 7) == 302
    summary = db.session.scalar(select(Post.summary).where(Post.id == post.id))
    assert "revision 7" in summary
