"""Every back-office URL against every role, generated from the app's URL map.

A new back-office view fails ``test_every_admin_view_is_in_the_matrix`` until
its expected access is written down here, so none can be forgotten.
"""

import re

import pytest

from tests.conftest import STAFF_PASSWORD

STAFF = {"admin", "marketing", "sales"}
CATALOG_EDITORS = {"admin", "marketing"}
# Flask-Admin endpoint (blueprint) -> (roles that may see it, roles that may change through it)
EXPECTED = {
    "admin": (STAFF, set()),
    "product": (STAFF, CATALOG_EDITORS),
    "category": (STAFF, CATALOG_EDITORS),
    "donor": (STAFF, CATALOG_EDITORS),
    "lot": (STAFF, CATALOG_EDITORS),
    "catalog_csv": (STAFF, CATALOG_EDITORS),
    "posts": (CATALOG_EDITORS, CATALOG_EDITORS),
    "topic": (CATALOG_EDITORS, CATALOG_EDITORS),
    "site_pages": (CATALOG_EDITORS, CATALOG_EDITORS),
    "users": ({"admin"}, {"admin"}),
    "audit": ({"admin"}, set()),
    "sign_ins": ({"admin"}, set()),
    "subscribers": (CATALOG_EDITORS, CATALOG_EDITORS),
    "outbox": (CATALOG_EDITORS, CATALOG_EDITORS),
    "inquiries_admin": ({"admin", "sales"}, {"admin", "sales"}),
    "order": ({"admin", "sales"}, {"admin", "sales"}),
    "donor_alerts": (STAFF, set()),  # counts per filter, read-only: researchers own their alerts
}
CHANGING = {"create_view", "edit_view", "delete_view", "action_view", "ajax_update", "import_csv", "refund_view"}
ROLES = ["anonymous", "admin", "marketing", "sales"]
PARAMETER_VIEWS = (".action_view", ".html_view", ".refund_view", ".upload_body_image")


def admin_rules(app):
    """(endpoint, url, method) for every back-office route but static files."""
    rules = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint.endswith(".static"):
            continue
        url = re.sub(r"<(?:\w+:)?\w+>", "1", rule.rule)
        method = "GET" if "GET" in rule.methods else "POST"
        rules.append((rule.endpoint, url, method))
    return sorted(rules)


def expected_status(endpoint: str, role: str) -> str:
    """'login', 'forbidden' or 'allowed'."""
    view, name = endpoint.split(".", 1)
    see, change = EXPECTED[view]
    if role == "anonymous":
        return "login"
    if role not in see or (name in CHANGING and role not in change):
        return "forbidden"
    return "allowed"


def test_every_admin_view_is_in_the_matrix(app):
    views = {endpoint.split(".")[0] for endpoint, _, _ in admin_rules(app)}
    missing = views - set(EXPECTED)
    assert not missing, f"add these back-office views to the role matrix: {sorted(missing)}"
    assert len(admin_rules(app)) >= 40


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(app, seeded, make_user, role):
    client = app.test_client()
    if role != "anonymous":
        make_user(role)
        assert (
            client.post("/login", data={"email": f"{role}@staff.test", "password": STAFF_PASSWORD}).status_code == 302
        )
    checked = 0
    for endpoint, url, method in admin_rules(app):
        response = client.open(url, method=method)
        expected = expected_status(endpoint, role)
        where = f"{role} {method} {url} ({endpoint}) -> {response.status_code}"
        if expected == "login":
            assert response.status_code == 302, where
            assert response.headers["Location"].startswith("/login?next="), where
        elif expected == "forbidden":
            assert response.status_code == 403, where
        else:
            # The ajax and bulk-action endpoints answer 400/404 to a request without their
            # parameters (no action named), and the body-image upload 400 to one without an image:
            # access was granted. An inquiry's pages (/work/1/...) answer 404 when the seeded shop has no
            # inquiry 1: access was granted too.
            needs_params = ".ajax_" in endpoint or endpoint.endswith(PARAMETER_VIEWS) or "/work/" in url
            allowed = (200, 302, 400, 404) if needs_params else (200, 302)
            assert response.status_code in allowed, where
            assert "/login" not in response.headers.get("Location", ""), where
        checked += 1
    assert checked == len(admin_rules(app))


def test_list_pages_show_content_to_allowed_roles(client, auth, seeded):
    auth.login("sales")
    html = client.get("/admin/product/").text
    assert "CT-PBMC-CR-10M" in html
    assert "/admin/product/new/" not in html  # sales may look, not change
    auth.logout()
    auth.login("marketing")
    assert "/admin/product/new/" in client.get("/admin/product/").text
