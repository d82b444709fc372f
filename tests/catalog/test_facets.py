"""The catalog's facets: filtering, counts, donor matching, chips, sorting and pagination."""

import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import urlencode

import pytest

from tests.catalog.cards import card_slugs
from tests.factories import CategoryFactory, DonorFactory, LotFactory, ProductFactory

OPTION = re.compile(r'<span class="label">([^<]*)</span><span class="count">(\d+)</span>')
CHIP = re.compile(r'<a class="chip" href="([^"]*)" aria-label="Remove filter ([^"]*)"')


def facet_counts(html: str, facet: str) -> dict[str, int]:
    """The {label: count} options of one facet section of the catalog page."""
    section = re.search(rf'<fieldset class="facet" id="facet-{facet}">(.*?)</fieldset>', html, re.S)
    assert section, f"no {facet} facet on the page"
    return {unescape(label): int(n) for label, n in OPTION.findall(section.group(1))}


def result_count(html: str) -> str:
    """The text of the result count line."""
    return unescape(re.search(r'<p class="result-count"[^>]*>([^<]*)</p>', html).group(1))


def chips(html: str) -> dict[str, str]:
    """{aria-label of an active-filter chip: its link}."""
    return {unescape(label): unescape(href) for href, label in CHIP.findall(html)}


def slugs_of(client, url: str) -> set[str]:
    """The set of product slugs a catalog URL lists (first page)."""
    response = client.get(url)
    assert response.status_code == 200
    return set(card_slugs(response.text))


# --- product facets on the demo catalog ---------------------------------------------------------


def test_values_within_a_facet_are_ored(client, seeded):
    """category=pbmc&category=t-cell lists the union of both categories."""
    pbmc = slugs_of(client, "/products/?category=pbmc")
    t_cells = slugs_of(client, "/products/?category=t-cell")
    html = client.get("/products/?category=pbmc&category=t-cell").text
    assert pbmc and t_cells
    assert set(card_slugs(html)) == pbmc | t_cells
    assert result_count(html) == f"{len(pbmc | t_cells)} products"


def test_facets_are_anded(client, seeded):
    """category=t-cell&format=fresh lists only fresh T cells."""
    html = client.get("/products/?category=t-cell&format=fresh").text
    assert card_slugs(html) == ["pan-t-cells-cd3-fresh-100m"]
    assert result_count(html) == "1 product"


def test_unfiltered_counts(client, seeded):
    """Without filters each option counts every active product with that value."""
    html = client.get("/products/").text
    assert result_count(html) == "26 products · page 1 of 2"
    assert facet_counts(html, "format") == {"Fresh": 6, "Cryopreserved": 20}
    assert facet_counts(html, "category")["Leukopaks"] == 9
    assert facet_counts(html, "grade") == {"Research use only": 25, "GMP": 1}


def test_counts_apply_the_other_facets_filters(client, seeded):
    """With format=fresh the category counts shrink but format counts still show cryopreserved."""
    html = client.get("/products/?format=fresh").text
    assert facet_counts(html, "format") == {"Fresh": 6, "Cryopreserved": 20}
    categories = facet_counts(html, "category")
    assert categories["Leukopaks"] == 5
    assert categories["T cells"] == 1
    assert categories["PBMCs"] == 0
    assert facet_counts(html, "pricing") == {"List price": 0, "Quote only": 6}


def test_count_predicts_the_result_of_ticking_it(client, seeded):
    """The Fresh count shown under category=leukopak equals the results of adding format=fresh."""
    counts = facet_counts(client.get("/products/?category=leukopak").text, "format")
    html = client.get("/products/?category=leukopak&format=fresh").text
    assert result_count(html) == f"{counts['Fresh']} products"
    assert counts == {"Fresh": 5, "Cryopreserved": 4}


OPTION_BOX = re.compile(
    r'<input type="checkbox" name="([^"]*)" value="([^"]*)">\s*'
    r'<span class="label">([^<]*)</span><span class="count">(\d+)</span>'
)


@pytest.mark.parametrize(
    "start", ["/products/?cmv=positive", "/products/?format=cryopreserved&sex=F", "/products/?q=leuko&hla=A*02:01"]
)
def test_every_option_count_matches_the_page_it_links_to(client, seeded, start):
    """For facets with nothing ticked yet, following an option gives exactly the count it showed."""
    html = client.get(start).text
    checked = 0
    for facet in ("category", "format", "grade", "pricing", "stock", "cmv", "hla", "sex", "age"):
        section = re.search(rf'<fieldset class="facet" id="facet-{facet}">(.*?)</fieldset>', html, re.S).group(1)
        if " checked>" in section:
            continue  # ticking a second value ORs it with the first, so the count is not the result
        for name, value, label, count in OPTION_BOX.findall(section):
            expected = "1 product" if count == "1" else f"{count} products"
            ticked = f"{start}&{urlencode({name: unescape(value)})}"
            assert result_count(client.get(ticked).text).startswith(expected), (facet, label)
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("pricing=quote&category=t-cell", {"pan-t-cells-cd3-fresh-100m"}),
        ("grade=gmp", {"gmp-leukopak-non-mobilized-full-fresh"}),
        (
            "stock=in&category=leukopak&format=fresh",
            {
                "leukopak-non-mobilized-full-fresh",
                "leukopak-non-mobilized-half-fresh",
                "leukopak-disease-state-b-cell-malignancy-full-fresh",
            },
        ),
    ],
)
def test_product_facets_filter(client, seeded, query, expected):
    """Pricing, grade and stock filters list exactly the matching products."""
    assert slugs_of(client, f"/products/?{query}") == expected


def test_list_price_filter_excludes_quote_only(client, seeded):
    """pricing=list shows only products with a price, never "Quote only"."""
    html = client.get("/products/?pricing=list").text
    assert result_count(html) == "18 products"
    assert "Quote only</span>" not in html.split('class="results"')[1]


# --- donor facets ---------------------------------------------------------------------------------


@pytest.fixture
def two_donor_product(db):
    """A product with lot A from a CMV+ male donor and lot B from a CMV- female donor."""
    category = CategoryFactory(slug="pbmc", name="PBMCs")
    product = ProductFactory(slug="mixed-donors", name="Mixed donors", category=category)
    male = DonorFactory(sex="M", age=45, cmv_status="positive", hla=["A*02:01", "B*07:02"])
    female = DonorFactory(sex="F", age=25, cmv_status="negative", hla=["A*01:01", "B*08:01"])
    LotFactory(product=product, donor=male)
    LotFactory(product=product, donor=female)
    db.session.commit()
    return product


@pytest.mark.parametrize(
    "query",
    ["cmv=positive&sex=F", "cmv=negative&sex=M", "hla=A*02:01&sex=F", "hla=A*01:01&cmv=positive", "age=18-29&sex=M"],
)
def test_donor_filters_must_hold_for_one_lot(client, two_donor_product, query):
    """Donor filters met only by different lots' donors don't match the product."""
    html = client.get(f"/products/?{query}").text
    assert card_slugs(html) == []
    assert "No products match" in html
    assert facet_counts(html, "category")["PBMCs"] == 0


@pytest.mark.parametrize(
    "query",
    ["cmv=positive&sex=M", "cmv=negative&sex=F", "hla=A*02:01&age=40-49", "hla=A*01:01&cmv=negative&sex=F"],
)
def test_donor_filters_met_by_one_lot_match(client, two_donor_product, query):
    """Donor filters all met by one lot's donor match the product."""
    assert slugs_of(client, f"/products/?{query}") == {"mixed-donors"}


def test_donor_counts_use_the_same_lot(client, two_donor_product):
    """With sex=F the CMV counts only count the female donor's lot."""
    html = client.get("/products/?sex=F").text
    assert facet_counts(html, "cmv") == {"Positive": 0, "Negative": 1, "Not tested": 0}
    assert facet_counts(html, "sex") == {"Female": 1, "Male": 1}
    assert facet_counts(html, "hla")["HLA-A*01:01"] == 1
    assert "HLA-A*02:01" not in facet_counts(html, "hla")


def test_hla_values_are_ored(client, db):
    """hla=A*02:01&hla=A*03:01 lists products of donors with either allele."""
    category = CategoryFactory()
    for slug, allele in (("with-a2", "A*02:01"), ("with-a3", "A*03:01"), ("with-a1", "A*01:01")):
        LotFactory(product=ProductFactory(slug=slug, category=category), donor=DonorFactory(hla=[allele]))
    db.session.commit()
    assert slugs_of(client, "/products/?hla=A*02:01&hla=A*03:01") == {"with-a2", "with-a3"}


@pytest.mark.parametrize(
    ("status", "units"),
    [("depleted", 0), ("reserved", 5), ("quarantine", 5), ("available", 0)],
)
def test_lots_not_in_stock_do_not_count(client, db, status, units):
    """A depleted, reserved, quarantined or empty lot doesn't make its product match donor or stock filters."""
    donor = DonorFactory(cmv_status="positive", sex="M", hla=["A*02:01"])
    LotFactory(product=ProductFactory(slug="not-in-stock"), donor=donor, status=status, units_available=units)
    db.session.commit()
    for query in ("cmv=positive", "sex=M", "hla=A*02:01", "stock=in"):
        assert slugs_of(client, f"/products/?{query}") == set(), query
    html = client.get("/products/").text
    assert facet_counts(html, "cmv")["Positive"] == 0
    assert facet_counts(html, "stock") == {"In stock": 0}
    assert card_slugs(html) == ["not-in-stock"]


@pytest.mark.parametrize(("status", "units"), [("depleted", 0), ("reserved", 5), ("quarantine", 5), ("available", 0)])
def test_stock_filter_skips_lots_not_in_stock(client, db, status, units):
    """stock=in lists the product with an in-stock lot, not the one whose only lot is not in stock."""
    LotFactory(product=ProductFactory(slug="in-stock"))
    LotFactory(product=ProductFactory(slug="not-in-stock"), status=status, units_available=units)
    db.session.commit()
    html = client.get("/products/?stock=in").text
    assert card_slugs(html) == ["in-stock"]
    assert facet_counts(html, "stock") == {"In stock": 1}


def test_inactive_products_never_appear(client, db):
    """An inactive product is in no list, count or search result."""
    category = CategoryFactory(slug="nk-cell", name="NK cells")
    donor = DonorFactory(cmv_status="positive")
    LotFactory(product=ProductFactory(slug="active-nk", name="Shown NK cells", category=category), donor=donor)
    hidden = ProductFactory(slug="hidden-nk", name="Withdrawn NK cells", category=category, active=False)
    LotFactory(product=hidden, donor=donor)
    db.session.commit()
    for url in ("/products/", "/products/?category=nk-cell", "/products/?cmv=positive", "/products/?q=withdrawn"):
        html = client.get(url).text
        assert "hidden-nk" not in html and "Withdrawn NK cells" not in html, url
    html = client.get("/products/?category=nk-cell").text
    assert facet_counts(html, "category")["NK cells"] == 1
    assert facet_counts(html, "cmv")["Positive"] == 1
    assert result_count(html) == "1 product"


# --- chips ---------------------------------------------------------------------------------------


def test_active_filters_show_as_chips_that_remove_only_themselves(client, seeded):
    """Each chip links to the same page without its own filter."""
    html = client.get("/products/?category=leukopak&format=fresh&cmv=positive").text
    links = chips(html)
    assert set(links) == {"Category: Leukopaks", "Format: Fresh", "Donor CMV status: Positive"}
    assert links["Format: Fresh"] == "/products/?category=leukopak&cmv=positive"
    assert links["Category: Leukopaks"] == "/products/?format=fresh&cmv=positive"
    after = client.get(links["Format: Fresh"]).text
    assert set(chips(after)) == {"Category: Leukopaks", "Donor CMV status: Positive"}


def test_chip_removes_one_value_of_a_multi_valued_facet(client, seeded):
    """Removing the PBMCs chip keeps the T cells filter."""
    links = chips(client.get("/products/?category=pbmc&category=t-cell").text)
    assert links["Category: PBMCs"] == "/products/?category=t-cell"
    assert slugs_of(client, links["Category: PBMCs"]) == slugs_of(client, "/products/?category=t-cell")


def test_search_chip_removes_the_search_and_keeps_filters(client, seeded):
    """The search chip links to the filtered page without q."""
    html = client.get("/products/?q=leuko&format=fresh").text
    assert 'href="/products/?format=fresh" aria-label="Remove search' in html


@pytest.mark.parametrize("typed", ["a*02:01", "HLA-A*02:01"])
def test_hla_chip_removes_an_allele_typed_in_another_form(client, seeded, typed):
    """/products/?hla=a*02:01 shows an HLA chip that leads back to the unfiltered catalog."""
    links = chips(client.get(f"/products/?hla={typed}").text)
    target = links["Donor HLA allele: HLA-A*02:01"]
    assert chips(client.get(target).text) == {}


def test_clear_all_link(client, seeded):
    """Filtered pages offer "Clear all" back to /products/; unfiltered pages don't."""
    assert '<a class="chip-clear" href="/products/">Clear all</a>' in client.get("/products/?format=fresh").text
    assert "Clear all" not in client.get("/products/").text


def test_no_chips_without_filters(client, seeded):
    """The unfiltered catalog shows no active-filter chips."""
    assert chips(client.get("/products/").text) == {}


# --- sorting and pagination ----------------------------------------------------------------------


@pytest.fixture
def sortable(db):
    """Four products with distinct names, prices (two quote-only) and creation times."""
    category = CategoryFactory()
    rows = [
        ("bravo", 90_000, datetime(2026, 3, 1, tzinfo=UTC)),
        ("alpha", None, datetime(2026, 1, 1, tzinfo=UTC)),
        ("delta", 35_000, datetime(2026, 4, 1, tzinfo=UTC)),
        ("charlie", None, datetime(2026, 2, 1, tzinfo=UTC)),
    ]
    for name, price, created in rows:
        ProductFactory(slug=name, name=name.title(), price_cents=price, created_at=created, category=category)
    db.session.commit()


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["alpha", "bravo", "charlie", "delta"]),
        ("price", ["delta", "bravo", "alpha", "charlie"]),
        ("newest", ["delta", "bravo", "charlie", "alpha"]),
    ],
)
def test_sort_orders(client, sortable, sort, expected):
    """sort=name is A-Z, price is list prices ascending with quote-only last, newest is newest first."""
    html = client.get(f"/products/?sort={sort}").text
    assert card_slugs(html) == expected
    assert f'<option value="{sort}" selected>' in html


@pytest.fixture
def thirty_products(db):
    """30 active products in one category."""
    ProductFactory.create_batch(30, category=CategoryFactory())
    db.session.commit()


def test_first_page_has_24_and_a_next_link(client, thirty_products):
    """Page 1 shows 24 products, a rel=next link to page 2 and no rel=prev."""
    html = client.get("/products/").text
    assert len(card_slugs(html)) == 24
    assert result_count(html) == "30 products · page 1 of 2"
    assert 'href="/products/?page=2" rel="next"' in html
    assert 'rel="prev"' not in html


def test_second_page_has_the_rest_and_a_prev_link(client, thirty_products):
    """Page 2 shows the other 6 products and a rel=prev link back to page 1."""
    first = set(card_slugs(client.get("/products/").text))
    html = client.get("/products/?page=2").text
    second = card_slugs(html)
    assert len(second) == 6
    assert first.isdisjoint(second)
    assert result_count(html) == "30 products · page 2 of 2"
    assert 'href="/products/" rel="prev"' in html
    assert 'rel="next"' not in html


def test_pagination_links_keep_filters(client, thirty_products):
    """The next-page link keeps the active filters and sort."""
    html = client.get("/products/?format=cryopreserved&sort=name").text
    assert 'href="/products/?format=cryopreserved&amp;sort=name&amp;page=2" rel="next"' in html


def test_single_page_has_no_pagination(client, seeded):
    """A result that fits one page shows no pagination and no page number."""
    html = client.get("/products/?category=pbmc").text
    assert 'aria-label="Pagination"' not in html
    assert result_count(html) == "3 products"


@pytest.mark.parametrize(
    ("page", "pages", "numbers"),
    [
        (1, 1, [1]),
        (1, 10, [1, 2, 3, None, 10]),
        (4, 10, [1, 2, 3, 4, 5, 6, None, 10]),
        (5, 10, [1, None, 3, 4, 5, 6, 7, None, 10]),
        (10, 10, [1, None, 8, 9, 10]),
        (2000, 4167, [1, None, 1998, 1999, 2000, 2001, 2002, None, 4167]),
    ],
)
def test_pagination_links_the_ends_and_two_pages_either_side(page, pages, numbers):
    """The page object decides which page numbers the pagination shows (None: a gap), whatever the count."""
    from types import SimpleNamespace

    from shop.catalog.services import CatalogPage

    assert CatalogPage(SimpleNamespace(page=page), [], 0, pages, []).page_numbers == numbers
