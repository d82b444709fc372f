"""Donor alerts through the outbox: a real SMTP server (aiosmtpd) receives one e-mail for a new matching lot, and
nothing more on later rounds; two workers racing send each lot to each alert once."""

import re
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from shop.alerts import arrivals
from shop.alerts.models import STOPPED, AlertDelivery
from shop.catalog import stock
from shop.catalog.models import Donor, Product
from shop.extensions import db as _db
from shop.mail import worker
from shop.mail.worker import link_context
from tests.alerts.conftest import alert_of, ask, make_alert, queued
from tests.mail.smtp import html_part, link_in_text, text_part


def path_of(url: str) -> str:
    return "/" + url.split("//", 1)[1].split("/", 1)[1]


def link(message, path: str) -> str:
    """The path of the first link to ``path...`` in a received message."""
    return path_of(link_in_text(message, path))


def test_a_donor_alert_fires_once_for_a_new_matching_lot_through_the_outbox(mail_app, smtp, client, catalog):
    """The issue's "done when": asked for on the catalog, confirmed from the e-mailed link, one e-mail for the lot."""
    cd8, donor = catalog.cd8.id, catalog.a2_neg.id  # the worker's batches leave the session's rows detached
    assert ask(client, "ann@lab.example").status_code == 200
    worker.drain()
    [confirmation] = smtp.mailbox.wait_for(1)
    assert confirmation["To"] == "ann@lab.example"
    assert client.post(link(confirmation, "/alerts/confirm/")).status_code == 200
    assert worker.drain().sent == 0  # the lots in stock before the alert are not news

    lot = catalog.new_lot(_db.session.get(Product, cd8), _db.session.get(Donor, donor), lot_number="2611-D10482-21",
                          units_available=2)  # fmt: skip
    lot_id = lot.id
    assert worker.drain().sent == 1
    [_, alert_mail] = smtp.mailbox.wait_for(2)
    assert alert_mail["To"] == "ann@lab.example"
    assert alert_mail["Subject"] == "A matching lot has arrived: CD8+ T cells 25M"
    assert alert_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = re.search(r"<([^>]+)>", str(alert_mail["List-Unsubscribe"])).group(1)
    assert unsubscribe_url.startswith("http://shop.example/alerts/unsubscribe/")
    text = text_part(alert_mail)
    assert "Lot 2611-D10482-21" in text and "Donor D10482: HLA-A*02:01, CMV negative" in text
    assert f"http://shop.example/products/cd8-t-cells-25m?hla=A%2A02%3A01&cmv=negative#lot-{lot_id}" in text
    assert "Lots whose donor is HLA-A*02:01 and CMV negative" in html_part(alert_mail)
    # The product page the link opens marks the lot as the one matching.
    page = client.get(link(alert_mail, "/products/cd8-t-cells-25m").split("#")[0])
    assert "Matches your filters" in page.text and "2611-D10482-21" in page.text

    # Another round, and the lot held and released (out of stock and back): nothing more.
    assert worker.drain().sent == 0
    stock.hold(lot_id, 2)
    _db.session.commit()
    stock.release(lot_id, 2)
    _db.session.commit()
    assert worker.drain().sent == 0
    assert len(smtp.mailbox.messages) == 2

    # One-click stop, as a mail provider does it: no cookies, a bare POST. Then a new lot sends nothing.
    provider = mail_app.test_client(use_cookies=False)
    form = "application/x-www-form-urlencoded"
    stopped = provider.post(path_of(unsubscribe_url), data="List-Unsubscribe=One-Click", content_type=form)
    assert stopped.status_code == 200
    assert alert_of("ann@lab.example").status == STOPPED
    catalog.new_lot(_db.session.get(Product, cd8), _db.session.get(Donor, donor), lot_number="2611-D10482-22")
    assert worker.drain().sent == 0
    assert len(smtp.mailbox.messages) == 2


def test_the_unique_delivery_row_stops_a_second_copy_of_an_alert_e_mail(catalog):
    """A worker that read which lots were due before another committed them can't queue them again."""
    make_alert("ann@lab.example")
    lot = catalog.new_lot()
    with link_context():
        due = arrivals.due_lots({lot.id: lot.entered_stock_at})
        assert list(due.values()) == [[lot.id]]
        arrivals.queue_batch(due)
        _db.session.commit()
        arrivals.queue_batch(due)  # the second worker, late
        with pytest.raises(IntegrityError):
            _db.session.commit()
        _db.session.rollback()
    assert len(queued("ann@lab.example", "alerts/lots_arrived")) == 1


def test_two_workers_racing_send_each_lot_to_each_alert_once(app, committing_db, catalog, monkeypatch):
    """Two workers' rounds side by side, each taking one arrival at a time: every alert hears of every lot, once."""
    monkeypatch.setattr(arrivals, "ARRIVAL_BATCH", 1)
    emails = [f"r{n}@lab.example" for n in range(8)]
    for email in emails:
        make_alert(email)
    lots = [catalog.new_lot(lot_number=f"2611-D10482-{n}") for n in range(30, 36)]
    start, errors = threading.Barrier(2), []

    def rounds():
        try:
            with app.app_context(), link_context():
                for _ in range(8):
                    start.wait(timeout=30)
                    worker.run_jobs()  # as a round does: a job that fails is rolled back, logged, run again
                _db.session.remove()
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    workers = [threading.Thread(target=rounds) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)
    assert not errors, errors
    with link_context():
        while worker.run_jobs():  # whatever a failed round left
            pass
    numbers = {lot.lot_number for lot in lots}
    for email in emails:
        heard = [n for m in queued(email, "alerts/lots_arrived") for n in re.findall(r"Lot (\S+)", m.text_body)]
        assert sorted(heard) == sorted(numbers), email  # every lot, none twice
    assert _db.session.scalar(select(func.count(AlertDelivery.id))) == len(emails) * len(lots)
