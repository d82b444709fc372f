"""The catalog's facets, in the order pages show them: one list, read by the facet index and the catalog page.

Product facets are values of the product itself; donor facets are values of
the donors of its lots in stock, and all the donor filters must hold for one
such lot (see ``shop.catalog.facet_index``).
"""

PRODUCT_FACETS = ("category", "format", "grade", "pricing", "stock")
DONOR_FACETS = ("cmv", "ebv", "hla", "sex", "age", "smoking", "blood")
FACETS = PRODUCT_FACETS + DONOR_FACETS
# Donor values the index keeps without counting them, for the ranges a search names (``age 20-35``,
# ``BMI under 30``: see shop.catalog.donor_filters): each donor's age in years and BMI.
RANGE_FACETS = ("age_years", "bmi")
DONOR_INDEXED = DONOR_FACETS + RANGE_FACETS
# A facet whose filter may be written in another indexed facet: an age band's count leaves out an age range too.
SAME_FILTER = {"age": ("age", "age_years")}


def product_values(product, category_slug: str) -> list[tuple[str, str]]:
    """The (facet, value) pairs of a product's own facets (a Product or an index row): what the facet index sets
    on the product and what a lot checked on its own (``services.lots_matching``) is read by. "stock" is not a
    product value: it follows the product's lots."""
    pricing = "quote" if product.price_cents is None else "list"
    return [("category", category_slug), ("format", product.format), ("grade", product.grade), ("pricing", pricing)]
