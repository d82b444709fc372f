"""Paying an accepted quote: the link in the quote e-mails, /pay/<token>, its held lots sold, nothing held twice."""

from sqlalchemy import select

from shop.inquiries.models import InquiryEvent, Quote
from shop.payments.models import HOLD_SOLD, PAID, Order
from tests.conftest import Auth
from tests.inquiries.conftest import add as ask_for
from tests.inquiries.conftest import inquiries, link_in, messages, submit
from tests.inquiries.test_workflow import quote_form
from tests.payments.helpers import deliver, lot_units

OURS = {"Sec-Fetch-Site": "same-origin"}  # the pay app's SITE_URL is not localhost


def accepted_inquiry(pay_app, make_user, stocked):
    """A researcher asks for 2 units of the lot, sales quote them ($1,250 each, plus shipping), the researcher
    accepts from the e-mailed link; returns (researcher's client, inquiry, lot)."""
    first, second, lot = stocked
    researcher = pay_app.test_client()
    ask_for(researcher, first, lot, quantity=2, headers=OURS)
    submit(researcher)
    inquiry = inquiries()[0]
    sales = pay_app.test_client()
    Auth(sales, make_user).login("sales")
    assert sales.post(f"/admin/inquiries/work/{inquiry.id}/quote", data=quote_form(inquiry, lot)).status_code in (
        302,
        303,
    )
    [quoted] = messages("inquiries/quote")
    assert "pay it online by card" in quoted.text_body
    status = link_in(quoted, "/quote/status/")
    assert researcher.post(status, data={"decision": "accept"}).status_code == 303
    return researcher, inquiries()[0], lot


def test_an_accepted_quote_is_paid_from_the_emailed_link(pay_app, db, fake_stripe, stocked, make_user):
    researcher, inquiry, lot = accepted_inquiry(pay_app, make_user, stocked)
    assert lot_units(lot.id) == (1, 2)  # held by the quote
    [accepted] = messages("inquiries/accepted")
    pay_path = link_in(accepted, "/pay/")
    page = researcher.get(pay_path)
    assert page.status_code == 200 and "Pay $2,650.00 by card" in page.text
    response = researcher.post(pay_path)
    assert response.status_code == 303 and response.headers["Location"] == fake_stripe.only_session()["url"]
    assert lot_units(lot.id) == (1, 2)  # not held a second time
    session = fake_stripe.pay(fake_stripe.only_session()["id"])
    assert session["amount_total"] == 265_000
    deliver(researcher, "checkout.session.completed", session)
    db.session.expire_all()
    order = db.session.scalars(select(Order)).one()
    assert (order.status, order.hold, order.source, order.quote_reference) == (
        PAID,
        HOLD_SOLD,
        "quote",
        inquiry.reference,
    )
    assert [(i.lot_id, i.units) for i in order.items] == [(lot.id, 2), (None, 1)]  # shipping names no lot
    assert lot_units(lot.id) == (1, 0)
    quote = db.session.scalars(select(Quote).where(Quote.inquiry_id == inquiry.id)).one()
    assert quote.held is False  # sold: cancelling the inquiry now releases nothing
    texts = [e.text for e in db.session.scalars(select(InquiryEvent).where(InquiryEvent.inquiry_id == inquiry.id))]
    assert f"Paid online: order {order.reference}, $2,650.00" in texts
    again = researcher.get(pay_path)
    assert "This quote is paid" in again.text and "by card</button>" not in again.text
    assert researcher.post(pay_path).status_code == 200 and len(fake_stripe.sessions) == 1  # never paid twice


def test_a_quote_not_accepted_yet_or_a_bad_link_cannot_be_paid(pay_app, pay_client, db, fake_stripe, stocked):
    first, _, lot = stocked
    ask_for(pay_client, first, lot, headers=OURS)
    submit(pay_client)
    [confirmation] = messages("inquiries/confirmation")
    token = link_in(confirmation, "/quote/status/").rsplit("/", 1)[1]
    page = pay_client.get(f"/pay/{token}")
    assert page.status_code == 200 and "can't be paid online yet" in page.text
    assert pay_client.post(f"/pay/{token}").status_code == 200 and fake_stripe.sessions == {}
    assert pay_client.get(f"/pay/{token}x").status_code in (400, 404)
    assert pay_client.get("/pay/not-a-token").status_code in (400, 404)
