"""In-process samples of each page: SQL queries per request and the gzipped size of a response."""

import gzip
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event


@dataclass
class Probe:
    """What sampling a page's URLs in-process found."""

    queries_per_request: float
    queries_repeat: float
    gzip_kb: float
    raw_kb: float
    statuses: dict[int, int]
    samples: int


@contextmanager
def counting_queries(engine):
    """Count the statements sent to ``engine`` inside the block (a list with one number)."""
    count = [0]

    def before_cursor_execute(*args, **kwargs):
        """Count one statement."""
        count[0] += 1

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


def probe_page(app, paths: list[str]) -> Probe:
    """Request each path twice with the test client: queries when the page is built, and when repeated."""
    # The second request of a path shows what a cache (if the app has one) leaves; the table reports the first.
    from shop.extensions import db

    client = app.test_client()
    client.get("/healthz")  # opens the pool's connection: not what we measure
    with app.app_context():
        engine = db.engine
    first, repeat, statuses, body = [], [], {}, b""
    for path in paths:
        for counts in (first, repeat):
            with counting_queries(engine) as count:
                response = client.get(path)
            counts.append(count[0])
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        body = body or (response.get_data() if response.status_code == 200 else b"")
    return Probe(
        queries_per_request=mean(first),
        queries_repeat=mean(repeat),
        gzip_kb=round(len(gzip.compress(body, 6)) / 1024, 1),
        raw_kb=round(len(body) / 1024, 1),
        statuses=statuses,
        samples=len(paths),
    )


def mean(values: list[int]) -> float:
    """The mean, to one decimal."""
    return round(sum(values) / len(values), 1)
