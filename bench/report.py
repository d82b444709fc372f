"""The results table, the JSON file, and the facts about the run that go with them."""

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from bench import RESULTS_DIR, ROOT


def _f1(value) -> str:
    return f"{value:.1f}"


def _pct(value) -> str:
    return f"{value:.1f}%"


# (title, width, formatter, key); the first column is left-aligned.
COLUMNS = (
    ("page", 16, str, "page"),
    ("req/s", 9, _f1, "rps"),
    ("% ceiling", 9, _pct, "pct_ceiling"),
    ("p50 ms", 8, _f1, "p50_ms"),
    ("p95 ms", 8, _f1, "p95_ms"),
    ("p99 ms", 8, _f1, "p99_ms"),
    ("queries/req", 11, _f1, "queries"),
    ("errors", 6, str, "errors"),
    ("cache hit", 9, _pct, "hit_rate"),
    ("KB gz", 6, _f1, "kb_gz"),
)


def row(page: str, load: dict, ceiling_rps: float, queries: float | None, kb_gz: float) -> dict:
    """One line of the table (plus the load summary it came from)."""
    pct = round(100 * load["rps"] / ceiling_rps, 1) if ceiling_rps else None
    cached = load.get("cache_hits", 0) + load.get("cache_misses", 0)
    return {
        "page": page,
        "rps": load["rps"],
        "pct_ceiling": pct,
        "p50_ms": load["p50_ms"],
        "p95_ms": load["p95_ms"],
        "p99_ms": load["p99_ms"],
        "queries": queries,
        "errors": load["errors"],
        "kb_gz": kb_gz,
        # Of the responses that went through the page cache (X-Page-Cache), the share it served.
        "hit_rate": round(100 * load.get("cache_hits", 0) / cached, 1) if cached else None,
        "load": load,
    }


def table(rows: list[dict]) -> str:
    """The rows as a fixed-width text table ('-' where a value does not apply)."""

    header = _line([title for title, *_ in COLUMNS])
    body = [_line(["-" if r[key] is None else fmt(r[key]) for _, _, fmt, key in COLUMNS]) for r in rows]
    return "\n".join([header, "-" * len(header), *body])


def _line(values: list[str]) -> str:
    cells = [values[0].ljust(COLUMNS[0][1])]
    cells += [value.rjust(column[1]) for value, column in zip(values[1:], COLUMNS[1:], strict=True)]
    return "  ".join(cells)


def git_commit() -> str | None:
    """The checked-out commit, read from .git without running git (None when unknown)."""
    git = ROOT / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: PATH"
            git = Path(git.read_text().split(":", 1)[1].strip())
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head.removeprefix("ref: ")
        if (git / "commondir").exists():  # a worktree's branches live in the main repository's .git
            git = (git / (git / "commondir").read_text().strip()).resolve()
        if (git / ref).exists():
            return (git / ref).read_text().strip()
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0]
    except OSError:
        return None
    return None


def machine() -> dict:
    """What the numbers were measured on."""
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}


def write_json(result: dict, kind: str) -> Path:
    """Save the result as bench/results/<timestamp>-<db>.json."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{kind}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return path


def load_average() -> str:
    """The machine's load (1, 5, 15 minutes), as ``uptime`` prints it: others may share the cores."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _ms(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def writes_table(without: list[dict], with_writes: list[dict]) -> str:
    """Each write page's throughput and p99 without and with writes, as a Markdown table."""
    quiet = {r["page"]: r for r in without}
    lines = [
        "| page | req/s without | req/s with writes | kept | p99 ms without | p99 ms with writes | cache hit with |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in with_writes:
        q = quiet.get(r["page"])
        kept = f"{100 * r['rps'] / q['rps']:.0f}%" if q and q["rps"] else "-"
        hit = "-" if r["hit_rate"] is None else f"{r['hit_rate']:.0f}%"
        lines.append(
            f"| {r['page']} | {q['rps'] if q else '-'} | {r['rps']} | {kept} | {_ms(q['p99_ms'] if q else None)} | "
            f"{_ms(r['p99_ms'])} | {hit} |"
        )
    return "\n".join(lines)


def markdown_table(rows: list[dict]) -> str:
    """The rows as a Markdown table (throughput, share of the ceiling, latencies, cache hits, queries)."""
    lines = [
        "| page | req/s | % ceiling | p50 ms | p95 ms | p99 ms | cache hit | queries/req | errors | KB gz |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        pct = "-" if r["pct_ceiling"] is None else f"{r['pct_ceiling']:.1f}%"
        hit = "-" if r["hit_rate"] is None else f"{r['hit_rate']:.0f}%"
        queries = "-" if r["queries"] is None else f"{r['queries']:.1f}"
        lines.append(
            f"| {r['page']} | {r['rps']} | {pct} | {_ms(r['p50_ms'])} | {_ms(r['p95_ms'])} | {_ms(r['p99_ms'])} | "
            f"{hit} | {queries} | {r['errors']} | {r['kb_gz']} |"
        )
    return "\n".join(lines)


def summary_markdown(results: list[dict]) -> str:
    """Every run of one ``python -m bench`` as Markdown: tables per database and worker count, the
    two-worker ratio, the one-connection latencies, the runs with writes, memory and load."""
    out = []
    for data in results:
        s = data["settings"]
        cache = "page cache on" if s["page_cache"] else "page cache OFF"
        if s.get("list_stock_lag") is not None:
            cache += f", lists lag stock by {s['list_stock_lag']:g} s"
        out += [
            f"### {data['db']}, {s['workers']} worker(s) x {s['threads']} threads, {s['concurrency']} connections, "
            f"{cache}",
            "",
            f"{s['products']:,} products, {s['posts']:,} posts; {s['duration']:g} s per page ({s['load_tool']}); "
            f"commit {str(data['git_commit'])[:10]}; load average before {data['load_average']['before']}, "
            f"after {data['load_average']['after']}",
            "",
            markdown_table([data["ceiling"], *data["pages"]]),
            "",
        ]
        for concurrency, rows in data["latency"].items():
            out += [f"At {concurrency} connection(s) (a page's own latency):", "", markdown_table(rows), ""]
        if data["with_writes"]:
            out += [
                f"With writes (a lot's units every second, a post every 30 s): {json.dumps(data['writer'])}",
                "",
                writes_table(data["pages"], data["with_writes"]),
                "",
                "Catalog index per worker (pid: builds, in-place updates) before the writes "
                f"{json.dumps(data['catalog_index_before_writes'])}, "
                f"after {json.dumps(data['catalog_index_after_writes'])}",
                "",
            ]
        rss = ", ".join(f"{mb:.1f}" for mb in data["worker_rss_mb"])
        out.append(f"Worker RSS after the run: {rss} MB.")
        if data["previews"]:
            after = ", ".join(f"{mb:.1f}" for mb in data["worker_rss_mb_after_previews"])
            out.append(f"After the live preview rendered {data['previews']}: {after} MB.")
        out.append("")
    out += _worker_ratio(results)
    return "\n".join(out)


def _worker_ratio(results: list[dict]) -> list[str]:
    """Throughput with each further worker count as a ratio to the first, per database and page."""
    by = {(d["db"], d["settings"]["workers"]): d for d in results}
    counts = sorted({d["settings"]["workers"] for d in results})
    if len(counts) < 2:
        return []
    base = counts[0]
    lines = ["### Workers", "", "| db | page | " + " | ".join(f"{n}w req/s" for n in counts) + " | ratio |"]
    lines.append("| --- | --- | " + " | ".join("---:" for _ in counts) + " | ---: |")
    for db in dict.fromkeys(d["db"] for d in results):
        if (db, base) not in by:
            continue
        for row in [by[db, base]["ceiling"], *by[db, base]["pages"]]:
            rates = []
            for n in counts:
                run = by.get((db, n))
                match = [r for r in ([run["ceiling"], *run["pages"]] if run else []) if r["page"] == row["page"]]
                rates.append(match[0]["rps"] if match else None)
            ratio = f"{rates[-1] / rates[0]:.2f}" if rates[0] and rates[-1] else "-"
            cells = " | ".join("-" if r is None else str(r) for r in rates)
            lines.append(f"| {db} | {row['page']} | {cells} | {ratio} |")
    return lines + [""]


def write_summary(results: list[dict]) -> Path:
    """Save the Markdown summary beside the JSON files: bench/results/<timestamp>-summary.md."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-summary.md"
    path.write_text(summary_markdown(results) + "\n", encoding="utf-8")
    return path
