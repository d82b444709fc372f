"""Flask extensions, created unbound and bound to the app in ``create_app``."""

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mailman import Mail
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from shop.cache_store import ResilientCache

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
login_manager = LoginManager()
# Builds and delivers the outbox's messages (SMTP or .eml files, see shop/mail/delivery.py); nothing else uses it.
mail = Mail()
# CACHE_TYPE: SimpleCache (this process) by default, RedisCache when REDIS_URL is set.
# A store that is down makes pages uncached, not failed (see shop/cache_store.py).
cache = ResilientCache()
# Storage comes from RATELIMIT_STORAGE_URI: memory by default, Redis when REDIS_URL is set.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@limiter.request_filter
def reads_are_never_limited() -> bool:
    """GET and HEAD are exempt before any limit is looked up: every limit the shop sets is on POST (a test
    holds each to that), and looking them up was an eighth of a cached page's time in the process."""
    return request.method in ("GET", "HEAD")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Make SQLite enforce foreign keys, as PostgreSQL does (its lock wait is SQLITE_BUSY_TIMEOUT_MS, in config)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
