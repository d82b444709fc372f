"""Build the shop's app on a bench database, the way ``gunicorn app:app`` builds it from DATABASE_URL."""

import os
import secrets
import sys

from bench import DATA_DIR, ROOT

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# What a production app must be given (shop.config.check_deployment): a secret of this run, and its host.
SERVER_SETTINGS = {"SECRET_KEY": secrets.token_hex(32), "TRUSTED_HOSTS": "127.0.0.1,localhost"}


def normalise_url(url: str) -> str:
    """The URL as shop.config reads DATABASE_URL: postgres(ql):// means psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def sqlite_url(products: int, posts: int) -> str:
    """The bench SQLite file for these sizes (one file per size, so small test runs keep the big one)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DATA_DIR / f'cellshop-{products}p-{posts}posts.db'}"


def make_app(url: str):
    """The shop's app (its production Config) with the database at ``url``."""
    url = normalise_url(url)
    os.environ["DATABASE_URL"] = url
    from shop import create_app
    from shop.config import Config

    # Config read DATABASE_URL when it was first imported; a subclass lets one process use two databases.
    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": SERVER_SETTINGS["SECRET_KEY"],
        "TRUSTED_HOSTS": SERVER_SETTINGS["TRUSTED_HOSTS"].split(","),
        # Generating 100,000 products runs statements longer than a page's limit.
        "DATABASE_STATEMENT_TIMEOUT_MS": 0,
        "MIGRATIONS": True,  # the bench migrates its databases in process
    }
    return create_app(type("BenchConfig", (Config,), settings))


def hide_password(url: str) -> str:
    """The URL without its password, for printing and results."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
