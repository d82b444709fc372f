"""Configuration read from the environment, with a test variant."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"


def _database_url(default: str) -> str:
    """Return DATABASE_URL, accepting the bare ``postgresql://`` scheme too."""
    url = os.environ.get("DATABASE_URL", default)
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; SQLAlchemy's default would be psycopg2.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


class Config:
    """Settings for running the shop; every secret comes from the environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE_DIR / 'cellshop.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # Forms and uploads are small; anything bigger is refused with a 413 page.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 16 * 1024 * 1024))
    # Werkzeug refuses text fields over 500 kB with a bare 413; a post body that is too
    # long should instead come back in the form with a message (see PostForm.validate_body).
    MAX_FORM_MEMORY_SIZE = 4 * 1024 * 1024
    SITE_NAME = os.environ.get("SITE_NAME", "CellShop")
    # Absolute base for canonical links, the sitemap and feeds, e.g. https://shop.example.
    # Empty means "the host the request came to".
    CONTACT_EMAIL = os.environ.get("CONTACT_EMAIL", "sales@cellshop.example")
    SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
    PRODUCTS_PER_PAGE = 24
    POSTS_PER_PAGE = 10
    REDIS_URL = os.environ.get("REDIS_URL", "")
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    CACHE_TYPE = "RedisCache" if REDIS_URL else "SimpleCache"
    CACHE_REDIS_URL = REDIS_URL
    # A stalled Redis must not hold a page: give up on it after a second, serve uncached, and
    # leave the store alone for CACHE_RETRY_AFTER seconds before trying again (shop/cache_store.py).
    CACHE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1} if REDIS_URL else {}
    CACHE_RETRY_AFTER = 30
    CACHE_DEFAULT_TIMEOUT = 600
    # Pages kept per process by SimpleCache: each is kept gzipped, 3-13 kB, so 2,000 is ~10 MB at most.
    CACHE_THRESHOLD = 2000
    # Seconds a process reuses the content stamp before reading it again: a cached page then costs no SQL.
    # Another process's save shows within this time; this process's own saves show at once.
    CONTENT_STAMP_TTL = float(os.environ.get("CONTENT_STAMP_TTL", 2))
    # Searches whose matches the catalog's facet index keeps (16-80 kB each on 100,000 products).
    CATALOG_SEARCH_CACHE_SIZE = 128
    CACHE_KEY_PREFIX = "cellshop:"
    # How long browsers may reuse a public page before asking again (with its ETag).
    PUBLIC_PAGE_MAX_AGE = int(os.environ.get("PUBLIC_PAGE_MAX_AGE", 60))
    RATELIMIT_HEADERS_ENABLED = True
    # Sign-in attempts per account and per client address, counted before the password is checked;
    # a right password clears its account's count (shop/accounts/views.py says why).
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per 15 minutes")
    # Staff sessions end after this many hours without a request (see shop/accounts/sessions.py).
    STAFF_SESSION_IDLE_HOURS = float(os.environ.get("STAFF_SESSION_IDLE_HOURS", 8))
    UPLOAD_FOLDER = Path(os.environ.get("UPLOAD_FOLDER", INSTANCE_DIR / "uploads"))
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "").lower() in {"1", "true", "yes"}
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Behind a reverse proxy: how many proxies set X-Forwarded-For / -Proto / -Host (0: none, the
    # default, so a client cannot fake its address for the rate limits). See shop/security_headers.py.
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR") or 0)
    PROXY_FIX_X_PROTO = int(os.environ.get("PROXY_FIX_X_PROTO") or 0)
    PROXY_FIX_X_HOST = int(os.environ.get("PROXY_FIX_X_HOST") or 0)


class TestConfig(Config):
    """Settings for the test suite: the database comes from TEST_DATABASE_URL."""

    TESTING = True
    SECRET_KEY = "test"
    WTF_CSRF_ENABLED = False
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    SQLALCHEMY_ENGINE_OPTIONS = {}
    RATELIMIT_STORAGE_URI = "memory://"
    CACHE_TYPE = "NullCache"  # tests see fresh pages; tests/test_page_cache.py turns it on
    CONTENT_STAMP_TTL = 0  # tests change rows behind the app's back and look at once
