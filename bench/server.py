"""Run an app under gunicorn on a free loopback port, wait until it is healthy, read its workers' memory."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import DATA_DIR, ROOT

# Under a heavy load on a shared machine, importing the app and reading its first query take minutes.
HEALTH_TIMEOUT = float(os.environ.get("BENCH_HEALTH_TIMEOUT", 300))
# Idle: under IDLE_CPU seconds of CPU per IDLE_INTERVAL, IDLE_CHECKS times in a row.
IDLE_INTERVAL = 0.25
IDLE_CPU = 0.02
IDLE_CHECKS = 3


@dataclass
class Server:
    """A running gunicorn master."""

    process: subprocess.Popen
    port: int
    log: Path


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app_spec: str, name: str, workers: int, threads: int, env: dict[str, str] | None = None):
    """``gunicorn APP`` from the project directory; yields the Server, stops it afterwards."""
    port = free_port()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    log = DATA_DIR / f"gunicorn-{name}.log"
    command = [sys.executable, "-m", "gunicorn", app_spec, "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--threads", str(threads), "--timeout", "120"]
    # Not the shared ~/.gunicorn/gunicorn.ctl: another gunicorn on this machine may be using it.
    command += ["--no-control-socket"]
    with log.open("w") as handle:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=handle, stderr=subprocess.STDOUT
        )
    server = Server(process, port, log)
    try:
        wait_healthy(server)
        yield server
    finally:
        stop(process)


def wait_healthy(server: Server) -> None:
    """Poll /healthz until it answers 200; fail with the log's tail if the server dies or stays sick."""
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    tail = server.log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"gunicorn on port {server.port} did not become healthy; log {server.log}:\n{tail}")


def stop(process: subprocess.Popen) -> None:
    """Graceful stop (SIGTERM), then SIGKILL if it takes too long."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (0 if it is gone)."""
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(server: Server, busy_elsewhere: Callable[[], bool] | None = None, timeout: float = 180.0) -> float:
    """Wait until the workers stop using CPU and nothing is ``busy_elsewhere``; return the seconds waited."""
    # Requests a load tool gave up on at its deadline still run; SQLite work shows as worker CPU,
    # PostgreSQL work as active backends (busy_elsewhere).
    started = time.monotonic()
    pids = [server.process.pid, *worker_pids(server.process.pid)]
    last, quiet = sum(map(cpu_seconds, pids)), 0
    while quiet < IDLE_CHECKS and time.monotonic() - started < timeout:
        time.sleep(IDLE_INTERVAL)
        now = sum(map(cpu_seconds, pids))
        busy = now - last > IDLE_CPU or (busy_elsewhere is not None and busy_elsewhere())
        quiet, last = (0 if busy else quiet + 1), now
    return round(time.monotonic() - started, 1)


def worker_pids(master: int) -> list[int]:
    """The children of a process (gunicorn's workers), from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: fields start after the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            pids.append(int(entry.name))
    return sorted(pids)


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MB (VmRSS), or None if it is gone."""
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def workers_rss(server: Server) -> list[float]:
    """Each worker's RSS in MB."""
    return [mb for mb in (rss_mb(pid) for pid in worker_pids(server.process.pid)) if mb is not None]
