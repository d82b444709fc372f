"""Delivery through a real SMTP server (aiosmtpd): parts and headers, and nothing lost when the server misbehaves.

The worker runs in the test's thread (the SMTP server's thread never touches the database), so each
test's commits stay inside its rolled-back transaction.
"""

from datetime import timedelta

from sqlalchemy import select, update

from shop.extensions import db as _db
from shop.mail import queue_email, worker
from shop.mail.models import FAILED, QUEUED, SENT, OutboxMessage
from shop.mail.services import retry_messages
from shop.models import utcnow
from tests.mail.conftest import mail_app_with, queue_hellos
from tests.mail.smtp import Mailbox, SMTPServer, free_port, html_part, text_part


def rows() -> list[OutboxMessage]:
    _db.session.expire_all()
    return list(_db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_message_arrives_with_both_parts_and_its_headers(mail_app, smtp):
    queue_email(
        "ann@lab.example", "test/hello", {"name": "Ann Ö", "line": "Ünïcode ✓"},
        reply_to="Sales <sales@cellshop.example>", headers={"List-Unsubscribe": "<https://shop.example/u/1>"},
    )  # fmt: skip
    _db.session.commit()
    assert worker.drain().sent == 1
    [received] = smtp.mailbox.wait_for(1)
    [stored] = rows()
    assert (received["To"], received["From"]) == ("ann@lab.example", "CellShop <news@cellshop.example>")
    assert received["Reply-To"] == "Sales <sales@cellshop.example>"
    assert received["Subject"] == "Hello Ann Ö"
    assert received["Message-ID"] == stored.message_id
    assert received["List-Unsubscribe"] == "<https://shop.example/u/1>"
    assert "Dear Ann Ö,\nÜnïcode ✓" in text_part(received)
    assert "<h1>Dear Ann Ö</h1>" in html_part(received)
    assert (stored.status, stored.attempts, stored.last_error) == (SENT, 1, None)


def test_a_refused_connection_is_retried_later_and_then_everything_arrives(app, database_url, db):
    port = free_port()  # nothing listens here yet
    slow = mail_app_with(
        database_url, SMTP_URL=f"smtp://127.0.0.1:{port}", OUTBOX_RETRY_BASE_SECONDS=60, SMTP_TIMEOUT=5
    )
    with slow.app_context():
        ids = queue_hellos(4)
        tally = worker.drain()
        assert (tally.sent, tally.retried) == (0, 4)
        for message in rows():
            assert (message.status, message.attempts) == (QUEUED, 1)
            assert "Could not reach the mail server" in message.last_error
            assert timedelta(seconds=50) < message.available_at - utcnow() < timedelta(seconds=70)
        assert worker.drain().sent == 0  # not due yet: the worker waits
        with SMTPServer(port=port) as server:
            # A minute later (time moved on by hand), the server is back.
            _db.session.execute(update(OutboxMessage).values(available_at=utcnow()))
            _db.session.commit()
            assert worker.drain().sent == 4
            server.mailbox.wait_for(4)
        assert sorted(server.mailbox.message_ids()) == sorted(m.message_id for m in rows())
        assert {(m.status, m.attempts) for m in rows()} == {(SENT, 2)} and len(ids) == 4


def test_a_connection_dropped_mid_batch_loses_nothing_and_doubles_nothing(app, database_url, db):
    with SMTPServer(Mailbox(drop_on={2})) as server:
        flaky = mail_app_with(database_url, SMTP_URL=server.url, SMTP_TIMEOUT=5)
        with flaky.app_context():
            queue_hellos(5)
            first = worker.run_round(worker.worker_name())
            assert (first.sent, first.retried) == (1, 1)
            states = [(m.status, m.attempts) for m in rows()]
            assert states[0] == (SENT, 1)
            assert states[1][0] == QUEUED and "Connection lost" in rows()[1].last_error
            assert states[2:] == [(QUEUED, 0)] * 3  # never tried: their attempt is given back
            assert worker.drain().sent == 4
            server.mailbox.wait_for(5)
            assert sorted(server.mailbox.message_ids()) == sorted(m.message_id for m in rows())
            assert len(server.mailbox.messages) == 5
            assert {m.status for m in rows()} == {SENT}


def test_a_recipient_refused_for_good_fails_at_once_and_a_full_mailbox_is_retried_then_fails(
    app, database_url, db, smtp
):
    smtp.mailbox.refuse = {"gone@lab.example": "550 5.1.1 No such user", "full@lab.example": "452 4.2.2 Mailbox full"}
    refused = []
    limited = mail_app_with(database_url, SMTP_URL=smtp.url, OUTBOX_MAX_ATTEMPTS=3, SMTP_TIMEOUT=5)

    def on_refused(message, **_):
        refused.append(message.to_address)

    worker.address_refused.connect(on_refused)
    try:
        with limited.app_context():
            for to in ("gone@lab.example", "full@lab.example", "fine@lab.example"):
                queue_email(to, "test/hello", {"name": "A", "line": "x"})
            _db.session.commit()
            total = worker.drain()  # base delay 0 in tests: each retry is due at once
            gone, full, fine = rows()
            assert (gone.status, gone.attempts) == (FAILED, 1) and "550 5.1.1 No such user" in gone.last_error
            assert (full.status, full.attempts) == (FAILED, 3) and "452 4.2.2 Mailbox full" in full.last_error
            assert fine.status == SENT and (total.sent, total.failed, total.retried) == (1, 2, 2)
            assert refused == ["gone@lab.example"]  # a full mailbox is no reason to stop mailing an address
            # The mailbox was emptied: staff press "retry", and it goes.
            smtp.mailbox.refuse = {}
            assert retry_messages([full.id]) == 1
            _db.session.commit()
            assert worker.drain().sent == 1
            assert [m["To"] for m in smtp.mailbox.wait_for(2)] == ["fine@lab.example", "full@lab.example"]
    finally:
        worker.address_refused.disconnect(on_refused)


def test_what_one_person_waits_for_goes_before_a_mailing(app, database_url, db, smtp):
    small_batches = mail_app_with(database_url, SMTP_URL=smtp.url, OUTBOX_BATCH_SIZE=2, SMTP_TIMEOUT=5)
    with small_batches.app_context():
        queue_hellos(3, prefix="newsletter", bulk=True)
        queue_hellos(1, prefix="confirmation")
        worker.send_due(worker.worker_name())
        assert [m["To"] for m in smtp.mailbox.wait_for(2)] == ["confirmation-0@lab.example", "newsletter-0@lab.example"]
