"""The sales side through the back office, and the researcher's answer through the e-mailed link."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shop.catalog.models import Lot
from shop.extensions import db as _db
from shop.inquiries import services
from shop.inquiries.models import InquiryEvent
from shop.mail.worker import link_context
from tests.inquiries.conftest import add, inquiries, link_in, messages, submit


@pytest.fixture
def inquiry(client, stocked):
    """An inquiry for 2 units of the lot and 1 of the second product, sent by a researcher."""
    first, second, lot = stocked
    add(client, first, lot, quantity=2)
    add(client, second)
    submit(client)
    client.cookie_jar.clear() if hasattr(client, "cookie_jar") else None
    return inquiries()[0]


def quote_form(inquiry, lot, action="send", **overrides):
    """The quote editor's form: one line naming the lot, one without."""
    data = {
        "lines-0-description": "PBMC 10M from lot", "lines-0-product_id": str(inquiry.items[0].product_id),
        "lines-0-lot_number": lot.lot_number, "lines-0-units": "2", "lines-0-unit_price": "1,250.00",
        "lines-1-description": "Shipping on dry ice", "lines-1-product_id": "", "lines-1-lot_number": "",
        "lines-1-units": "1", "lines-1-unit_price": "150",
        "currency": "USD", "lead_time_days": "5", "valid_until": (date.today() + timedelta(days=14)).isoformat(),
        "terms": "Net 30.", "action": action,
    }  # fmt: skip
    data.update(overrides)
    return data


def send_quote(client, inquiry, lot, **overrides):
    """POST the quote editor as sales do."""
    return client.post(f"/admin/inquiries/work/{inquiry.id}/quote", data=quote_form(inquiry, lot, **overrides))


def status_path(inquiry) -> str:
    """The researcher's status link, as the confirmation e-mail gives it."""
    [mail] = [m for m in messages("inquiries/confirmation") if inquiry.reference in m.subject]
    return link_in(mail, "/quote/status/")


def test_the_inbox_lists_counts_filters_searches_and_exports(client, auth, inquiry):
    auth.login("sales")
    page = client.get("/admin/inquiries/")
    assert page.status_code == 200
    assert inquiry.reference in page.text and "New: <strong>1</strong>" in page.text
    assert inquiry.reference in client.get("/admin/inquiries/?flt0_status_equals=new").text
    assert inquiry.reference not in client.get("/admin/inquiries/?flt0_status_equals=quoted").text
    assert inquiry.reference in client.get("/admin/inquiries/?search=Immunology").text
    assert inquiry.reference not in client.get("/admin/inquiries/?search=nobody-like-this").text
    assert inquiry.reference in client.get("/admin/inquiries/?flt0_product_contains=PBMC").text
    assert inquiry.reference not in client.get("/admin/inquiries/?flt0_product_contains=Treg").text
    export = client.get("/admin/inquiries/export/csv/")
    assert export.status_code == 200
    assert (
        inquiry.reference in export.text
        and "ada@lab.example" in export.text
        and "Institute of Immunology" in export.text
    )


def test_marketing_can_not_open_the_inbox_and_anonymous_visitors_are_sent_to_sign_in(client, auth, inquiry):
    assert client.get("/admin/inquiries/").status_code == 302
    assert client.get(f"/admin/inquiries/work/{inquiry.id}").status_code == 302
    auth.login("marketing")
    assert client.get("/admin/inquiries/").status_code == 403
    assert client.post(f"/admin/inquiries/work/{inquiry.id}/note", data={"note-text": "x"}).status_code == 403


def test_states_notes_and_assignment_are_on_the_timeline_and_illegal_moves_are_refused(client, auth, inquiry):
    user = auth.login("sales")
    base = f"/admin/inquiries/work/{inquiry.id}"
    assert (
        client.post(base + "/status", data={"status-status": "in_review", "status-note": "Looking"}).status_code == 303
    )
    assert client.post(base + "/note", data={"note-text": "Called the lab"}).status_code == 303
    assert client.post(base + "/assign", data={"assign-assignee_id": str(user.id)}).status_code == 303
    refused = client.post(base + "/status", data={"status-status": "accepted"})
    assert refused.status_code == 409 and "can&#39;t become accepted" in refused.text
    _db.session.expire_all()
    events = _db.session.scalars(select(InquiryEvent).where(InquiryEvent.inquiry_id == inquiry.id)).all()
    kinds = [(e.kind, e.actor_label) for e in events]
    assert ("status", "sales@staff.test") in kinds and ("note", "sales@staff.test") in kinds
    assert ("assigned", "sales@staff.test") in kinds
    assert inquiries()[0].status == "in_review" and inquiries()[0].assignee_id == user.id
    page = client.get(base).text
    assert "Called the lab" in page and "Assigned to sales@staff.test" in page
    assert client.post(base + "/note", data={"note-text": ""}).status_code == 400


def test_quote_sent_then_accepted_holds_the_lot_and_the_product_page_shows_it_reserved(client, auth, inquiry, stocked):
    first, _, lot = stocked
    auth.login("sales")
    response = send_quote(client, inquiry, lot)
    assert response.status_code == 303, response.text
    current = inquiries()[0]
    quote = current.current_quote
    assert current.status == "quoted" and quote.status == "sent"
    assert [line.unit_price_cents for line in quote.lines] == [125_000, 15_000] and quote.total_cents == 265_000
    [mail] = messages("inquiries/quote")
    assert mail.to_address == "ada@lab.example" and "$2,650.00" in mail.text_body
    auth.logout()
    path = status_path(current)
    page = client.get(path)
    assert "Accept the quote" in page.text and "$2,650.00" in page.text
    assert client.post(path, data={"decision": "accept"}).status_code == 303
    _db.session.expire_all()
    assert inquiries()[0].status == "accepted" and inquiries()[0].current_quote.held
    held = _db.session.get(Lot, lot.id)
    assert (held.units_available, held.units_reserved) == (1, 2)
    assert "2 reserved" in client.get(f"/products/{first.slug}").text
    assert messages("inquiries/accepted") and messages("inquiries/sales_accepted")
    # A second click decides nothing more
    client.post(path, data={"decision": "accept"})
    assert _db.session.get(Lot, lot.id).units_reserved == 2
    assert services.accepted_quote_for_token(path.rsplit("/", 1)[1]).id == quote.id


def test_cancelling_an_accepted_quote_releases_the_lot(client, auth, inquiry, stocked):
    _, _, lot = stocked
    auth.login("sales")
    send_quote(client, inquiry, lot)
    path = status_path(inquiries()[0])
    client.post(path, data={"decision": "accept"})
    response = client.post(f"/admin/inquiries/work/{inquiry.id}/status", data={"status-status": "cancelled"})
    assert response.status_code == 303
    _db.session.expire_all()
    released = _db.session.get(Lot, lot.id)
    assert (released.units_available, released.units_reserved) == (3, 0)
    assert inquiries()[0].status == "cancelled" and not inquiries()[0].current_quote.held


def test_declining_tells_sales_and_holds_nothing(client, auth, inquiry, stocked):
    _, _, lot = stocked
    auth.login("sales")
    send_quote(client, inquiry, lot)
    path = status_path(inquiries()[0])
    assert client.post(path, data={"decision": "decline", "reason": "Budget"}).status_code == 303
    assert inquiries()[0].status == "declined"
    assert "Budget" in messages("inquiries/sales_declined")[0].text_body
    assert _db.session.get(Lot, lot.id).units_reserved == 0
    assert "Accept the quote" not in client.get(path).text


def test_a_lot_sold_out_before_accepting_is_refused_and_sales_are_told(client, auth, inquiry, stocked):
    _, _, lot = stocked
    auth.login("sales")
    send_quote(client, inquiry, lot)
    lot.units_available = 1
    _db.session.commit()
    path = status_path(inquiries()[0])
    response = client.post(path, data={"decision": "accept"}, follow_redirects=True)
    assert "couldn" in response.text and "only 1 unit left" in response.text
    assert inquiries()[0].status == "quoted"
    assert _db.session.get(Lot, lot.id).units_reserved == 0
    assert "only 1 unit left" in messages("inquiries/sales_accept_failed")[0].text_body


def test_the_quote_editor_explains_bad_lines_and_saves_nothing(client, auth, inquiry, stocked):
    _, _, lot = stocked
    auth.login("sales")
    cases = {
        "lines-0-unit_price": ("12.345", "at most two decimals"),
        "lines-0-lot_number": ("9999-NOPE-01", "No lot has this number"),
        "lines-0-units": ("10", "has 3 unit(s) free"),
        "valid_until": ("2001-01-01", "validity date has passed"),
        "currency": ("dollars", "three-letter currency"),
        "lead_time_days": (str(10**9), "From 0 to 365 days"),
    }
    for name, (value, message) in cases.items():
        response = send_quote(client, inquiry, lot, **{name: value})
        assert response.status_code == 400, name
        assert message in response.text, name
        assert "Shipping on dry ice" in response.text  # what was typed is kept
    assert inquiries()[0].quotes == [] and inquiries()[0].status == "new"


def test_quotes_past_their_validity_expire_by_the_worker_round_and_the_command(
    app, client, auth, inquiry, stocked, runner, monkeypatch
):
    monkeypatch.setitem(app.config, "SITE_URL", "http://shop.example")  # the worker has no request to take it from
    _, _, lot = stocked
    auth.login("sales")
    send_quote(client, inquiry, lot)
    with link_context():
        assert services.expire_quotes() == 0
        assert services.expire_quotes(date.today() + timedelta(days=15)) == 1
    _db.session.commit()
    assert inquiries()[0].status == "expired" and inquiries()[0].current_quote.status == "expired"
    assert messages("inquiries/expired")
    result = runner.invoke(args=["inquiries", "expire"])
    assert "0 quote(s) expired." in result.output


def test_the_dashboard_shows_inquiries_per_week_by_state_and_the_most_requested(client, auth, inquiry):
    auth.login("sales")
    page = client.get("/admin/").text
    assert "Inquiries per week" in page and "<rect" in page and "Most requested products" in page
    assert "PBMC 10M" in page
