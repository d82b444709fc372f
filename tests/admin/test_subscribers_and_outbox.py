"""The back office's subscribers (filters, CSV, counts, chart) and mail outbox (read, HTML frame policy, retry)."""

import csv
import io
from datetime import timedelta

from sqlalchemy import select, update

from shop.extensions import db as _db
from shop.mail.models import FAILED, QUEUED, OutboxMessage
from shop.models import utcnow
from shop.subscriptions.models import UNSUBSCRIBED
from tests.blog.dom import parse
from tests.subscriptions import conftest as subscription_data
from tests.subscriptions.conftest import make_subscriber, subscriber

topics = subscription_data.topics  # the fixture, shared with the subscription tests


def test_subscribers_filter_by_topic_and_state_and_export_as_csv(client, auth, topics):
    make_subscriber("cart@lab.example", topics=[topics["car-t"]])
    make_subscriber("every@lab.example")
    make_subscriber("cancer@lab.example", topics=[topics["cancer"]])
    make_subscriber("=cmd@lab.example", status=UNSUBSCRIBED)
    auth.login("marketing")
    listing = client.get("/admin/subscribers/")
    assert listing.status_code == 200
    assert "Active: <strong>3</strong>" in listing.text and "Unsubscribed: <strong>1</strong>" in listing.text
    by_topic = client.get(f"/admin/subscribers/?flt0_gets_topic_is={topics['car-t'].id}").text
    assert "cart@lab.example" in by_topic and "every@lab.example" in by_topic and "cancer@lab.example" not in by_topic
    exported = client.get("/admin/subscribers/export/csv/?flt0_status_equals=unsubscribed")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0][0] == "Email" and [r[0] for r in rows[1:]] == ["'=cmd@lab.example"]  # guarded for spreadsheets
    details = client.get(f"/admin/subscribers/details/?id={subscriber('cart@lab.example').id}").text
    assert "requested" in details and "confirmed" in details and "192.0.2.1" in details


def test_deleting_a_subscriber_in_the_back_office_forgets_their_mail(client, auth, topics):
    gone = make_subscriber("gone@lab.example")
    auth.login("marketing")
    assert client.post("/admin/subscribers/delete/", data={"id": str(gone.id)}).status_code == 302
    assert subscriber("gone@lab.example") is None
    assert not _db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == "gone@lab.example")).all()


def test_the_dashboard_draws_the_subscriber_chart_for_marketing_and_not_for_sales(client, auth, topics):
    make_subscriber("old@lab.example", confirmed_at=utcnow() - timedelta(days=40))
    make_subscriber("new@lab.example")
    make_subscriber("left@lab.example", confirmed_at=utcnow() - timedelta(days=20))
    left = subscriber("left@lab.example")
    left.status, left.unsubscribed_at = UNSUBSCRIBED, utcnow() - timedelta(days=5)
    _db.session.commit()
    auth.login("marketing")
    doc = parse(client.get("/admin/").text)
    chart = doc.one("svg", class_="subscriber-chart")
    assert chart.get("role") == "img" and chart.find("title").text == "Active blog subscribers per day"
    assert len(chart.one("polyline").get("points").split()) == 90
    counts = [int(row.find_all("td")[1].text) for row in doc.one("details").find("tbody").find_all("tr")]
    assert counts[-4:] == [1, 2, 2, 2]  # old; then left too; left went five days ago and new came today
    assert "2 active today" in doc.text.replace("</strong>", "")
    auth.logout()
    auth.login("sales")
    assert "subscriber-chart" not in client.get("/admin/").text


def test_the_outbox_shows_a_message_frames_its_html_under_its_own_policy_and_retries(client, auth, topics):
    make_subscriber("ann@lab.example")
    message = _db.session.scalar(select(OutboxMessage))
    _db.session.execute(update(OutboxMessage).values(status=FAILED, attempts=10, last_error="550 5.1.1 No such user"))
    _db.session.commit()
    auth.login("marketing")
    details = client.get(f"/admin/outbox/details/?id={message.id}")
    assert "550 5.1.1 No such user" in details.text and "Confirm your subscription" in details.text
    frame = parse(details.text).one("iframe", class_="outbox-html")
    assert frame.get("sandbox") == ""
    html = client.get(frame.get("src"))
    policy = html.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "frame-ancestors 'self'" in policy
    assert "'sha256-" in policy and "script-src" not in policy and "unsafe-inline" not in policy
    assert html.headers["X-Frame-Options"] == "SAMEORIGIN" and "Confirm my subscription" in html.text
    retried = client.post("/admin/outbox/action/", data={"action": "retry", "rowid": str(message.id)})
    assert retried.status_code == 302
    _db.session.expire_all()
    assert (_db.session.get(OutboxMessage, message.id).status, _db.session.get(OutboxMessage, message.id).attempts) == (
        QUEUED, 0,
    )  # fmt: skip
    auth.logout()
    auth.login("sales")
    assert client.get("/admin/outbox/").status_code == 403
