"""The back office's look in a real browser: nothing overflows at 375 px, contrast passes WCAG AA.

Contrast ratios are computed (WCAG 2.x relative luminance) from the colours Chromium resolved from
the CSS, for the teal bar's links and focus ring and for every visible piece of text on the pages.
"""

from pathlib import Path

import pytest

from shop.audit import AuditEntry, SignIn
from shop.blog.models import Post
from shop.extensions import db
from tests.conftest import sign_in_with_the_form
from tests.factories import LotFactory, ProductFactory

pytestmark = pytest.mark.browser

# Every list and details page staff use; each must fit a 375 px wide phone.
PAGES = (
    "/admin/",
    "/admin/product/",
    "/admin/product/details/?id={product}",
    "/admin/category/",
    "/admin/donor/",
    "/admin/lot/",
    "/admin/lot/details/?id={lot}",
    "/admin/posts/",
    "/admin/posts/{post}/revisions",
    "/admin/topic/",
    "/admin/subscribers/",
    "/admin/outbox/",
    "/admin/users/",
    "/admin/audit/",
    "/admin/audit/?flt0_1=lot&flt1_3=2026-12-01&flt2_0=1",  # active filters stack on a phone
    "/admin/audit/details/?id={entry}",
    "/admin/sign_ins/",
    "/admin/catalog_csv/",
)

TEXT_COLOURS_JS = (Path(__file__).parent / "text_colours.js").read_text()


def luminance(colour: dict) -> float:
    """WCAG 2.x relative luminance of an sRGB colour (channels 0-255)."""

    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour["r"]) + 0.7152 * channel(colour["g"]) + 0.0722 * channel(colour["b"])


def contrast(a: dict, b: dict) -> float:
    """The WCAG contrast ratio of two colours, from 1 to 21."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def rgb(css: str) -> dict:
    """'rgb(11, 93, 99)' -> {'r': 11, 'g': 93, 'b': 99}."""
    r, g, b = (float(part) for part in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
    return {"r": r, "g": g, "b": b}


def test_contrast_is_computed_as_wcag_says():
    white, teal = {"r": 255, "g": 255, "b": 255}, rgb("rgb(11, 93, 99)")
    assert contrast(white, {"r": 0, "g": 0, "b": 0}) == pytest.approx(21)
    assert contrast(white, teal) == pytest.approx(7.61, abs=0.01)
    # What the issue measured, reproduced: Bootstrap's navbar-dark links (white at 50%) on the teal bar
    # at 3.1:1, and the blue focus ring of the content (#1d4ed8) at 1.1:1 there.
    half_white = {k: 255 * 0.5 + teal[k] * 0.5 for k in "rgb"}
    assert contrast(half_white, teal) == pytest.approx(3.1, abs=0.05)
    assert contrast(rgb("rgb(29, 78, 216)"), teal) == pytest.approx(1.1, abs=0.05)


@pytest.fixture
def back_office(page, seeded, make_user):
    """The seeded shop, an administrator signed in, and one of each record the pages show."""
    make_user("admin", email="ada@staff.test")
    product, lot = ProductFactory(description="**Bold** claim\n\n- one\n- two"), LotFactory()
    post = db.session.scalars(db.select(Post)).first()
    db.session.add(SignIn(email="ada@staff.test", event="sign-in", address="203.0.113.7", user_agent="Chrome/131"))
    db.session.commit()
    entry = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    page.goto("/login")
    sign_in_with_the_form(page, "ada@staff.test", "**/admin/")
    ids = {"product": product.id, "lot": lot.id, "post": post.id, "entry": entry.id}
    return page, ids


def test_no_page_is_wider_than_a_phone(back_office):
    page, ids = back_office
    page.set_viewport_size({"width": 375, "height": 800})
    widths = {}
    for path in PAGES:
        page.goto(path.format(**ids))
        widths[path] = page.evaluate("document.documentElement.scrollWidth")
    assert widths == dict.fromkeys(PAGES, 375)
    # Wide lists scroll in their own box instead.
    page.goto("/admin/posts/{post}/revisions".format(**ids))
    box = page.locator(".table-responsive").first
    assert box.evaluate("el => getComputedStyle(el).overflowX") == "auto"


def test_the_audit_log_is_a_page_of_one_line_changes_not_a_19000_px_scroll(back_office):
    page, _ = back_office
    db.session.execute(
        AuditEntry.__table__.insert(),
        [{"actor": "mara@staff.test", "action": "update", "entity": "product", "entity_id": n, "label": f"Product {n}",
          "changes": {f"field_{k}": ["a" * 300, "b" * 300] for k in range(30)}} for n in range(1, 121)],
    )  # fmt: skip
    db.session.commit()
    page.goto("/admin/audit/")
    assert page.locator("td.col-at").count() == 50
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 4000, height  # 30 long fields a change, yet each is one short row; values are on its page


def test_catalog_numbers_never_break_across_lines(back_office):
    page, _ = back_office
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/admin/product/")
    cells = page.locator("td.col-catalog_number")
    assert cells.count() > 10
    heights = cells.evaluate_all(
        "cells => cells.map(c => { const r = document.createRange(); r.selectNodeContents(c);"
        " return r.getClientRects().length; })"
    )
    assert set(heights) == {1}  # one line box each: "CT-LP-NM-FR-FULL-GMP" stays whole


def test_bar_links_and_focus_ring_pass_wcag_aa_on_the_teal(back_office):
    page, _ = back_office
    bar = rgb(page.locator(".admin-bar").evaluate("el => getComputedStyle(el).backgroundColor"))
    links = page.locator(".admin-bar .nav-link, .admin-bar .navbar-brand, .staff-identity a")
    ratios = {
        text.strip(): contrast(rgb(colour), bar)
        for text, colour in links.evaluate_all("els => els.map(e => [e.innerText, getComputedStyle(e).color])")
    }
    assert len(ratios) >= 6 and min(ratios.values()) >= 4.5, ratios
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand, on the bar
    focused = page.evaluate(
        "() => { const el = document.activeElement, s = getComputedStyle(el);"
        " return [el.closest('.admin-bar') !== null, s.outlineStyle, s.outlineWidth, s.outlineColor]; }"
    )
    on_bar, style, width, colour = focused
    assert on_bar and style == "solid" and float(width.rstrip("px")) >= 2
    assert contrast(rgb(colour), bar) >= 3  # WCAG 2.2 focus appearance / non-text contrast


def test_every_text_on_the_pages_passes_wcag_aa(back_office):
    page, ids = back_office
    failures, checked = [], 0
    for path in ("/admin/", "/admin/product/", "/admin/posts/", "/admin/audit/", "/admin/audit/details/?id={entry}",
                 "/admin/sign_ins/", "/admin/lot/", "/admin/product/details/?id={product}"):  # fmt: skip
        page.goto(path.format(**ids))
        texts = page.evaluate(TEXT_COLOURS_JS)
        checked += len(texts)
        for item in texts:
            ratio = contrast(item["fg"], item["bg"])
            if ratio < (3 if item["large"] else 4.5):
                failures.append((path, item["text"], round(ratio, 2)))
    assert checked > 500  # the pages' text was really read
    assert failures == []


def test_the_details_page_renders_markdown_as_the_site_does(back_office):
    page, ids = back_office
    page.goto("/admin/product/details/?id={product}".format(**ids))
    prose = page.locator(".admin-prose")
    assert prose.locator("strong").inner_text() == "Bold"
    assert prose.locator("li").count() == 2
    assert "**" not in prose.inner_text()
