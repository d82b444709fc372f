"""What every back-office page shares: the shop's colours, one h1, worded search hints, rendered
Markdown, a 403 that leads back into the back office."""

import re
from pathlib import Path

from tests.factories import ProductFactory

CSS = Path(__file__).resolve().parents[2] / "static" / "css"


def custom_properties(stylesheet: str) -> dict[str, str]:
    """The --name: value pairs of a stylesheet's first :root block."""
    root = re.search(r":root\s*\{(.*?)\}", (CSS / stylesheet).read_text(), re.S)[1]
    return dict(re.findall(r"(--[\w-]+):\s*([^;]+);", re.sub(r"/\*.*?\*/", "", root, flags=re.S)))


def test_the_back_office_uses_the_shops_colours_type_and_spacing(client, auth, db):
    """One set of tokens (tokens.css), linked before the shop's and the back office's own stylesheets."""
    tokens, back_office = custom_properties("tokens.css"), custom_properties("admin.css")
    assert len(tokens) > 20
    assert not tokens.keys() & back_office.keys()  # the back office adds its own, it copies none
    auth.login("admin")
    for path in ("/admin/", "/"):
        page = client.get(path).text
        assert page.index("css/tokens.css") < page.index("css/admin.css" if path == "/admin/" else "css/site.css")


def test_a_page_has_one_h1_a_language_a_skip_link_and_no_inline_style(client, auth, db):
    auth.login("admin")
    for path in ("/admin/", "/admin/product/", "/admin/posts/", "/admin/audit/", "/admin/catalog_csv/"):
        page = client.get(path).text
        assert len(re.findall(r"<h1[ >]", page)) == 1, path
        assert '<html lang="en">' in page and 'href="#main"' in page and '<main id="main"' in page
        assert " style=" not in page and "onclick=" not in page, path


def test_search_hints_say_labels_not_column_names(client, auth, db):
    auth.login("admin")
    hints = {
        path: re.search(r'name="search"[^>]*placeholder="([^"]*)"', client.get(path).text, re.S)
        for path in ("/admin/donor/", "/admin/lot/", "/admin/users/", "/admin/audit/", "/admin/sign_ins/")
    }
    placeholders = {path: match[1] if match else None for path, match in hints.items()}
    assert placeholders == {
        "/admin/donor/": "Search code or ethnicity",
        "/admin/lot/": "Search lot number",
        "/admin/users/": "Search email or name",
        "/admin/audit/": "Search who or record",
        "/admin/sign_ins/": "Search who or from",
    }
    assert not any("_" in text for text in placeholders.values())


def test_the_details_page_renders_markdown_sanitised_as_the_site_does(client, auth, db):
    product = ProductFactory(description="**Bold** claim\n\n- one\n- two\n\n<script>alert(1)</script>")
    db.session.commit()
    auth.login("marketing")
    page = client.get(f"/admin/product/details/?id={product.id}").text
    prose = re.search(r'<div class="admin-prose">(.*?)</div>', page, re.S)[1]
    assert "<strong>Bold</strong>" in prose and prose.count("<li>") == 2
    assert "<script>alert(1)" not in page and "**Bold**" not in page
    assert prose.strip() == product.description_html.strip()  # the very HTML the shop's product page shows


def test_a_403_in_the_back_office_leads_back_to_it(client, auth, db):
    auth.login("sales")
    response = client.get("/admin/audit/", headers={"Referer": "http://localhost/admin/product/?page=1"})
    assert response.status_code == 403
    page = response.text
    assert "Browse all products" not in page
    assert '<a class="button" href="/admin/">Back to the dashboard</a>' in page
    assert 'href="/admin/product/?page=1">Back to the previous page</a>' in page
    assert "Ask an administrator" in page


def test_the_way_back_never_leads_off_the_back_office(client, auth, db):
    auth.login("sales")
    for referer in ("https://evil.example/admin/product/", "http://localhost/products/", "javascript:alert(1)",
                    "http://localhost/admin/audit/", "//evil.example/admin/"):  # fmt: skip
        page = client.get("/admin/audit/", headers={"Referer": referer}).text
        assert "Back to the previous page" not in page, referer
        assert "Back to the dashboard" in page


def test_errors_outside_the_back_office_keep_the_shops_links(client, db):
    page = client.get("/no-such-page").text
    assert "Browse all products" in page and "Back to the dashboard" not in page
