"""The catalog's facets, in the order pages show them: one list, read by the facet index and the catalog page.

Product facets are values of the product itself; donor facets are values of
the donors of its lots in stock, and all the donor filters must hold for one
such lot (see ``shop.catalog.facet_index``).
"""

PRODUCT_FACETS = ("category", "format", "grade", "pricing", "stock")
DONOR_FACETS = ("cmv", "hla", "sex", "age")
FACETS = PRODUCT_FACETS + DONOR_FACETS
