"""The pages behind mailed links: confirm (a button), preferences, export, delete, one-click unsubscribe; bad links."""

import json
from datetime import timedelta

import itsdangerous.timed
import pytest
from sqlalchemy import func, select

from shop.extensions import db as _db
from shop.mail.models import OutboxMessage
from shop.models import utcnow
from shop.subscriptions import tokens
from shop.subscriptions.models import ACTIVE, PENDING, UNSUBSCRIBED, Consent, Subscriber
from shop.subscriptions.notices import forget_unconfirmed
from tests.apps import app_with
from tests.blog.dom import parse
from tests.subscriptions.conftest import (
    link_in,
    make_subscriber,
    manage_path,
    messages,
    subscribe,
    subscriber,
    unsubscribe_path,
)


def confirm_path(client, email: str, **data) -> str:
    subscribe(client, email, **data)
    return link_in(messages(email, "subscriptions/confirm")[-1], "/subscribe/confirm/")


def test_opening_the_confirmation_link_confirms_nothing_until_the_button(client, topics):
    path = confirm_path(client, "ann@lab.example", topics_shown="1", topics=["car-t"])
    page = client.get(path)  # what a mail scanner that follows links does
    assert page.status_code == 200 and "Confirm subscription" in page.text
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert [box.get("value") for box in parse(page.text).find_all("input", name="topics", checked="")] == ["car-t"]
    assert subscriber("ann@lab.example").status == PENDING
    done = client.post(path, data={"topics": ["car-t", "cancer"], "frequency": "weekly"})
    assert done.status_code == 200 and "You're subscribed" in done.text
    ann = subscriber("ann@lab.example")
    assert (ann.status, ann.frequency, [t.slug for t in ann.topics]) == (ACTIVE, "weekly", ["car-t", "cancer"])
    assert [c.action for c in ann.consents] == ["requested", "confirmed"]
    assert ann.consents[-1].form == "confirm page" and "weekly digest" in ann.consents[-1].statement
    assert "Change topics or frequency" in done.text  # the preferences link, straight away
    again = client.get(path)
    assert again.status_code == 200 and "already subscribed" in again.text


def test_the_confirmation_page_needs_a_topic_and_a_frequency(client, topics):
    path = confirm_path(client, "ann@lab.example")
    response = client.post(path, data={"frequency": "hourly"})
    assert response.status_code == 400
    assert "Tick at least one topic" in response.text and "Choose how often" in response.text
    assert subscriber("ann@lab.example").status == PENDING


def tampered(token: str) -> str:
    return token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")


@pytest.mark.parametrize("path_of", ["confirm", "manage", "unsubscribe"])
def test_an_altered_or_made_up_link_gets_a_clear_page_and_changes_nothing(client, topics, path_of):
    ann = make_subscriber("ann@lab.example")
    token = {"confirm": tokens.confirm_token, "manage": tokens.manage_token, "unsubscribe": tokens.unsubscribe_token}[
        path_of
    ](ann)
    prefix = {"confirm": "/subscribe/confirm/", "manage": "/subscription/", "unsubscribe": "/unsubscribe/"}[path_of]
    for bad in (tampered(token), "WzEsIngiXQ.x", "x" * 5000, "not-a-token", token.split(".")[0]):
        for method in ("GET", "POST"):
            response = client.open(prefix + bad, method=method, data={"List-Unsubscribe": "One-Click"})
            assert response.status_code == 400, (bad[:40], method)
            assert "This link doesn't work" in response.text and "Nothing was changed" in response.text
    assert subscriber("ann@lab.example").status == ACTIVE


def test_each_link_opens_only_its_own_page(client, topics):
    ann = make_subscriber("ann@lab.example")
    assert client.get(f"/subscription/{tokens.unsubscribe_token(ann)}").status_code == 400
    assert client.get(f"/subscription/{tokens.unsubscribe_token(ann)}/export.json").status_code == 400
    assert client.post(f"/unsubscribe/{tokens.manage_token(ann)}").status_code == 400
    assert subscriber("ann@lab.example").status == ACTIVE


def test_an_expired_confirmation_link_is_410_and_the_sign_up_is_forgotten_after_seven_days(client, topics, monkeypatch):
    eight_days_ago = (utcnow() - timedelta(days=8)).timestamp()
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: eight_days_ago)
    path = confirm_path(client, "late@lab.example")
    monkeypatch.undo()
    response = client.post(path, data={"topics": ["cancer"], "frequency": "each"})
    assert response.status_code == 410 and "expired" in response.text
    assert subscriber("late@lab.example").status == PENDING
    # Sign-ups never confirmed are deleted after the confirmation days; newer ones and real subscribers stay.
    late = subscriber("late@lab.example")
    late.confirm_sent_at = utcnow() - timedelta(days=8)
    make_subscriber("fresh@lab.example", status=PENDING)
    make_subscriber("gone@lab.example", status=UNSUBSCRIBED, confirm_sent_at=utcnow() - timedelta(days=30))
    _db.session.commit()
    forget_unconfirmed()
    remaining = set(_db.session.scalars(select(Subscriber.email)))
    assert remaining == {"fresh@lab.example", "gone@lab.example"}


def test_only_the_newest_confirmation_link_works_and_not_after_unsubscribing(client, topics):
    first = confirm_path(client, "ann@lab.example")
    second = confirm_path(client, "ann@lab.example")
    assert client.post(first, data={"topics": ["cancer"], "frequency": "each"}).status_code == 400
    assert client.post(second, data={"topics": ["cancer"], "frequency": "each"}).status_code == 200
    client.post(unsubscribe_path(subscriber("ann@lab.example")))
    response = client.post(second, data={"topics": ["cancer"], "frequency": "each"})
    assert response.status_code == 400 and "no longer valid" in response.text
    assert subscriber("ann@lab.example").status == UNSUBSCRIBED


def test_a_deleted_subscribers_links_are_404(client, topics):
    ann = make_subscriber("ann@lab.example")
    paths = [manage_path(ann), unsubscribe_path(ann)]
    assert client.post(paths[0] + "/delete").status_code == 200
    for path in paths:
        assert client.get(path).status_code == 404


def test_preferences_change_topics_frequency_pause_and_resume(client, topics):
    ann = make_subscriber("ann@lab.example")
    path = manage_path(ann)
    page = client.get(path)
    assert page.status_code == 200 and "ann@lab.example" in page.text
    assert len(parse(page.text).find_all("input", name="topics", checked="")) == 3  # every topic
    saved = client.post(path, data={"action": "save", "topics": ["gene-editing"], "frequency": "weekly"})
    assert saved.status_code == 303
    follow = client.get(path)
    assert "Saved:" in follow.text and "weekly digest" in follow.text
    ann = subscriber("ann@lab.example")
    assert (ann.all_topics, [t.slug for t in ann.topics], ann.frequency) == (False, ["gene-editing"], "weekly")
    client.post(path, data={"action": "pause", "topics": ["gene-editing"], "frequency": "weekly"})
    assert subscriber("ann@lab.example").paused_at is not None
    client.post(path, data={"action": "resume", "topics": ["gene-editing"], "frequency": "weekly"})
    assert subscriber("ann@lab.example").paused_at is None
    actions = [c.action for c in subscriber("ann@lab.example").consents]
    assert actions[-3:] == ["changed", "paused", "resumed"]
    bad = client.post(path, data={"action": "save", "frequency": "weekly"})
    assert bad.status_code == 400 and "Tick at least one topic" in bad.text


def test_unsubscribe_then_subscribe_again_from_the_preferences_page(client, topics):
    ann = make_subscriber("ann@lab.example")
    path = manage_path(ann)
    client.post(path, data={"action": "unsubscribe", "topics": ["cancer"], "frequency": "each"})
    assert subscriber("ann@lab.example").status == UNSUBSCRIBED
    page = client.get(path)
    assert "Subscribe again" in page.text and "Save changes" not in page.text
    client.post(path, data={"action": "resubscribe", "topics": ["cancer"], "frequency": "each"})
    assert subscriber("ann@lab.example").status == UNSUBSCRIBED  # until the new link's button
    assert messages("ann@lab.example")[-1].template == "subscriptions/confirm"


def test_the_export_holds_everything_about_the_address(client, topics):
    ann = make_subscriber("ann@lab.example", topics=[topics["cancer"]])
    response = client.get(manage_path(ann) + "/export.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.data)
    assert (data["email"], data["status"], data["topics"], data["frequency"]) == (
        "ann@lab.example", "active", ["Cancer"], "each",
    )  # fmt: skip
    assert [c["action"] for c in data["consent_log"]] == ["requested", "confirmed"]
    assert data["consent_log"][0]["ip_address"] == "192.0.2.1"
    assert [e["subject"] for e in data["emails"]] == ["Confirm your subscription to the CellShop blog"]
    assert data["confirmed_at"] and data["created_at"]


def test_delete_asks_first_then_forgets_the_address_and_its_mail(client, topics):
    ann = make_subscriber("ann@lab.example")
    make_subscriber("bob@lab.example")
    page = client.get(manage_path(ann) + "/delete")
    assert page.status_code == 200 and "Delete everything about ann@lab.example?" in page.text
    assert subscriber("ann@lab.example") is not None
    done = client.post(manage_path(ann) + "/delete")
    assert done.status_code == 200 and "no longer hold anything" in done.text
    assert subscriber("ann@lab.example") is None
    assert messages("ann@lab.example") == []
    assert _db.session.scalar(select(func.count(Consent.id))) == 2  # bob's two steps
    assert len(messages("bob@lab.example")) == 1


def test_one_click_unsubscribe_works_without_cookies_and_a_get_changes_nothing(app, topics):
    ann = make_subscriber("ann@lab.example")
    path = unsubscribe_path(ann)
    browser = app.test_client()
    page = browser.get(path)
    assert (
        page.status_code == 200 and parse(page.text).one("main").find("button", class_="button").text == "Unsubscribe"
    )
    assert subscriber("ann@lab.example").status == ACTIVE
    mail_client = app.test_client(use_cookies=False)  # a mail provider: no cookies, no login, no token but the URL
    response = mail_client.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200 and "You're unsubscribed" in response.text
    ann = subscriber("ann@lab.example")
    assert ann.status == UNSUBSCRIBED and ann.consents[-1].form == "one-click (mail client)"
    assert mail_client.post(path, data="List-Unsubscribe=One-Click").status_code == 200  # again: still fine


def test_with_csrf_on_the_subscriber_pages_need_their_token(database_url, db, topics):
    production_like = app_with(database_url, WTF_CSRF_ENABLED=True)
    client = production_like.test_client()
    path = confirm_path(client, "ann@lab.example")
    assert client.post(path, data={"topics": ["cancer"], "frequency": "each"}).status_code == 400
    assert subscriber("ann@lab.example").status == PENDING
    token = parse(client.get(path).text).one("input", name="csrf_token").get("value")
    assert client.post(path, data={"topics": ["cancer"], "frequency": "each", "csrf_token": token}).status_code == 200
    assert subscriber("ann@lab.example").status == ACTIVE
    # One-click unsubscribe is exempt (RFC 8058: mail providers POST without cookies); its signed URL is the key.
    assert client.post(unsubscribe_path(subscriber("ann@lab.example"))).status_code == 200
    assert subscriber("ann@lab.example").status == UNSUBSCRIBED
    assert _db.session.scalar(select(func.count(OutboxMessage.id))) == 1
