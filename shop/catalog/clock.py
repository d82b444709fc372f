"""What moves the catalog's content clock, and which saves are stock changes only."""

from shop import content_clock
from shop.catalog.models import Category, Donor, DonorAllele, Lot, Product

# A change of stock alone (units, a lot in or out of stock, a product hidden): the facet index can
# follow it without laying the catalog out again, where any other catalog change needs a new index.
STOCK = "stock"


def register_catalog_clock() -> None:
    """Catalog saves move the catalog's clock; updates of stock columns alone count as the "stock" kind."""
    content_clock.track("catalog", Category, Product, Donor, DonorAllele, Lot)
    content_clock.track_kind("catalog", STOCK, Lot, ("units_available", "units_reserved", "status"))
    content_clock.track_kind("catalog", STOCK, Product, ("active",))
