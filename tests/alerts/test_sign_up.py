"""POST /alerts/ from the catalog's box: same-origin only, honeypot, limits, bad addresses and hostile filters; one
answer whether or not the address has alerts; nothing half-saved."""

import pytest
from sqlalchemy import func, select

from shop.alerts.models import PENDING, AlertAddress, AlertConsent, AlertFilter, DonorAlert
from shop.extensions import db as _db
from shop.mail.models import OutboxMessage
from tests.alerts.conftest import A2_CMV_NEG, address, alert_of, ask, link_in, make_alert, queued
from tests.apps import app_with
from tests.blog.dom import parse
from tests.visitor_forms import BAD_EMAILS, CROSS_ORIGIN


def nothing_stored() -> bool:
    _db.session.expire_all()
    counted = (AlertAddress.id, DonorAlert.id, AlertFilter.id, AlertConsent.id, OutboxMessage.id)
    return not any(_db.session.scalar(select(func.count(column))) for column in counted)


def test_the_catalog_page_with_donor_filters_has_the_box_and_without_them_not(client, catalog):
    page = parse(client.get("/products/?cmv=negative&hla=A%2A02%3A01&format=cryopreserved").text)
    box = page.one("form", class_="donor-alert-form")
    assert box.get("action") == "/alerts/" and box.get("method") == "post"
    hidden = sorted((i.get("name"), i.get("value")) for i in box.find_all("input", type="hidden"))
    assert hidden == [("cmv", "negative"), ("format", "cryopreserved"), ("hla", "A*02:01")]
    assert not box.find("input", name="csrf_token")  # the same HTML for every visitor: the page is cached
    assert box.find("input", type="email", required="") and box.find("input", name="website")
    assert parse(client.get("/products/?format=cryopreserved").text).find("form", class_="donor-alert-form") is None
    # A search's donor words are filters too; its other words travel as the search.
    searched = parse(client.get("/products/?q=CD8+HLA-A*02:01").text).one("form", class_="donor-alert-form")
    assert ("q", "CD8") in [(i.get("name"), i.get("value")) for i in searched.find_all("input", type="hidden")]


def test_asking_sends_a_confirmation_link_and_starts_nothing(client, catalog):
    response = ask(client, "Ann.Lee@Lab.Example", query="cmv=negative&hla=HLA-A*02:01&format=cryopreserved")
    assert response.status_code == 200
    assert "Check your inbox" in response.text and "ann.lee@lab.example" in response.text
    assert response.headers["Cache-Control"] == "no-store"
    alert = alert_of("ann.lee@lab.example")
    assert alert.status == PENDING and alert.confirmed_at is None
    assert alert.filter.query == "format=cryopreserved&hla=A%2A02%3A01&cmv=negative"
    assert alert.filter.sentence == "Lots whose donor is HLA-A*02:01 and CMV negative (format: Cryopreserved)"
    [consent] = alert.address.consents
    assert (consent.action, consent.form, consent.ip_address) == ("requested", "catalog alert box", "127.0.0.1")
    assert "ann.lee@lab.example" in consent.statement and "HLA-A*02:01 and CMV negative" in consent.statement
    [confirmation] = queued("ann.lee@lab.example")
    assert confirmation.template == "alerts/confirm"
    assert confirmation.subject == "Confirm your donor alert at CellShop"
    assert "HLA-A*02:01" not in confirmation.subject  # what a visitor chose never goes into a header
    assert link_in(confirmation, "/alerts/confirm/")


def test_the_answer_is_the_same_whether_or_not_the_address_has_alerts(client, catalog):
    make_alert("old@lab.example")
    known = ask(client, "old@lab.example")
    unknown = ask(client, "new@lab.example")
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("old@lab.example", "X") == unknown.text.replace("new@lab.example", "X")
    # Only the mailbox's owner learns which it was: its own link, not a second opt-in.
    assert queued("old@lab.example")[-1].template == "alerts/already_waiting"
    assert [m.template for m in queued("new@lab.example")] == ["alerts/confirm"]
    assert alert_of("old@lab.example").status == "active"


def test_filters_ticked_in_another_order_are_one_filter_and_one_alert(client, catalog):
    ask(client, "ann@lab.example", query="hla=A*02:01&cmv=negative")
    ask(client, "ann@lab.example", query="cmv=negative&hla=HLA-A*02:01")
    ask(client, "bob@lab.example", query="cmv=negative&hla=a*02:01")
    assert _db.session.scalar(select(func.count(AlertFilter.id))) == 1
    assert len(address("ann@lab.example").alerts) == 1
    assert len(queued("ann@lab.example", "alerts/confirm")) == 2  # a second link; only the newest works


def test_an_address_holds_at_most_the_configured_number_of_alerts(app, database_url, db, catalog):
    client = app_with(database_url, ALERTS_PER_EMAIL=2, ALERT_LIMIT_PER_EMAIL="10 per day").test_client()
    for query in ("hla=A%2A02%3A01", "hla=B%2A08%3A01", "cmv=negative"):
        assert ask(client, "ann@lab.example", query=query).status_code == 200
    assert len(address("ann@lab.example").alerts) == 2
    assert queued("ann@lab.example")[-1].template == "alerts/limit_reached"


@pytest.mark.parametrize("headers", CROSS_ORIGIN)
def test_a_post_from_another_origin_is_refused_and_changes_nothing(client, catalog, headers):
    response = ask(client, "victim@lab.example", headers=headers)
    assert response.status_code == 403
    assert "can only be sent from a page on this site" in response.text
    assert nothing_stored()


def test_the_honeypot_gets_the_usual_answer_and_nothing_happens(client, catalog):
    response = ask(client, "bot@lab.example", website="http://spam.example")
    assert response.status_code == 200 and "Check your inbox" in response.text
    assert nothing_stored()


@pytest.mark.parametrize(("email", "message"), BAD_EMAILS)
def test_a_bad_email_gets_a_message_beside_the_field_and_nothing_is_sent(client, catalog, email, message):
    response = ask(client, email)
    assert response.status_code == 400
    doc = parse(response.text)
    error = doc.find(id="email-error")
    assert error is not None and message in error.text
    field = doc.find("input", id="email")
    assert field.get("aria-invalid") == "true"
    if len(email) < 300:
        assert field.get("value") == email  # what was typed is kept (and escaped)
    hidden = sorted((i.get("name"), i.get("value")) for i in doc.find_all("input", type="hidden"))
    assert hidden == [("cmv", "negative"), ("hla", "A*02:01")]  # the filters too, to send again
    assert "<script>alert" not in response.text
    assert nothing_stored()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("format=cryopreserved", "choose at least one donor filter"),
        ("", "choose at least one donor filter"),
        ("hla=A*99:99", "None of our donors has been typed HLA-A*99:99"),
        ("hla=HLA-Z*01", "could not be read: “hla=HLA-Z*01”"),
        ("cmv=negative&cmv=positive", "A donor is CMV negative or CMV positive, not both"),
        ("q=CMV+negative+CMV+positive", "A donor is CMV negative or CMV positive, not both"),
        ("sex=F&sex=M&hla=A*02:01", "A donor is female or male, not both"),
        ("age=18-99999999999999999999", "could not be read: “age=18-99999999999999999999”"),
        ("age=12-30&hla=A*02:01", "could not be read: “age=12-30”"),
        ("bmi=1e400&hla=A*02:01", "could not be read"),
        ("category=no-such-category&hla=A*02:01", "could not be read: “category=no-such-category”"),
        ("q=HLA-Z*01+pbmc", "is not an HLA allele"),
        ("hla=" + "A*02:01&hla=".join(f"A*{n:02d}:01" for n in range(1, 13)), "could not be read"),
        ("hla=A*02:01&q=" + "x" * 5000, "could not be read: “q=xxxxxxxxxxxxxxxxxxxx…”"),
    ],
)
def test_filters_no_alert_could_honour_are_refused_with_the_reason(client, catalog, query, message):
    response = ask(client, "ann@lab.example", query=query)
    assert response.status_code == 400, response.text[:300]
    assert message in response.text
    assert "Nothing was saved and nothing was sent" in response.text
    assert nothing_stored()


def test_filters_longer_than_an_alert_keeps_are_refused(client, catalog, monkeypatch):
    from shop.alerts import services

    monkeypatch.setattr(services, "MAX_QUERY_LENGTH", 40)
    response = ask(client, "ann@lab.example", query="hla=A*02:01&hla=B*08:01&cmv=negative&sex=F")
    assert response.status_code == 400 and "more filters than an alert can keep" in response.text
    assert nothing_stored()


def test_a_nul_byte_anywhere_is_refused_before_the_form_sees_it(client, catalog):
    assert ask(client, "a\x00@lab.example").status_code == 400
    assert ask(client, "a@lab.example", query="hla=A*02:01\x00").status_code == 400
    assert nothing_stored()


def test_the_get_page_shows_the_form_for_the_filters_in_the_url(client, catalog):
    page = client.get("/alerts/?hla=A%2A02%3A01&cmv=negative&sort=name&page=3")
    assert page.status_code == 200
    doc = parse(page.text)
    assert "Lots whose donor is HLA-A*02:01 and CMV negative" in doc.one("p", class_="donor-alert-sentence").text
    assert doc.one("form", class_="donor-alert-page-form").find("input", id="email")
    assert client.get("/alerts/?format=fresh").status_code == 400


def test_sign_ups_from_one_network_are_limited_with_a_clear_page(app, database_url, db, catalog):
    client = app_with(database_url, ALERT_LIMIT_PER_ADDRESS="3 per hour").test_client()
    for n in range(3):
        assert ask(client, f"reader{n}@lab.example").status_code == 200
    response = ask(client, "reader3@lab.example")
    assert response.status_code == 429
    assert "Too many alerts asked for from your network" in response.text
    assert int(response.headers["Retry-After"]) > 0
    assert address("reader3@lab.example") is None


def test_repeated_sign_ups_for_one_email_send_at_most_the_limit_and_answer_the_same(client, catalog):
    answers = {ask(client, "pest@lab.example").text for _ in range(8)}
    assert len(answers) == 1
    assert len(queued("pest@lab.example")) == 5  # ALERT_LIMIT_PER_EMAIL: 5 per day


def test_with_csrf_on_the_box_still_works_and_other_origins_are_still_refused(database_url, db, catalog):
    client = app_with(database_url, WTF_CSRF_ENABLED=True).test_client()
    assert ask(client, "csrf@lab.example").status_code == 200
    assert ask(client, "evil@lab.example", headers={"Origin": "https://evil.example"}).status_code == 403
    assert [a.email for a in _db.session.scalars(select(AlertAddress))] == ["csrf@lab.example"]


def test_a_double_click_makes_one_alert(client, catalog):
    first, second = ask(client, "ann@lab.example"), ask(client, "ann@lab.example")
    assert first.text == second.text
    assert _db.session.scalar(select(func.count(DonorAlert.id))) == 1
    assert alert_of("ann@lab.example").filter.query == A2_CMV_NEG
