"""The audit log and the sign-in list: sign-ins are not changes, pages, filters, before and after."""

import re
from datetime import UTC, datetime, timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from shop import audit
from shop.admin.audit_log import browser_summary, change_summary, diff_rows
from shop.audit import AuditEntry, SignIn
from shop.blog.models import Post
from tests.factories import LotFactory, ProductFactory

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
# A time as Python prints it, anywhere in a page's text (attributes such as datetime="" excepted).
RAW_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")


def visible_text(html: str) -> str:
    """The page's text and attribute-free markup: what a reader sees, roughly."""
    return re.sub(r"<[^>]*>", " ", html)


def log_rows(html: str) -> int:
    return len(re.findall(r'<td class="col-at">', html))


def test_signing_in_and_out_goes_to_the_sign_in_list_not_the_audit_log(client, auth, db):
    user = auth.login("marketing")
    client.get("/admin/", headers={"User-Agent": BROWSER})
    auth.logout()
    client.post("/login", data={"email": user.email, "password": "correct horse battery staple"},
                headers={"User-Agent": BROWSER}, environ_base={"REMOTE_ADDR": "203.0.113.7"})  # fmt: skip
    rows = db.session.scalars(select(SignIn).order_by(SignIn.id)).all()
    assert [(r.email, r.event) for r in rows] == [
        (user.email, "sign-in"),
        (user.email, "sign-out"),
        (user.email, "sign-in"),
    ]
    assert rows[-1].address == "203.0.113.7" and rows[-1].user_agent == BROWSER and rows[-1].user_id == user.id
    db.session.refresh(user)
    assert user.last_login_at is not None  # still kept on the account (the staff list shows it)
    changes = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "user")).all()
    assert all("last_login_at" not in entry.changes for entry in changes)
    assert all(entry.action != "update" for entry in changes)


def test_the_sign_in_list_says_who_when_and_from_where(client, auth, db):
    admin = auth.login("admin")
    db.session.add(SignIn(user_id=admin.id, email=admin.email, event="sign-in", address="198.51.100.4",
                          user_agent=BROWSER, at=datetime(2026, 12, 1, 5, 17, 24, 590049, tzinfo=UTC)))  # fmt: skip
    db.session.commit()
    page = client.get("/admin/sign_ins/").text
    assert "1 Dec 2026, 05:17 UTC" in page and "198.51.100.4" in page and "Chrome 131 on Linux" in page
    assert "Signed in" in page
    assert not RAW_TIME.search(visible_text(page))
    filtered = client.get("/admin/sign_ins/?flt0_2=2026-12-01&flt1_3=2026-12-01").text
    assert "198.51.100.4" in filtered
    assert "198.51.100.4" not in client.get("/admin/sign_ins/?flt0_2=2026-12-02").text


def test_a_browser_is_named_from_its_user_agent():
    assert browser_summary(BROWSER) == "Chrome 131 on Linux"
    firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
    assert browser_summary(firefox) == "Firefox 133 on Windows"
    safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML) Version/17.5 Safari/605.1.15"
    assert browser_summary(safari) == "Safari 17 on macOS"
    assert browser_summary("") == "–"


def _many_entries(db, count: int, actor: str = "cli: test", entity: str = "product", at=None):
    at = at or datetime(2026, 12, 1, 5, 17, tzinfo=UTC)
    db.session.execute(
        AuditEntry.__table__.insert(),
        [{"at": at + timedelta(minutes=n), "actor": actor, "action": "update", "entity": entity, "entity_id": n + 1,
          "label": f"{entity} {n}", "changes": {"name": ["a", "b"], "price_cents": [100, 200]}}
         for n in range(count)],
    )  # fmt: skip
    db.session.commit()


def test_the_log_comes_a_page_at_a_time_one_line_per_change(client, auth, db):
    auth.login("admin")
    _many_entries(db, 120)
    first = client.get("/admin/audit/").text
    assert log_rows(first) == 50
    assert "name, price" in first  # which fields changed; the values are on the entry's page
    assert "$1.00" not in first
    total = _entries(db)  # the 120 and the test user's creation
    assert log_rows(client.get("/admin/audit/?page=1").text) == 50
    assert log_rows(client.get("/admin/audit/?page=2").text) == total - 100  # pages count from 0
    assert log_rows(client.get("/admin/audit/?page_size=20").text) == 20


def test_the_log_filters_by_person_model_action_and_day(client, auth, db):
    admin = auth.login("admin")
    marketing = auth._make_user("marketing", email="mara@staff.test")
    _many_entries(db, 3, entity="product", at=datetime(2020, 11, 30, 9, tzinfo=UTC))
    _many_entries(db, 2, entity="lot", at=datetime(2020, 12, 1, 23, tzinfo=UTC))
    deleted_at = datetime(2020, 12, 2, 9, tzinfo=UTC)
    db.session.add(AuditEntry(user_id=marketing.id, actor=marketing.email, action="delete", entity="donor",
                              entity_id=9, label="D-0009", changes={}, at=deleted_at))  # fmt: skip
    db.session.commit()
    page = client.get("/admin/audit/").text
    # The filters offer people and models by name, read when the page is drawn.
    assert "mara@staff.test" in page and admin.email in page and '"Staff account"' in page
    assert log_rows(client.get(f"/admin/audit/?flt0_0={marketing.id}").text) == 1
    assert log_rows(client.get("/admin/audit/?flt0_1=lot").text) == 2
    assert log_rows(client.get("/admin/audit/?flt0_2=delete").text) == 1
    # Days are whole UTC days: "up to 1 Dec" includes 23:00 that day; the accounts were made today.
    assert log_rows(client.get("/admin/audit/?flt0_3=2020-12-01&flt1_4=2020-12-01").text) == 2
    assert log_rows(client.get("/admin/audit/?flt0_3=2020-12-01&flt1_4=2020-12-02").text) == 3
    assert log_rows(client.get("/admin/audit/?flt0_4=2020-11-30").text) == 3
    assert log_rows(client.get("/admin/audit/?flt0_3=2020-12-03").text) == 2


def test_filters_with_junk_are_skipped_with_a_message_never_a_500(client, auth, db):
    auth.login("admin")
    _many_entries(db, 2)
    total = _entries(db)
    for query in ("flt0_0=abc", "flt0_0=99999999999999999999", "flt0_1=no_such_model", "flt0_2=explode",
                  "flt0_3=yesterday", "flt0_3=2026-13-45", "flt0_5=1e99", "flt0_3=%00"):  # fmt: skip
        response = client.get(f"/admin/audit/?{query}")
        assert response.status_code in (200, 400), query
        if response.status_code == 200:
            assert log_rows(response.text) == total, query  # the bad filter was not applied


def test_an_entry_shows_each_field_before_and_after_as_people_read_them(client, auth, db):
    auth.login("admin")
    published = datetime(2026, 12, 1, 5, 17, 24, 590049, tzinfo=UTC)
    entry = AuditEntry(actor="mara@staff.test", action="update", entity="post", entity_id=4, label="CAR-T basics",
                       changes={"published_at": [None, published.isoformat()], "price_cents": [110_000, 111_100],
                                "featured": [False, True], "password_hash": "(changed)"})  # fmt: skip
    db.session.add(entry)
    db.session.commit()
    rows = {row["field"]: (row["before"], row["after"]) for row in diff_rows(entry)}
    assert rows == {
        "Published at": ("–", "1 Dec 2026, 05:17 UTC"),
        "Price": ("$1,100.00", "$1,111.00"),
        "Featured": ("No", "Yes"),
        "Password hash": ("(hidden)", "(changed)"),
    }
    page = client.get(f"/admin/audit/details/?id={entry.id}").text
    assert "<ins>1 Dec 2026, 05:17 UTC</ins>" in page and "<del>$1,100.00</del>" in page
    assert "Changed: CAR-T basics" in page
    assert not RAW_TIME.search(visible_text(page))
    history = re.search(r'href="([^"]+)">Every change to this record', page)[1].replace("&amp;", "&")
    other = AuditEntry(actor="x", action="update", entity="post", entity_id=5, label="Other", changes={"a": [1, 2]})
    db.session.add(other)
    db.session.commit()
    listing = client.get(history).text
    assert "CAR-T basics" in listing and "Other" not in listing


def test_created_rows_are_named_even_when_the_model_has_no_name(db):
    lot = LotFactory()
    db.session.commit()
    allele = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "lot")).one()
    assert allele.label == str(lot)
    entry = AuditEntry(actor="x", action="create", entity="donor_allele", entity_id=3,
                       label="<DonorAllele (pending 139853675250640)>", changes={"allele": "A*02:01"})  # fmt: skip
    from shop.admin.audit_log import record_name

    assert record_name(entry) == "Donor HLA allele #3"
    assert change_summary(entry) == "1 field"


def test_every_change_of_a_product_is_logged_with_its_fields(client, auth, db):
    ProductFactory(name="Before")
    db.session.commit()
    created = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "product")).one()
    assert "description_html" not in created.changes and created.changes["name"] == "Before"


def _entries(db, **where) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).filter_by(**where))


def test_the_migration_moves_logged_sign_ins_into_the_sign_in_list(app, db, committing_db, make_user):
    user = make_user("admin", email="old@staff.test")
    db.session.execute(audit.SignIn.__table__.delete())
    db.session.execute(AuditEntry.__table__.delete())
    signed = "2026-11-30T08:01:02.123456+00:00"
    db.session.execute(
        AuditEntry.__table__.insert(),
        [
            {"at": datetime(2026, 11, 30, 8, 1, 3, tzinfo=UTC), "actor": user.email, "action": "update",
             "entity": "user", "entity_id": user.id, "label": user.email,
             "changes": {"last_login_at": ["2026-11-29T07:00:00+00:00", signed]}},
            {"at": datetime(2026, 11, 30, 9, tzinfo=UTC), "actor": "ada@staff.test", "action": "update",
             "entity": "user", "entity_id": user.id, "label": user.email,
             "changes": {"role": ["sales", "admin"], "last_login_at": [None, signed]}},
        ],
    )  # fmt: skip
    db.session.commit()
    try:
        downgrade(revision="a3c6e9f2b8d4")  # the revision before the sign-in table
        assert _entries(db, entity="user") == 2
        db.session.commit()
        upgrade()
        rows = db.session.execute(text("SELECT email, event, user_id, at FROM sign_in")).all()
        assert [(r.email, r.event, r.user_id) for r in rows] == [(user.email, "sign-in", user.id)]
        assert str(rows[0].at).startswith("2026-11-30 08:01:02")
        # The entry that also changed the role stays: it is a change.
        assert _entries(db, entity="user") == 1
        db.session.commit()
        downgrade(revision="a3c6e9f2b8d4")  # the revision before the sign-in table
        assert _entries(db, entity="user") == 2  # back as it was, the sign-in as an entry again
        db.session.commit()
    finally:
        db.session.rollback()
        upgrade()


def test_no_raw_timestamps_in_back_office_lists(client, auth, db):
    auth.login("admin")
    ProductFactory()
    LotFactory()
    post = Post(title="Timed", slug="timed", body="Body", body_html="<p>Body</p>", author_name="A", status="published",
                published_at=datetime(2026, 12, 1, 7, 0, 58, 853818, tzinfo=UTC))  # fmt: skip
    db.session.add(post)
    db.session.commit()
    for path in ("/admin/audit/", "/admin/sign_ins/", "/admin/users/", "/admin/outbox/", "/admin/subscribers/",
                 "/admin/posts/", f"/admin/posts/{post.id}/revisions", "/admin/lot/", "/admin/product/",
                 f"/admin/users/details/?id={auth._make_user('sales').id}"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200, path
        assert not RAW_TIME.search(visible_text(response.text)), (path, RAW_TIME.search(visible_text(response.text)))
    assert "1 Dec 2026, 07:00 UTC" in client.get("/admin/posts/").text
