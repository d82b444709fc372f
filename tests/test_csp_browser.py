"""Every kind of page, public and staff, in Chromium under the real Content-Security-Policy: no violation.

Violations are caught two ways: the console lines Chromium writes ("Refused to ... because it
violates the following Content Security Policy directive") and the ``securitypolicyviolation``
events an init script collects (init scripts are exempt from the page's CSP, so the page itself
gets nothing inline). Each page must also have been served with the policy, so this fails on a
shop that sends none.
"""

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from shop.blog.models import Post
from tests.conftest import sign_in_with_the_form

pytestmark = pytest.mark.browser

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  var where = (event.blockedURI || "inline") + " line " + event.lineNumber;
  window.__cspViolations.push(event.violatedDirective + " " + where);
});
"""
CONSOLE_VIOLATION = re.compile(r"Content Security Policy|Refused to", re.I)


class CSPWatch:
    """Follows a browser tab (and tabs it opens): the CSP of each document loaded and every violation reported."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        self.policies: dict[str, str | None] = {}
        self.dialogs: list[str] = []
        # On the whole context, so tabs the page opens (the editor's Preview) are watched too.
        page.context.add_init_script(COLLECT_VIOLATIONS)
        page.context.on("console", self._on_console)
        page.context.on("response", self._on_response)
        # Confirmation dialogs (delete, bulk actions) are answered "cancel".
        page.context.on("dialog", self._on_dialog)

    def _on_console(self, message) -> None:
        if CONSOLE_VIOLATION.search(message.text):
            self.console.append(message.text)

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _on_response(self, response) -> None:
        if response.request.resource_type == "document":
            self.policies[response.url] = response.headers.get("content-security-policy")

    def visit(self, path: str) -> None:
        """Open ``path`` and check it."""
        self.page.goto(path)
        self.check(path)

    def check(self, where: str, tab=None) -> None:
        """Fail on a document served without a policy, or on any violation so far (in ``tab``, default the page)."""
        tab = tab or self.page
        tab.wait_for_load_state("load")
        unprotected = [url for url, policy in self.policies.items() if not policy or "unsafe-inline" in policy]
        assert not unprotected, f"{where}: served without a strict CSP: {unprotected}"
        events = tab.evaluate("window.__cspViolations || []")
        assert not events and not self.console, f"{where}: CSP violations {events} {self.console}"


@pytest.fixture
def watch(page):
    """The browser tab, watched for CSP violations."""
    return CSPWatch(page)


def png_bytes(size=(400, 300)) -> bytes:
    """A small real PNG for upload fields."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (11, 93, 99)).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_watch_catches_inline_script_and_style(watch):
    """The detector works: a page given an inline script and a style attribute is reported."""
    watch.page.route(
        "**/blog/",
        lambda route: route.fulfill(
            response=route.fetch(),
            body=route.fetch().text().replace("</main>", '<p style="color:red">x</p><script>1</script></main>'),
        ),
    )
    with pytest.raises(AssertionError, match="CSP violations"):
        watch.visit("/blog/")


def test_public_pages_have_no_csp_violation(watch, seeded):
    post = seeded.session.scalars(select(Post).where(Post.status == "published")).first()
    for path in ("/", "/products/", "/search?q=t+cell", "/blog/", f"/blog/{post.slug}", "/blog/topics/car-t",
                 "/login", "/no-such-page", "/products/no-such-product"):  # fmt: skip
        watch.visit(path)
    # The catalog's facets, ticked as a visitor does, and the sort menu its script submits.
    page = watch.page
    page.goto("/products/")
    with page.expect_navigation():
        page.locator("#facet-category input:not([disabled])").first.check()
    with page.expect_navigation():
        page.locator("#facet-cmv input:not([disabled])").first.check()
    page.wait_for_url(re.compile(r"cmv="))
    with page.expect_navigation():
        page.select_option("#sort", index=1)
    watch.check(page.url)
    # The walk really reached the filtered, re-sorted list (catalog.js submitted the sort menu).
    assert all(part in page.url for part in ("category=", "cmv=", "sort=")), page.url
    # A product page reached from the filtered list.
    page.locator(".results a[href^='/products/']").first.click()
    watch.check(page.url)
    assert re.search(r"/products/[a-z0-9-]+(\?cmv=[a-z]+)?$", page.url), page.url
    assert len(watch.policies) >= 12  # every document visited was checked for its policy


def sign_in_as_admin(watch, make_user) -> None:
    """Sign in through the login form, CSRF token and all."""
    make_user("admin", email="ada@staff.test")
    watch.visit("/login?next=/admin/")
    sign_in_with_the_form(watch.page, "ada@staff.test", "**/admin/")
    watch.check("/admin/")


def test_back_office_pages_have_no_csp_violation(watch, seeded, make_user, tmp_path):
    sign_in_as_admin(watch, make_user)
    page = watch.page
    for path in ("/admin/product/", "/admin/category/", "/admin/donor/", "/admin/lot/", "/admin/topic/",
                 "/admin/users/", "/admin/audit/", "/admin/audit/?flt0_0=update", "/admin/posts/",
                 "/admin/product/new/", "/admin/product/details/?id=1", "/admin/donor_alerts/"):  # fmt: skip
        watch.visit(path)
    # Flask-Admin's list widgets: the filter menu, a filter added, the bulk-action menu, the delete confirmation.
    watch.visit("/admin/product/")
    page.locator("a.nav-link.active", has_text="List").click()  # javascript:void(0) in Flask-Admin's template
    page.get_by_role("link", name="Catalog").first.click()  # the menu's dropdown
    page.get_by_role("link", name="Add Filter").click()
    page.locator("a.filter").first.click()
    page.locator("table.filters tr").first.wait_for()  # the filter row Flask-Admin's script adds
    page.locator("input.action-checkbox").first.check()
    page.get_by_role("button", name="With selected").click()
    page.locator("a[data-model-action]").first.click()  # the confirm dialog is dismissed
    page.locator("form.icon button[data-confirm]").first.click()  # dismissed: nothing is deleted
    watch.check("/admin/product/ widgets")
    # Both asked first (bound by static/js/admin.js, not by refused onclick= attributes), and nothing left the page.
    assert watch.dialogs == ["Are you sure you want to delete selected records?",
                             "Are you sure you want to delete this record?"]  # fmt: skip
    assert page.url.endswith("/admin/product/")

    # The product form with an image uploaded, saved: the list then shows its thumbnail.
    watch.visit("/admin/product/edit/?id=1")
    image = tmp_path / "cells.png"
    image.write_bytes(png_bytes())
    page.set_input_files("input[name=image_upload]", str(image))
    page.locator("input[type=submit][value=Save]").click()
    page.wait_for_url(re.compile(r"/admin/product/(\?|$)"))
    page.locator("img.admin-thumb").first.wait_for()
    watch.check("/admin/product/ after saving an image")

    for path in ("/admin/category/new/", "/admin/category/edit/?id=1", "/admin/donor/edit/?id=1",
                 "/admin/lot/edit/?id=1", "/admin/topic/edit/?id=1", "/admin/users/edit/?id=1"):  # fmt: skip
        watch.visit(path)

    # The post editor: typed into, with a table whose alignment the live preview shows.
    watch.visit("/admin/posts/new")
    page.locator("#body").press_sequentially("## Heading\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n", delay=5)
    page.locator("#live-preview td.align-right").wait_for()
    watch.check("/admin/posts/new with live preview")
    with page.context.expect_page() as preview_tab:
        page.get_by_role("button", name="Preview").click()
    preview = preview_tab.value
    preview.locator(".post-body td.align-right").wait_for()
    watch.check("the post preview tab", preview)
    preview.close()
    post = seeded.session.scalars(select(Post)).first()
    watch.visit(f"/admin/posts/{post.id}/edit")
    watch.visit(f"/admin/posts/{post.id}/revisions")

    # The CSV import page, with the export uploaded back.
    watch.visit("/admin/catalog_csv/")
    exported = tmp_path / "products.csv"
    exported.write_bytes(page.request.get("/admin/catalog_csv/export.csv").body())
    page.set_input_files("input[type=file]", str(exported))
    page.locator("form[enctype='multipart/form-data'] [type=submit]").first.click()
    page.wait_for_load_state("load")
    watch.check("/admin/catalog_csv/ after an import")
    assert "import" in page.content().lower()
