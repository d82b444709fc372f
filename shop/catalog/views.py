"""The public catalog: the product list with facets and search, and product pages."""

import os

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from shop.catalog import models, services, stock_log
from shop.catalog.illustrations import category_illustration
from shop.catalog.index import index_counts
from shop.page_cache import page_shows_item, public_page
from shop.templating import absolute_url
from shop.urls import is_slug

bp = Blueprint("catalog", __name__, url_prefix="/products")
# Product cards and category tiles appear on other features' pages too (home, posts, search).
bp.add_app_template_global(category_illustration)


@bp.after_request
def index_diagnostics(response):
    """With PAGE_CACHE_DIAGNOSTICS, say how often this process built its facet index and updated it in place."""
    if current_app.config["PAGE_CACHE_DIAGNOSTICS"]:
        builds, updates = index_counts(current_app._get_current_object())
        response.headers["X-Catalog-Index"] = f"pid={os.getpid()} builds={builds} updates={updates}"
    return response


@bp.get("/")
@public_page(params=services.URL_PARAMS, areas=("catalog",))
def product_list():
    """The catalog with facets, search, sorting and pagination, all in the query string."""
    product = services.find_by_catalog_number(request.args.get("q", ""))
    if product is not None:
        return redirect(url_for("catalog.product_detail", slug=product.slug))
    page = services.browse_catalog(request.args, current_app.config["PRODUCTS_PER_PAGE"])
    if page.filters.page > page.pages:
        pages = "1 page" if page.pages == 1 else f"{page.pages} pages"
        abort(404, description=f"This search has {pages} of results; page {page.filters.page} is past the end.")
    return render_template("catalog/list.html", page=page, sorts=services.SORTS)


@bp.get("/<slug>")
@public_page(params=services.DONOR_PARAMS, areas=("catalog:content",))  # and its own product's stock
def product_detail(slug: str):
    """One product: specification, available lots and donors, price or quote, related products."""
    # Slugs are lower-case words and hyphens; anything else (a NUL byte, say) can't be one.
    found = services.get_product_page(slug) if is_slug(slug) else None
    if found is None:
        abort(404, description="We couldn't find that product. It may have been renamed or withdrawn.")
    product, lots, related = found
    page_shows_item(stock_log.PRODUCT_STOCK, product.id)  # a unit sold makes this page stale, and no other
    return render_template(
        "catalog/detail.html",
        product=product,
        lots=lots,
        matches=services.match_lots(lots, request.args),
        related=related,
        product_json_ld=product_json_ld(product, lots),
        formats=models.FORMATS,
        grades=models.GRADES,
        containers=models.CONTAINERS,
        shipping=models.SHIPPING_CONDITIONS,
        sexes=models.SEXES,
        smoking=models.SMOKING,
        serostatus=models.SEROSTATUS,
    )


def product_json_ld(product: models.Product, lots: list[models.Lot]) -> dict:
    """schema.org Product data for search engines, with an Offer when there is a list price."""
    url = absolute_url("catalog.product_detail", slug=product.slug)
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.name,
        "sku": product.catalog_number,
        "mpn": product.catalog_number,
        "category": product.category.name,
        "description": f"{product.cell_type}: {product.markers}. {product.stability}".strip(),
        "brand": {"@type": "Brand", "name": current_app.config["SITE_NAME"]},
        "url": url,
    }
    if not product.quote_only:
        data["offers"] = {
            "@type": "Offer",
            "url": url,
            "price": f"{product.price_cents / 100:.2f}",
            "priceCurrency": product.currency,
            "availability": "https://schema.org/InStock" if lots else "https://schema.org/PreOrder",
        }
    return data
