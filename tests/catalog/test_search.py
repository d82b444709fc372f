"""Catalog search: ranking, prefixes, markers, catalog numbers, and search with facets."""

import re
from html import unescape

import pytest

from tests.catalog.cards import card_slugs
from tests.factories import CategoryFactory, ProductFactory


def result_count(html: str) -> str:
    """The text of the result count line."""
    return unescape(re.search(r'<p class="result-count"[^>]*>([^<]*)</p>', html).group(1))


def search(client, query: str) -> str:
    """GET the catalog with a query string; the page must render."""
    response = client.get(f"/products/?{query}")
    assert response.status_code == 200
    return response.text


LEUKOPAKS = {
    "leukopak-disease-state-b-cell-malignancy-full-fresh",
    "leukopak-gcsf-mobilized-full-fresh",
    "leukopak-gcsf-plerixafor-mobilized-quarter-cryopreserved",
    "leukopak-non-mobilized-full-cryopreserved",
    "leukopak-non-mobilized-half-cryopreserved",
    "leukopak-non-mobilized-quarter-cryopreserved",
    "gmp-leukopak-non-mobilized-full-fresh",
    "leukopak-non-mobilized-full-fresh",
    "leukopak-non-mobilized-half-fresh",
}


def test_name_match_ranks_above_description_match(client, db):
    """A product named after the word comes before one that only mentions it in its description."""
    category = CategoryFactory()
    mention = "Also sold as zebrafish splenocytes."
    ProductFactory(slug="mentions", name="Plain cells", description=mention, category=category)
    ProductFactory(slug="named", name="Zebrafish splenocytes", description="Cells from a fish.", category=category)
    ProductFactory(slug="unrelated", name="Other cells", category=category)
    db.session.commit()
    html = search(client, "q=zebrafish")
    assert card_slugs(html) == ["named", "mentions"]
    assert result_count(html) == "2 products"


def test_relevance_adds_up_where_each_word_is_found(client, db):
    """Name (10) before markers or cell type (5) before description (1), summed over the words; then featured."""
    category = CategoryFactory()
    common = {"category": category, "markers": "CD3+", "cell_type": "PBMC", "description": "Cells."}
    ProductFactory(slug="in-description", **{**common, "description": "Okapi cells, quokka cells."})
    ProductFactory(slug="in-markers", **{**common, "markers": "Okapi+", "description": "Quokka cells."})
    ProductFactory(slug="in-name", name="Okapi cells", **{**common, "description": "Quokka cells."})
    ProductFactory(slug="both-in-name", name="Okapi quokka cells", **common)
    ProductFactory(slug="in-description-featured", featured=True, **{**common, "description": "Okapi quokka."})
    db.session.commit()
    assert card_slugs(search(client, "q=okapi+quokka")) == [
        "both-in-name",  # 20
        "in-name",  # 11
        "in-markers",  # 6
        "in-description-featured",  # 2, featured first among equals
        "in-description",  # 2
    ]


def test_prefix_finds_leukopaks(client, seeded):
    """q=leuko finds every leukopak and nothing else."""
    html = search(client, "q=leuko")
    assert set(card_slugs(html)) == LEUKOPAKS
    assert result_count(html) == "9 products"
    assert "Results for “leuko”" in html


def test_marker_search_ranks_the_named_subset_first(client, seeded):
    """q=cd8 finds CD8+ T cells first, and also PBMCs that carry CD8+ cells."""
    slugs = card_slugs(search(client, "q=cd8"))
    assert slugs[0] == "cd8-t-cells-cryopreserved-25m"
    assert "pbmc-cryopreserved-10m" in slugs
    assert "cd14-monocytes-cryopreserved-25m" not in slugs


def test_every_word_must_match(client, seeded):
    """q=pbmc 50m finds the 50M PBMC vial but not the 10M one."""
    slugs = card_slugs(search(client, "q=pbmc+50m"))
    assert "pbmc-cryopreserved-50m" in slugs
    assert "pbmc-cryopreserved-10m" not in slugs


@pytest.mark.parametrize(
    ("query", "slug"),
    [("a2cmv", "pbmc-hla-a0201-cmv-positive-cryopreserved-25m"), ("treg", "regulatory-t-cells-treg-cryopreserved-2m")],
)
def test_catalog_number_words(client, seeded, query, slug):
    """A word of a catalog number finds its product."""
    assert slug in card_slugs(search(client, f"q={query}"))


def test_partial_catalog_number_searches(client, seeded):
    """A catalog-number-shaped q that is no product's number searches instead of redirecting."""
    html = search(client, "q=CT-TC-CD8")
    assert card_slugs(html)[0] == "cd8-t-cells-cryopreserved-25m"


@pytest.mark.parametrize("typed", ["CT-PBMC-CR-10M", "ct-pbmc-cr-10m", "Ct-Pbmc-Cr-10m", "  ct-pbmc-cr-10m  "])
def test_exact_catalog_number_redirects(client, seeded, typed):
    """An exact catalog number, in any case, redirects to its product page."""
    response = client.get("/products/", query_string={"q": typed})
    assert response.status_code == 302
    assert response.headers["Location"] == "/products/pbmc-cryopreserved-10m"


def test_catalog_number_of_inactive_product_does_not_redirect(client, db):
    """A withdrawn product's catalog number doesn't lead to it."""
    ProductFactory(catalog_number="CT-OLD-CR-1M", slug="old", active=False)
    db.session.commit()
    response = client.get("/products/?q=CT-OLD-CR-1M")
    assert response.status_code == 200
    assert card_slugs(response.text) == []


def test_search_with_facets(client, seeded):
    """q=leuko&format=cryopreserved lists only cryopreserved leukopaks; counts follow the search."""
    html = search(client, "q=leuko&format=cryopreserved")
    assert set(card_slugs(html)) == {
        "leukopak-gcsf-plerixafor-mobilized-quarter-cryopreserved",
        "leukopak-non-mobilized-full-cryopreserved",
        "leukopak-non-mobilized-half-cryopreserved",
        "leukopak-non-mobilized-quarter-cryopreserved",
    }
    assert '<span class="label">Fresh</span><span class="count">5</span>' in html
    assert '<span class="label">Cryopreserved</span><span class="count">4</span>' in html
    assert '<span class="label">PBMCs</span><span class="count">0</span>' in html


def test_search_with_donor_facet(client, seeded):
    """q=pbmc&cmv=negative keeps only PBMCs with an in-stock lot from a CMV-negative donor."""
    assert set(card_slugs(search(client, "q=pbmc&cmv=negative"))) == {"pbmc-cryopreserved-10m"}


def test_search_sorted_by_price(client, seeded):
    """A search can be sorted by price, list prices first."""
    slugs = card_slugs(search(client, "q=leuko&sort=price"))
    assert slugs[:2] == ["leukopak-non-mobilized-quarter-cryopreserved", "leukopak-non-mobilized-half-cryopreserved"]
    assert set(slugs) == LEUKOPAKS


def test_no_result_shows_the_empty_state(client, seeded):
    """A search that finds nothing says so, with 200."""
    html = search(client, "q=zzqxw")
    assert card_slugs(html) == []
    assert "No products match “zzqxw”." in html
    assert "0 products" in html


def test_search_keeps_the_query_in_the_box(client, seeded):
    """The search box shows what was searched."""
    assert 'name="q" value="cd8 t cells"' in search(client, "q=cd8+t+cells")


def test_search_follows_renames_and_deletes(client, db):
    """The full-text index is kept by the database (triggers): a renamed product is found by its new name."""
    product = ProductFactory(slug="renamed", name="Plain cells", description="Cells.")
    db.session.commit()
    assert card_slugs(search(client, "q=okapi")) == []
    product.name = "Okapi cells"
    db.session.commit()
    assert card_slugs(search(client, "q=okapi")) == ["renamed"]
    db.session.delete(product)
    db.session.commit()
    assert card_slugs(search(client, "q=okapi")) == []
