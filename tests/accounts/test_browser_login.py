"""Signing in and out in a real browser."""

import re

import pytest

from tests.conftest import sign_in_with_the_form

pytestmark = pytest.mark.browser


def test_sign_in_reach_the_dashboard_and_sign_out(page, make_user):
    """A member of staff signs in through the form, lands on the dashboard, signs out and is locked out again."""
    make_user("marketing", email="mara@staff.test")
    page.goto("/admin/")
    page.wait_for_url(re.compile(r"/login\?next="))
    sign_in_with_the_form(page, "Mara@staff.test", re.compile(r"/admin/$"))
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert page.get_by_text("mara@staff.test").first.is_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: "/admin" not in url)
    assert page.get_by_text("Your sessions on other devices and browsers have ended too.").is_visible()

    page.goto("/admin/")
    page.wait_for_url(re.compile(r"/login\?next="))
    assert page.get_by_role("heading", name="Staff sign-in").is_visible()
