"""The shop's own pages: public addresses, the footer, the site map, the editor, revisions, seeds and the cache."""

import html
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shop.pages.models import Page, PageRevision
from shop.pages.services import STANDARD_PAGES, PageContent, save_page
from shop.seeds import load_pages
from tests.apps import app_with

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def make_page(db, slug="about", title="About us", body="We ship **cells**.", published=True) -> Page:
    page = save_page(Page(), PageContent(title, slug, "A summary.", body, published), actor="test")
    db.session.commit()
    return page


def edit(client, page: Page, **fields):
    data = {"title": page.title, "slug": page.slug, "summary": page.summary, "body": page.body,
            "published": "y" if page.published else "", "expected_version": str(page.version)}  # fmt: skip
    data.update(fields)
    return client.post(f"/admin/pages/{page.id}/edit", data={k: v for k, v in data.items() if v is not None})


def test_the_standard_pages_are_seeded_with_real_text(client, seeded):
    expectations = {
        "/about": ["About us", "Recallable donors", "Custom donor selection"],
        "/quality": ["IRB", "institutional review board", "De-identified", "HIV-1/2", "HTLV", "West Nile", "Syphilis"],
        "/shipping": ["Dry ice", "LN2 dry shipper", "Fresh or cryopreserved", "Monday", "Thursday", "Friday"],
        "/terms": ["Terms of sale", "Research use only", "within 10 days of delivery"],
        "/privacy": ["Privacy", "unsubscribe", "How long we keep it"],
    }
    for path, phrases in expectations.items():
        response = client.get(path)
        assert response.status_code == 200, path
        text = html.unescape(response.text)
        for phrase in phrases:
            assert phrase.lower() in text.lower(), (path, phrase)
        assert "lorem" not in text.lower()
        assert f'<link rel="canonical" href="http://localhost{path}">' in response.text


def test_every_page_links_the_pages_and_the_contact_details_from_its_footer(client, seeded, app):
    for path in ("/", "/products/", "/blog/", "/about"):
        text = html.unescape(client.get(path).text)
        footer = text.split('<footer class="site-footer">')[1]
        for slug, label in STANDARD_PAGES.items():
            assert f'<a href="/{slug}">{label}</a>' in footer, (path, slug)
        assert "400 Technology Square" in footer and app.config["CONTACT_PHONE"] in footer
        assert app.config["CONTACT_HOURS"] in footer and app.config["CONTACT_EMAIL"] in footer
        # The footer's site map is the page for people, not the XML for crawlers.
        assert '<a href="/sitemap">Site map</a>' in footer and "sitemap.xml" not in footer


def test_the_html_site_map_lists_categories_pages_topics_and_posts(client, seeded):
    response = client.get("/sitemap")
    assert response.status_code == 200 and response.mimetype == "text/html"
    text = html.unescape(response.text)
    for expected in ("Leukopaks", "T cells", "Quality and donor consent", "Terms of sale", "All topics", "CAR-T",
                     "STAT5 Proteins May Play"):  # fmt: skip
        assert expected in text, expected
    assert '<a href="/products/?category=leukopak">' in text and '<a href="/shipping">' in text


def test_a_missing_or_hidden_page_is_not_found(client, db):
    make_page(db, slug="terms", title="Terms of sale", published=False)
    assert client.get("/terms").status_code == 404
    assert client.get("/about").status_code == 404
    assert client.get("/pages/nothing-here").status_code == 404
    assert client.get("/pages/Not%20a%20slug").status_code == 404
    assert client.get("/pages/about").status_code == 301  # a standard page lives at its short address


def test_marketing_edits_a_page_and_it_shows_with_a_new_revision(client, auth, db):
    page = make_page(db)
    assert "We ship <strong>cells</strong>." in client.get("/about").text  # now cached for anonymous visitors
    assert client.get("/about").status_code == 200
    auth.login("marketing")
    response = edit(client, page, body="## Our labs\n\nWe ship **fresh** cells.", title="About CellShop")
    assert response.status_code == 302, html.unescape(response.text)[:1500]
    auth.logout()
    text = client.get("/about").text
    assert "<h2>Our labs</h2>" in text and "About CellShop" in text
    db.session.refresh(page)
    assert page.revision == 2 and page.updated_by == "marketing@staff.test"
    assert [r.number for r in page.revisions] == [2, 1]


def test_revisions_can_be_restored_as_a_new_revision(client, auth, db):
    page = make_page(db, body="First text.")
    auth.login("marketing")
    edit(client, page, body="Second text.")
    history = client.get(f"/admin/pages/{page.id}/revisions").text
    assert "Restore" in history and "marketing@staff.test" in history
    response = client.post(f"/admin/pages/{page.id}/revisions/1/restore")
    assert response.status_code == 302
    db.session.refresh(page)
    assert page.body == "First text." and page.revision == 3
    assert client.post(f"/admin/pages/{page.id}/revisions/99/restore").status_code == 404
    auth.logout()
    assert "First text." in client.get("/about").text


def test_bad_input_gets_a_message_and_nothing_is_saved(client, auth, db):
    page = make_page(db)
    make_page(db, slug="lab-services", title="Lab services")
    auth.login("marketing")
    cases = [
        ({"title": ""}, "Give the page a title."),
        ({"title": "x" * 201}, "Field cannot be longer than 200 characters."),
        ({"body": "x" * 100_001}, "The body is too long: 100,001 characters; at most 100,000."),
        ({"slug": "somewhere-else"}, "This page's address is fixed (/about)"),
    ]
    for fields, message in cases:
        response = edit(client, page, **fields)
        assert response.status_code == 200 and message in html.unescape(response.text), message
    new = {"title": "Another", "body": "Text"}
    for slug, message in (("lab-services", "Another page already uses this address"),
                          ("Not a slug!", "Use lower-case letters")):  # fmt: skip
        response = client.post("/admin/pages/new", data={**new, "slug": slug})
        assert response.status_code == 200 and message in html.unescape(response.text), message
    db.session.refresh(page)
    assert page.revision == 1 and db.session.scalar(select(func.count(Page.id))) == 2
    assert client.post("/admin/pages/new", data={**new, "title": "Nul\x00byte"}).status_code == 400


def test_hostile_markdown_is_stored_sanitised(client, auth, db):
    page = make_page(db)
    auth.login("marketing")
    body = "<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n<img src=x onerror=alert(1)>"
    assert edit(client, page, body=body).status_code == 302
    db.session.refresh(page)
    for dangerous in ("<script", 'href="javascript:', "<img"):
        assert dangerous not in page.body_html, dangerous


def test_a_save_over_someone_elses_change_is_refused(client, auth, db):
    page = make_page(db)
    auth.login("marketing")
    opened_on = page.version
    assert edit(client, page, body="Theirs.").status_code == 302
    response = edit(client, page, body="Mine.", expected_version=str(opened_on))
    assert "someone else changed this record" in html.unescape(response.text)
    db.session.refresh(page)
    assert page.body == "Theirs."


def test_marketing_adds_a_page_under_pages_and_may_delete_it_but_not_a_standard_one(client, auth, db):
    about = make_page(db)
    auth.login("marketing")
    response = client.post("/admin/pages/new", data={"title": "Lab services", "body": "We **test** cells.",
                                                     "published": "y"})  # fmt: skip
    assert response.status_code == 302
    page_id = db.session.scalar(select(Page.id).where(Page.slug == "lab-services"))
    assert "We <strong>test</strong> cells." in client.get("/pages/lab-services").text
    listing = client.get("/admin/pages/").text
    assert "/pages/lab-services" in listing and "Quality and donor consent" in listing  # missing: write it
    assert client.post(f"/admin/pages/{about.id}/delete").status_code == 302
    assert db.session.get(Page, about.id) is not None
    assert client.post(f"/admin/pages/{page_id}/delete").status_code == 302
    assert db.session.scalar(select(func.count(Page.id)).where(Page.id == page_id)) == 0
    assert db.session.scalar(select(func.count(PageRevision.id)).where(PageRevision.page_id == page_id)) == 0


def test_a_standard_page_can_be_written_from_the_list_when_missing(client, auth, db):
    auth.login("marketing")
    form = client.get("/admin/pages/new?slug=shipping").text
    assert 'value="Shipping and handling"' in form and 'value="shipping"' in form
    response = client.post("/admin/pages/new", data={"title": "Shipping", "slug": "shipping", "body": "Dry ice.",
                                                     "published": "y"})  # fmt: skip
    assert response.status_code == 302
    assert "Dry ice." in client.get("/shipping").text


def test_the_preview_shows_the_page_without_saving(client, auth, db):
    page = make_page(db)
    auth.login("marketing")
    response = client.post("/admin/pages/preview", data={"page_id": str(page.id), "title": "New title",
                                                         "slug": "about", "body": "Draft **words**."})  # fmt: skip
    assert "Draft <strong>words</strong>." in response.text and "Preview." in response.text
    assert 'content="noindex, nofollow"' in response.text
    assert client.post("/admin/pages/render", data={"body": "*hi*"}).text == "<p><em>hi</em></p>\n"
    db.session.refresh(page)
    assert page.title == "About us"


def test_only_staff_with_the_pages_permission_reach_the_editor(client, auth, db):
    page = make_page(db)
    assert client.get("/admin/pages/").status_code == 302  # to the sign-in page
    auth.login("sales")
    for method, url in (("get", "/admin/pages/"), ("get", f"/admin/pages/{page.id}/edit"),
                        ("post", f"/admin/pages/{page.id}/edit"), ("post", "/admin/pages/render")):  # fmt: skip
        assert getattr(client, method)(url).status_code == 403, url


def test_seeding_writes_missing_pages_and_never_overwrites_an_edited_one(db):
    tally = load_pages(SEEDS)
    assert tally.created == 5
    about = db.session.scalar(select(Page).where(Page.slug == "about"))
    about.body = "Marketing's own words."
    db.session.commit()
    again = load_pages(SEEDS)
    assert again.created == 0 and again.unchanged == 5
    assert about.body == "Marketing's own words."


@pytest.fixture(scope="module")
def cached_app(database_url, app):
    """The shop with its page cache on, as in production (the tests' default app draws every page)."""
    return app_with(database_url, CACHE_TYPE="SimpleCache")


def test_a_page_save_moves_the_pages_clock_and_the_cached_page_goes_stale(cached_app, db, count_queries):
    from shop.content_clock import reading
    from shop.extensions import cache

    page = make_page(db)
    with cached_app.app_context():
        cache.clear()
    visitor = cached_app.test_client()
    with count_queries() as drawn:
        assert "We ship <strong>cells</strong>." in visitor.get("/about").text
    with count_queries() as cached:
        assert visitor.get("/about").status_code == 200
    # The second comes from the page cache: it reads the clocks (on every request with the tests' TTL of 0) only.
    assert any("FROM page" in statement for statement in drawn.statements)
    assert not any("FROM page" in statement for statement in cached.statements), cached.statements
    before = {area: reading(area) for area in ("catalog", "blog", "pages")}
    save_page(page, PageContent("About us", "about", "", "Changed.", True), actor="test")
    db.session.commit()
    assert reading("pages").newer_than(before["pages"])
    assert not reading("catalog").newer_than(before["catalog"]) and not reading("blog").newer_than(before["blog"])
    assert "Changed." in visitor.get("/about").text


def test_the_xml_sitemap_lists_the_pages_for_crawlers(client, seeded):
    xml = client.get("/sitemap.xml").text
    for path in ("/about", "/quality", "/shipping", "/terms", "/privacy", "/sitemap"):
        assert f"<loc>http://localhost{path}</loc>" in xml, path


def test_the_page_editor_offers_the_body_image_upload(client, auth, db):
    page = make_page(db)
    auth.login("marketing")
    form = client.get(f"/admin/pages/{page.id}/edit").text
    assert 'formaction="/admin/posts/images"' in form and 'enctype="multipart/form-data"' in form
    assert '<label class="editor-pane-label" for="body">Markdown source</label>' in form
