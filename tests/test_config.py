"""Starting up: production refuses a missing or published secret and a missing host; development makes its own."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from shop import create_app
from shop.accounts.models import User
from shop.config import Config, ConfigurationError

ROOT = Path(__file__).resolve().parent.parent
GOOD_SECRET = "c0ffee" * 11  # 66 characters nobody has published (outside this test)
OLD_DEVELOPMENT_SECRET = "dev-only-not-secret"


def production(database_url: str, **settings) -> type:
    """A production Config (SHOP_ENV unset means production) with ``settings`` on top."""
    values = {"SHOP_ENV": "production", "SQLALCHEMY_DATABASE_URI": database_url, "SITE_URL": "", "TRUSTED_HOSTS": None}
    return type("ProductionConfig", (Config,), {**values, **settings})


def development(database_url: str, secret_file: Path, **settings) -> type:
    """The Config ``make run`` gets (SHOP_ENV=development), keeping its secret in ``secret_file``."""
    values = {"SHOP_ENV": "development", "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY_FILE": secret_file}
    return type("DevelopmentConfig", (Config,), {**values, **settings})


def forged_session_cookie(user_id: int, secret: str = OLD_DEVELOPMENT_SECRET) -> str:
    """A Flask session cookie saying ``user_id`` is signed in, signed with ``secret``."""
    forger = Flask("forger")
    forger.secret_key = secret
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    return serializer.dumps({"_user_id": str(user_id), "_fresh": True})


def test_production_without_a_secret_refuses_to_start_saying_why(database_url):
    with pytest.raises(ConfigurationError) as refused:
        create_app(production(database_url, SECRET_KEY=None, SITE_URL="https://shop.example"))
    message = str(refused.value)
    assert message.startswith("SECRET_KEY is not set")
    assert "\n" not in message


@pytest.mark.parametrize("secret", [OLD_DEVELOPMENT_SECRET, "test", "changeme", "x" * 31, ""])
def test_production_refuses_a_published_or_short_secret(database_url, secret):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(production(database_url, SECRET_KEY=secret, SITE_URL="https://shop.example"))


def test_production_requires_site_url_or_trusted_hosts(database_url):
    with pytest.raises(ConfigurationError, match="SITE_URL or TRUSTED_HOSTS must be set"):
        create_app(production(database_url, SECRET_KEY=GOOD_SECRET))
    with pytest.raises(ConfigurationError, match="SITE_URL must be an absolute URL"):
        create_app(production(database_url, SECRET_KEY=GOOD_SECRET, SITE_URL="shop.example"))
    assert create_app(production(database_url, SECRET_KEY=GOOD_SECRET, SITE_URL="https://shop.example"))
    assert create_app(production(database_url, SECRET_KEY=GOOD_SECRET, TRUSTED_HOSTS=["shop.example"]))


def test_gunicorn_app_module_refuses_to_load_without_a_secret(tmp_path):
    # What `gunicorn app:app` imports, with nothing set: it used to start silently on the published secret.
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "SHOP_ENV", "SITE_URL", "TRUSTED_HOSTS"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'shop.db'}"
    result = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("shop.config.ConfigurationError: SECRET_KEY is not set")


def test_a_cookie_forged_with_the_old_development_secret_opens_nothing(app, db, database_url, tmp_path):
    admin = User(email="admin@staff.test", role="admin")
    admin.set_password("a long admin password")
    db.session.add(admin)
    db.session.commit()
    # Production given the published value refuses to start: there is no app for the cookie to open.
    with pytest.raises(ConfigurationError):
        create_app(production(database_url, SECRET_KEY=OLD_DEVELOPMENT_SECRET, SITE_URL="https://shop.example"))
    # Development (make run, no SECRET_KEY) signs with its own generated secret, so the forgery is refused.
    local = create_app(development(database_url, tmp_path / "secret_key")).test_client()
    local.set_cookie("session", forged_session_cookie(admin.id))
    response = local.get("/admin/users/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_development_generates_its_secret_once_and_reuses_it(database_url, tmp_path):
    secret_file = tmp_path / "instance" / "secret_key"
    first = create_app(development(database_url, secret_file, SECRET_KEY=None))
    second = create_app(development(database_url, secret_file, SECRET_KEY=None))
    assert first.secret_key == second.secret_key == secret_file.read_text().strip()
    assert len(first.secret_key) >= 64 and first.secret_key != OLD_DEVELOPMENT_SECRET
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600


def test_development_keeps_a_secret_it_is_given(database_url, tmp_path):
    app = create_app(development(database_url, tmp_path / "secret_key", SECRET_KEY=GOOD_SECRET))
    assert app.secret_key == GOOD_SECRET
    assert not (tmp_path / "secret_key").exists()


def test_development_trusts_local_hosts_and_the_run_host(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_RUN_HOST", "192.0.2.7")
    app = create_app(development(database_url, tmp_path / "secret_key", TRUSTED_HOSTS=None))
    assert app.config["TRUSTED_HOSTS"] == ["127.0.0.1", "localhost", "192.0.2.7"]
    client = app.test_client()
    assert client.get("/healthz", headers={"Host": "localhost:5000"}).status_code == 200
    refused = client.get("/healthz", headers={"Host": "evil.example"})
    assert refused.status_code == 400
    assert "Bad Request" in refused.text


def test_trusted_hosts_come_from_a_comma_separated_variable():
    from shop.config import _host_list

    assert _host_list(" shop.example, www.shop.example ,,") == ["shop.example", "www.shop.example"]
    assert _host_list("") is None


def test_database_timeouts_reach_the_driver(database_url):
    app = create_app(production(database_url, SECRET_KEY=GOOD_SECRET, SITE_URL="https://shop.example"))
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    connect_args = options["connect_args"]
    assert options["pool_pre_ping"] is True
    if database_url.startswith("postgresql"):
        assert options["pool_timeout"] == 5
        assert connect_args["connect_timeout"] == 5
        assert connect_args["options"] == "-c statement_timeout=15000"
    else:
        assert connect_args["timeout"] == 5.0


def test_a_web_worker_loads_no_migration_tool_and_the_flask_command_has_it(tmp_path):
    """``import app`` as gunicorn does leaves alembic, Flask-Migrate, YAML and redis unloaded (13 MB of each
    worker's memory); ``flask db`` still migrates, as ``make run`` and a deployment do."""
    env = {
        **os.environ,
        "SECRET_KEY": "k" * 40,
        "TRUSTED_HOSTS": "shop.example",
        "DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
    }
    env.pop("FLASK_RUN_FROM_CLI", None)
    check = (
        "import sys, app; print(sorted(m for m in ('alembic', 'flask_migrate', 'yaml', 'redis') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", check], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stderr
    flask = [sys.executable, "-m", "flask", "--app", "app.py", "db", "upgrade"]
    migrated = subprocess.run(flask, cwd=ROOT, env=env, capture_output=True, text=True)
    assert migrated.returncode == 0, migrated.stderr
    assert "Running upgrade" in migrated.stderr
