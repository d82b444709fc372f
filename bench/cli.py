"""``python -m bench``: generate (or reuse) the data, serve the shop with gunicorn, load each page, report."""

import argparse
import gzip
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bench import report
from bench.appctx import SERVER_SETTINGS, hide_password, make_app, normalise_url, sqlite_url
from bench.datagen import Dataset, Sizes, ensure_dataset
from bench.load import LoadSettings, measure, pick_tool
from bench.probe import Probe, probe_page
from bench.server import gunicorn, wait_idle, workers_rss
from bench.urls import PAGES, PageUrls, build_pages


@dataclass
class Prepared:
    """A database ready to be benchmarked: its data, URLs and in-process samples."""

    kind: str
    url: str
    app: object
    dataset: Dataset
    pages: dict[str, PageUrls]
    probes: dict[str, Probe]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    add_data_flags(parser)
    add_load_flags(parser)
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0:
        parser.error("--duration must be positive and --warmup not negative")
    return args


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    """Flags for the dataset and the databases."""
    parser.add_argument("--products", type=positive, default=100_000, help="products to generate (100000)")
    parser.add_argument("--posts", type=positive, default=2_000, help="blog posts to generate (2000)")
    parser.add_argument("--donors", type=positive, help="donors (default: products/50, between 50 and 2000)")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the data even if it matches")
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgres", "both"),
        help="default: sqlite, and postgres too when BENCH_DATABASE_URL is set",
    )


def add_load_flags(parser: argparse.ArgumentParser) -> None:
    """Flags for the server and the load."""
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per page (10)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of unmeasured load before each page (1)")
    parser.add_argument("--concurrency", type=positive, default=8, help="concurrent connections (8)")
    parser.add_argument("--max-requests", type=positive, default=100_000, help="request budget per page (100000)")
    parser.add_argument("--workers", type=positive, default=1, help="gunicorn workers (1)")
    parser.add_argument("--threads", type=positive, default=4, help="gunicorn threads per worker (4)")
    parser.add_argument(
        "--pages", type=page_list, default=list(PAGES), help="comma-separated subset of: " + ",".join(PAGES)
    )
    parser.add_argument("--load-tool", choices=("auto", "wrk", "python"), default="auto", help="auto: wrk if installed")


def positive(value: str) -> int:
    """An int > 0 (argparse type)."""
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return number


def page_list(value: str) -> list[str]:
    """Comma-separated page names (argparse type)."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in PAGES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown page(s) {unknown}; choose from {', '.join(PAGES)}")
    return names


def databases(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(kind, URL) of each database to benchmark."""
    pg_url = os.environ.get("BENCH_DATABASE_URL", "")
    choice = args.db or ("both" if pg_url else "sqlite")
    if choice in ("postgres", "both") and not pg_url:
        raise SystemExit("--db postgres needs BENCH_DATABASE_URL, e.g. postgresql+psycopg://postgres@127.0.0.1/bench")
    chosen = []
    if choice in ("sqlite", "both"):
        chosen.append(("sqlite", sqlite_url(args.products, args.posts)))
    if choice in ("postgres", "both"):
        chosen.append(("postgres", normalise_url(pg_url)))
    return chosen


def prepare(kind: str, url: str, args: argparse.Namespace, sizes: Sizes) -> Prepared:
    """Data (generated or reused), each page's URLs, and the in-process samples."""
    print(f"[{kind}] database {hide_password(url)}", flush=True)
    app = make_app(url)
    dataset = ensure_dataset(app, sizes, args.regenerate)
    took = f"generated in {dataset.seconds:.1f} s"
    print(f"[{kind}] data {f'reused ({took})' if dataset.reused else took}: {dataset.meta['rows']}", flush=True)
    pages = build_pages(app, dataset.stats, args.pages, seed=sizes.seed)
    print(f"[{kind}] counting queries on sample URLs, in-process", flush=True)
    probes = {name: probe_page(app, page.samples()) for name, page in pages.items()}
    for name, probe in probes.items():
        if any(status >= 400 for status in probe.statuses):
            print(f"[{kind}] warning: {name} samples answered {probe.statuses}", flush=True)
    return Prepared(kind, url, app, dataset, pages, probes)


def progress(load: dict) -> str:
    """One page's result in a few words, printed as the run goes."""
    p50 = "-" if load["p50_ms"] is None else f"{load['p50_ms']:.1f}"
    text = f"{load['ok']} ok in {load['seconds']:.1f} s, {load['rps']:.1f} req/s, p50 {p50} ms"
    text += f", {load['errors']} errors {load['failures']}" if load["errors"] else ""
    return text + f" (server idle after {load['settle_seconds']:.1f} s)"


def run_ceiling(args: argparse.Namespace, settings: LoadSettings) -> dict:
    """Load the minimal app under the same gunicorn settings: the machine's ceiling."""
    from bench.ceiling_app import PAGE

    with gunicorn("bench.ceiling_app:app", "ceiling", args.workers, args.threads) as server:
        load = measure(server.port, "ceiling", ["/"], settings, lambda: wait_idle(server))
        rss = workers_rss(server)
    kb = round(len(gzip.compress(PAGE.encode(), 6)) / 1024, 1)
    print(f"[ceiling] {progress(load)}", flush=True)
    return {"row": report.row("ceiling", load, load["rps"], None, kb), "worker_rss_mb": rss}


def run_pages(prepared: Prepared, args: argparse.Namespace, settings: LoadSettings, ceiling_rps: float) -> tuple:
    """Serve the shop on the prepared database and load each page; returns the rows and the workers' RSS."""
    rows = []
    env = {"DATABASE_URL": prepared.url, **SERVER_SETTINGS}
    busy = postgres_busy(prepared.app) if prepared.kind == "postgres" else None
    with gunicorn("app:app", prepared.kind, args.workers, args.threads, env) as server:
        for name, page in prepared.pages.items():
            load = measure(server.port, name, page.sequence, settings, lambda: wait_idle(server, busy))
            probe = prepared.probes[name]
            row = report.row(name, load, ceiling_rps, probe.queries_per_request, probe.gzip_kb)
            row["urls"] = {"distinct": page.distinct, "drawn": page.drawn, "sequence": len(page.sequence)}
            row["probe"] = probe.__dict__
            rows.append(row)
            print(f"[{prepared.kind}] {name}: {progress(load)}", flush=True)
        rss = workers_rss(server)
    return rows, rss


def postgres_busy(app) -> Callable[[], bool]:
    """A check: is any other session running a query on the bench database?"""
    from sqlalchemy import text

    from shop.extensions import db

    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()"
    )

    def busy() -> bool:
        """True while another query runs."""
        with app.app_context():
            active = db.session.scalar(query)
            db.session.remove()
        return active > 0

    return busy


def result(prepared: Prepared, args, settings: LoadSettings, ceiling: dict, rows: list, rss: list) -> dict:
    """Everything about one database's run, for the JSON file."""
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "db": prepared.kind,
        "database_url": hide_password(prepared.url),
        "git_commit": report.git_commit(),
        "settings": {
            "products": args.products,
            "posts": args.posts,
            "donors": prepared.dataset.meta["donors"],
            "workers": args.workers,
            "threads": args.threads,
            "duration": args.duration,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "max_requests": args.max_requests,
            "load_tool": settings.tool,
            "pages": args.pages,
        },
        "dataset": {**prepared.dataset.meta, "reused": prepared.dataset.reused},
        "machine": report.machine(),
        "ceiling": ceiling["row"],
        "ceiling_worker_rss_mb": ceiling["worker_rss_mb"],
        "pages": rows,
        "worker_rss_mb": rss,
    }


def print_result(data: dict, path) -> None:
    """The table and the facts under it."""
    s, d = data["settings"], data["dataset"]
    print()
    print(
        f"CellShop bench on {data['db']}: {s['products']:,} products, {s['posts']:,} posts, {s['donors']:,} donors; "
        f"gunicorn {s['workers']} worker(s) x {s['threads']} threads; {s['concurrency']} connections x "
        f"{s['duration']:g} s per page ({s['load_tool']})"
    )
    print(report.table([data["ceiling"], *data["pages"]]))
    print(f"worker RSS after the run: {', '.join(f'{mb:.1f} MB' for mb in data['worker_rss_mb'])}", end="")
    print(f" (ceiling app: {', '.join(f'{mb:.1f} MB' for mb in data['ceiling_worker_rss_mb'])})")
    state = "reused" if d["reused"] else "generated"
    print(f"data {state}; generation took {d['seconds']:.1f} s; results written to {path}")


def dataset_sizes(args: argparse.Namespace) -> Sizes:
    """The dataset the flags ask for (donors default to products/50, between 50 and 2,000)."""
    return Sizes(args.products, args.posts, args.donors or min(2_000, max(50, args.products // 50)))


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark."""
    args = parse_args(argv)
    started = time.perf_counter()
    sizes = dataset_sizes(args)
    settings = LoadSettings(args.concurrency, args.duration, args.warmup, args.max_requests, pick_tool(args.load_tool))
    prepared = [prepare(kind, url, args, sizes) for kind, url in databases(args)]
    ceiling = run_ceiling(args, settings)
    for run in prepared:
        rows, rss = run_pages(run, args, settings, ceiling["row"]["rps"])
        data = result(run, args, settings, ceiling, rows, rss)
        path = report.write_json(data, run.kind)
        print_result(data, path.relative_to(report.ROOT))
    print(f"\ntotal time {time.perf_counter() - started:.0f} s")
