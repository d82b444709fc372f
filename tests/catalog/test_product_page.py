"""The product page: specification, price, lots with donor data, related products."""

import re
from html import unescape

import pytest
from sqlalchemy import select

from shop.catalog.models import Product
from tests.catalog.cards import card_slugs

PBMC = "/products/pbmc-cryopreserved-10m"
FRESH_LEUKOPAK = "/products/leukopak-non-mobilized-full-fresh"


def spec_rows(html: str) -> dict[str, str]:
    """The specification table as {row heading: cell text}."""
    rows = re.findall(r'<tr><th scope="row">([^<]*)</th><td[^>]*>([^<]*)</td></tr>', html)
    return {unescape(k): unescape(v) for k, v in rows}


def related_slugs(html: str) -> list[str]:
    """Slugs of the cards in the Related products section."""
    section = html.split('id="related-heading"', 1)
    return card_slugs(section[1]) if len(section) == 2 else []


def test_specification_table(client, seeded):
    """The spec table lists cell type, markers, cells per unit, viability, shipping and more."""
    rows = spec_rows(client.get(PBMC).text)
    assert rows["Cell type"] == "PBMC"
    assert rows["Markers"] == "CD3+ CD4+ CD8+ CD19+ CD14+ CD56+"
    assert rows["Cells per unit"] == "1 × 10⁷"
    assert rows["Minimum viability"] == "≥ 85%"
    assert rows["Minimum purity"] == "Not applicable (unfractionated)"
    assert rows["Shipping condition"] == "Dry ice"
    assert rows["Format"] == "Cryopreserved"
    assert rows["Container"] == "Vial"
    assert rows["Tissue source"] == "Peripheral blood"
    assert rows["Grade"] == "Research use only"


def test_heading_catalog_number_and_breadcrumbs(client, seeded):
    """The page names the product, its catalog number and links to its category."""
    html = client.get(PBMC).text
    assert "<h1>PBMC, cryopreserved, 10M</h1>" in html
    assert '<span class="mono">CT-PBMC-CR-10M</span>' in html
    assert 'href="/products/?category=pbmc">PBMCs</a>' in html


def test_list_price_and_lead_time(client, seeded):
    """A list-price product shows its price per unit and its lead time."""
    html = client.get(PBMC).text
    assert '<span class="price">$350.00</span>' in html
    assert "per 1 vial" in html
    assert "<dt>Lead time</dt><dd>2 business days</dd>" in html
    assert "Quote only" not in html.split("</header>")[1].split('id="related-heading"')[0]


def test_quote_only_product(client, seeded):
    """A product without a list price says "Quote only"."""
    html = client.get(FRESH_LEUKOPAK).text
    assert '<span class="price quote">Quote only</span>' in html
    assert "Priced per project" in html


def test_research_use_only_notice(client, seeded):
    """Research-grade products carry the research-use-only notice; GMP ones their own."""
    html = client.get(PBMC).text
    assert "<strong>Research use only.</strong> Not for use in humans" in html
    gmp = client.get("/products/gmp-leukopak-non-mobilized-full-fresh").text
    assert "<strong>Research use only.</strong> GMP-grade material" in gmp


def test_available_lots_with_donor_attributes(client, seeded):
    """Each in-stock lot shows its donor code, HLA typing and CMV status."""
    html = client.get(PBMC).text
    assert 'Lot <span class="mono">2605-D10563-01</span>' in html
    assert 'Lot <span class="mono">2609-D10836-01</span>' in html
    assert '<dd class="mono">D10563</dd>' in html
    assert "A*02:01 A*03:01 B*07:02 B*35:01 C*04:01 C*07:02 DRB1*01:01 DRB1*15:01" in html
    assert "<dt>CMV / EBV</dt><dd>Positive / Positive</dd>" in html
    assert "<dt>CMV / EBV</dt><dd>Negative / Negative</dd>" in html
    assert "<strong>12</strong> units available" in html
    assert "43 units in 2 lots" in html


def test_depleted_and_reserved_lots_are_not_shown(client, seeded):
    """Only the available lot is listed; the depleted and the reserved lot are not."""
    html = client.get(FRESH_LEUKOPAK).text
    assert "2611-D10563-01" in html
    assert "2605-D10721-01" not in html  # depleted
    assert "2611-D10482-01" not in html  # reserved
    assert "1 unit in 1 lot" in html


def test_quarantined_lot_is_not_shown(client, seeded):
    """A lot in quarantine is not offered."""
    html = client.get("/products/nk-cells-cd56-cryopreserved-10m").text
    assert "2607-D10836-01" in html
    assert "2611-D10721-01" not in html


def test_nothing_personally_identifying(client, seeded):
    """Donors appear only as codes: no names, e-mail addresses or birth dates."""
    # The page above the footer (which holds the shop's own address and phone number).
    html = client.get(PBMC).text.split('<footer class="site-footer">')[0]
    emails = set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", html))
    assert emails <= {"sales@cellshop.example"}  # the shop's own address at most
    lowered = html.lower()
    for word in ("birth", "dob", "first name", "last name", "surname", "address", "phone"):
        assert word not in lowered, word
    donor_cells = re.findall(r"<dt>Donor</dt><dd[^>]*>([^<]*)</dd>", html)
    assert donor_cells and all(re.fullmatch(r"D\d{5}", code) for code in donor_cells)


def test_related_products_from_the_same_category(client, seeded):
    """Related products are the other PBMC products, not the product itself or other categories."""
    related = related_slugs(client.get(PBMC).text)
    assert set(related) == {"pbmc-cryopreserved-50m", "pbmc-hla-a0201-cmv-positive-cryopreserved-25m"}


def test_related_products_leave_out_inactive_ones(client, seeded):
    """A withdrawn product in the same category is not suggested."""
    seeded.session.scalar(select(Product).where(Product.slug == "pbmc-cryopreserved-50m")).active = False
    seeded.session.commit()
    assert related_slugs(client.get(PBMC).text) == ["pbmc-hla-a0201-cmv-positive-cryopreserved-25m"]


MADE_TO_ORDER = [
    "gmp-leukopak-non-mobilized-full-fresh",
    "pan-t-cells-cd3-fresh-100m",
    "leukopak-gcsf-mobilized-full-fresh",
]


@pytest.mark.parametrize("slug", MADE_TO_ORDER)
def test_product_without_lots_in_stock_is_made_to_order(client, seeded, slug):
    """No in-stock lot: the page says the product is made to order and gives the lead time."""
    html = client.get(f"/products/{slug}").text
    assert "<dt>Availability</dt><dd>Made to order</dd>" in html
    assert "This product is collected to order" in html
    assert 'class="lot"' not in html


def test_inactive_product_is_404(client, seeded):
    """A withdrawn product's page is a 404 that links back to the catalog."""
    seeded.session.scalar(select(Product).where(Product.slug == "pbmc-cryopreserved-10m")).active = False
    seeded.session.commit()
    response = client.get(PBMC)
    assert response.status_code == 404
    assert 'href="/products/"' in response.text
