"""Drive a server with wrk (when installed) or bench.loadgen, from a separate process on this machine."""

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import BENCH_DIR, DATA_DIR, ROOT


@dataclass
class LoadSettings:
    """How hard and how long to load each page."""

    concurrency: int
    duration: float
    warmup: float
    max_requests: int
    tool: str  # "wrk" or "python"


def pick_tool(requested: str) -> str:
    """wrk when asked for or when it is installed (auto); otherwise the Python load generator."""
    if requested == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if requested == "wrk" and not shutil.which("wrk"):
        raise SystemExit("--load-tool wrk: wrk is not installed (apt-get install wrk)")
    return requested


def write_paths(name: str, paths: list[str]) -> Path:
    """The path list as a file, one per line, for the load tool."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"paths-{name}.txt"
    path.write_text("\n".join(paths) + "\n", encoding="utf-8")
    return path


def measure(port: int, name: str, paths: list[str], settings: LoadSettings, settle: Callable[[], float]) -> dict:
    """Warm the page up (results discarded), then load it and return the summary."""
    # settle() waits until the server has finished requests the tool gave up on at its deadline,
    # so they don't slow down the next run; how long that took is reported.
    paths_file = write_paths(name, paths)
    if settings.warmup > 0:
        run_tool(port, paths_file, settings, settings.warmup, settings.max_requests)
        settle()
    load = run_tool(port, paths_file, settings, settings.duration, settings.max_requests)
    load["settle_seconds"] = settle()
    return load


def run_tool(port: int, paths_file: Path, settings: LoadSettings, duration: float, max_requests: int) -> dict:
    """One load run with the chosen tool."""
    if settings.tool == "wrk":
        return run_wrk(port, paths_file, settings.concurrency, duration, max_requests)
    return run_python(port, paths_file, settings.concurrency, duration, max_requests)


def run_python(port: int, paths_file: Path, concurrency: int, duration: float, max_requests: int) -> dict:
    """bench.loadgen in a child process."""
    command = [sys.executable, "-m", "bench.loadgen", "--port", str(port), "--paths", str(paths_file)]
    command += ["--concurrency", str(concurrency), "--duration", str(duration), "--max-requests", str(max_requests)]
    command += ["--grace", str(grace(duration))]
    timeout = duration + grace(duration) + 60
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def grace(duration: float) -> float:
    """How long requests in flight at the deadline may still take before they count as unfinished."""
    return max(30.0, 2 * duration)


def run_wrk(port: int, paths_file: Path, concurrency: int, duration: float, max_requests: int) -> dict:
    """wrk with bench/wrk.lua (one connection per thread), its JSON line turned into our summary."""
    hard_stop = max(1, round(duration + grace(duration)))
    stop_file = paths_file.with_suffix(".stopped")
    stop_file.unlink(missing_ok=True)
    command = ["wrk", f"-t{concurrency}", f"-c{concurrency}", f"-d{hard_stop}s", "--timeout", f"{hard_stop}s"]
    command += ["-s", str(BENCH_DIR / "wrk.lua"), f"http://127.0.0.1:{port}", "--", str(paths_file)]
    command += [str(-(-max_requests // concurrency)), str(duration), str(stop_file)]
    stdout = run_until_stopped(command, stop_file, concurrency, hard_stop + 60)
    raw = json.loads(next(x for x in stdout.splitlines() if x.startswith("BENCH_JSON ")).removeprefix("BENCH_JSON "))
    seconds = max(1e-9, raw["duration_us"] / 1e6)
    ok = raw["requests"] - raw["status"]
    kinds = ("connect", "read", "write", "timeout", "status", "unfinished")
    return {
        "tool": "wrk",
        "requests": raw["requests"],
        "ok": ok,
        "errors": sum(raw[k] for k in kinds),
        "failures": {k: raw[k] for k in kinds if raw[k]},
        "seconds": round(seconds, 3),
        "rps": round(ok / seconds, 1),
        "cache_hits": raw.get("cache_hits", 0),
        "cache_misses": raw.get("cache_misses", 0),
        **latencies(raw),
    }


def run_until_stopped(command: list[str], stop_file: Path, connections: int, timeout: float) -> str:
    """Run wrk; interrupt it (it then reports) once every connection has written to ``stop_file``."""
    # wrk itself always runs for its whole -d, even when every thread has stopped.
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if stop_file.exists() and len(stop_file.read_text().split()) >= connections:
            break
        time.sleep(0.05)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    if "BENCH_JSON" not in stdout:
        raise RuntimeError(f"wrk failed ({process.returncode}): {stderr.strip() or stdout.strip()}")
    return stdout


def latencies(raw: dict) -> dict:
    """wrk's percentiles in ms (None when nothing completed)."""
    names = {"p50_ms": "p50_us", "p95_ms": "p95_us", "p99_ms": "p99_us", "max_ms": "max_us"}
    return {ours: round(raw[theirs] / 1000, 2) if raw["requests"] else None for ours, theirs in names.items()}
