"""How fast the outbox worker sends publish notices: N subscribers, one post, a local SMTP server in its own process.

    python -m bench.mail_rate                                    # SQLite, 10,000 subscribers, one worker
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_mail python -m bench.mail_rate --workers 2

The database is rebuilt from the migrations (on PostgreSQL its ``public`` schema is dropped: give it a database
of its own). Subscribers are inserted in bulk, a post is published, and ``--workers`` real ``flask outbox work``
processes fan the notices out and deliver them to aiosmtpd (``python -m aiosmtpd``-like sink in a process of its
own, counting messages). The clock runs from the workers' start until the sink has every message; the report
gives messages per second overall and the fan-out (rendering and queueing) apart from sending.
"""

import argparse
import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sink(port: int, counter, ready) -> None:
    """An SMTP server that accepts and counts every message (run in its own process)."""
    from aiosmtpd.controller import Controller

    class Count:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        asyncio.run(asyncio.sleep(10**6))
    finally:
        controller.stop()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(url: str, subscribers: int) -> None:
    """Fresh schema, ``subscribers`` active subscribers to every topic, one published post with its notice."""
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, insert, text

    from shop import create_app
    from shop.config import TestConfig
    from shop.models import utcnow

    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app(
        type("Config", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, "SITE_URL": "https://shop.example"})
    )
    with app.app_context():
        upgrade()
        from shop.blog.models import Post
        from shop.blog.services import PostContent, publish_post, save_post
        from shop.extensions import db
        from shop.subscriptions.models import Subscriber

        now = utcnow()
        rows = [
            {"email": f"reader{n}@lab.example", "status": "active", "all_topics": True, "frequency": "each",
             "token_key": f"k{n:012d}", "created_at": now, "confirmed_at": now}
            for n in range(subscribers)
        ]  # fmt: skip
        db.session.execute(insert(Subscriber), rows)
        content = PostContent("Bench post", "bench-post", "What the benchmark sends.", "Body.", [], ["CAR-T"], [])
        publish_post(save_post(Post(author_name="Bench"), content, actor="bench"))
        db.session.commit()


def start_worker(url: str, smtp_port: int, batch: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "SHOP_"))}
    env.update(
        FLASK_APP="app.py", SHOP_ENV="production", SECRET_KEY="b" * 40, SITE_URL="https://shop.example",
        DATABASE_URL=url, SMTP_URL=f"smtp://127.0.0.1:{smtp_port}", OUTBOX_BATCH_SIZE=str(batch),
        OUTBOX_POLL_SECONDS="0.2", MAIL_FOLDER=tempfile.mkdtemp(prefix="bench-mail-"),
    )  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "flask", "outbox", "work"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip


def queued_count(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT COUNT(*) FROM outbox_message")).scalar()
    engine.dispose()
    return count


def run(url: str, subscribers: int, workers: int, batch: int) -> dict:
    """Prepare, start the sink and the workers, time until every notice has arrived."""
    prepare(url, subscribers)
    port, counter, ready = free_port(), multiprocessing.Value("i", 0), multiprocessing.Event()
    server = multiprocessing.Process(target=sink, args=(port, counter, ready), daemon=True)
    server.start()
    ready.wait(10)
    started = time.perf_counter()
    processes = [start_worker(url, port, batch) for _ in range(workers)]
    fanned_out = None
    try:
        while counter.value < subscribers:
            if fanned_out is None and queued_count(url) >= subscribers:
                fanned_out = time.perf_counter() - started
            if any(p.poll() is not None for p in processes):
                raise SystemExit(
                    "a worker exited: " + "".join(p.stderr.read() for p in processes if p.poll() is not None)
                )
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        server.terminate()
    return {"subscribers": subscribers, "workers": workers, "seconds": elapsed, "fan_out_seconds": fanned_out,
            "per_second": subscribers / elapsed}  # fmt: skip


def main() -> None:
    """Parse the flags, run, print one line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=50, help="OUTBOX_BATCH_SIZE")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{ROOT / 'bench' / '.data' / 'mail-rate.db'}"
    if url.startswith("sqlite"):
        if args.workers > 1:
            raise SystemExit("SQLite takes one worker; give BENCH_DATABASE_URL (PostgreSQL) for more")
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
    result = run(url, args.subscribers, args.workers, args.batch)
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(
        f"{database}, {result['workers']} worker(s): {result['subscribers']:,} notices in {result['seconds']:.1f} s "
        f"= {result['per_second']:.0f} messages/s (all queued after {result['fan_out_seconds'] or 0:.1f} s)"
    )


if __name__ == "__main__":
    main()
