"""The supplier's own pages (About, Quality and donor consent, Shipping, Terms, Privacy), written in Markdown."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Mount the pages' blueprint, and give every template the footer's links and a page's address."""
    from shop.pages.services import footer_pages, page_url
    from shop.pages.views import bp

    app.register_blueprint(bp)
    app.add_template_global(footer_pages)
    app.add_template_global(page_url)
