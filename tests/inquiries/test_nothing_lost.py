"""Nothing is lost: inquiries saved while the mail server is down, 50 at once, and two accepts for the last unit."""

import threading

import pytest
from sqlalchemy import select, update

from shop.catalog.models import Lot
from shop.extensions import db as _db
from shop.inquiries.models import Inquiry
from shop.mail import worker
from shop.mail.models import QUEUED, SENT, OutboxMessage
from shop.models import utcnow
from tests.factories import LotFactory, ProductFactory
from tests.inquiries.conftest import add, contact, inquiries, link_in, messages, submit
from tests.inquiries.test_workflow import quote_form
from tests.mail.conftest import mail_app_with
from tests.mail.smtp import SMTPServer, free_port


def test_with_the_mail_server_down_the_inquiry_is_saved_and_its_mail_goes_out_when_it_returns(
    app, database_url, db, stocked
):
    first, _, _ = stocked
    port = free_port()  # nothing listens here yet
    down = mail_app_with(
        database_url, SMTP_URL=f"smtp://127.0.0.1:{port}", SITE_URL="http://shop.example", SMTP_TIMEOUT=5,
        OUTBOX_RETRY_BASE_SECONDS=60,
    )  # fmt: skip
    client = down.test_client()
    add(client, first, headers={"Origin": "http://shop.example", "Sec-Fetch-Site": "same-origin"})
    response = submit(client)
    assert response.status_code == 303, response.text
    with down.app_context():
        [reference] = [i.reference for i in inquiries()]
        tally = worker.drain()
        assert (tally.sent, tally.retried) == (0, 2)
        assert {m.status for m in messages()} == {QUEUED}
        with SMTPServer(port=port) as server:
            _db.session.execute(update(OutboxMessage).values(available_at=utcnow()))
            _db.session.commit()
            assert worker.drain().sent == 2
            received = server.mailbox.wait_for(2)
        assert {m.status for m in messages()} == {SENT}
    assert sorted(str(m["To"]) for m in received) == ["ada@lab.example", "sales@cellshop.example"]
    assert all(reference in str(m["Subject"]) for m in received)


def _post_all(app, forms: list[dict], path: str = "/quote/submit") -> list[int]:
    """POST each form from a thread of its own (a client each), all released together; their status codes."""
    start, codes = threading.Barrier(len(forms)), []

    def post(form):
        client = app.test_client()
        start.wait()
        codes.append(client.post(path, data=form).status_code)

    threads = [threading.Thread(target=post, args=(form,)) for form in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


@pytest.mark.usefixtures("committing_db")
def test_fifty_inquiries_at_once_make_fifty_inquiries_with_fifty_references(app, monkeypatch):
    monkeypatch.setitem(app.config, "INQUIRY_LIMIT_PER_ADDRESS", "1000 per hour")
    forms = [
        contact(submit_key=f"key-{n}", email=f"lab{n}@uni.example", custom_request=f"Leukopaks for study {n}")
        for n in range(50)
    ]
    codes = _post_all(app, forms)
    assert codes == [303] * 50
    _db.session.expire_all()
    references = _db.session.scalars(select(Inquiry.reference)).all()
    assert len(references) == 50 and len(set(references)) == 50
    assert len(messages("inquiries/confirmation")) == 50


@pytest.mark.usefixtures("committing_db")
def test_the_same_form_sent_at_once_makes_one_inquiry(app):
    codes = _post_all(app, [contact(submit_key="one-key", custom_request="Once only")] * 4)
    assert codes == [303] * 4
    assert len(inquiries()) == 1


@pytest.mark.usefixtures("committing_db")
def test_two_researchers_accepting_quotes_for_the_last_unit_one_gets_it_and_the_other_is_told(
    app, auth, client, monkeypatch
):
    monkeypatch.setitem(app.config, "SITE_URL", "http://localhost")
    product = ProductFactory(name="Leukopak, full")
    lot = LotFactory(product=product, units_available=1)
    _db.session.commit()
    researchers = [app.test_client() for _ in range(2)]
    for n, researcher in enumerate(researchers):
        add(researcher, product, lot)
        submit(researcher, email=f"researcher{n}@uni.example")
    auth.login("sales")
    for inquiry in inquiries():
        form = quote_form(inquiry, lot, **{"lines-0-units": "1"})
        assert client.post(f"/admin/inquiries/work/{inquiry.id}/quote", data=form).status_code == 303
    links = [link_in(m, "/quote/status/") for m in messages("inquiries/quote")]
    start, answers = threading.Barrier(2), []

    def accept(researcher, path):
        start.wait()
        answers.append(researcher.post(path, data={"decision": "accept"}, follow_redirects=True).text)

    threads = [threading.Thread(target=accept, args=pair) for pair in zip(researchers, links, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(i.status for i in inquiries()) == ["accepted", "quoted"]
    assert sum("the quote is accepted" in text for text in answers) == 1
    assert sum("couldn" in text and "no longer available" in text for text in answers) == 1
    _db.session.expire_all()
    held = _db.session.get(Lot, lot.id)
    assert (held.units_available, held.units_reserved) == (0, 1)
    assert len(messages("inquiries/sales_accept_failed")) == 1
