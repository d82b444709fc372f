"""The health check's read: a real table, within a short timeout, on SQLite or PostgreSQL."""

from sqlalchemy import text

from shop.extensions import db

# Every database the app runs on was built by the migrations, so this table is always there.
HEALTH_QUERY = text("SELECT version_num FROM alembic_version")


def read_schema_version(timeout_ms: int, sqlite_busy_timeout_ms: int) -> str | None:
    """The database's migration revision, read within ``timeout_ms``; raises the driver's error otherwise.

    ``SELECT 1`` touches no table, so it answered while another writer held SQLite's lock and every
    page waited out the busy timeout. Reading a table waits for that lock like a page does, but briefly.
    """
    if db.engine.dialect.name == "postgresql":
        # SET LOCAL, with a bind parameter: the setting ends with this transaction.
        db.session.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(int(timeout_ms))})
        return db.session.scalar(HEALTH_QUERY)
    if db.engine.dialect.name == "sqlite":
        # The busy timeout is the connection's; give it back before the pool hands the connection on.
        db.session.execute(text(f"PRAGMA busy_timeout = {int(timeout_ms)}"))
        try:
            return db.session.scalar(HEALTH_QUERY)
        finally:
            db.session.execute(text(f"PRAGMA busy_timeout = {int(sqlite_busy_timeout_ms)}"))
    return db.session.scalar(HEALTH_QUERY)
