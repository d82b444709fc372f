"""Site search finds posts next to products, and survives whatever is typed into it."""

import pytest

from tests.blog.conftest import SEED_TITLE, SEED_URL
from tests.blog.dom import parse


def results(html: str) -> dict[str, list[str]]:
    """{"products": [...], "posts": [...]}: the links in each results section."""
    doc = parse(html)
    products = doc.one("h2", id="product-results").parent.parent
    posts = doc.one("h2", id="post-results").parent
    product_links = [href for _, href in products.links()]
    post_links = [href for _, href in posts.links()]
    return {
        "products": [href for href in product_links if href.startswith("/products/") and "?" not in href],
        "posts": [href for href in post_links if href.startswith("/blog/") and "/topics/" not in href],
    }


def test_search_shows_products_and_posts(client, seeded):
    """/search?q=cd8 has a products section and a blog posts section, each with matches."""
    response = client.get("/search?q=cd8")
    assert response.status_code == 200
    doc = parse(response.text)
    found = results(response.text)
    assert "/products/cd8-t-cells-cryopreserved-25m" in found["products"]
    assert "/blog/cd4-cd8-ratio-in-car-t-products" in found["posts"]
    assert doc.one("h2", id="product-results").text.startswith("Products (")
    assert doc.one("h2", id="post-results").text == f"Blog posts ({len(found['posts'])})"
    assert doc.one("h1").text == "Search results for “cd8”"


def test_search_finds_the_seed_post(client, seeded):
    """q=stat5 finds the STAT5 post, shown with its title, date and summary."""
    response = client.get("/search?q=stat5")
    assert results(response.text)["posts"][0] == SEED_URL
    section = parse(response.text).one("h2", id="post-results").parent
    entry = section.one("article", class_="post-entry")
    assert entry.one("h3").text == SEED_TITLE
    assert "29 Jun 2021" in entry.text


def test_search_finds_words_in_the_body_and_by_prefix(client, seeded):
    """Words only in a body, and the start of a word, find posts too."""
    assert SEED_URL in results(client.get("/search?q=Augusta").text)["posts"]
    assert SEED_URL in results(client.get("/search?q=Augus").text)["posts"]


def test_search_with_no_post_match(client, seeded):
    response = client.get("/search?q=zzyzxq")
    assert response.status_code == 200
    assert results(response.text) == {"products": [], "posts": []}
    assert "No post matches “zzyzxq”." in response.text


@pytest.mark.parametrize("q", ["ct-pbmc-cr-10m", "CT-PBMC-CR-10M", " CT-PBMC-CR-10M "])
def test_exact_catalog_number_goes_to_the_product(client, seeded, q):
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 302
    assert response.headers["Location"] == "/products/pbmc-cryopreserved-10m"


@pytest.mark.parametrize(
    "q",
    [
        "a" * 10_000,
        "cd8 " * 2_500,
        "é" * 10_000,
        '"',
        '"cd8',
        'cd8"',
        '"cd8" "stat5"',
        "*",
        "cd*",
        "stat5*",
        "NEAR",
        "cd8 NEAR stat5",
        "NEAR(cd8 stat5, 2)",
        "(",
        ")",
        "(cd8",
        "cd8 OR stat5",
        "cd8 AND",
        "NOT cd8",
        "-cd8",
        "cd8 & stat5 | !t",
        "cd8:*",
        "'",
        "\\",
        "^cd8",
        "title:stat5",
        "{cd8}",
        "the",
        "a the of",
        "%_",
        "<script>alert(1)</script>",
    ],
)
def test_odd_queries_do_not_break_search(client, seeded, q):
    """Very long queries and full-text syntax are searched as plain words, never an error."""
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
    doc = parse(response.text)
    assert doc.one("input", name="q") is not None


def test_full_text_operators_are_plain_words(client, seeded):
    """ "stat5*" and "(stat5" still find the STAT5 post: the punctuation is not query syntax."""
    for q in ("stat5*", "(stat5", '"stat5', "stat5)", "stat5 ( *"):
        assert SEED_URL in results(client.get("/search", query_string={"q": q}).text)["posts"], q


@pytest.mark.parametrize("url", ["/search", "/search?q=", "/search?q=%20%20"])
def test_empty_query_shows_the_search_form(client, seeded, url):
    """Without a query the page shows the form and no result sections."""
    response = client.get(url)
    assert response.status_code == 200
    doc = parse(response.text)
    assert doc.one("h1").text == "Search"
    form = doc.one("form", role="search")
    assert form["action"] == "/search"
    assert form.one("input", name="q")["value"] == ""
    assert doc.find("h2", id="post-results") is None
    assert doc.find("h2", id="product-results") is None
