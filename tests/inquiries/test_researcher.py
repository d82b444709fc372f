"""The researcher's side: the basket, the inquiry form, its checks and limits, the confirmation and the status link."""

import pytest

from shop.catalog.models import Lot
from shop.extensions import db as _db
from tests.apps import app_with
from tests.blog.dom import parse
from tests.inquiries.conftest import SAME_ORIGIN, add, contact, inquiries, link_in, messages, submit, submit_key


def test_request_a_quote_is_on_product_pages_lots_and_catalog_cards_without_a_session_token(client, stocked):
    first, _, lot = stocked
    product_page = parse(client.get(f"/products/{first.slug}").text)
    forms = product_page.find_all("form", class_="quote-form")
    assert {f.get("action") for f in forms} == {"/quote/"}
    assert any(f.find("input", name="lot_id") for f in forms)  # "Request this lot"
    assert all(not f.find("input", name="csrf_token") for f in forms)
    cards = parse(client.get("/products/").text).find_all("form", class_="card-quote")
    assert len(cards) == 2


def test_the_basket_adds_changes_and_removes_lines_and_the_header_count_comes_from_a_cookie(client, stocked):
    first, second, lot = stocked
    response = add(client, first, lot, quantity=2)
    assert response.status_code == 303 and "basket_count=1" in response.headers["Set-Cookie"]
    add(client, second)
    add(client, second, quantity=2)  # the same product again: one line, 3 units
    page = client.get("/quote/")
    assert page.text.count('class="qty"') == 2 and 'value="3"' in page.text
    assert client.post("/quote/update", data={"lines-0-quantity": "5", "lines-1-quantity": "1"}).status_code == 303
    assert 'value="5"' in client.get("/quote/").text
    assert client.post("/quote/update", data={"lines-0-quantity": "0", "lines-1-quantity": "1"}).status_code == 400
    response = client.post(
        "/quote/update", data={"action": "remove-0", "lines-0-quantity": "5", "lines-1-quantity": "1"}
    )
    assert "basket_count=1" in response.headers["Set-Cookie"]
    assert "PBMC 10M" not in client.get("/quote/").text
    response = client.post("/quote/update", data={"action": "clear"})
    assert "basket_count=;" in response.headers["Set-Cookie"]  # deleted


def test_adding_from_another_site_is_refused(client, stocked):
    first, _, _ = stocked
    assert add(client, first, headers={"Origin": "https://evil.example"}).status_code == 403
    assert add(client, first, headers={}).status_code == 403
    assert "basket_count" not in client.get("/quote/").headers.get("Set-Cookie", "")


@pytest.mark.parametrize("quantity", ["0", "-1", str(10**9), "abc", "1e3"])
def test_a_bad_quantity_is_explained_and_nothing_is_added(client, stocked, quantity):
    first, _, _ = stocked
    response = client.post("/quote/", data={"product_id": first.id, "quantity": quantity}, headers=SAME_ORIGIN)
    assert response.status_code == 400
    assert "quantity from 1 to 1,000" in response.text or "Not a valid integer" in response.text
    assert "Your quote request is empty" in client.get("/quote/").text


@pytest.mark.parametrize("product_id", ["", "x", str(2**40), "99999"])
def test_an_unknown_product_is_a_4xx(client, stocked, product_id):
    response = client.post("/quote/", data={"product_id": product_id}, headers=SAME_ORIGIN)
    assert response.status_code in (400, 404)


def test_an_inquiry_is_saved_with_a_reference_and_both_mails_are_queued(client, stocked):
    first, second, lot = stocked
    add(client, first, lot, quantity=2, note="Fresh please")
    add(client, second)
    response = submit(client)
    assert response.status_code == 303
    [inquiry] = inquiries()
    assert inquiry.reference.startswith("Q-20") and len(inquiry.reference) == 12
    assert [(i.catalog_number, i.quantity, i.lot_number) for i in inquiry.items] == [
        (first.catalog_number, 2, lot.lot_number), (second.catalog_number, 1, "")
    ]  # fmt: skip
    sent = client.get(response.headers["Location"]).text
    assert inquiry.reference in sent and "ada@lab.example" in sent
    [confirmation] = messages("inquiries/confirmation")
    assert confirmation.to_address == "ada@lab.example" and inquiry.reference in confirmation.subject
    for words in ("Institute of Immunology", "Fresh please", lot.lot_number, "Please call before shipping"):
        assert words in confirmation.text_body
    [notice] = messages("inquiries/sales_notice")
    assert notice.to_address == "sales@cellshop.example" and notice.reply_to != "ada@lab.example"
    assert "Your quote request is empty" in client.get("/quote/").text  # the basket is emptied


def test_a_double_click_or_a_resent_form_makes_one_inquiry(client, stocked):
    first, _, _ = stocked
    add(client, first)
    form = contact(submit_key=submit_key(client))
    first_answer = client.post("/quote/submit", data=form)
    second_answer = client.post("/quote/submit", data=form)
    assert first_answer.headers["Location"] == second_answer.headers["Location"]
    assert len(inquiries()) == 1 and len(messages("inquiries/confirmation")) == 1


def test_another_browser_sees_no_details_on_a_confirmation_page(app, client, stocked):
    first, _, _ = stocked
    add(client, first)
    location = submit(client).headers["Location"]
    other = app.test_client().get(location).text
    assert "ada@lab.example" not in other and inquiries()[0].reference not in other


def test_every_required_field_missing_is_marked_and_nothing_is_saved(client, stocked):
    first, _, _ = stocked
    add(client, first)
    empty = {"submit_key": submit_key(client), "phone": "+1 555 0199"}
    response = client.post("/quote/submit", data=empty)
    assert response.status_code == 400
    for message in ("Enter your name", "Enter your e-mail", "Enter your institution", "Choose the type",
                    "Enter your country", "Choose the intended use", "research use only"):  # fmt: skip
        assert message in response.text, message
    assert 'value="+1 555 0199"' in response.text  # kept
    assert inquiries() == [] and messages() == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("needed_by", "2001-01-01", "has passed"),
        ("email", "not-an-address", "look like an e-mail"),
        ("email", "a@b.example\r\nBcc: x@y.example", "look like an e-mail"),
        ("donor_hla", "A*02:01 banana", "Not an HLA allele"),
        ("donor_bmi_max", "500", "BMI between 10 and 80"),
        ("donor_age_min", str(10**9), "18 to 100"),
        ("donor_count", "0", "1 to 100"),
        ("name", "x" * 121, "At most 120"),
        ("notes", "x" * 5001, "At most 5000"),
    ],
)
def test_bad_values_are_explained_beside_the_field_and_the_rest_is_kept(client, stocked, field, value, message):
    first, _, _ = stocked
    add(client, first)
    response = submit(client, **{field: value})
    assert response.status_code == 400
    assert message in response.text
    assert "Institute of Immunology" in response.text
    assert inquiries() == []


def test_a_product_withdrawn_or_a_lot_sold_out_meanwhile_is_marked_and_nothing_is_saved(client, stocked):
    first, second, lot = stocked
    add(client, first, lot)
    add(client, second)
    second.active = False
    _db.session.get(Lot, lot.id).units_available = 0
    _db.session.commit()
    response = submit(client)
    assert response.status_code == 400
    assert "no longer offered" in response.text and "sold out meanwhile" in response.text
    assert inquiries() == []
    assert "no longer offered" in client.get("/quote/").text


def test_a_custom_request_without_items_and_the_contact_page(client, db):
    response = submit(client, custom_request="")
    assert response.status_code == 400 and "describe what you need" in response.text
    assert submit(client, custom_request="HLA-A*02:01 leukopaks, 4 donors").status_code == 303
    page = client.get("/contact")
    assert page.status_code == 200
    key = parse(page.text).find("input", name="submit_key").get("value")
    response = client.post("/contact", data=contact(submit_key=key, custom_request="Do you ship to Norway?"))
    assert response.status_code == 303
    assert [i.custom_request for i in inquiries()] == ["HLA-A*02:01 leukopaks, 4 donors", "Do you ship to Norway?"]


def test_gmp_only_baskets_do_not_ask_for_the_research_use_acknowledgement(client, stocked):
    first, _, _ = stocked
    first.grade = "gmp"
    _db.session.commit()
    add(client, first)
    assert "ruo_acknowledged" not in client.get("/quote/submit").text
    assert submit(client, ruo_acknowledged=None).status_code == 303


def test_donor_requirements_come_from_the_catalog_filters_used(client, stocked):
    first, _, _ = stocked
    add(client, first, hla="A*02:01", cmv="positive", sex="F", age="30-39")
    form = parse(client.get("/quote/submit").text)
    assert form.find("input", name="donor_hla").get("value") == "A*02:01"
    assert form.find("input", name="donor_age_min").get("value") == "30"
    assert form.find("select", name="donor_cmv").find("option", selected="").get("value") == "positive"


def test_a_filled_honeypot_saves_nothing_and_answers_as_usual(client, stocked):
    first, _, _ = stocked
    add(client, first)
    response = submit(client, website="http://spam.example")
    assert response.status_code == 303 and inquiries() == []


def test_inquiries_are_limited_per_address_and_per_email(app, client, stocked, monkeypatch):
    monkeypatch.setitem(app.config, "INQUIRY_LIMIT_PER_EMAIL", "2 per day")
    codes = [submit(client, custom_request=f"Request {n}").status_code for n in range(3)]
    assert codes == [303, 303, 429]
    assert len(inquiries()) == 2
    monkeypatch.setitem(app.config, "INQUIRY_LIMIT_PER_ADDRESS", "1 per hour")  # a new limit counts from zero
    assert submit(client, email="other@lab.example", custom_request="Once").status_code == 303
    response = submit(client, email="third@lab.example", custom_request="Again")
    assert response.status_code == 429 and "Too many inquiries" in response.text
    assert 'value="third@lab.example"' in response.text  # what was typed is kept


@pytest.mark.parametrize("token", ["garbage", "a" * 300, "WzEsImFiYyJd.tampered"])
def test_a_tampered_status_link_is_a_clear_4xx(client, token):
    response = client.get(f"/quote/status/{token}")
    assert response.status_code in (400, 404) and "link" in response.text


def test_the_status_link_shows_the_inquiry_without_an_account(client, stocked):
    first, _, _ = stocked
    add(client, first)
    submit(client)
    path = link_in(messages("inquiries/confirmation")[0], "/quote/status/")
    response = client.get(path)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "preparing your quote" in response.text and first.name in response.text
    assert client.get(path[:-3] + "abc").status_code == 400


def test_with_csrf_on_the_basket_and_the_form_need_their_token_but_adding_does_not(database_url, db, stocked):
    first, _, _ = stocked
    client = app_with(database_url, WTF_CSRF_ENABLED=True).test_client()
    assert add(client, first).status_code == 303
    assert client.post("/quote/update", data={"action": "clear"}).status_code == 400
    page = parse(client.get("/quote/submit").text)
    token = page.find("input", name="csrf_token").get("value")
    key = page.find("input", name="submit_key").get("value")
    assert client.post("/quote/submit", data=contact(submit_key=key)).status_code == 400
    assert client.post("/quote/submit", data=contact(submit_key=key, csrf_token=token)).status_code == 303
    assert len(inquiries()) == 1


def test_cached_pages_hold_no_basket_count(database_url, db, stocked):
    first, _, _ = stocked
    cached = app_with(database_url, CACHE_TYPE="SimpleCache")
    client = cached.test_client()
    before = client.get(f"/products/{first.slug}").data
    add(client, first)
    client.get("/quote/")  # the flash is shown, so the next page may come from the cache again
    after = client.get(f"/products/{first.slug}")
    assert after.data == before  # the same bytes for every visitor
    assert b"data-basket-count hidden" in after.data
