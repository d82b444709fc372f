"""``python -m bench``: generate (or reuse) the data, serve the shop with gunicorn, load each page, report."""

import argparse
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace
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
    parser.add_argument(
        "--concurrency",
        type=positive_list,
        default=[8],
        help="concurrent connections (8); a list such as 8,1 loads every page again at each further value, "
        "for its latency (throughput is reported at the first)",
    )
    parser.add_argument("--max-requests", type=positive, default=100_000, help="request budget per page (100000)")
    parser.add_argument(
        "--workers", type=positive_list, default=[1], help="gunicorn workers (1); a list such as 1,2 runs each"
    )
    parser.add_argument(
        "--no-page-cache", action="store_true", help="serve with the page cache off: every page costs a miss"
    )
    parser.add_argument(
        "--list-stock-lag",
        type=float,
        default=None,
        help="the shop's CATALOG_LIST_STOCK_LAG (seconds lists may lag stock changes; its default: 10); "
        "0 draws lists again after every sale",
    )
    parser.add_argument(
        "--writes",
        action="store_true",
        help="then load the write pages again while bench.writer changes a lot's units every second and "
        "saves a post every 30 s through the back office (first worker count only)",
    )
    parser.add_argument("--previews", type=int, default=1000, help="live-preview bodies rendered before RSS (1000)")
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


def positive_list(value: str) -> list[int]:
    """Comma-separated positive numbers (argparse type)."""
    try:
        numbers = [int(part) for part in value.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError("must be numbers separated by commas") from error
    if not numbers or any(n <= 0 for n in numbers):
        raise argparse.ArgumentTypeError("must be positive numbers")
    return numbers


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


def run_ceiling(workers: int, args: argparse.Namespace, settings: LoadSettings) -> dict:
    """Load the minimal app under the same gunicorn settings: the machine's ceiling."""
    from bench.ceiling_app import PAGE

    with gunicorn("bench.ceiling_app:app", "ceiling", workers, args.threads) as server:
        load = measure(server.port, "ceiling", ["/"], settings, lambda: wait_idle(server))
        rss = workers_rss(server)
    kb = round(len(gzip.compress(PAGE.encode(), 6)) / 1024, 1)
    print(f"[ceiling, {workers} worker(s)] {progress(load)}", flush=True)
    return {"row": report.row("ceiling", load, load["rps"], None, kb), "worker_rss_mb": rss}


# The pages loaded again with writes going on: the ones a stock change makes stale.
WRITE_PAGES = ("catalog", "catalog_facets", "product", "search")


@dataclass
class Session:
    """What one server (one database, one worker count) measured."""

    rows: list[dict]
    latency_rows: dict[int, list[dict]]  # concurrency -> rows
    write_rows: list[dict]
    writer: dict | None
    index_before: dict
    index_after: dict
    rss: list[float]
    rss_after_previews: list[float]
    previews: dict | None


def server_env(prepared: Prepared, args: argparse.Namespace) -> dict[str, str]:
    """The shop's settings under gunicorn: the bench database, diagnostics on, the page cache on or off."""
    env = {"DATABASE_URL": prepared.url, "PAGE_CACHE_DIAGNOSTICS": "1", **SERVER_SETTINGS}
    if args.no_page_cache:
        env["CACHE_TYPE"] = "NullCache"
    if args.list_stock_lag is not None:
        env["CATALOG_LIST_STOCK_LAG"] = str(args.list_stock_lag)
    return env


def load_pages(prepared, server, names, settings, ceiling_rps, busy, label: str) -> list[dict]:
    """Each named page under load, one after the other; their rows."""
    rows = []
    for name in names:
        page = prepared.pages[name]
        load = measure(server.port, f"{name}-{label}", page.sequence, settings, lambda: wait_idle(server, busy))
        probe = prepared.probes[name]
        row = report.row(name, load, ceiling_rps, probe.queries_per_request, probe.gzip_kb)
        row["urls"] = {"distinct": page.distinct, "drawn": page.drawn, "sequence": len(page.sequence)}
        row["probe"] = probe.__dict__
        rows.append(row)
        print(f"[{prepared.kind}, {label}] {name}: {progress(load)}", flush=True)
    return rows


def run_pages(prepared: Prepared, args, workers: int, settings: LoadSettings, ceiling_rps: float) -> Session:
    """Serve the shop on the prepared database and load each page (then at each further concurrency, then
    with writes); the workers' RSS after the run and after the live preview rendered ``--previews`` bodies."""
    busy = postgres_busy(prepared.app) if prepared.kind == "postgres" else None
    first = workers == args.workers[0]
    with gunicorn("app:app", prepared.kind, workers, args.threads, server_env(prepared, args)) as server:
        # Each worker builds its catalog index on its first catalog request, and that request waits (the
        # only one that ever does): done here, so the pages are measured as a running shop serves them.
        started = time.monotonic()
        built = index_state(server.port, workers)
        print(f"[{prepared.kind}] catalog index built in each worker: {built} ({time.monotonic() - started:.1f} s)")
        names = list(prepared.pages)
        label = f"{workers}w c{settings.concurrency}"
        rows = load_pages(prepared, server, names, settings, ceiling_rps, busy, label)
        latency_rows = {}
        for concurrency in args.concurrency[1:]:
            alone = replace(settings, concurrency=concurrency)
            latency_rows[concurrency] = load_pages(
                prepared, server, names, alone, ceiling_rps, busy, f"{workers}w c{concurrency}"
            )
        write_rows, writer, before, after = [], None, {}, {}
        written = [name for name in WRITE_PAGES if name in prepared.pages]
        if args.writes and first and written:
            before = index_state(server.port, workers)
            with writing(server.port, prepared.url) as outcome:
                write_rows = load_pages(prepared, server, written, settings, ceiling_rps, busy, label + " writes")
            writer, after = outcome, index_state(server.port, workers)
        rss = workers_rss(server)
        previews, rss_previews = None, []
        if first and args.previews:
            previews = run_writer(server.port, prepared.url, ["--preview", str(args.previews)])
            rss_previews = workers_rss(server)
    return Session(rows, latency_rows, write_rows, writer, before, after, rss, rss_previews, previews)


def index_state(port: int, workers: int) -> dict:
    """Each worker's catalog index builds and in-place updates (X-Catalog-Index), asked until every worker
    answered (or 20 * workers tries): {pid: {"builds": n, "updates": m}}."""
    import http.client

    seen: dict[str, dict] = {}
    for attempt in range(20 * workers):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        # A session cookie (one that opens nothing) sends it through Flask, past the page cache's shortcut,
        # whose hits carry no catalog header.
        headers = {"Connection": "close", "Cookie": "session=bench"}
        connection.request("GET", f"/products/?sort=name&page={attempt % 5 + 1}", headers=headers)
        response = connection.getresponse()
        response.read()
        header = response.getheader("X-Catalog-Index") or ""
        fields = dict(part.split("=", 1) for part in header.split())
        if "pid" in fields:
            seen[fields["pid"]] = {"builds": int(fields["builds"]), "updates": int(fields["updates"])}
        connection.close()
        if len(seen) >= workers:
            break
    return seen


@contextmanager
def writing(port: int, database_url: str):
    """bench.writer running beside the load; yields a dict filled with its report when it stops."""
    outcome: dict = {}
    process = subprocess.Popen(
        writer_command(port, database_url, []), cwd=report.ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        yield outcome
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=60)
        lines = stdout.strip().splitlines()
        outcome.update(json.loads(lines[-1]) if lines else {"error": f"writer exited {process.returncode}"})


def writer_command(port: int, database_url: str, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "bench.writer", "--base", f"http://127.0.0.1:{port}",
            "--database-url", database_url, *extra]  # fmt: skip


def run_writer(port: int, database_url: str, extra: list[str]) -> dict:
    """bench.writer run to its end (the live preview), its JSON line."""
    done = subprocess.run(
        writer_command(port, database_url, extra), cwd=report.ROOT, capture_output=True, text=True, timeout=900
    )
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {"error": done.stderr[-500:]}


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


def result(prepared: Prepared, args, workers: int, settings: LoadSettings, ceiling: dict, run: Session) -> dict:
    """Everything about one database's run with one worker count, for the JSON file."""
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "db": prepared.kind,
        "database_url": hide_password(prepared.url),
        "git_commit": report.git_commit(),
        "settings": {
            "products": args.products,
            "posts": args.posts,
            "donors": prepared.dataset.meta["donors"],
            "workers": workers,
            "threads": args.threads,
            "page_cache": not args.no_page_cache,
            "list_stock_lag": args.list_stock_lag,
            "writes": bool(run.write_rows),
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
        "pages": run.rows,
        "latency": {str(c): rows for c, rows in run.latency_rows.items()},
        "with_writes": run.write_rows,
        "writer": run.writer,
        "catalog_index_before_writes": run.index_before,
        "catalog_index_after_writes": run.index_after,
        "worker_rss_mb": run.rss,
        "previews": run.previews,
        "worker_rss_mb_after_previews": run.rss_after_previews,
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
    for concurrency, rows in data["latency"].items():
        print(f"\nat {concurrency} connection(s):")
        print(report.table(rows))
    if data["with_writes"]:
        print(f"\nwith writes (bench.writer: {data['writer']}):")
        print(report.writes_table(data["pages"], data["with_writes"]))
        print(f"catalog index per worker before: {data['catalog_index_before_writes']}")
        print(f"catalog index per worker after:  {data['catalog_index_after_writes']}")
    print(f"worker RSS after the run: {', '.join(f'{mb:.1f} MB' for mb in data['worker_rss_mb'])}", end="")
    print(f" (ceiling app: {', '.join(f'{mb:.1f} MB' for mb in data['ceiling_worker_rss_mb'])})")
    if data["previews"]:
        rss = ", ".join(f"{mb:.1f} MB" for mb in data["worker_rss_mb_after_previews"])
        print(f"worker RSS after the live preview rendered {data['previews']}: {rss}")
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
    tool = pick_tool(args.load_tool)
    settings = LoadSettings(args.concurrency[0], args.duration, args.warmup, args.max_requests, tool)
    prepared = [prepare(kind, url, args, sizes) for kind, url in databases(args)]
    results = []
    for workers in args.workers:
        ceiling = run_ceiling(workers, args, settings)
        for run in prepared:
            before = report.load_average()
            print(f"[{run.kind}] load average before: {before}", flush=True)
            session = run_pages(run, args, workers, settings, ceiling["row"]["rps"])
            data = result(run, args, workers, settings, ceiling, session)
            data["load_average"] = {"before": before, "after": report.load_average()}
            path = report.write_json(data, f"{run.kind}-{workers}w")
            print_result(data, path.relative_to(report.ROOT))
            results.append(data)
    summary = report.write_summary(results)
    print(f"\nsummary (markdown): {summary.relative_to(report.ROOT)}")
    print(f"total time {time.perf_counter() - started:.0f} s")
