"""Lots that arrive reach the alerts waiting for them: once per (alert, lot), only what matches, only after the
alert was confirmed, only in stock; what the e-mail says."""

from datetime import timedelta

from sqlalchemy import func, select

from shop.alerts import arrivals
from shop.alerts.models import AlertDelivery, LotArrival
from shop.alerts.services import mark_bounced
from shop.catalog import stock
from shop.extensions import db as _db
from shop.models import utcnow
from tests.alerts.conftest import A2_CMV_NEG, alert_of, make_alert, queued, run_jobs


def alert_mail(to: str | None = None):
    return queued(to, "alerts/lots_arrived")


def test_a_new_matching_lot_is_mailed_once_with_what_the_researcher_needs(catalog):
    make_alert("ann@lab.example")
    assert run_jobs() == 0  # the lots in stock before the alert are not news
    lot = catalog.new_lot(catalog.cd8, catalog.a2_neg, lot_number="2611-D10482-02", units_available=3)
    assert run_jobs() == 1
    [mail] = alert_mail("ann@lab.example")
    assert mail.subject == "A matching lot has arrived: CD8+ T cells 25M"
    text = mail.text_body
    said = (
        "Lot 2611-D10482-02",
        "CT-TC-CD8-CR-25M",
        "Donor D10482: HLA-A*02:01, CMV negative",
        "3 units available · Quote only",
        "Your alert: Lots whose donor is HLA-A*02:01 and CMV negative",
    )
    for words in said:
        assert words in text, words
    product_link = f"http://localhost/products/cd8-t-cells-25m?hla=A%2A02%3A01&cmv=negative#lot-{lot.id}"
    assert product_link in text
    assert "http://localhost/products/?hla=A%2A02%3A01&cmv=negative" in text  # the filtered catalog
    assert "/alerts/manage/" in text and "/alerts/unsubscribe/" in text
    assert mail.headers["List-Unsubscribe"].startswith("<http://localhost/alerts/unsubscribe/")
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.headers["List-Id"] == "CellShop donor alerts <donor-alerts.localhost>"
    assert mail.priority > 0  # bulk: behind confirmations
    assert "2611-D10482-02" in mail.html_body and product_link.replace("&", "&amp;") in mail.html_body
    # Another round, and the lot going out of stock and back: nothing more.
    assert run_jobs() == 0
    stock.hold(lot.id, 3)
    _db.session.commit()
    stock.release(lot.id, 3)
    _db.session.commit()
    assert run_jobs() == 0
    assert len(alert_mail()) == 1
    assert _db.session.scalar(select(func.count(AlertDelivery.id))) == 1


def test_a_lot_that_does_not_match_sends_nothing(catalog):
    make_alert("ann@lab.example")
    catalog.new_lot(donor=catalog.a2_pos)  # CMV positive
    catalog.new_lot(donor=catalog.other)  # not A*02:01
    catalog.new_lot(units_available=0)  # not in stock
    catalog.new_lot(status="quarantine")
    assert run_jobs() == 0
    assert alert_mail() == []


def test_a_lot_back_in_stock_after_the_alert_was_confirmed_is_mailed(catalog):
    lot, units = catalog.old_lot, catalog.old_lot.units_available
    stock.hold(lot.id, units)  # all of it held for a quote, before the alert
    _db.session.commit()
    make_alert("ann@lab.example")
    assert run_jobs() == 0
    stock.release(lot.id, units)  # the quote was declined
    _db.session.commit()
    assert run_jobs() == 1
    [mail] = alert_mail("ann@lab.example")
    assert "2510-D10482-01" in mail.text_body


def test_a_lot_restocked_in_the_back_office_is_mailed(catalog):
    catalog.old_lot.units_available = 0
    _db.session.commit()
    make_alert("ann@lab.example")
    catalog.old_lot.units_available = 4
    _db.session.commit()
    assert run_jobs() == 1


def test_a_fresh_lot_past_its_stability_window_is_not_mailed(catalog):
    make_alert("ann@lab.example", query="hla=A%2A02%3A01")
    catalog.new_lot(catalog.fresh, collected_on=(utcnow() - timedelta(days=3)).date())  # 36 h window: gone
    assert run_jobs() == 0
    within = catalog.new_lot(catalog.fresh, collected_on=utcnow().date())
    assert run_jobs() == 1
    [mail] = alert_mail()
    assert within.lot_number in mail.text_body and "usable until" in mail.text_body


def test_unconfirmed_and_stopped_alerts_never_fire(catalog):
    make_alert("pending@lab.example", status="pending")
    stopped = make_alert("stopped@lab.example")
    from shop.alerts.services import stop_alert
    from shop.consent import Where

    stop_alert(stopped, Where("", "test"))
    _db.session.commit()
    catalog.new_lot()
    assert run_jobs() == 0
    assert alert_mail() == []


def test_each_alert_gets_its_own_lots_in_one_e_mail_per_round(catalog):
    make_alert("ann@lab.example")  # A*02:01 and CMV negative
    make_alert("bob@lab.example", query="hla=B%2A08%3A01")  # any B*08:01
    make_alert("cat@lab.example", query="q=CD8&hla=A%2A02%3A01")  # a search too
    first = catalog.new_lot(catalog.pbmc, catalog.a2_neg, lot_number="2611-D10482-03")
    second = catalog.new_lot(catalog.cd8, catalog.a2_neg, lot_number="2611-D10482-04")
    third = catalog.new_lot(catalog.cd8, catalog.other, lot_number="2611-D10484-02")
    assert run_jobs() == 3
    [ann] = alert_mail("ann@lab.example")
    assert ann.subject == "2 matching lots have arrived: PBMC 10M and more"
    assert first.lot_number in ann.text_body and second.lot_number in ann.text_body
    [bob] = alert_mail("bob@lab.example")
    assert all(lot.lot_number in bob.text_body for lot in (first, second, third))
    assert "Donor D10484: HLA-B*08:01" in bob.text_body
    [cat] = alert_mail("cat@lab.example")
    assert second.lot_number in cat.text_body and first.lot_number not in cat.text_body


def test_a_lot_that_arrived_before_the_alert_was_confirmed_is_not_news(catalog):
    catalog.new_lot(lot_number="2611-D10482-05")
    make_alert("ann@lab.example")  # confirmed after the lot arrived: the researcher saw it on the page
    assert run_jobs() == 0


def test_a_lot_gone_before_its_turn_is_not_mailed_and_is_when_it_comes_back(catalog):
    make_alert("ann@lab.example")
    lot = catalog.new_lot(units_available=1)
    with_arrivals_noted = arrivals.note_arrivals()
    assert with_arrivals_noted == 0 and _db.session.get(LotArrival, lot.id) is not None
    stock.sell(lot.id, 1)  # sold before the worker's next step
    _db.session.commit()
    assert run_jobs() == 0
    lot.units_available = 2  # restocked
    _db.session.commit()
    assert run_jobs() == 1


def test_a_bounced_address_stops_its_alerts(catalog):
    make_alert("gone@lab.example")
    [confirmation] = queued("gone@lab.example", "alerts/confirm")
    mark_bounced(confirmation)
    _db.session.commit()
    assert alert_of("gone@lab.example").status == "stopped"
    assert alert_of("gone@lab.example").address.consents[-1].action == "bounced"
    catalog.new_lot()
    assert run_jobs() == 0


def test_many_alerts_go_out_in_batches_each_once(catalog, monkeypatch):
    monkeypatch.setattr(arrivals, "ALERT_BATCH", 2)
    for n in range(5):
        make_alert(f"r{n}@lab.example", query=A2_CMV_NEG)
    catalog.new_lot()
    catalog.new_lot()
    from shop.mail.worker import link_context

    with link_context():
        arrivals.note_arrivals()
        assert [arrivals.send_alerts() for _ in range(4)] == [2, 2, 1, 0]
    assert len(alert_mail()) == 5
    assert _db.session.scalar(select(func.count(AlertDelivery.id))) == 10


def test_a_round_with_nothing_arrived_costs_a_few_reads(catalog, count_queries):
    """The jobs run every OUTBOX_POLL_SECONDS on every worker: idle, they read a few indexed rows and write nothing."""
    from shop.alerts import JOBS
    from shop.mail.worker import link_context

    def round_of_jobs():
        with count_queries() as sent:
            for job in JOBS:
                job()
        return sent.statements

    with link_context():
        none_waiting = round_of_jobs()
        make_alert("ann@lab.example")
        waiting = round_of_jobs()
    assert len(none_waiting) == 5 and len(waiting) == 6, (none_waiting, waiting)
    assert all(statement.lstrip().startswith("SELECT") for statement in none_waiting + waiting)


def test_filters_the_catalog_no_longer_reads_as_asked_match_nothing(catalog):
    make_alert("ann@lab.example", query="category=t-cells&hla=A%2A02%3A01")
    catalog.t_cells.slug = "t-cell-products"  # renamed since: the alert's category is no longer one
    _db.session.commit()
    catalog.new_lot()
    assert run_jobs() == 0  # not every A*02:01 lot in the catalog
