"""The lot form's product lookup in a real browser, CSRF on, under the site's Content-Security-Policy."""

import re

import pytest

from shop.catalog.models import Lot
from tests.factories import LotFactory, ProductFactory
from tests.test_csp_browser import CSPWatch, sign_in_as_admin

pytestmark = pytest.mark.browser


def test_type_a_product_into_the_lot_form_pick_it_and_save(page, db, make_user):
    watch = CSPWatch(page)
    lot = LotFactory()
    wanted = ProductFactory(catalog_number="CT-NK-CR-5M", name="NK cells, cryopreserved")
    ProductFactory(catalog_number="CT-MONO-CR-5M", name="Monocytes, cryopreserved")
    sign_in_as_admin(watch, make_user)

    watch.visit(f"/admin/lot/edit/?id={lot.id}")
    page.locator("#s2id_product").click()  # the box select2 draws in place of the text input
    page.locator(".select2-drop-active input.select2-input").press_sequentially("nk cells", delay=30)
    choice = page.locator(".select2-result-label", has_text="CT-NK-CR-5M")
    choice.wait_for()
    assert page.locator(".select2-result-label").count() == 1  # monocytes are not NK cells
    choice.click()
    assert page.locator("#product").input_value() == "CT-NK-CR-5M"
    page.locator("input[type=submit][value=Save]").click()
    page.wait_for_url(re.compile(r"/admin/lot/(\?|$)"))
    assert page.get_by_text("Record was successfully saved.").is_visible()
    watch.check("/admin/lot/ after saving the lot")
    db.session.expire_all()
    assert db.session.get(Lot, lot.id).product_id == wanted.id
