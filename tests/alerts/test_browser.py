"""A researcher in Chromium: filter the catalog by a donor attribute, ask for an alert, confirm it from the e-mailed
link, see the alert on their page, get the e-mail for a new lot through a real SMTP server, open the lot, stop the
alert. Under the site's CSP, CSRF on."""

import re

import pytest

from shop.alerts.models import STOPPED
from tests.alerts.conftest import alert_of
from tests.mail.conftest import deliver_on
from tests.mail.smtp import SMTPServer, link_in_text

pytestmark = pytest.mark.browser  # live_server brings committing_db


def test_a_researcher_asks_for_an_alert_confirms_it_and_hears_of_the_next_lot(page, live_server, database_url, catalog):
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    with SMTPServer() as smtp:
        page.goto("/products/")
        with page.expect_navigation():  # with JavaScript a tick applies at once
            page.locator("#facet-cmv").get_by_label("Negative").check()
        page.wait_for_url(re.compile(r"cmv=negative"))
        page.get_by_text("E-mail me when a matching lot arrives").click()  # the box opens
        page.locator(".donor-alert-box").get_by_label("E-mail address").fill("ann@lab.example")
        page.get_by_role("button", name="E-mail me").click()
        page.get_by_role("heading", name="Check your inbox").wait_for()
        assert "Lots whose donor is CMV negative" in page.locator("main").inner_text()

        deliver_on(database_url, smtp, live_server)
        [confirmation] = smtp.mailbox.wait_for(1)
        assert confirmation["Subject"] == "Confirm your donor alert at CellShop"
        page.goto(link_in_text(confirmation, "/alerts/confirm/"))
        assert alert_of("ann@lab.example").status == "pending"  # opening the link started nothing
        page.get_by_role("button", name="Start the alert").click()
        page.get_by_role("heading", name="Your alert is on").wait_for()
        page.get_by_role("link", name="Your alerts").click()
        page.get_by_role("heading", name="Your donor alerts").wait_for()
        item = page.locator(".donor-alert-item")
        assert "Lots whose donor is CMV negative" in item.inner_text() and "Active" in item.inner_text()

        catalog.new_lot(catalog.cd8, catalog.a2_neg, lot_number="2611-D10482-40")
        deliver_on(database_url, smtp, live_server)
        [_, alert_mail] = smtp.mailbox.wait_for(2)
        assert alert_mail["Subject"] == "A matching lot has arrived: CD8+ T cells 25M"
        page.goto(link_in_text(alert_mail, "/products/cd8-t-cells-25m"))
        matched = page.locator(".lot-match")
        assert "2611-D10482-40" in matched.inner_text() and "Matches your filters" in matched.inner_text()

        page.goto(link_in_text(alert_mail, "/alerts/unsubscribe/"))
        page.get_by_role("button", name="Stop this alert").click()
        page.get_by_role("heading", name="Alert stopped").wait_for()
        assert alert_of("ann@lab.example").status == STOPPED
        page.get_by_role("link", name="All your alerts").click()
        assert "Stopped" in page.locator(".donor-alert-item").inner_text()
    assert not violations, violations
