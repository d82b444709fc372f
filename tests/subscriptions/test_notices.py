"""Publish notices and digests: who gets a post, exactly once, and what the e-mail carries (List-Unsubscribe)."""

from datetime import datetime, timedelta

from sqlalchemy import func, select

from shop.blog.services import publish_post, unpublish_post
from shop.extensions import db as _db
from shop.mail import worker
from shop.models import utcnow
from shop.subscriptions import notices
from shop.subscriptions.models import BOUNCED, UNSUBSCRIBED, Delivery, PostNotice
from shop.subscriptions.services import mark_bounced
from tests.blog.conftest import create_post
from tests.subscriptions.conftest import make_subscriber, messages, subscriber


def notices_to() -> list[str]:
    return sorted(m.to_address for m in messages(template="subscriptions/post_notice"))


def run_notices() -> int:
    with worker.link_context():
        total = 0
        while queued := notices.send_post_notices():
            total += queued
        return total


def test_a_published_post_reaches_each_subscriber_of_its_topics_once(topics):
    make_subscriber("cart@lab.example", topics=[topics["car-t"]])
    make_subscriber("every@lab.example")
    make_subscriber("cancer@lab.example", topics=[topics["cancer"]])
    make_subscriber("weekly@lab.example", topics=[topics["car-t"]], frequency="weekly")
    make_subscriber("paused@lab.example", topics=[topics["car-t"]], paused_at=utcnow())
    make_subscriber("pending@lab.example", topics=[topics["car-t"]], status="pending")
    make_subscriber("left@lab.example", topics=[topics["car-t"]], status=UNSUBSCRIBED)
    post = create_post("STAT5 and CAR-T persistence", topics=["CAR-T"])
    assert _db.session.get(PostNotice, post.id) is not None  # promised in the publishing transaction
    assert run_notices() == 2
    assert notices_to() == ["cart@lab.example", "every@lab.example"]
    [notice] = messages("cart@lab.example", "subscriptions/post_notice")
    assert notice.subject == "New on the CellShop blog: STAT5 and CAR-T persistence"
    assert "http://localhost/blog/stat5-and-car-t-persistence" in notice.text_body
    assert notice.headers["List-Unsubscribe"].startswith("<http://localhost/unsubscribe/")
    assert notice.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert notice.priority > 0  # bulk: behind confirmations
    assert "/subscription/" in notice.text_body and "on CAR-T" in notice.text_body
    # Again, and after the post is unpublished and published again: nobody gets it twice.
    assert run_notices() == 0
    unpublish_post(post)
    _db.session.commit()
    publish_post(post)
    _db.session.commit()
    _db.session.execute(PostNotice.__table__.update().values(done_at=None))  # as if a second worker raced
    _db.session.commit()
    assert run_notices() == 0
    assert notices_to() == ["cart@lab.example", "every@lab.example"]
    assert _db.session.scalar(select(func.count(Delivery.id))) == 2


def test_a_post_unpublished_before_its_notices_went_waits_until_it_is_back(topics):
    make_subscriber("every@lab.example")
    post = create_post("Withdrawn for a fix")
    unpublish_post(post)
    _db.session.commit()
    assert run_notices() == 0
    publish_post(post)
    _db.session.commit()
    assert run_notices() == 1


def test_notices_go_out_in_batches_and_a_subscriber_who_confirms_later_is_not_sent_older_posts(topics, monkeypatch):
    monkeypatch.setattr(notices, "NOTICE_BATCH", 2)
    for n in range(5):
        make_subscriber(f"r{n}@lab.example")
    create_post("First")
    with worker.link_context():
        assert [notices.send_post_notices() for _ in range(4)] == [2, 2, 1, 0]
    make_subscriber("late@lab.example")
    assert run_notices() == 0
    assert len(notices_to()) == 5


def test_the_weekly_digest_holds_the_weeks_posts_once(topics, app):
    weekly = make_subscriber("weekly@lab.example", frequency="weekly", confirmed_at=utcnow() - timedelta(days=30))
    make_subscriber("each@lab.example", confirmed_at=utcnow() - timedelta(days=30))
    make_subscriber("cancer-only@lab.example", topics=[topics["cancer"]], frequency="weekly",
                    confirmed_at=utcnow() - timedelta(days=30))  # fmt: skip
    moment = notices.digest_moment(utcnow())
    first = create_post("Monday note", topics=["CAR-T"])
    second = create_post("Thursday note", topics=["CAR-T"])
    for post, days in ((first, 3), (second, 1)):
        _db.session.get(PostNotice, post.id).announced_at = moment - timedelta(days=days)
    _db.session.commit()
    with worker.link_context():
        assert notices.send_weekly_digests(moment + timedelta(minutes=5)) == 1
        assert notices.send_weekly_digests(moment + timedelta(hours=5)) == 0  # once a week
    [digest] = messages(template="subscriptions/digest")
    assert digest.to_address == weekly.email
    assert digest.subject == "This week on the CellShop blog: Monday note and 1 more"
    assert digest.text_body.index("Monday note") < digest.text_body.index("Thursday note")
    assert digest.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # A week later: only what is new (nothing here, so no e-mail at all).
    with worker.link_context():
        assert notices.send_weekly_digests(moment + timedelta(days=7, minutes=5)) == 0
    assert subscriber("weekly@lab.example").last_digest_at > moment + timedelta(days=7)
    assert _db.session.scalar(select(func.count(Delivery.id)).where(Delivery.kind == "digest")) == 2


def test_the_digest_moment_is_the_configured_weekday_and_hour(app):
    with app.app_context():
        wednesday = datetime(2026, 12, 2, 12, 0, tzinfo=utcnow().tzinfo)
        assert notices.digest_moment(wednesday) == datetime(2026, 11, 30, 8, 0, tzinfo=wednesday.tzinfo)
        monday_early = datetime(2026, 11, 30, 7, 59, tzinfo=wednesday.tzinfo)
        assert notices.digest_moment(monday_early) == datetime(2026, 11, 23, 8, 0, tzinfo=wednesday.tzinfo)


def test_a_scheduled_post_is_announced_by_the_worker_when_its_time_comes(topics):
    make_subscriber("every@lab.example")
    post = create_post("Later", status="scheduled", published_at=utcnow() + timedelta(seconds=1))
    assert _db.session.get(PostNotice, post.id) is None
    post.published_at = utcnow() - timedelta(seconds=1)  # its time has come
    _db.session.commit()
    notices.publish_scheduled_posts()
    assert _db.session.get(PostNotice, post.id) is not None
    assert run_notices() == 1


def test_an_address_the_server_refuses_for_good_is_marked_bounced(topics):
    make_subscriber("gone@lab.example")
    [confirmation] = messages("gone@lab.example")
    mark_bounced(confirmation)
    _db.session.commit()
    assert subscriber("gone@lab.example").status == BOUNCED
    create_post("After the bounce")
    assert run_notices() == 0
