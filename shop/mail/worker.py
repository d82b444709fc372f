"""The outbox worker: claim due messages, deliver them, retry failures with backoff, give up after a limit.

A round first runs the *jobs* features registered (:func:`register_job`: the
subscriptions' publish notices and digests queue their mail in bulk there;
mail knows no feature), then claims a batch of due messages. A claim is
written before anything is sent: the rows become ``sending`` with
``available_at`` at the end of the claim, in one short transaction that
on PostgreSQL reads them ``FOR UPDATE SKIP LOCKED``, so any number of workers
on any number of hosts never claim one message twice. Each message's outcome
is committed as soon as the server answers. A worker that dies mid-batch
leaves its claim to run out; the messages it had not reported are then due
again, with the Message-ID they had, so nothing is lost. SQLite has no row
locks: one worker per SQLite database (a lock file says so).
"""

import fcntl
import logging
import os
import random
import socket
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from blinker import Namespace
from flask import current_app, has_request_context
from sqlalchemy import delete, select, update
from sqlalchemy.engine import make_url

from shop.config import ConfigurationError
from shop.extensions import db
from shop.mail import delivery
from shop.mail.models import FAILED, QUEUED, SENDING, SENT, OutboxMessage
from shop.models import utcnow

log = logging.getLogger(__name__)
_signals = Namespace()
address_refused = _signals.signal("address-refused")
"""Sent with the message whose recipient the server refused for good (5xx), inside the transaction recording it."""

# A dict, so an app built twice (as tests do) registers each job once, in order.
_jobs: dict[Callable[[], int], None] = {}
PRUNE_EVERY_SECONDS = 600


class WorkerBusy(RuntimeError):
    """Another worker already delivers this SQLite database's mail."""


def register_job(job: Callable[[], int]) -> None:
    """Run ``job`` at the start of every round: it queues mail in bulk, commits, and returns how many it queued."""
    _jobs[job] = None


@dataclass
class Tally:
    """What a round (or a run) did."""

    queued: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def add(self, other: "Tally") -> None:
        """Add another round's numbers to these."""
        for name in ("queued", "sent", "retried", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def busy(self) -> bool:
        """Whether the round found anything to do."""
        return bool(self.queued or self.sent or self.retried or self.failed)


def worker_name() -> str:
    """Who holds a claim: host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def retry_delay(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: doubling from the base, capped, with 10% jitter either way."""
    config = current_app.config
    delay = config["OUTBOX_RETRY_BASE_SECONDS"] * 2 ** max(0, attempts - 1)
    return min(config["OUTBOX_RETRY_MAX_SECONDS"], delay) * random.uniform(0.9, 1.1)


def run_jobs() -> int:
    """Run every registered job; one that fails is rolled back and logged, and the others still run."""
    queued = 0
    for job in list(_jobs):
        try:
            queued += job() or 0
        except Exception:
            db.session.rollback()
            log.exception("outbox job %s failed; it runs again next round", job.__qualname__)
    return queued


def claim(worker: str, limit: int, now: datetime | None = None) -> list[int]:
    """Claim up to ``limit`` due messages for ``worker``, in the order they should go; returns their ids."""
    now = now or utcnow()
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status.in_((QUEUED, SENDING)), OutboxMessage.available_at <= now)
        .order_by(OutboxMessage.priority, OutboxMessage.available_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(db.session.scalars(due))
    if ids:
        lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(
                status=SENDING,
                claimed_by=worker,
                available_at=now + lease,
                attempts=OutboxMessage.attempts + 1,
                last_attempt_at=now,
            )
        )
    db.session.commit()
    return ids


def send_batch(worker: str, ids: list[int], should_stop: Callable[[], bool] = lambda: False) -> Tally:
    """Deliver the claimed messages one by one, committing each outcome as soon as it is known."""
    tally = Tally()
    messages = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(
        OutboxMessage.priority, OutboxMessage.available_at, OutboxMessage.id)))  # fmt: skip
    db.session.expunge_all()  # plain copies: the commits below must not expire (and reload) the rest
    deadline = time.monotonic() + _safe_sending_time()
    try:
        connection = delivery.open_connection()
    except delivery.DeliveryFailed as failure:
        _record_failures(worker, messages, failure, tally)
        return tally
    try:
        for index, message in enumerate(messages):
            if should_stop() or time.monotonic() > deadline:
                release(worker, [m.id for m in messages[index:]])
                break
            try:
                delivery.deliver(connection, message)
            except delivery.DeliveryFailed as failure:
                _record_failure(worker, message, failure, tally)
                if failure.connection:  # the rest were not tried: due again at once, on a new connection
                    release(worker, [m.id for m in messages[index + 1 :]])
                    break
            else:
                _record_sent(worker, message)
                tally.sent += 1
    finally:
        delivery.close_connection(connection)
    return tally


def _safe_sending_time() -> float:
    """How long a batch may keep sending: its claim, less room for the slowest answer a server may take."""
    config = current_app.config
    lease = config["OUTBOX_LEASE_SECONDS"]
    return lease - min(3 * config["SMTP_TIMEOUT"], lease / 2)


def _mine(worker: str, *ids: int):
    return (OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker, OutboxMessage.status == SENDING)


def _record_sent(worker: str, message: OutboxMessage) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(*_mine(worker, message.id))
        .values(status=SENT, sent_at=utcnow(), available_at=utcnow(), claimed_by=None, last_error=None)
    )
    db.session.commit()


def _record_failure(worker: str, message: OutboxMessage, failure: delivery.DeliveryFailed, tally: Tally) -> None:
    """Due again after a backoff, or failed for good (permanent, or out of attempts); committed at once."""
    now = utcnow()
    final = failure.permanent or message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]
    retry_at = now if final else now + timedelta(seconds=retry_delay(message.attempts))
    db.session.execute(
        update(OutboxMessage)
        .where(*_mine(worker, message.id))
        .values(status=FAILED if final else QUEUED, available_at=retry_at, claimed_by=None, last_error=str(failure))
    )
    if failure.permanent:
        address_refused.send(message)
    db.session.commit()
    if final:
        tally.failed += 1
    else:
        tally.retried += 1


def _record_failures(worker, messages, failure, tally: Tally) -> None:
    """No connection to the server: each message is due again after its backoff."""
    for message in messages:
        _record_failure(worker, message, failure, tally)


def release(worker: str, ids: list[int]) -> None:
    """Give claimed messages back untried: due at once, their attempt not counted."""
    if ids:
        db.session.execute(
            update(OutboxMessage)
            .where(*_mine(worker, *ids))
            .values(status=QUEUED, available_at=utcnow(), claimed_by=None, attempts=OutboxMessage.attempts - 1)
        )
        db.session.commit()


def send_due(worker: str, should_stop: Callable[[], bool] = lambda: False) -> Tally:
    """One round of sending: claim a batch and deliver it."""
    ids = claim(worker, current_app.config["OUTBOX_BATCH_SIZE"])
    return send_batch(worker, ids, should_stop) if ids else Tally()


def run_round(worker: str, should_stop: Callable[[], bool] = lambda: False) -> Tally:
    """The jobs, then one batch of sending."""
    queued = run_jobs()
    tally = send_due(worker, should_stop)
    tally.queued += queued
    return tally


def drain(worker: str | None = None) -> Tally:
    """Rounds until nothing is left that is due now (``flask outbox send-once``); messages waiting to retry stay."""
    worker = worker or worker_name()
    total = Tally()
    with one_worker_per_sqlite_database(), link_context():
        while True:
            tally = run_round(worker)
            total.add(tally)
            if not tally.busy:
                return total


def work(should_stop: Callable[[], bool], poll_seconds: float | None = None) -> Tally:
    """Rounds until ``should_stop()``; an idle worker sleeps ``OUTBOX_POLL_SECONDS`` between looks."""
    worker = worker_name()
    poll = current_app.config["OUTBOX_POLL_SECONDS"] if poll_seconds is None else poll_seconds
    total, pruned_at = Tally(), 0.0
    with one_worker_per_sqlite_database(), link_context():
        while not should_stop():
            tally = _guarded_round(worker, should_stop)
            total.add(tally)
            if tally.busy:
                continue
            if time.monotonic() - pruned_at > PRUNE_EVERY_SECONDS:
                prune_sent()
                pruned_at = time.monotonic()
            _sleep(poll, should_stop)
    return total


def _guarded_round(worker: str, should_stop) -> Tally:
    """A round whose database error (the server restarting, say) is logged and waited out, not fatal."""
    try:
        return run_round(worker, should_stop)
    except Exception:
        db.session.rollback()
        log.exception("outbox round failed; trying again shortly")
        return Tally()


def _sleep(seconds: float, should_stop) -> None:
    end = time.monotonic() + seconds
    while not should_stop() and time.monotonic() < end:
        time.sleep(min(0.2, seconds))


def prune_sent(now: datetime | None = None) -> int:
    """Delete sent messages older than OUTBOX_KEEP_SENT_DAYS (failed ones stay until staff act on them)."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["OUTBOX_KEEP_SENT_DAYS"])
    old = delete(OutboxMessage).where(OutboxMessage.status == SENT, OutboxMessage.sent_at < cutoff)
    result = db.session.execute(old)
    db.session.commit()
    return result.rowcount


def link_root() -> str:
    """Where links in mail built by the worker point: SITE_URL, or the local server in development and tests."""
    config = current_app.config
    if config.get("SITE_URL"):
        return config["SITE_URL"]
    if config.get("SHOP_ENV") == "development":
        return f"http://{os.environ.get('FLASK_RUN_HOST', '127.0.0.1')}:{os.environ.get('FLASK_RUN_PORT', '5000')}"
    if config.get("SHOP_ENV") == "test":
        return "http://localhost"
    raise ConfigurationError("SITE_URL must be set for the outbox worker: the mail it builds links back to the shop")


def link_context():
    """A request context on the site's root, so ``url_for`` and ``absolute_url`` work in mail built by jobs."""
    if has_request_context():
        return nullcontext()
    return current_app.test_request_context("/", base_url=link_root())


@contextmanager
def one_worker_per_sqlite_database():
    """On SQLite, hold a lock file beside the database while working (no row locks: a second worker would double)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    with open(Path(url.database).with_name(Path(url.database).name + ".outbox-lock"), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkerBusy("Another outbox worker is delivering this SQLite database's mail.") from None
        yield
