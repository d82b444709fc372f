"""Payment test data: a fake Stripe the real library talks to, an app with payments on, a product with lots."""

import pytest

from shop.extensions import db as _db
from tests.apps import app_with
from tests.factories import LotFactory, ProductFactory
from tests.inquiries.conftest import stocked  # noqa: F401 (the inquiries' products, for paying quotes)
from tests.payments.fake_stripe import WEBHOOK_SECRET, FakeStripe


@pytest.fixture(scope="session")
def fake_stripe_server():
    """One fake Stripe for the session (state reset per test by ``fake_stripe``)."""
    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(fake_stripe_server):
    """The fake Stripe, empty."""
    fake_stripe_server.reset()
    return fake_stripe_server


def payments_settings(fake: FakeStripe) -> dict:
    """The settings that turn payments on, against ``fake``."""
    return {
        "STRIPE_SECRET_KEY": "sk_test_cellshop",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": fake.base,
        "STRIPE_CHECKOUT_ORIGIN": fake.base,
        "STRIPE_MAX_NETWORK_RETRIES": 0,
        "SITE_URL": "http://shop.test",
    }


@pytest.fixture(scope="session")
def pay_app(database_url, fake_stripe_server):
    """The shop with payments on (CSRF off, as the ``app`` fixture), talking to the fake Stripe."""
    return app_with(database_url, **payments_settings(fake_stripe_server))


@pytest.fixture
def pay_client(pay_app, db, fake_stripe):
    """A visitor of the shop with payments on."""
    return pay_app.test_client()


@pytest.fixture
def pay_context(pay_app, db, fake_stripe):
    """The test body inside the payments app (services need its settings)."""
    with pay_app.app_context():
        yield


@pytest.fixture
def vials(db):
    """A list-price product ($350 per vial) with two lots: 3 units and 1 unit."""
    product = ProductFactory(name="PBMC 10M", catalog_number="CT-PBMC-CR-10M", slug="pbmc-10m", price_cents=35_000)
    lots = [
        LotFactory(product=product, lot_number="2506-D10482-01", units_available=3),
        LotFactory(product=product, lot_number="2506-D10483-01", units_available=1),
    ]
    _db.session.commit()
    return product, lots
