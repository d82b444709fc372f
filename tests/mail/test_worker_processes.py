"""``flask outbox work`` as real processes: one killed with SIGKILL mid-batch, two side by side on PostgreSQL.

SMTP can't promise exactly once across a crash: a worker killed after the
server's "250" and before its own commit leaves one message whose fate it never
learnt, and the next worker sends it again. That copy carries the same
Message-ID, so the recipient's mail system keeps one. What these tests hold the
outbox to: every message arrives, none is recorded twice, and a repeat is at
most the one message in flight at each kill, with its own Message-ID.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shop.extensions import db as _db
from shop.mail.models import SENDING, SENT, OutboxMessage
from tests.mail.conftest import queue_hellos
from tests.mail.smtp import Mailbox, SMTPServer

pytestmark = pytest.mark.usefixtures("committing_db")  # the workers are other processes
ROOT = Path(__file__).resolve().parents[2]


def start_worker(database_url: str, smtp_url: str, **settings) -> subprocess.Popen:
    """``flask outbox work`` in a process of its own, configured as production is."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TEST_", "SHOP_", "PYTEST"))}
    env.update(
        FLASK_APP="app.py", SHOP_ENV="production", SECRET_KEY="k" * 40, SITE_URL="http://shop.example",
        DATABASE_URL=database_url, SMTP_URL=smtp_url, OUTBOX_LEASE_SECONDS="4", OUTBOX_BATCH_SIZE="20",
        OUTBOX_POLL_SECONDS="0.2", OUTBOX_RETRY_BASE_SECONDS="0", SMTP_TIMEOUT="5",
    )  # fmt: skip
    env.update({key: str(value) for key, value in settings.items()})
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "outbox", "work"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def stop(process: subprocess.Popen) -> str:
    """SIGTERM (the worker finishes the message in hand), then its output."""
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    return out


def count(*conditions) -> int:
    _db.session.rollback()  # a fresh look at what the worker committed
    return _db.session.scalar(select(func.count(OutboxMessage.id)).where(*conditions))


def wait_until(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_at_most_the_message_in_flight(templates, database_url):
    queue_hellos(150)
    with SMTPServer(Mailbox(delay=0.01)) as server:
        first = start_worker(database_url, server.url)
        try:
            server.mailbox.wait_for(35)  # well into its second batch of 20
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        received_before = len(server.mailbox.messages)
        claimed = count(OutboxMessage.status == SENDING)
        assert 0 < received_before < 150 and claimed > 0, (received_before, claimed)  # killed with a claim in hand
        second = start_worker(database_url, server.url)
        try:
            wait_until(lambda: count(OutboxMessage.status == SENT) == 150)
        finally:
            output = stop(second)
        stored = set(_db.session.scalars(select(OutboxMessage.message_id)))
        received = server.mailbox.message_ids()
        assert set(received) == stored  # nothing lost
        repeats = len(received) - len(set(received))
        assert repeats <= 1, f"{repeats} messages repeated: more than the one in flight at the kill"
        assert count(OutboxMessage.status != SENT) == 0
        assert "sent" in output


def test_a_second_worker_shares_the_queue_on_postgresql_and_is_refused_on_sqlite(templates, database_url):
    """PostgreSQL: two workers, each message once, both working. SQLite (no row locks): the second won't start."""
    if database_url.startswith("sqlite"):
        with SMTPServer() as server:
            first = start_worker(database_url, server.url)
            try:
                time.sleep(1.5)  # started, and holding the lock
                second = start_worker(database_url, server.url)
                _, err = second.communicate(timeout=30)
                assert second.returncode != 0
                assert "Another outbox worker is delivering this SQLite database's mail" in err
            finally:
                stop(first)
        return
    queue_hellos(300)
    with SMTPServer(Mailbox(delay=0.003)) as server:
        workers = [start_worker(database_url, server.url, OUTBOX_BATCH_SIZE=10) for _ in range(2)]
        try:
            wait_until(lambda: count(OutboxMessage.status == SENT) == 300)
        finally:
            outputs = [stop(w) for w in workers]
        received = server.mailbox.message_ids()
        assert len(received) == 300 and set(received) == set(_db.session.scalars(select(OutboxMessage.message_id)))
        sent_by_each = [int(out.split(" sent")[0].rsplit(" ", 1)[-1]) for out in outputs]
        assert sum(sent_by_each) == 300 and min(sent_by_each) > 0, sent_by_each
