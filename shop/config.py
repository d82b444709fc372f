"""Configuration read from the environment, with a test variant; the checks a deployment must pass."""

import os
import secrets
import tempfile
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


def _host_list(value: str) -> list[str] | None:
    """A comma-separated list of host names, or None (Flask's "any host") when empty."""
    hosts = [host.strip() for host in value.split(",") if host.strip()]
    return hosts or None


class Config:
    """Settings for running the shop; every secret comes from the environment."""

    # "development" (make run, flask seed, flask db upgrade via the Makefile) relaxes the checks in
    # check_deployment; anything else is production, which must be given a secret and its host.
    SHOP_ENV = os.environ.get("SHOP_ENV", "production")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # Where development keeps the secret it generates on the first run.
    SECRET_KEY_FILE = INSTANCE_DIR / "secret_key"
    # Host names the app answers for (Flask rejects others with a 400), e.g. "shop.example,www.shop.example".
    TRUSTED_HOSTS = _host_list(os.environ.get("TRUSTED_HOSTS", ""))
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE_DIR / 'cellshop.db'}")
    # Flask-Migrate and its `flask db` commands, for the flask command (which sets FLASK_RUN_FROM_CLI before it
    # loads the app) and code that migrates (the tests, the benchmark). A web worker under gunicorn never
    # migrates and leaves alembic unloaded: 11 MB of its memory.
    MIGRATIONS = os.environ.get("FLASK_RUN_FROM_CLI") == "true"
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # A stalled database must fail a request well before gunicorn's worker timeout (30 s) kills it.
    DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", 5))
    DATABASE_STATEMENT_TIMEOUT_MS = int(os.environ.get("DATABASE_STATEMENT_TIMEOUT_MS", 15_000))  # 0: no limit
    # How long SQLite waits for another writer's lock before "database is locked".
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", 5_000))
    # /healthz gives the database this long to answer a real read.
    HEALTHZ_TIMEOUT_MS = int(os.environ.get("HEALTHZ_TIMEOUT_MS", 1_000))
    # Forms and uploads are small; anything bigger is refused with a 413 page.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 16 * 1024 * 1024))
    # Werkzeug refuses text fields over 500 kB with a bare 413; a post body that is too
    # long should instead come back in the form with a message (see PostForm.validate_body).
    MAX_FORM_MEMORY_SIZE = 4 * 1024 * 1024
    SITE_NAME = os.environ.get("SITE_NAME", "CellShop")
    CONTACT_EMAIL = os.environ.get("CONTACT_EMAIL", "sales@cellshop.example")
    # Shown in the footer and on the pages (About, Shipping ...); lines of the address separated by "|".
    CONTACT_ADDRESS = os.environ.get(
        "CONTACT_ADDRESS", "CellShop Inc.|400 Technology Square, Suite 210|Cambridge, MA 02139|USA"
    )
    CONTACT_PHONE = os.environ.get("CONTACT_PHONE", "+1 617 555 0142")
    CONTACT_HOURS = os.environ.get("CONTACT_HOURS", "Monday to Friday, 8:00–18:00 US Eastern time")
    # Absolute base for canonical links, the sitemap and feeds, e.g. https://shop.example.
    # Empty means "the request's host", which TRUSTED_HOSTS must then vouch for (see check_deployment).
    SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
    # Mail (shop/mail/): every message goes through the outbox table; `flask outbox work` delivers it.
    # SMTP_URL: smtp://host:25 (plain), smtp+starttls://user:password@host:587, smtps://user:password@host:465.
    # Unset: each message is written to MAIL_FOLDER as an .eml file (and shown in the back office).
    SMTP_URL = os.environ.get("SMTP_URL", "")
    SMTP_TIMEOUT = float(os.environ.get("SMTP_TIMEOUT", 20))
    MAIL_FOLDER = Path(os.environ.get("MAIL_FOLDER", INSTANCE_DIR / "mail"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "CellShop <news@cellshop.example>")
    MAIL_REPLY_TO = os.environ.get("MAIL_REPLY_TO", CONTACT_EMAIL)
    # Messages a worker claims at once, and how long its claim lasts before another worker may take them.
    OUTBOX_BATCH_SIZE = int(os.environ.get("OUTBOX_BATCH_SIZE", 50))
    OUTBOX_LEASE_SECONDS = float(os.environ.get("OUTBOX_LEASE_SECONDS", 300))
    # A failed delivery is tried again after 1, 2, 4 ... minutes (at most 6 hours apart), then marked failed.
    OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", 10))
    OUTBOX_RETRY_BASE_SECONDS = float(os.environ.get("OUTBOX_RETRY_BASE_SECONDS", 60))
    OUTBOX_RETRY_MAX_SECONDS = float(os.environ.get("OUTBOX_RETRY_MAX_SECONDS", 6 * 3600))
    # How long an idle worker waits before looking again, and how long sent messages are kept.
    OUTBOX_POLL_SECONDS = float(os.environ.get("OUTBOX_POLL_SECONDS", 2))
    OUTBOX_KEEP_SENT_DAYS = int(os.environ.get("OUTBOX_KEEP_SENT_DAYS", 30))
    # Blog subscriptions (shop/subscriptions/): sign-ups per client address, and e-mails per address typed.
    SUBSCRIBE_LIMIT_PER_ADDRESS = os.environ.get("SUBSCRIBE_LIMIT_PER_ADDRESS", "10 per hour")
    SUBSCRIBE_LIMIT_PER_EMAIL = os.environ.get("SUBSCRIBE_LIMIT_PER_EMAIL", "3 per day")
    SUBSCRIPTION_CONFIRM_DAYS = int(os.environ.get("SUBSCRIPTION_CONFIRM_DAYS", 7))
    # Donor alerts (shop/alerts/): sign-ups per client address, confirmation e-mails per address typed, how long a
    # confirmation link works (unconfirmed alerts are deleted after it) and how many alerts one address may hold.
    ALERT_LIMIT_PER_ADDRESS = os.environ.get("ALERT_LIMIT_PER_ADDRESS", "10 per hour")
    ALERT_LIMIT_PER_EMAIL = os.environ.get("ALERT_LIMIT_PER_EMAIL", "5 per day")
    ALERT_CONFIRM_DAYS = int(os.environ.get("ALERT_CONFIRM_DAYS", 7))
    ALERTS_PER_EMAIL = int(os.environ.get("ALERTS_PER_EMAIL", 20))
    # The weekly digest goes out on this weekday (0 = Monday) from this hour (UTC) on.
    DIGEST_WEEKDAY = int(os.environ.get("DIGEST_WEEKDAY", 0))
    DIGEST_HOUR_UTC = int(os.environ.get("DIGEST_HOUR_UTC", 8))
    # Payments (shop/payments/): without a secret key the shop sells by quotation only (no cart, no pay
    # buttons). With one, STRIPE_WEBHOOK_SECRET (whsec_...) is required: it proves an event came from Stripe.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    # Where the stripe library sends its API calls (tests and staging point it at another server).
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "https://api.stripe.com").rstrip("/")
    # The checkout form posts here on its way to Stripe's payment page (the page's form-action allows it).
    STRIPE_CHECKOUT_ORIGIN = os.environ.get("STRIPE_CHECKOUT_ORIGIN", "https://checkout.stripe.com").rstrip("/")
    STRIPE_TIMEOUT = float(os.environ.get("STRIPE_TIMEOUT", 10))
    # How long a Checkout Session stays open, holding its units (Stripe allows 30 minutes to 24 hours).
    CHECKOUT_HOLD_MINUTES = int(os.environ.get("CHECKOUT_HOLD_MINUTES", 30))
    # Inquiries (shop/inquiries/): where sales notices go (and notices of paid orders), inquiries per client
    # address and per e-mail typed.
    SALES_EMAIL = os.environ.get("SALES_EMAIL", CONTACT_EMAIL)
    INQUIRY_LIMIT_PER_ADDRESS = os.environ.get("INQUIRY_LIMIT_PER_ADDRESS", "10 per hour")
    INQUIRY_LIMIT_PER_EMAIL = os.environ.get("INQUIRY_LIMIT_PER_EMAIL", "5 per day")
    # A quote is valid this many days unless sales choose another date.
    QUOTE_VALID_DAYS = int(os.environ.get("QUOTE_VALID_DAYS", 30))
    PRODUCTS_PER_PAGE = 24
    POSTS_PER_PAGE = 10
    REDIS_URL = os.environ.get("REDIS_URL", "")
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    # Redis down or stalled: keep limiting in this process's memory (Flask-Limiter logs the switch)
    # rather than failing sign-ins, and give up on a silent Redis within a second.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1} if REDIS_URL else {}
    # CACHE_TYPE=NullCache turns the page cache off (the benchmark's --no-page-cache: every page a miss).
    CACHE_TYPE = os.environ.get("CACHE_TYPE") or ("RedisCache" if REDIS_URL else "SimpleCache")
    CACHE_REDIS_URL = REDIS_URL
    # A stalled Redis must not hold a page: give up on it after a second, serve uncached, and
    # leave the store alone for CACHE_RETRY_AFTER seconds before trying again (shop/cache_store.py).
    CACHE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1} if REDIS_URL else {}
    CACHE_RETRY_AFTER = 30
    CACHE_DEFAULT_TIMEOUT = 600
    # Pages kept per process by SimpleCache: each is kept gzipped, 3-13 kB, so 2,000 is ~10 MB at most.
    CACHE_THRESHOLD = 2000
    # Seconds a process reuses its reading of the content clocks: a cached page then costs no SQL.
    # Another process's save shows within this time; this process's own saves show at once.
    CONTENT_STAMP_TTL = float(os.environ.get("CONTENT_STAMP_TTL", 2))
    # Seconds within which lists (the catalog, home, search) show a lot entering or leaving stock while
    # stock changes often; the first change after a quiet spell shows at once, and a product's own page,
    # units included, always within CONTENT_STAMP_TTL. 0: lists are drawn again after every such change.
    CATALOG_LIST_STOCK_LAG = float(os.environ.get("CATALOG_LIST_STOCK_LAG", 10))
    # Searches whose matches the catalog's facet index keeps (16-80 kB each on 100,000 products).
    CATALOG_SEARCH_CACHE_SIZE = 128
    # A catalog change other than of stock builds a new facet index in a background thread while requests
    # keep the old one (shop/catalog/index.py); False builds it in the request that notices the change.
    CATALOG_INDEX_BACKGROUND_BUILD = True
    # Stock changes of at most this many products are applied to the index in place; more build a new one.
    CATALOG_INDEX_FOLLOW_LIMIT = int(os.environ.get("CATALOG_INDEX_FOLLOW_LIMIT", 500))
    # Seconds the stock-change log keeps its rows (shop/catalog/stock_log.py); a process that has not
    # followed it for nearly that long builds a new index instead.
    CATALOG_STOCK_LOG_KEEP = int(os.environ.get("CATALOG_STOCK_LOG_KEEP", 3600))
    CACHE_KEY_PREFIX = "cellshop:"
    # Diagnostic headers for the benchmark: X-Page-Cache (hit or miss) on cached public pages, and
    # X-Catalog-Index (this process's index builds and in-place stock updates) on catalog pages.
    PAGE_CACHE_DIAGNOSTICS = os.environ.get("PAGE_CACHE_DIAGNOSTICS", "").lower() in {"1", "true", "yes"}
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
    MIGRATIONS = True
    SHOP_ENV = "test"
    SECRET_KEY = "test"
    TRUSTED_HOSTS = None  # the test client's "localhost", and the hosts tests send on purpose
    WTF_CSRF_ENABLED = False
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    SQLALCHEMY_ENGINE_OPTIONS = {}
    # Tests send 40 requests at once to a live server with a pool of 15 connections: on a loaded machine a
    # request may wait longer than production's 5 s for one, which is slowness, not the failure under test.
    DATABASE_CONNECT_TIMEOUT = 60
    RATELIMIT_STORAGE_URI = "memory://"
    CACHE_TYPE = "NullCache"  # tests see fresh pages; tests/test_page_cache.py turns it on
    CONTENT_STAMP_TTL = 0  # tests change rows behind the app's back and look at once
    CATALOG_LIST_STOCK_LAG = 0
    # A test's requests share one connection no other thread may use; the tests of background builds
    # turn this on with committing_db.
    CATALOG_INDEX_BACKGROUND_BUILD = False
    SMTP_URL = ""
    MAIL_FOLDER = Path(tempfile.mkdtemp(prefix="cellshop-test-mail-"))  # never the worktree's instance/mail
    OUTBOX_RETRY_BASE_SECONDS = 0  # a failed delivery is due again at once; tests check the growth, not the wait


class ConfigurationError(RuntimeError):
    """The app refuses to start: the message says, in one line, what to set and why."""


# The old development default (published in this repository) and common placeholders: anyone can sign with them.
KNOWN_WEAK_SECRETS = {"dev-only-not-secret", "test", "secret", "changeme", "change-me", "dev"}
MIN_SECRET_LENGTH = 32
DEVELOPMENT_HOSTS = ["127.0.0.1", "localhost"]


def check_deployment(config: dict) -> None:
    """Fill in development's secret and hosts, and refuse to run production without its own."""
    environment = config.get("SHOP_ENV")
    _check_stripe(config.get("STRIPE_SECRET_KEY"), config.get("STRIPE_WEBHOOK_SECRET"))
    if environment == "development":
        config["SECRET_KEY"] = config.get("SECRET_KEY") or development_secret(Path(config["SECRET_KEY_FILE"]))
        config["TRUSTED_HOSTS"] = config.get("TRUSTED_HOSTS") or _development_hosts()
    elif environment != "test":
        _check_secret(config.get("SECRET_KEY"))
        _check_site(config.get("SITE_URL"), config.get("TRUSTED_HOSTS"))


def _check_secret(secret: str | None) -> None:
    """Production needs a secret nobody else knows: it signs sessions, so it grants staff access."""
    how = 'set SECRET_KEY to a long random value, e.g. python -c "import secrets; print(secrets.token_hex(32))"'
    if not secret:
        raise ConfigurationError(
            f"SECRET_KEY is not set: it signs staff sessions; {how} (or SHOP_ENV=development for a local run)"
        )
    if secret in KNOWN_WEAK_SECRETS or len(secret) < MIN_SECRET_LENGTH:
        raise ConfigurationError(
            f"SECRET_KEY is a published or short value (under {MIN_SECRET_LENGTH} characters): "
            f"anyone could forge a staff session with it; {how}"
        )


def _check_stripe(secret_key: str | None, webhook_secret: str | None) -> None:
    """With payments on, events must be verifiable: an unsigned webhook could mark any order paid."""
    if secret_key and not webhook_secret:
        raise ConfigurationError(
            "STRIPE_WEBHOOK_SECRET is not set but STRIPE_SECRET_KEY is: the webhook could not tell Stripe's events "
            "from forged ones; set it to the endpoint's signing secret (whsec_...) from Stripe's dashboard, or unset "
            "STRIPE_SECRET_KEY to sell by quotation only"
        )


def _check_site(site_url: str | None, trusted_hosts: list[str] | None) -> None:
    """Production needs its own address: absolute links must never come from a visitor's Host header."""
    if site_url and not site_url.startswith(("https://", "http://")):
        raise ConfigurationError(f"SITE_URL must be an absolute URL such as https://shop.example, not {site_url!r}")
    if not site_url and not trusted_hosts:
        raise ConfigurationError(
            "SITE_URL or TRUSTED_HOSTS must be set (e.g. SITE_URL=https://shop.example): links, feeds and the "
            "sitemap must not be built from whatever Host header a visitor sends"
        )


def _development_hosts() -> list[str]:
    """Local names, plus the address ``make run`` binds (FLASK_RUN_HOST) when it is another."""
    run_host = os.environ.get("FLASK_RUN_HOST", "")
    return DEVELOPMENT_HOSTS + ([run_host] if run_host and run_host not in DEVELOPMENT_HOSTS else [])


def development_secret(path: Path) -> str:
    """The secret ``make run`` uses: generated once into the instance folder (mode 0600), then reused."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            # link() fails if another process got there first; then both use the file it wrote.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def database_engine_options(config: dict) -> dict:
    """Engine options with the connect, statement and lock timeouts for the configured database."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    url = config["SQLALCHEMY_DATABASE_URI"]
    connect_args = dict(options.get("connect_args") or {})
    if url.startswith("postgresql"):
        # Waiting for a free pooled connection is waiting to connect too (SQLAlchemy's default is 30 s).
        options.setdefault("pool_timeout", config["DATABASE_CONNECT_TIMEOUT"])
        connect_args.setdefault("connect_timeout", config["DATABASE_CONNECT_TIMEOUT"])
        connect_args.setdefault("options", f"-c statement_timeout={config['DATABASE_STATEMENT_TIMEOUT_MS']}")
    elif url.startswith("sqlite"):
        connect_args.setdefault("timeout", config["SQLITE_BUSY_TIMEOUT_MS"] / 1000)
    options["connect_args"] = connect_args
    return options
