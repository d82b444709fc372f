"""The pages behind mailed links: confirm (a button), manage (stop, delete), export, delete it all, one-click stop;
altered, superseded and expired links; unconfirmed alerts forgotten."""

import json
from datetime import timedelta

import itsdangerous.timed
import pytest
from sqlalchemy import func, select

from shop.alerts import tokens
from shop.alerts.models import ACTIVE, PENDING, STOPPED, AlertAddress, AlertConsent, AlertFilter, DonorAlert
from shop.alerts.services import forget_unconfirmed
from shop.extensions import db as _db
from shop.mail.models import OutboxMessage
from shop.models import utcnow
from tests.alerts.conftest import (
    address,
    alert_of,
    ask,
    confirm_path,
    link_in,
    make_alert,
    manage_path,
    queued,
    run_jobs,
    unsubscribe_path,
)
from tests.apps import app_with
from tests.blog.dom import parse


def asked(client, email: str, query: str = "hla=A%2A02%3A01&cmv=negative") -> str:
    """Ask for an alert through the box; the path of the confirmation link mailed."""
    ask(client, email, query=query)
    return link_in(queued(email, "alerts/confirm")[-1], "/alerts/confirm/")


def button_token(page) -> str:
    return parse(page.text).find("input", name="csrf_token").get("value") if "csrf_token" in page.text else ""


def test_opening_the_confirmation_link_starts_nothing_until_the_button(client, catalog):
    path = asked(client, "ann@lab.example")
    page = client.get(path)  # what a mail scanner that follows links does
    assert page.status_code == 200 and "Start the alert" in page.text
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "Lots whose donor is HLA-A*02:01 and CMV negative" in page.text
    assert alert_of("ann@lab.example").status == PENDING
    done = client.post(path)
    assert done.status_code == 200 and "Your alert is on" in done.text
    alert = alert_of("ann@lab.example")
    assert alert.status == ACTIVE and alert.confirmed_at is not None
    assert [c.action for c in alert.address.consents] == ["requested", "confirmed"]
    assert alert.address.consents[-1].form == "confirm page"
    assert "/alerts/manage/" in done.text and "/products/?hla=A%2A02%3A01&amp;cmv=negative" in done.text
    again = client.get(path)
    assert again.status_code == 200 and "already on" in again.text


def test_only_the_newest_confirmation_link_works_and_not_after_stopping(client, catalog):
    first = asked(client, "ann@lab.example")
    second = asked(client, "ann@lab.example")
    assert client.post(first).status_code == 400
    assert client.post(second).status_code == 200
    client.post(unsubscribe_path(alert_of("ann@lab.example")))
    response = client.post(second)
    assert response.status_code == 400 and "no longer valid" in response.text
    assert alert_of("ann@lab.example").status == STOPPED


def test_an_expired_confirmation_link_says_so(client, catalog, monkeypatch):
    path = asked(client, "ann@lab.example")
    later = itsdangerous.timed.time.time() + 8 * 86400
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    response = client.post(path)
    assert response.status_code == 410 and "links work for 7 days" in response.text
    assert alert_of("ann@lab.example").status == PENDING


def tampered(token: str) -> str:
    return token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")


@pytest.mark.parametrize("kind", ["confirm", "manage", "unsubscribe"])
def test_an_altered_or_made_up_link_gets_a_clear_page_and_changes_nothing(client, catalog, kind):
    alert = make_alert("ann@lab.example", status="pending")
    made = {"confirm": confirm_path, "manage": manage_path, "unsubscribe": unsubscribe_path}[kind](alert)
    prefix, token = made.rsplit("/", 1)
    for bad in (tampered(token), "WzEsIngiXQ.x", "x" * 5000, "not-a-token", token.split(".")[0]):
        for method in ("GET", "POST"):
            response = client.open(f"{prefix}/{bad}", method=method, data={"List-Unsubscribe": "One-Click"})
            assert response.status_code == 400, (bad[:40], method)
            assert "This link doesn't work" in response.text and "Nothing was changed" in response.text
    assert alert_of("ann@lab.example").status == PENDING


def test_each_link_opens_only_its_own_page(client, catalog):
    alert = make_alert("ann@lab.example")
    stop_token, manage_token = tokens.unsubscribe_token(alert), tokens.manage_token(alert.address)
    assert client.get(f"/alerts/manage/{stop_token}").status_code == 400
    assert client.get(f"/alerts/manage/{stop_token}/export.json").status_code == 400
    assert client.post(f"/alerts/unsubscribe/{manage_token}").status_code == 400
    assert client.post(f"/alerts/confirm/{manage_token}").status_code == 400
    assert alert_of("ann@lab.example").status == ACTIVE


def test_one_click_stop_works_without_cookies_and_a_get_changes_nothing(app, catalog):
    alert = make_alert("ann@lab.example")
    other = make_alert("ann@lab.example", query="hla=B%2A08%3A01")
    path = unsubscribe_path(alert)
    page = app.test_client().get(path)
    assert page.status_code == 200 and parse(page.text).one("main").find("button", class_="button").text == (
        "Stop this alert"
    )
    assert alert_of("ann@lab.example").status == ACTIVE
    mail_client = app.test_client(use_cookies=False)  # a mail provider: no cookies, no token but the URL
    response = mail_client.post(path, data="List-Unsubscribe=One-Click",
                                content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert response.status_code == 200 and "Alert stopped" in response.text
    ann = address("ann@lab.example")
    assert [a.status for a in ann.alerts] == [STOPPED, ACTIVE]  # only the alert the e-mail was about
    assert ann.consents[-1].form == "one-click (mail client)" and ann.consents[-1].action == "stopped"
    assert mail_client.post(path, data="List-Unsubscribe=One-Click").status_code == 200  # again: still fine
    catalog.new_lot()  # A*02:01 CMV negative, B*08:01: only the alert still on hears of it
    assert run_jobs() == 1
    [mail] = queued("ann@lab.example", "alerts/lots_arrived")
    assert other.filter.sentence in mail.text_body


def test_the_manage_page_lists_the_addresses_alerts_and_stops_and_deletes_them(client, catalog):
    one = make_alert("ann@lab.example")
    make_alert("ann@lab.example", query="sex=F&age=30-39")
    make_alert("bob@lab.example")
    path = manage_path(one)
    page = client.get(path)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    doc = parse(page.text)
    items = doc.find_all("li", class_="donor-alert-item")
    assert [i.find("p", class_="donor-alert-sentence").text for i in items] == [
        "Lots whose donor is HLA-A*02:01 and CMV negative", "Lots whose donor is female and aged 30–39",
    ]  # fmt: skip
    assert "bob@lab.example" not in page.text
    stopped = client.post(path, data={"action": "stop", "alert": str(one.id)})
    assert stopped.status_code == 303
    assert "Stopped: Lots whose donor is HLA-A*02:01" in client.get(path).text
    assert [a.status for a in address("ann@lab.example").alerts] == [STOPPED, ACTIVE]
    client.post(path, data={"action": "delete", "alert": str(one.id)})
    ann = address("ann@lab.example")
    assert len(ann.alerts) == 1 and ann.consents[-1].action == "deleted"
    # Someone else's alert, or a button that isn't ours: refused, nothing changed.
    bob = alert_of("bob@lab.example")
    assert client.post(path, data={"action": "delete", "alert": str(bob.id)}).status_code == 400
    assert client.post(path, data={"action": "delete", "alert": "x" * 300}).status_code == 400
    assert client.post(path, data={"action": "explode"}).status_code == 400
    assert alert_of("bob@lab.example") is not None
    client.post(path, data={"action": "stop_all"})
    assert [a.status for a in address("ann@lab.example").alerts] == [STOPPED]


def test_the_export_holds_everything_about_the_address(client, catalog):
    alert = make_alert("ann@lab.example")
    lot = catalog.new_lot(lot_number="2611-D10482-09")
    run_jobs()
    response = client.get(manage_path(alert) + "/export.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.data)
    assert data["email"] == "ann@lab.example"
    [exported] = data["alerts"]
    assert exported["filters"] == "Lots whose donor is HLA-A*02:01 and CMV negative"
    assert exported["status"] == "active" and exported["confirmed_at"]
    assert [sent["lot"] for sent in exported["lots_sent"]] == [lot.lot_number]
    assert exported["catalog_url"] == "http://localhost/products/?hla=A%2A02%3A01&cmv=negative"
    assert [c["action"] for c in data["consent_log"]] == ["requested", "confirmed"]
    assert data["consent_log"][0]["ip_address"] == "192.0.2.1"
    assert [e["subject"] for e in data["emails"]] == [
        "Confirm your donor alert at CellShop", "A matching lot has arrived: PBMC 10M",
    ]  # fmt: skip


def test_delete_asks_first_then_forgets_the_address_and_its_mail(client, catalog):
    ann = make_alert("ann@lab.example")
    make_alert("bob@lab.example")
    paths = [manage_path(ann), unsubscribe_path(ann)]
    page = client.get(paths[0] + "/delete")
    assert page.status_code == 200 and "Delete everything about ann@lab.example?" in page.text
    assert address("ann@lab.example") is not None
    done = client.post(paths[0] + "/delete")
    assert done.status_code == 200 and "no longer hold anything" in done.text
    assert address("ann@lab.example") is None
    assert queued("ann@lab.example") == []
    assert _db.session.scalar(select(func.count(AlertConsent.id))) == 2  # bob's two steps
    assert len(queued("bob@lab.example")) == 1
    for path in paths:  # the links in ann's earlier e-mails open nothing
        assert client.get(path).status_code == 404


def test_with_csrf_on_the_buttons_need_their_token(database_url, db, catalog):
    client = app_with(database_url, WTF_CSRF_ENABLED=True).test_client()
    path = asked(client, "ann@lab.example")
    assert client.post(path).status_code == 400
    assert alert_of("ann@lab.example").status == PENDING
    token = button_token(client.get(path))
    assert client.post(path, data={"csrf_token": token}).status_code == 200
    alert = alert_of("ann@lab.example")
    assert alert.status == ACTIVE
    manage = manage_path(alert)
    assert client.post(manage, data={"action": "stop", "alert": str(alert.id)}).status_code == 400
    assert client.post(manage + "/delete").status_code == 400
    assert alert_of("ann@lab.example").status == ACTIVE
    token = button_token(client.get(manage))
    assert client.post(manage, data={"action": "stop", "alert": str(alert.id), "csrf_token": token}).status_code == 303
    assert alert_of("ann@lab.example").status == STOPPED
    # One-click stop is exempt (RFC 8058: mail providers POST without cookies); its signed URL is the key.
    assert client.post(unsubscribe_path(alert)).status_code == 200
    assert _db.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_unconfirmed_alerts_are_forgotten_after_the_confirmation_days(client, catalog):
    asked(client, "late@lab.example")
    asked(client, "fresh@lab.example")
    keeper = make_alert("keeper@lab.example")
    again = make_alert("again@lab.example", query="hla=B%2A08%3A01")
    ask(client, "again@lab.example", query="hla=B%2A08%3A01")  # active: only its manage link is sent
    client.post(unsubscribe_path(again))
    asked(client, "again@lab.example", query="hla=B%2A08%3A01")  # stopped, asked again, never confirmed
    stale = utcnow() - timedelta(days=8)
    late, stopped = alert_of("late@lab.example"), address("again@lab.example").alerts[0]
    late.confirm_sent_at = late.address.created_at = stopped.confirm_sent_at = stale
    _db.session.commit()
    forget_unconfirmed()
    assert address("late@lab.example") is None  # never confirmed: we hold no consent for it
    assert alert_of("fresh@lab.example").status == PENDING
    assert alert_of("again@lab.example").status == STOPPED  # it had been confirmed once: back to stopped
    assert alert_of(keeper.address.email).status == ACTIVE
    assert _db.session.scalar(select(func.count(AlertFilter.id))) == 2
    assert _db.session.scalar(select(func.count(DonorAlert.id))) == 3
    assert _db.session.scalar(select(func.count(AlertAddress.id))) == 3
