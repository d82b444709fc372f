"""What moves the catalog's content clock, and which saves are stock changes only."""

from shop import content_clock
from shop.catalog import stock_log  # noqa: F401  (its hooks log which products' stock changed)
from shop.catalog.freshness import latest_expiry
from shop.catalog.models import Category, Donor, DonorAllele, Lot, Product
from shop.catalog.stock_log import (
    AVAILABILITY,
    LOT_STOCK_COLUMNS,
    PRODUCT_STOCK_COLUMNS,
    STOCK,
    register_product_stock_check,
)

# A change of stock alone (units, a lot in or out of stock, a product hidden): the facet index can
# follow it without laying the catalog out again, where any other catalog change needs a new index.
__all__ = ["STOCK", "register_catalog_clock"]


def register_catalog_clock() -> None:
    """Catalog saves move the catalog's clock; updates of stock columns alone count as the "stock" kind."""
    content_clock.track("catalog", Category, Product, Donor, DonorAllele, Lot)
    content_clock.track_kind("catalog", STOCK, Lot, LOT_STOCK_COLUMNS)
    content_clock.track_kind("catalog", STOCK, Product, PRODUCT_STOCK_COLUMNS)
    # Units show on their product's page only: it checks its own product (stock_log.PRODUCT_STOCK), and
    # other pages key on the "availability" kind a stock change moves when a lot enters or leaves stock.
    content_clock.follow_per_item("catalog", STOCK)
    register_product_stock_check()
    # Lists say "in stock" and count matching lots: while lots come and go every second, they follow within
    # CATALOG_LIST_STOCK_LAG seconds rather than being drawn again after each sale.
    content_clock.settle("catalog", AVAILABILITY, "CATALOG_LIST_STOCK_LAG")
    # A fresh lot past its stability window leaves the catalog at that moment, without a save.
    content_clock.add_rule("catalog", latest_expiry)
