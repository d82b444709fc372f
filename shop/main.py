"""Site-wide pages: home, health check, sitemap and robots.txt."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from sqlalchemy.exc import SQLAlchemyError

from shop.blog import services as blog
from shop.catalog import services as catalog
from shop.errors import roll_back_quietly
from shop.fulltext import MAX_QUERY_LENGTH
from shop.health import read_schema_version
from shop.page_cache import public_page
from shop.pages import services as pages
from shop.pages.services import page_url
from shop.templating import absolute_url, site_root

bp = Blueprint("main", __name__)


@bp.get("/")
@public_page(areas=("catalog", "blog"))
def home():
    """The home page: what the shop offers, categories, featured products, the latest posts and the subscribe box."""
    return render_template(
        "main/home.html",
        categories=catalog.categories_with_counts(),
        featured=catalog.featured_products(),
        latest_posts=blog.recent_posts(3),
        subscribe_topics=[topic for topic, _ in blog.sidebar_context()["sidebar_topics"]],
    )


@bp.get("/healthz")
def healthz():
    """200 when the database answers a real read within HEALTHZ_TIMEOUT_MS, 503 when it does not."""
    config = current_app.config
    try:
        read_schema_version(config["HEALTHZ_TIMEOUT_MS"], config["SQLITE_BUSY_TIMEOUT_MS"])
        healthy = True
    except SQLAlchemyError as error:  # down, locked, too slow: the body says so, the log says why
        current_app.logger.warning("health check: database unavailable: %s", error)
        healthy = False
    roll_back_quietly()  # end the read, and its local timeout, before the connection goes back to the pool
    if not healthy:
        return {"status": "error", "database": "unavailable"}, 503
    return {"status": "ok", "database": "ok"}


@bp.get("/sitemap.xml")
@public_page(areas=("catalog", "blog", "pages"))
def sitemap():
    """An XML sitemap of the catalog's categories and products, the blog, and the shop's own pages."""
    categories, products = catalog.sitemap_entries()
    body = render_template(
        "main/sitemap.xml",
        categories=categories,
        products=products,
        topics=[topic for topic, count in blog.topics_with_counts() if count],
        posts=blog.sitemap_posts(),
        pages=[(site_root() + page_url(page.slug), page.updated_at) for page in pages.public_pages()],
    )
    return Response(body, mimetype="application/xml")


@bp.get("/robots.txt")
@public_page(areas=())  # its lines name no product or post
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


@bp.get("/search")
@public_page(params=("q",), areas=("catalog", "blog"))
def search():
    """Products and posts matching a search, on one page."""
    q = (request.args.get("q") or "")[:MAX_QUERY_LENGTH].strip()
    product = catalog.find_by_catalog_number(q)
    if product is not None:
        return redirect(url_for("catalog.product_detail", slug=product.slug))
    found = catalog.search_products(q, limit=12) if q else None
    posts = blog.search_posts(q, limit=10) if q else []
    return render_template("main/search.html", q=q, found=found, products=found.products if found else [], posts=posts)


@bp.get("/uploads/<path:name>")
def upload(name: str):
    """Uploaded files (product images and post covers). Names are random and never reused, so they cache for a year."""
    if not name.startswith(("products/", "posts/")):
        abort(404)
    return send_from_directory(current_app.config["UPLOAD_FOLDER"], name, max_age=365 * 24 * 3600)
