"""The cell catalog: categories, products, donors and lots."""
