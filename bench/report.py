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
    ("KB gz", 6, _f1, "kb_gz"),
)


def row(page: str, load: dict, ceiling_rps: float, queries: float | None, kb_gz: float) -> dict:
    """One line of the table (plus the load summary it came from)."""
    pct = round(100 * load["rps"] / ceiling_rps, 1) if ceiling_rps else None
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
