"""In Chromium, under the site's CSP with CSRF on: a researcher adds two products and sends an inquiry; sales find it,
quote it naming a lot and send the quote by e-mail (through a real SMTP server); the researcher accepts it from the
e-mailed link, and the product page then shows the lot's units as reserved.
"""

import re
from datetime import date, timedelta

import pytest

from shop.catalog.models import Lot
from shop.extensions import db as _db
from tests.conftest import sign_in_with_the_form
from tests.factories import LotFactory, ProductFactory
from tests.mail.conftest import deliver_on
from tests.mail.smtp import SMTPServer, link_in_text, text_part

pytestmark = pytest.mark.browser  # live_server brings committing_db


def test_inquiry_to_quote_to_accepted_with_the_lot_reserved(page, live_server, database_url, make_user):
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    leukopak = ProductFactory(name="Leukopak, full", catalog_number="CT-LP-NM-FR-FULL", price_cents=None)
    ProductFactory(name="PBMC 10M", catalog_number="CT-PBMC-CR-10M")
    lot = LotFactory(product=leukopak, lot_number="2611-D10482-01", units_available=4)
    _db.session.commit()
    make_user("sales", email="sales@staff.test")
    with SMTPServer() as smtp:
        # The researcher: one lot of the leukopak, and the PBMC from its catalog card
        page.goto(f"/products/{leukopak.slug}")
        lot_card = page.locator(f"#lot-{lot.id}").locator("xpath=ancestor::li")
        lot_card.get_by_role("button", name="Request this lot").click()
        page.get_by_role("heading", name="Your quote request").wait_for()
        page.goto("/products/")
        page.locator("article", has_text="PBMC 10M").get_by_role("button", name="Request a quote").click()
        page.wait_for_url("**/quote/")
        assert page.locator("[data-basket-count]").inner_text().strip().endswith("2")  # the header count, by JS
        page.locator("input.qty").first.fill("2")
        page.get_by_role("button", name="Save quantities").click()
        page.get_by_role("link", name="Continue: your details").click()
        page.get_by_label("Your name").fill("Dr. Ada Researcher")
        page.get_by_label("E-mail", exact=True).fill("ada@lab.example")
        page.get_by_label("Institution or company").fill("Institute of Immunology")
        page.get_by_label("Type of institution").select_option("academic")
        page.get_by_label("Country").fill("United States")
        page.get_by_label("Intended use").select_option("process_development")
        page.get_by_label("Needed by").fill((date.today() + timedelta(days=30)).isoformat())
        page.get_by_label("I understand").check()
        page.get_by_role("button", name="Send inquiry").click()
        page.get_by_role("heading", name="Thank you: your inquiry is with us").wait_for()
        reference = page.locator(".reference").inner_text()
        assert re.fullmatch(r"Q-\d{4}-\d{5}", reference)

        deliver_on(database_url, smtp, live_server)
        confirmation = next(m for m in smtp.mailbox.wait_for(2) if m["To"] == "ada@lab.example")
        assert reference in confirmation["Subject"]

        # Sales: find it in the inbox, quote it naming the lot, send
        staff = page.context.browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
        desk = staff.new_page()
        desk.goto("/admin/inquiries/")
        sign_in_with_the_form(desk, "sales@staff.test", "**/admin/inquiries/")
        desk.get_by_role("link", name=reference).click()
        desk.get_by_role("link", name="Write a quote").click()
        desk.get_by_label("Lot of line 1").fill(lot.lot_number)
        desk.get_by_label("Units of line 1").fill("2")
        desk.get_by_label("Unit price of line 1").fill("9500.00")
        desk.get_by_label("Unit price of line 2").fill("350")
        desk.get_by_role("button", name="Save and send to ada@lab.example").click()
        desk.get_by_text("Quote sent to ada@lab.example.").wait_for()
        assert "Quoted" in desk.locator("h1 + .badge").inner_text()
        staff.close()

        deliver_on(database_url, smtp, live_server)
        quote_mail = next(m for m in smtp.mailbox.wait_for(3) if "Your quote" in m["Subject"])
        assert "$19,350.00" in text_part(quote_mail)

        # The researcher accepts from the e-mailed link
        page.goto(link_in_text(quote_mail, "/quote/status/"))
        page.get_by_role("button", name="Accept the quote").click()
        page.get_by_text("the quote is accepted").wait_for()
        assert page.get_by_role("heading", name="Accepted").is_visible()

        page.goto(f"/products/{leukopak.slug}")
        assert "2 reserved" in page.locator(f"#lot-{lot.id}").locator("xpath=..").inner_text()
        _db.session.expire_all()
        held = _db.session.get(Lot, lot.id)
        assert (held.units_available, held.units_reserved) == (2, 2)
    assert violations == []
