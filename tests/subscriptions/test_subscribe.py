"""POST /subscribe: same-origin only, honeypot, limits, bad input; one answer whether or not the address subscribes."""

import pytest
from sqlalchemy import func, select

from shop.extensions import db as _db
from shop.mail.models import OutboxMessage
from shop.subscriptions.models import PENDING, Consent, Subscriber
from tests.apps import app_with
from tests.blog.dom import parse
from tests.subscriptions.conftest import link_in, make_subscriber, messages, subscribe, subscriber
from tests.visitor_forms import BAD_EMAILS, CROSS_ORIGIN


def nothing_stored() -> bool:
    _db.session.expire_all()
    return not _db.session.scalar(select(func.count(Subscriber.id))) and not _db.session.scalar(
        select(func.count(OutboxMessage.id))
    )


def test_subscribing_sends_a_confirmation_link_and_activates_nothing(client, topics):
    response = subscribe(client, "Ann.Lee@Lab.Example", topics_shown="1", topics=["car-t", "cancer"])
    assert response.status_code == 200
    assert "Check your inbox" in response.text and "ann.lee@lab.example" in response.text
    ann = subscriber("ann.lee@lab.example")
    assert ann.status == PENDING and ann.confirmed_at is None
    assert (ann.all_topics, [t.slug for t in ann.topics]) == (False, ["car-t", "cancer"])
    [consent] = ann.consents
    assert (consent.action, consent.form, consent.ip_address) == ("requested", "blog sidebar", "127.0.0.1")
    assert "ann.lee@lab.example" in consent.statement and "on CAR-T, Cancer." in consent.statement
    [confirmation] = messages("ann.lee@lab.example")
    assert confirmation.template == "subscriptions/confirm"
    assert link_in(confirmation, "/subscribe/confirm/")


def test_the_answer_is_the_same_whether_or_not_the_address_subscribes(client, topics):
    make_subscriber("old@lab.example")
    known = subscribe(client, "old@lab.example")
    unknown = subscribe(client, "new@lab.example")
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("old@lab.example", "X") == unknown.text.replace("new@lab.example", "X")
    # Only the mailbox's owner learns which it was: the subscriber gets their own link, not a new opt-in.
    assert [m.template for m in messages("old@lab.example")][-1] == "subscriptions/already_subscribed"
    assert [m.template for m in messages("new@lab.example")] == ["subscriptions/confirm"]
    assert subscriber("old@lab.example").status == "active"


def test_every_box_choice_of_topics(client, topics):
    subscribe(client, "all@lab.example", topics_shown="1", topics=list(topics))  # every box ticked
    subscribe(client, "footer@lab.example", form="footer")  # the footer's box shows no topics
    subscribe(client, "junk@lab.example", topics_shown="1", topics=["cancer", "no-such-topic", "x" * 500])
    assert subscriber("all@lab.example").all_topics
    assert subscriber("footer@lab.example").all_topics
    assert subscriber("footer@lab.example").consents[0].form == "footer"
    junk = subscriber("junk@lab.example")
    assert not junk.all_topics and [t.slug for t in junk.topics] == ["cancer"]
    response = subscribe(client, "none@lab.example", topics_shown="1")
    assert response.status_code == 400 and "Tick at least one topic" in response.text
    assert subscriber("none@lab.example") is None


@pytest.mark.parametrize("headers", CROSS_ORIGIN)
def test_a_post_from_another_origin_is_refused_and_changes_nothing(client, topics, headers):
    response = subscribe(client, "victim@lab.example", headers=headers)
    assert response.status_code == 403
    assert "can only be sent from a page on this site" in response.text
    assert nothing_stored()


def test_a_same_origin_post_is_accepted_with_either_header_alone(client, topics):
    assert subscribe(client, "a@lab.example", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    assert subscribe(client, "b@lab.example", headers={"Origin": "http://localhost"}).status_code == 200


def test_the_honeypot_gets_the_usual_answer_and_nothing_happens(client, topics):
    response = subscribe(client, "bot@lab.example", website="http://spam.example")
    assert response.status_code == 200 and "Check your inbox" in response.text
    assert nothing_stored()


@pytest.mark.parametrize(("email", "message"), BAD_EMAILS)
def test_a_bad_email_gets_a_message_beside_the_field_and_nothing_is_sent(client, topics, email, message):
    response = subscribe(client, email, topics_shown="1", topics=["cancer"])
    assert response.status_code == 400
    doc = parse(response.text)
    error = doc.find(id="email-error")
    assert error is not None and message in error.text
    field = doc.find("input", id="email")
    assert field.get("aria-invalid") == "true"
    if len(email) < 300:
        assert field.get("value") == email  # what was typed is kept (and escaped)
    assert [box.get("value") for box in doc.find_all("input", name="topics", checked="")] == ["cancer"]
    assert "<script>alert" not in response.text
    assert nothing_stored()


def test_a_nul_byte_is_refused_before_the_form_sees_it(client, topics):
    assert subscribe(client, "a\x00@lab.example").status_code == 400
    assert nothing_stored()


def test_sign_ups_from_one_address_are_limited_with_a_clear_page(app, database_url, db, topics):
    limited = app_with(database_url, SUBSCRIBE_LIMIT_PER_ADDRESS="3 per hour")
    client = limited.test_client()
    for n in range(3):
        assert subscribe(client, f"reader{n}@lab.example").status_code == 200
    response = subscribe(client, "reader3@lab.example")
    assert response.status_code == 429
    assert "Too many sign-ups from your network" in response.text and int(response.headers["Retry-After"]) > 0
    assert subscriber("reader3@lab.example") is None


def test_repeated_sign_ups_for_one_email_send_at_most_the_limit_and_answer_the_same(client, topics):
    answers = {subscribe(client, "pest@lab.example").text for _ in range(6)}
    assert len(answers) == 1
    assert len(messages("pest@lab.example")) == 3  # SUBSCRIBE_LIMIT_PER_EMAIL: 3 per day


def test_with_csrf_on_the_box_still_works_and_other_origins_are_still_refused(database_url, db, topics):
    production_like = app_with(database_url, WTF_CSRF_ENABLED=True)
    client = production_like.test_client()
    assert subscribe(client, "csrf@lab.example").status_code == 200
    assert subscribe(client, "evil@lab.example", headers={"Origin": "https://evil.example"}).status_code == 403
    assert [s.email for s in _db.session.scalars(select(Subscriber))] == ["csrf@lab.example"]


def test_the_subscribe_page_and_every_box_post_to_subscribe(client, topics):
    page = parse(client.get("/subscribe").text)
    assert page.find("form", class_="subscribe-page-form").get("action") == "/subscribe"
    assert len(page.find_all("input", name="topics", checked="")) == 3
    footer_boxes = parse(client.get("/products/").text).find_all("form", class_="subscribe-footer")
    assert len(footer_boxes) == 1 and footer_boxes[0].get("action") == "/subscribe"
    assert not footer_boxes[0].find("input", name="csrf_token")  # the same HTML for every visitor
    home = parse(client.get("/").text)
    assert home.find("form", class_="subscribe-home").find_all("input", name="topics")
    assert _db.session.scalar(select(func.count(Consent.id))) == 0
