"""``python -m bench.profile PAGE``: replay a page's benchmark URLs in-process under cProfile.

Where ``make bench`` says how fast a page is, this says where its time goes.
It uses the same data and the same URL sequence (the first ``--requests`` of
it, so the cache behaves as at the start of a run), with the production
config, and prints response-time percentiles and the functions that cost most:

    .venv/bin/python -m bench.profile catalog_facets --requests 300
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/bench \\
        .venv/bin/python -m bench.profile search --db postgres --sort cumulative
"""

import argparse
import cProfile
import pstats
import time

from bench.appctx import make_app
from bench.cli import add_data_flags, databases, dataset_sizes
from bench.datagen import ensure_dataset
from bench.urls import PAGES, build_pages


def main(argv: list[str] | None = None) -> None:
    """Profile one page."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("page", choices=PAGES)
    parser.add_argument("--requests", type=int, default=300, help="how many URLs of the sequence to replay (300)")
    parser.add_argument("--sort", default="tottime", help="pstats order: tottime (default), cumulative, ncalls")
    parser.add_argument("--limit", type=int, default=30, help="functions to print (30)")
    parser.add_argument("--no-profile", action="store_true", help="only time the requests")
    add_data_flags(parser)
    parser.set_defaults(db="sqlite")
    args = parser.parse_args(argv)
    _kind, url = databases(args)[0]  # with --db both, SQLite
    app = make_app(url)
    dataset = ensure_dataset(app, dataset_sizes(args), args.regenerate)
    sequence = build_pages(app, dataset.stats, [args.page])[args.page].sequence[: args.requests]
    client = app.test_client()
    client.get("/products/")  # builds the catalog index, as the run's first catalog request would
    profiler = None if args.no_profile else cProfile.Profile()
    times = []
    if profiler:
        profiler.enable()
    for path in sequence:
        started = time.perf_counter()
        client.get(path, headers={"Accept-Encoding": "gzip"})
        times.append((time.perf_counter() - started) * 1000)
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.limit)
    times.sort()
    n = len(times)
    print(
        f"{args.page}: {n} requests ({len(set(sequence))} distinct), mean {sum(times) / n:.1f} ms, "
        f"p50 {times[n // 2]:.1f}, p95 {times[int(n * 0.95)]:.1f}, max {times[-1]:.1f} ms"
        + (" (under cProfile: about twice the real time)" if profiler else "")
    )


if __name__ == "__main__":
    main()
