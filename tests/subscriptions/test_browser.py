"""A reader in Chromium: subscribe from the blog's sidebar, confirm from the e-mailed link, get a notice through a
real SMTP server, change topics, download the data, unsubscribe in one click, delete. Under the site's CSP, CSRF on.
"""

import json
import re

import pytest

from tests.blog.conftest import create_post
from tests.mail.conftest import deliver_on
from tests.mail.smtp import SMTPServer, link_in_text, text_part
from tests.subscriptions.conftest import subscriber

pytestmark = pytest.mark.browser  # live_server brings committing_db


def test_a_reader_subscribes_confirms_gets_a_notice_and_leaves(page, live_server, database_url, topics, tmp_path):
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    with SMTPServer() as smtp:
        page.goto("/blog/")
        box = page.locator("form.subscribe-sidebar")
        box.get_by_label("Your e-mail").fill("reader@lab.example")
        box.locator("summary").click()
        box.get_by_label("Gene editing").uncheck()
        box.get_by_role("button", name="Subscribe").click()
        page.get_by_role("heading", name="Check your inbox").wait_for()
        assert "reader@lab.example" in page.locator("main").inner_text()

        deliver_on(database_url, smtp, live_server)
        [confirmation] = smtp.mailbox.wait_for(1)
        assert confirmation["Subject"] == "Confirm your subscription to the CellShop blog"
        page.goto(link_in_text(confirmation, "/subscribe/confirm/"))
        assert subscriber("reader@lab.example").status == "pending"  # opening the link confirmed nothing
        assert page.get_by_label("Gene editing").is_checked() is False
        page.get_by_role("button", name="Confirm subscription").click()
        page.get_by_role("heading", name="You're subscribed").wait_for()

        create_post("T cells that last", topics=["CAR-T"], summary="Persistence after infusion.")
        create_post("Base editing notes", topics=["Gene editing"])  # not among the reader's topics
        deliver_on(database_url, smtp, live_server)
        [_, notice] = smtp.mailbox.wait_for(2)
        assert notice["Subject"] == "New on the CellShop blog: T cells that last"
        assert "Persistence after infusion." in text_part(notice)
        assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe_url = re.search(r"<([^>]+)>", str(notice["List-Unsubscribe"])).group(1)

        page.goto(link_in_text(notice, "/subscription/"))
        page.get_by_label("Cancer").uncheck()
        page.get_by_label("A weekly digest").check()
        page.get_by_role("button", name="Save changes").click()
        page.get_by_text("Saved:").wait_for()
        reader = subscriber("reader@lab.example")
        assert ([t.name for t in reader.topics], reader.frequency) == (["CAR-T"], "weekly")

        with page.expect_download() as download:
            page.get_by_role("link", name="Download it (JSON)").click()
        exported = json.loads(download.value.path().read_text())
        assert exported["email"] == "reader@lab.example" and exported["topics"] == ["CAR-T"]
        assert [c["action"] for c in exported["consent_log"]] == ["requested", "confirmed", "changed"]

        # What a mail provider does with List-Unsubscribe-Post: a bare POST, no cookies.
        response = page.context.request.post(unsubscribe_url, form={"List-Unsubscribe": "One-Click"})
        assert response.status == 200
        assert subscriber("reader@lab.example").status == "unsubscribed"
        page.reload()
        assert "unsubscribed since" in page.locator("main").inner_text()

        page.get_by_role("link", name="Delete it all").click()
        page.get_by_role("button", name="Delete it all").click()
        page.get_by_role("heading", name="Deleted").wait_for()
        assert subscriber("reader@lab.example") is None
        assert len(smtp.mailbox.messages) == 2  # no notice for the post outside the reader's topics
    assert not violations, violations
