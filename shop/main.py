"""Site-wide pages: home, health check, sitemap and robots.txt."""

from flask import Blueprint, Response, current_app, render_template
from sqlalchemy import text

from shop.catalog import services as catalog
from shop.extensions import db
from shop.templating import absolute_url

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    """The home page: what the shop offers, categories and featured products."""
    return render_template(
        "main/home.html",
        categories=catalog.categories_with_counts(),
        featured=catalog.featured_products(),
    )


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not healthy"; the body says so
        db.session.rollback()
        current_app.logger.exception("health check: database unavailable")
        return {"status": "error", "database": "unavailable"}, 503
    return {"status": "ok", "database": "ok"}


@bp.get("/sitemap.xml")
def sitemap():
    """An XML sitemap of the catalog's categories and products."""
    categories, products = catalog.sitemap_entries()
    body = render_template("main/sitemap.xml", categories=categories, products=products)
    return Response(body, mimetype="application/xml")


@bp.get("/robots.txt")
def robots():
    """Let crawlers in, keep them out of staff pages and endless facet combinations."""
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /login",
        "Disallow: /products/?*q=",
        f"Sitemap: {absolute_url('main.sitemap')}",
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")
