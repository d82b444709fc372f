"""Bad input to the catalog gives a normal page or a clear 4xx page, never a 500."""

import re
from html import unescape

import pytest

from tests.catalog.cards import card_slugs


def result_count(html: str) -> str:
    """The text of the result count line."""
    return unescape(re.search(r'<p class="result-count"[^>]*>([^<]*)</p>', html).group(1))


@pytest.mark.parametrize(
    "query",
    [
        "format=banana",
        "category=nope",
        "hla=<script>alert(1)</script>",
        "cmv=maybe",
        "sex=X",
        "age=12-17",
        "grade=clinical",
        "pricing=free",
        "stock=out",
        "hla=A*02:01'--",
        "category=",
        "unknown=1",
    ],
)
def test_unknown_facet_values_are_ignored(client, seeded, query):
    """An unknown facet value gives the unfiltered catalog, without a chip."""
    response = client.get("/products/", query_string=query)
    assert response.status_code == 200
    html = response.text
    assert result_count(html) == "26 products · page 1 of 2"
    assert 'class="chip"' not in html
    assert "<script>alert" not in html


@pytest.mark.parametrize("page", ["0", "-1", "abc", "", "1.5", "+2", " 2"])
def test_bad_page_numbers_give_page_one(client, seeded, page):
    """page=0, -1, abc ... show the first page."""
    response = client.get("/products/", query_string={"page": page})
    assert response.status_code == 200
    assert result_count(response.text) == "26 products · page 1 of 2"
    assert card_slugs(response.text) == card_slugs(client.get("/products/").text)


@pytest.mark.parametrize("page", ["²", "①"])
def test_unicode_digit_page_gives_page_one(client, seeded, page):
    """A page number written with a non-ASCII digit shows the first page."""
    response = client.get("/products/", query_string={"page": page})
    assert response.status_code == 200
    assert result_count(response.text) == "26 products · page 1 of 2"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=3", "This search has 2 pages of results; page 3 is past the end."),
        ("category=pbmc&page=2", "This search has 1 page of results; page 2 is past the end."),
        ("q=zzqxw&page=2", "This search has 1 page of results; page 2 is past the end."),
    ],
)
def test_page_past_the_end_is_404(client, seeded, query, message):
    """A page after the last one is a 404 that says so and links back to the catalog."""
    response = client.get(f"/products/?{query}")
    assert response.status_code == 404
    assert message in response.text
    assert 'href="/products/"' in response.text


@pytest.mark.parametrize("page", ["10001", "999999"])
def test_far_page_number_is_past_the_end(client, seeded, page):
    """A page number far beyond the catalog is the same clear 404 as any page past the end."""
    response = client.get(f"/products/?page={page}")
    assert response.status_code == 404
    assert "is past the end" in response.text


def test_very_large_page_number_is_not_an_error(client, seeded):
    """A page number too long to be one gives the first page, never a 500."""
    response = client.get("/products/?page=99999999999999999999")
    assert response.status_code == 200


def test_very_long_query_is_cut_in_the_search_box(client, seeded):
    """A 10,000-character q gives a 200 page whose search box holds the first 200 characters."""
    response = client.get("/products/", query_string={"q": "x" * 10_000})
    assert response.status_code == 200
    assert f'name="q" value="{"x" * 200}"' in response.text
    assert "No products match" in response.text


def test_very_long_query_is_never_echoed_in_full(client, seeded):
    """No part of the page repeats more than 200 characters of a 10,000-character q."""
    response = client.get("/products/", query_string={"q": "x" * 10_000})
    assert response.status_code == 200
    assert "x" * 201 not in response.text


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '"unbalanced',
        "*",
        "-cd8",
        "cd8 NEAR cd4",
        "NEAR(cd8 cd4)",
        "cd8 OR cd4",
        "(cd8",
        "cd8)",
        "AND",
        "NOT",
        "OR",
        ":",
        "^",
        "'",
        "\\",
        "%",
        "_",
        "cd8:*",
        "cd8 & !cd4",
        "cd8 <-> cd4",
        "name:cd8",
        "{cd8}",
        "Zellen für die Forschung",
        "细胞",
        "İstanbul ǅ ß",
        "½ ² ⅷ",
        "🧬🩸",
        "!@#$%^&*()_+-=[]{};:,./<>?",
        "\ufffd",
        "the",
        "a" * 200,
    ],
)
def test_search_syntax_and_odd_text_never_errors(client, seeded, q):
    """Full-text syntax, Unicode, emoji and punctuation in q give a normal 200 page (NUL: see below)."""
    response = client.get("/products/", query_string={"q": q})
    assert response.status_code == 200
    assert '<p class="result-count"' in response.text


def test_invalid_utf8_in_query_string(client, seeded):
    """Bytes that are not UTF-8 in q give a normal page."""
    response = client.get("/products/?q=%FF%FE&category=%FF")
    assert response.status_code == 200
    assert '<p class="result-count"' in response.text


@pytest.mark.parametrize("url", ["/products/?q=%00", "/products/?q=cd8%00", "/products/%00", "/products/pbmc%00cryo"])
def test_a_nul_byte_is_a_400_that_says_why(client, seeded, url):
    """A NUL byte (PostgreSQL refuses it in text) is refused by the app-wide request guard, before any query."""
    response = client.get(url)
    assert response.status_code == 400
    assert "control character" in unescape(response.text)


def test_negative_search_word_is_just_a_word(client, seeded):
    """q=-cd8 searches for cd8 rather than excluding it."""
    response = client.get("/products/?q=-cd8")
    assert "cd8-t-cells-cryopreserved-25m" in card_slugs(response.text)


@pytest.mark.parametrize(
    "slug",
    [
        "no-such-product",
        "a" * 300,
        "%FF",
        "%C2%B2",
        "'%20OR%201=1--",
    ],
)
def test_unknown_slug_is_a_404_that_links_back(client, seeded, slug):
    """A missing product gives a 404 page that links back to the catalog."""
    response = client.get(f"/products/{slug}")
    assert response.status_code == 404
    assert "We couldn't find that product" in unescape(response.text)
    assert 'href="/products/"' in response.text


@pytest.mark.parametrize("sort", ["evil", "", "price;DROP TABLE product", "NAME"])
def test_unknown_sort_falls_back_to_relevance(client, seeded, sort):
    """An unknown sort shows the default order with Relevance selected."""
    response = client.get("/products/", query_string={"sort": sort})
    assert response.status_code == 200
    assert '<option value="relevance" selected>' in response.text
    assert card_slugs(response.text) == card_slugs(client.get("/products/").text)


def test_repeated_and_mixed_parameters(client, seeded):
    """Duplicated values count once; good and bad values mix without error."""
    response = client.get("/products/?category=pbmc&category=pbmc&category=nope&format=cryopreserved&format=x")
    assert response.status_code == 200
    assert result_count(response.text) == "3 products"
    assert response.text.count('aria-label="Remove filter') == 2
