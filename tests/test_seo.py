"""What search engines see: titles, descriptions, canonical links, structured data, sitemap, robots.txt."""

import json
import re
import xml.etree.ElementTree as ET
from html import unescape

import pytest
from sqlalchemy import select

from shop.catalog.models import Product
from tests.catalog.test_page_columns import page_statements, text_columns
from tests.factories import ProductFactory

SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
PBMC = "/products/pbmc-cryopreserved-10m"
QUOTE_ONLY = "/products/leukopak-non-mobilized-full-fresh"


def head(html: str) -> str:
    """The <head> of a page."""
    return html.split("</head>", 1)[0]


def meta_description(html: str) -> str | None:
    """The content of the meta description, if any."""
    match = re.search(r'<meta name="description" content="([^"]*)">', head(html))
    return unescape(match.group(1)) if match else None


def canonical(html: str) -> str | None:
    """The canonical URL, if any."""
    match = re.search(r'<link rel="canonical" href="([^"]*)">', head(html))
    return unescape(match.group(1)) if match else None


def json_ld(html: str) -> list[dict]:
    """Every application/ld+json block of a page, parsed."""
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [json.loads(block) for block in blocks]


def noindex(html: str) -> bool:
    """True when the page asks robots not to index it."""
    match = re.search(r'<meta name="robots" content="([^"]*)">', head(html))
    return bool(match) and "noindex" in match.group(1)


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("/", "Primary human cells for CAR-T research | CellShop"),
        ("/products/", "Products | CellShop"),
        ("/products/?page=2", "Products (page 2) | CellShop"),
        (PBMC, "PBMC, cryopreserved, 10M (CT-PBMC-CR-10M) | CellShop"),
    ],
)
def test_pages_have_a_title_and_description(client, seeded, url, title):
    """Every public page has its own <title> and a non-trivial meta description."""
    html = client.get(url).text
    assert f"<title>{title}</title>" in unescape(html)
    description = meta_description(html)
    assert description and len(description) >= 50


def test_product_description_summarises_the_product(client, seeded):
    """The product page's description names the cell type, price and catalog number."""
    description = meta_description(client.get(PBMC).text)
    assert description.startswith("PBMC, cryopreserved, 1 × 10⁷ cells per vial")
    assert "$350.00" in description
    assert "CT-PBMC-CR-10M" in description
    assert "Quote only" in meta_description(client.get(QUOTE_ONLY).text)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/", "http://localhost/"),
        ("/products/", "http://localhost/products/"),
        ("/products/?page=2", "http://localhost/products/?page=2"),
        ("/products/?format=fresh&sort=name", "http://localhost/products/"),
        ("/products/?category=pbmc", "http://localhost/products/?category=pbmc"),
        ("/products/?category=pbmc&format=cryopreserved", "http://localhost/products/"),
        (PBMC, f"http://localhost{PBMC}"),
        (f"{PBMC}?utm_source=mail", f"http://localhost{PBMC}"),
    ],
)
def test_canonical_link(client, seeded, url, expected):
    """Each page names its canonical URL, without tracking or filter parameters."""
    assert canonical(client.get(url).text) == expected


def test_product_structured_data_with_offer(client, seeded):
    """A list-price product has schema.org Product data with its SKU and an Offer in USD."""
    (data,) = json_ld(client.get(PBMC).text)
    assert data["@type"] == "Product"
    assert data["sku"] == "CT-PBMC-CR-10M"
    assert data["name"] == "PBMC, cryopreserved, 10M"
    assert data["url"] == f"http://localhost{PBMC}"
    offer = data["offers"]
    assert offer["@type"] == "Offer"
    assert offer["price"] == "350.00"
    assert offer["priceCurrency"] == "USD"
    assert offer["availability"] == "https://schema.org/InStock"


def test_quote_only_product_has_no_offer(client, seeded):
    """A quote-only product's structured data has no Offer and no price."""
    (data,) = json_ld(client.get(QUOTE_ONLY).text)
    assert data["@type"] == "Product"
    assert data["sku"] == "CT-LP-NM-FR-FULL"
    assert "offers" not in data
    assert "price" not in json.dumps(data)


def test_offer_without_stock_is_a_preorder(client, seeded):
    """A list-price product with no lot in stock is offered as PreOrder, not InStock."""
    product = seeded.session.scalar(select(Product).where(Product.slug == "pbmc-cryopreserved-10m"))
    for lot in product.lots:
        lot.status = "depleted"
    seeded.session.commit()
    (data,) = json_ld(client.get(PBMC).text)
    assert data["offers"]["availability"] == "https://schema.org/PreOrder"


def test_structured_data_cannot_break_out_of_its_script(client, db):
    """A product name containing </script> stays inside the JSON-LD block and is never run."""
    ProductFactory(slug="odd-name", name="Cells </script><script>alert(1)</script>")
    db.session.commit()
    html = client.get("/products/odd-name").text
    assert "<script>alert(1)" not in html
    (data,) = json_ld(html)
    assert data["name"] == "Cells </script><script>alert(1)</script>"


def sitemap_urls(client) -> list[str]:
    """Parse /sitemap.xml as XML and return its <loc> URLs."""
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    return [loc.text for loc in root.findall("sm:url/sm:loc", SITEMAP_NS)]


def test_sitemap_lists_categories_and_every_active_product(client, seeded):
    """The sitemap is valid XML listing the catalog, each category and each of the 26 products."""
    urls = sitemap_urls(client)
    assert "http://localhost/products/" in urls
    assert "http://localhost/products/?category=leukopak" in urls
    assert "http://localhost/products/?category=cord-blood" in urls
    product_urls = [u for u in urls if re.fullmatch(r"http://localhost/products/[^?/]+", u)]
    assert len(product_urls) == 26
    assert f"http://localhost{PBMC}" in product_urls
    assert len(urls) == len(set(urls))


def test_sitemap_leaves_out_inactive_products(client, seeded):
    """A withdrawn product is not in the sitemap."""
    seeded.session.scalar(select(Product).where(Product.slug == "pbmc-cryopreserved-10m")).active = False
    seeded.session.commit()
    urls = sitemap_urls(client)
    assert f"http://localhost{PBMC}" not in urls
    assert "http://localhost/products/pbmc-cryopreserved-50m" in urls


def test_robots_txt(client, db):
    """robots.txt keeps crawlers out of /admin/ and points to the sitemap."""
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.text.splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines
    assert "Sitemap: http://localhost/sitemap.xml" in lines


@pytest.mark.parametrize(
    "query", ["format=fresh", "q=leuko", "cmv=positive&hla=A*02:01", "sort=price", "category=pbmc&stock=in"]
)
def test_filtered_catalog_pages_are_noindex(client, seeded, query):
    """Filtered, searched or re-sorted catalog pages ask not to be indexed."""
    assert noindex(client.get(f"/products/?{query}").text)


@pytest.mark.parametrize("url", ["/", "/products/", "/products/?page=2", "/products/?category=leukopak", PBMC])
def test_main_pages_are_indexable(client, seeded, url):
    """The home page, the catalog pages, category landing pages and product pages may be indexed."""
    assert not noindex(client.get(url).text)


def test_category_page_is_a_landing_page(client, seeded):
    """One category's listing has its own title, heading and description (the sitemap lists it)."""
    html = client.get("/products/?category=leukopak").text
    assert "<title>Leukopaks | CellShop</title>" in html
    assert "<h1>Leukopaks</h1>" in html
    assert "/products/?category=leukopak" in client.get("/sitemap.xml").text


def test_error_page_is_noindex(client, seeded):
    """A 404 page is not indexed and has no canonical link."""
    html = client.get("/products/no-such-product").text
    assert noindex(html)
    assert canonical(html) is None


def test_sitemap_reads_slugs_and_dates_only(client, seeded, count_queries):
    """The sitemap's statements read no product description and no post body (100,000 products are listed)."""
    assert not any(text_columns(page_statements(client, count_queries, "/sitemap.xml")))


def test_sitemap_lists_every_visible_post_with_its_date(client, seeded):
    """Posts loaded with their slugs and dates only still carry their last change."""
    response = client.get("/sitemap.xml")
    root = ET.fromstring(response.data)
    posts = [u for u in root.findall("sm:url", SITEMAP_NS) if "/blog/" in u.find("sm:loc", SITEMAP_NS).text]
    dates = [u.find("sm:lastmod", SITEMAP_NS).text for u in posts if u.find("sm:lastmod", SITEMAP_NS) is not None]
    assert len(dates) == 10
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in dates)
