"""Data migrations: rows saved before a migration come out as the code now writes them."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from shop.blog.models import Post

NEW_TABLE = (
    '<table><thead><tr><th class="align-left">Marker</th><th class="align-center">Cells</th>'
    '<th class="align-right">%</th></tr></thead></table><p>a style=&quot;text-align:left&quot; example</p>'
)
OLD_TABLE = NEW_TABLE.replace('class="align-', 'style="text-align:')


def _stored_body(db) -> str:
    return db.session.execute(text("SELECT body_html FROM post WHERE slug = 't'")).scalar_one()


def test_stored_post_tables_lose_their_style_attributes(app, db, committing_db):
    """A post body saved before the CSP (style="text-align") gets alignment classes, and back on downgrade."""
    db.session.add(Post(title="T", slug="t", body="", body_html=NEW_TABLE, author_name="A"))
    db.session.commit()
    try:
        downgrade(revision="c3e8a1f5d720")
        assert _stored_body(db) == OLD_TABLE
        db.session.commit()
        upgrade()
        # Prose that quotes the attribute is escaped by the renderer, so it is left alone.
        assert _stored_body(db) == NEW_TABLE
    finally:
        db.session.rollback()
        upgrade()


def test_publish_times_lose_their_fraction_of_a_second(app, db, committing_db):
    """A post published before times were stored to the second ("Publish now" kept microseconds) is cut to it."""
    from datetime import UTC, datetime

    published = datetime(2026, 12, 1, 7, 0, 58, 853818, tzinfo=UTC)
    db.session.add(Post(title="T", slug="t", body="", body_html="", author_name="A", status="published",
                        published_at=published))  # fmt: skip
    db.session.commit()
    try:
        downgrade(revision="a7d3e9c1b5f2")
        db.session.execute(text("UPDATE post SET published_at = :at WHERE slug = 't'"), {"at": published})
        db.session.commit()
        upgrade()
        db.session.expire_all()
        stored = db.session.scalar(text("SELECT id FROM post WHERE slug = 't'"))
        assert db.session.get(Post, stored).published_at == published.replace(microsecond=0)
    finally:
        db.session.rollback()
        upgrade()


def test_the_pages_tables_come_and_go_with_their_migration(app, db, committing_db):
    """Downgrading past the pages migration drops its tables and its clock; upgrading brings them back."""
    from sqlalchemy import inspect

    try:
        downgrade(revision="a1c4e7b2d913")  # the revision before the pages tables
        assert "page" not in inspect(db.engine).get_table_names()
        assert not db.session.execute(text("SELECT 1 FROM content_clock WHERE area = 'pages'")).all()
        db.session.commit()
        upgrade()
        assert {"page", "page_revision"} <= set(inspect(db.engine).get_table_names())
        assert db.session.execute(text("SELECT changes FROM content_clock WHERE area = 'pages'")).scalar() == 1
    finally:
        db.session.rollback()
        upgrade()


def test_lots_in_stock_count_as_arrived_from_the_migration_and_the_alert_tables_come_and_go(app, db, committing_db):
    """725c3a2ac5ed notes when each lot in stock entered it (from the migration: it is not known), none for the
    others; 70696ddcb8b0's tables go on a downgrade and come back."""
    from sqlalchemy import inspect

    from tests.factories import LotFactory

    LotFactory(lot_number="2601-D00001-01", units_available=3)
    LotFactory(lot_number="2601-D00002-01", units_available=0)
    db.session.commit()
    try:
        downgrade(revision="e7b2d5a9c3f1")  # before both
        assert "donor_alert" not in inspect(db.engine).get_table_names()
        assert "entered_stock_at" not in {c["name"] for c in inspect(db.engine).get_columns("lot")}
        db.session.commit()
        upgrade()
        rows = db.session.execute(text("SELECT lot_number, entered_stock_at FROM lot ORDER BY lot_number")).all()
        noted = [(number, at is not None) for number, at in rows]
        assert noted == [("2601-D00001-01", True), ("2601-D00002-01", False)]
        tables = set(inspect(db.engine).get_table_names())
        assert {"alert_filter", "alert_address", "donor_alert", "alert_consent", "alert_delivery"} <= tables
    finally:
        db.session.rollback()
        upgrade()
