"""The outbox without a mail server: one transaction with the caller, nothing malformed queued, backoff, claims."""

from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select, update

from shop.extensions import db as _db
from shop.mail import InvalidEmail, queue_email, worker
from shop.mail.models import FAILED, QUEUED, SENDING, SENT, OutboxMessage
from shop.mail.services import retry_messages
from shop.models import utcnow
from tests.apps import app_with
from tests.mail.conftest import mail_app_with, queue_hellos

HOSTILE_ADDRESSES = [
    "",
    "not an address",
    "two@lab.example, three@lab.example",
    "a@lab.example\r\nBcc: victim@elsewhere.example",
    "a@lab.example\nSubject: forged",
    "a\x00@lab.example",
    "a@lab.example\u202e",
    "x" * 10_000 + "@lab.example",
    "a@" + "b" * 250 + ".example",
    "<script>@lab.example",
]


def count() -> int:
    return _db.session.scalar(select(func.count(OutboxMessage.id)))


def test_a_message_is_committed_with_the_callers_transaction_or_not_at_all(templates):
    queue_email("ann@lab.example", "test/hello", {"name": "Ann", "line": "x"})
    _db.session.rollback()
    assert count() == 0
    queue_email("ann@lab.example", "test/hello", {"name": "Ann", "line": "First line."})
    _db.session.commit()
    message = _db.session.scalar(select(OutboxMessage))
    assert (message.status, message.attempts, message.to_address) == (QUEUED, 0, "ann@lab.example")
    assert message.subject == "Hello Ann"
    assert "Dear Ann,\nFirst line." in message.text_body and "<h1>Dear Ann</h1>" in message.html_body
    assert message.from_address == "CellShop <news@cellshop.example>"
    assert message.reply_to == "sales@cellshop.example"
    assert message.message_id.startswith("<") and message.message_id.endswith("@cellshop.example>")


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES)
def test_a_malformed_or_injected_address_is_refused_and_nothing_queued(templates, address):
    with pytest.raises(InvalidEmail):
        queue_email(address, "test/hello", {"name": "A", "line": "x"})
    with pytest.raises(InvalidEmail):
        queue_email("ann@lab.example", "test/hello", {"name": "A", "line": "x"}, reply_to=address or "\r\n")
    _db.session.commit()
    assert count() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"List-Unsubscribe": "<https://x.example/u>\r\nBcc: victim@elsewhere.example"},
        {"X-Note": "line\nSubject: forged"},
        {"Bcc": "victim@elsewhere.example"},
        {"From": "ceo@elsewhere.example"},
        {"Bad Name": "x"},
        {"X-Evil:\r\nBcc": "x"},
        {"X-Long": "x" * 1000},
    ],
)
def test_extra_headers_cannot_add_or_replace_headers(templates, headers):
    with pytest.raises(InvalidEmail):
        queue_email("ann@lab.example", "test/hello", {"name": "A", "line": "x"}, headers=headers)
    _db.session.commit()
    assert count() == 0


def test_line_breaks_in_what_reaches_the_subject_become_spaces(templates):
    message = queue_email(
        "ann@lab.example", "test/hello", {"name": "Ann\r\nBcc: victim@elsewhere.example\x0b", "line": ""}
    )
    assert message.subject == "Hello Ann Bcc: victim@elsewhere.example"
    assert "\n" not in message.subject and "\r" not in message.subject


def test_without_smtp_each_message_is_an_eml_file_written_once(app, database_url, db, tmp_path):
    mail_app = mail_app_with(database_url, MAIL_FOLDER=tmp_path)
    with mail_app.app_context():
        ids = queue_hellos(3)
        assert worker.drain().sent == 3
        files = sorted(tmp_path.glob("*.eml"))
        assert [f.name.split("-")[-1] for f in files] == [f"{i:08d}.eml" for i in ids]
        parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
        stored = _db.session.get(OutboxMessage, ids[0])
        assert parsed["Message-ID"] == stored.message_id and parsed["To"] == "reader-0@lab.example"
        assert parsed.get_body(("plain",)).get_content().startswith("Dear Reader 0,")
        assert "<h1>Dear Reader 0</h1>" in parsed.get_body(("html",)).get_content()
        # Sent again (a retry), it replaces its own file: still one file per message, no half-written drafts.
        retry_messages([ids[0]])
        _db.session.execute(update(OutboxMessage).where(OutboxMessage.id == ids[0]).values(status=QUEUED))
        _db.session.commit()
        worker.drain()
        assert len(list(tmp_path.iterdir())) == 3
        _db.session.rollback()


def test_retries_wait_twice_as_long_each_time_up_to_the_cap(app, database_url):
    slow = app_with(database_url, OUTBOX_RETRY_BASE_SECONDS=60, OUTBOX_RETRY_MAX_SECONDS=3600)
    with slow.app_context():
        delays = [worker.retry_delay(attempt) for attempt in range(1, 9)]
    for attempt, delay in enumerate(delays[:6], start=1):
        assert 0.9 * 60 * 2 ** (attempt - 1) <= delay <= 1.1 * 60 * 2 ** (attempt - 1), (attempt, delay)
    assert all(delay <= 3600 * 1.1 for delay in delays) and delays[-1] >= 3600 * 0.9


def test_a_claim_runs_out_and_another_worker_takes_the_messages(templates):
    ids = queue_hellos(3)
    now = utcnow()
    assert worker.claim("host-a:1", 10, now) == ids
    assert worker.claim("host-b:2", 10, now + timedelta(seconds=10)) == []  # still host-a's
    rows = _db.session.scalars(select(OutboxMessage)).all()
    assert {(m.status, m.claimed_by, m.attempts) for m in rows} == {(SENDING, "host-a:1", 1)}
    # host-a died: once its claim has run out, the messages are due again, and counted as a second attempt.
    later = now + timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"] + 1)
    assert worker.claim("host-b:2", 10, later) == ids
    _db.session.expire_all()
    assert {(m.claimed_by, m.attempts) for m in _db.session.scalars(select(OutboxMessage))} == {("host-b:2", 2)}
    # host-a's late report changes nothing: the claim is host-b's now.
    worker.release("host-a:1", ids)
    _db.session.expire_all()
    assert {m.claimed_by for m in _db.session.scalars(select(OutboxMessage))} == {"host-b:2"}


def test_retry_queues_failed_messages_with_fresh_attempts_and_leaves_sent_ones(templates):
    failed, sent = queue_hellos(2)
    _db.session.execute(update(OutboxMessage).where(OutboxMessage.id == failed).values(status=FAILED, attempts=10))
    _db.session.execute(update(OutboxMessage).where(OutboxMessage.id == sent).values(status=SENT, attempts=1))
    assert retry_messages([failed, sent]) == 1
    _db.session.commit()
    assert (_db.session.get(OutboxMessage, failed).status, _db.session.get(OutboxMessage, failed).attempts) == (
        QUEUED,
        0,
    )
    assert _db.session.get(OutboxMessage, sent).status == SENT


def test_sent_messages_are_pruned_after_the_keep_days_and_failed_ones_stay(templates):
    old_sent, old_failed, recent = queue_hellos(3)
    long_ago = utcnow() - timedelta(days=31)
    _db.session.execute(update(OutboxMessage).where(OutboxMessage.id == old_sent).values(status=SENT, sent_at=long_ago))
    _db.session.execute(update(OutboxMessage).where(OutboxMessage.id == old_failed).values(status=FAILED))
    _db.session.execute(update(OutboxMessage).where(OutboxMessage.id == recent).values(status=SENT, sent_at=utcnow()))
    _db.session.commit()
    assert worker.prune_sent() == 1
    assert set(_db.session.scalars(select(OutboxMessage.id))) == {old_failed, recent}


def test_the_test_config_writes_mail_outside_the_worktree(app):
    assert not Path(app.config["MAIL_FOLDER"]).resolve().is_relative_to(Path(__file__).resolve().parents[2])
