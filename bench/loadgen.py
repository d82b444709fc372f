"""A small HTTP/1.1 load generator for loopback benchmarks, run in its own process.

    python -m bench.loadgen --port 8000 --paths FILE --concurrency 8 --duration 10 --max-requests 50000

N keep-alive connections (asyncio streams) take the next path of the list in
turn, until the time or the request budget runs out; responses still in
flight get a grace period, then count as unfinished. Prints one JSON object:
requests, ok, errors (by kind and status), latency percentiles and req/s.
"""

import argparse
import asyncio
import json
import math
import time
from dataclasses import dataclass, field

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 120.0
# Like a browser, accept gzip (the body is read, never decompressed).
REQUEST = "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: cellshop-bench\r\nAccept-Encoding: gzip\r\n\r\n"


@dataclass
class Tally:
    """Everything the connections measured, shared between them."""

    paths: list[str]
    deadline: float
    max_requests: int
    issued: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    cache: dict[str, int] = field(default_factory=dict)  # X-Page-Cache value -> responses
    last_done: float = 0.0

    def next_path(self) -> str | None:
        """The next path to request, or None when time or budget is spent."""
        if self.issued >= self.max_requests or time.perf_counter() >= self.deadline:
            return None
        path = self.paths[self.issued % len(self.paths)]
        self.issued += 1
        return path

    def fail(self, kind: str) -> None:
        """Count a request that got no response."""
        self.failures[kind] = self.failures.get(kind, 0) + 1


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool, str]:
    """Read one response; return its status, whether the server keeps the connection open, and its
    X-Page-Cache header ("" when it has none)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split(b" ", 2)[1])
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        await read_chunked(reader)
    else:
        await reader.read()
        return status, False, headers.get("x-page-cache", "")
    return status, headers.get("connection") != "close", headers.get("x-page-cache", "")


async def read_chunked(reader: asyncio.StreamReader) -> None:
    """Skip a chunked body."""
    while size := int((await reader.readline()).split(b";")[0], 16):
        await reader.readexactly(size + 2)
    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
        pass


async def connection(tally: Tally, port: int) -> None:
    """One client connection: request, wait for the whole response, repeat."""
    reader = writer = None
    while (path := tally.next_path()) is not None:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port)
            started = time.perf_counter()
            writer.write(REQUEST.format(path=path, host=HOST, port=port).encode())
            status, keep, cached = await asyncio.wait_for(read_response(reader), REQUEST_TIMEOUT)
            tally.cache[cached] = tally.cache.get(cached, 0) + 1
            tally.last_done = time.perf_counter()
            tally.latencies.append(tally.last_done - started)
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
        except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            tally.fail(type(exc).__name__)
            keep = False
        if not keep and writer is not None:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summary(tally: Tally, started: float, ended: float) -> dict:
    """The JSON-ready result."""
    ok = sum(n for status, n in tally.statuses.items() if 200 <= status < 400)
    completed = sum(tally.statuses.values())
    lat = sorted(tally.latencies)
    elapsed = max(1e-9, ended - started)
    return {
        "tool": "python",
        "requests": completed,
        "ok": ok,
        "errors": completed - ok + sum(tally.failures.values()),
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "failures": {**tally.failures, **({"status": completed - ok} if completed > ok else {})},
        "seconds": round(elapsed, 3),
        "rps": round(ok / elapsed, 1),
        "cache_hits": tally.cache.get("hit", 0),
        "cache_misses": tally.cache.get("miss", 0),
        **{f"p{p}_ms": round(percentile(lat, p) * 1000, 2) if lat else None for p in (50, 95, 99)},
        "max_ms": round(lat[-1] * 1000, 2) if lat else None,
    }


async def run(port: int, paths: list[str], concurrency: int, duration: float, max_requests: int, grace: float) -> dict:
    """Load the server and return the summary."""
    started = time.perf_counter()
    tally = Tally(paths, started + duration, max_requests)
    tasks = [asyncio.create_task(connection(tally, port)) for _ in range(concurrency)]
    done, pending = await asyncio.wait(tasks, timeout=duration + grace)
    for task in pending:
        task.cancel()
        tally.fail("unfinished")
    await asyncio.gather(*pending, return_exceptions=True)
    return summary(tally, started, tally.last_done or time.perf_counter())


def main() -> None:
    """Parse the arguments, run, print the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--paths", required=True, help="a file with one path per line, cycled through")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--grace", type=float, default=30.0, help="seconds in-flight requests may take after the end")
    args = parser.parse_args()
    with open(args.paths, encoding="utf-8") as handle:
        paths = [line.strip() for line in handle if line.strip()]
    result = asyncio.run(run(args.port, paths, args.concurrency, args.duration, args.max_requests, args.grace))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
