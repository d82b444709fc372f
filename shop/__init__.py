"""CellShop: the application factory."""

from pathlib import Path

from flask import Flask

from shop.config import Config, check_deployment, database_engine_options


def create_app(config: object | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, errors and commands."""
    app = Flask(__name__, template_folder="../templates", static_folder="../static", instance_relative_config=True)
    app.config.from_object(config or Config)
    # Production refuses to start without its own secret and host (ConfigurationError says which).
    check_deployment(app.config)
    # The default SQLite database, uploads and demo logins live here.
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    register_request_guards(app)
    register_extensions(app)
    register_blueprints(app)
    register_content_clocks(app)
    register_audit_log(app)
    register_template_helpers(app)
    register_errors(app)
    register_page_cache_shortcut(app)
    register_security_headers(app)
    register_commands(app)
    return app


def register_request_guards(app: Flask) -> None:
    """Refuse control characters and out-of-range ids before any other hook, view or query sees them."""
    from shop import request_guards

    request_guards.init_app(app)


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions of ``shop.extensions`` to this app."""
    from shop.extensions import cache, csrf, db, limiter, login_manager
    from shop.mail import delivery as mail_delivery

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = database_engine_options(app.config)
    db.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)
    if app.config["MIGRATIONS"]:  # not in a web worker (see Config.MIGRATIONS)
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True)
    csrf.init_app(app)
    mail_delivery.init_app(app)  # Flask-Mailman, configured from SMTP_URL or MAIL_FOLDER


def register_blueprints(app: Flask) -> None:
    """Mount every feature's blueprint."""
    from shop.accounts.views import bp as accounts_bp
    from shop.admin import init_admin
    from shop.alerts import init_app as init_alerts
    from shop.alerts.views import bp as alerts_bp
    from shop.blog.views import bp as blog_bp
    from shop.catalog.views import bp as catalog_bp
    from shop.inquiries import init_app as init_inquiries
    from shop.inquiries.views import bp as inquiries_bp
    from shop.main import bp as main_bp
    from shop.pages import init_app as init_pages
    from shop.payments import init_app as init_payments
    from shop.payments.views import bp as payments_bp
    from shop.subscriptions import init_app as init_subscriptions
    from shop.subscriptions.views import bp as subscriptions_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(blog_bp)
    app.register_blueprint(subscriptions_bp)
    app.register_blueprint(inquiries_bp)
    init_inquiries(app)  # the quote-expiry round for the outbox worker; flask inquiries expire
    init_subscriptions(app)  # listens to the blog's publish signal; gives the outbox worker its jobs
    app.register_blueprint(alerts_bp)
    init_alerts(app)  # the worker notes lots that arrive and mails the donor alerts waiting for them
    if app.config.get("STRIPE_SECRET_KEY"):  # without Stripe: quotes only, no cart or pay buttons
        app.register_blueprint(payments_bp)
        init_payments(app)  # the worker ends checkouts whose time ran out
    app.register_blueprint(accounts_bp)
    init_pages(app)  # /about, /terms ... and the footer's links to them
    init_admin(app)


def register_content_clocks(app: Flask) -> None:
    """Which saves move which area's clock (catalog, blog, pages), so a save makes stale only the pages showing it."""
    from shop.blog.clock import register_blog_clock
    from shop.catalog.clock import register_catalog_clock
    from shop.pages.clock import register_pages_clock

    register_catalog_clock()
    register_blog_clock()
    register_pages_clock()


def register_audit_log(app: Flask) -> None:
    """Which models' saves the audit log records, whoever saves them: the back office, a command or the seeds."""
    from shop import audit
    from shop.accounts.models import User
    from shop.blog.models import Post, Topic
    from shop.catalog.models import Category, Donor, DonorAllele, Lot, Product
    from shop.pages.models import Page

    audit.track(Category, Product, Donor, DonorAllele, Lot, User, Post, Topic, Page)


def register_template_helpers(app: Flask) -> None:
    """Filters and globals that templates across features use; fingerprinted static URLs."""
    from shop import static_files, templating

    templating.init_app(app)
    static_files.init_app(app)


def register_errors(app: Flask) -> None:
    """Error pages in the site's layout."""
    from shop import errors

    errors.init_app(app)


def register_page_cache_shortcut(app: Flask) -> None:
    """Serve cached pages to visitors without a session before Flask makes a request context."""
    from shop import page_cache

    page_cache.serve_hits_early(app)


def register_security_headers(app: Flask) -> None:
    """CSP and the other security headers on every response; ProxyFix when behind a proxy."""
    from shop import security_headers

    security_headers.init_app(app)


def register_commands(app: Flask) -> None:
    """The ``flask`` CLI commands (seed, ...)."""
    from shop import cli

    cli.init_app(app)
