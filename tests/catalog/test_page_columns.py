"""A page miss reads the columns it shows: lists of products never load descriptions."""

import re

from tests.factories import CategoryFactory, ProductFactory

# "product.description", "product_1.description_html", "post.body", ... as SQLAlchemy names them in a SELECT.
TEXT_COLUMN = re.compile(r"\b(product|post)(?:_\d+)?\.(description_html|description|body_html|body)\b")


def text_columns(statements: list[str]) -> list[list[str]]:
    """For each statement, the long text columns it reads (product descriptions, post bodies)."""
    return [[f"{table}.{column}" for table, column in TEXT_COLUMN.findall(s)] for s in statements]


def page_statements(client, count_queries, url: str) -> list[str]:
    """The statements a page miss sends."""
    with count_queries() as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return queries.statements


def test_text_columns_are_recognised():
    """The pattern sees the ORM's names and aliases, and nothing else."""
    statement = "SELECT product.description, product_1.description_html, post.body, category.description FROM x"
    assert text_columns([statement]) == [["product.description", "product.description_html", "post.body"]]


def test_product_page_reads_one_description_html_and_no_markdown(client, db, count_queries):
    """The product itself brings its rendered description; its related products bring card columns only."""
    category = CategoryFactory()
    product = ProductFactory(category=category, description="**Long** " * 5_000)
    for n in range(5):
        ProductFactory(category=category, description=f"Related {n} " * 5_000)
    db.session.commit()

    read = text_columns(page_statements(client, count_queries, f"/products/{product.slug}"))

    assert [columns for columns in read if columns] == [["product.description_html"]]


def test_catalog_list_home_and_search_read_no_descriptions(client, db, count_queries):
    """Product cards on the catalog, the home page and search load no description."""
    category = CategoryFactory()
    for n in range(5):
        ProductFactory(category=category, featured=True, name=f"Searchable cells {n}", description="x " * 5_000)
    db.session.commit()
    for url in ("/products/", "/", "/search?q=searchable", "/products/?q=searchable"):
        assert not any(text_columns(page_statements(client, count_queries, url))), url


def test_product_cards_show_the_same_as_before(client, db):
    """Cards loaded with their columns only still show name, category, catalog number, markers and price."""
    category = CategoryFactory(name="Sorted cells")
    shown = ProductFactory(category=category, name="Card cells", markers="CD56+", price_cents=12_300)
    opened = ProductFactory(category=category)
    db.session.commit()
    page = client.get(f"/products/{opened.slug}")
    for text in ("Card cells", "Sorted cells", shown.catalog_number, "CD56+", "$123.00"):
        assert text in page.text
