"""Donor alert test data: a small catalog with typed donors, alerts made as the box makes them, and the jobs."""

from datetime import date, timedelta
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from shop.alerts import arrivals, services, tokens
from shop.alerts.models import ACTIVE, AlertAddress, DonorAlert
from shop.catalog.services import filters_from_query, read_filters
from shop.consent import Where
from shop.extensions import db as _db
from shop.mail.worker import link_context
from shop.models import utcnow
from tests.factories import CategoryFactory, DonorFactory, LotFactory, ProductFactory
from tests.mail.conftest import mail_app, smtp  # noqa: F401  (fixtures: the outbox through a real SMTP server)
from tests.outbox import link_in, queued  # noqa: F401  (the tests import them from here)
from tests.visitor_forms import SAME_ORIGIN

A2_CMV_NEG = "hla=A%2A02%3A01&cmv=negative"  # the filters most tests wait on, as the catalog writes them


class Catalog:
    """The test catalog's rows, by name."""

    def __init__(self):
        self.t_cells = CategoryFactory(slug="t-cells", name="T cells")
        self.pbmc = ProductFactory(category=self.t_cells, name="PBMC 10M", slug="pbmc-10m")
        self.cd8 = ProductFactory(category=self.t_cells, name="CD8+ T cells 25M", slug="cd8-t-cells-25m",
                                  catalog_number="CT-TC-CD8-CR-25M", markers="CD8+", price_cents=None)  # fmt: skip
        self.fresh = ProductFactory(category=self.t_cells, name="Leukopak, fresh", slug="leukopak-fresh",
                                    catalog_number="CT-LP-NM-FR-FULL", format="fresh", stability_hours=36)  # fmt: skip
        self.a2_neg = DonorFactory(code="D10482", hla=["A*02:01", "B*08:01"], cmv_status="negative", age=34)
        self.a2_pos = DonorFactory(code="D10483", hla=["A*02:01", "B*07:02"], cmv_status="positive")
        self.other = DonorFactory(code="D10484", hla=["A*01:01", "B*08:01"], cmv_status="negative")
        # What is in stock before anyone asks for an alert.
        self.old_lot = LotFactory(product=self.pbmc, donor=self.a2_neg, lot_number="2510-D10482-01")
        LotFactory(product=self.pbmc, donor=self.other, lot_number="2510-D10484-01")

    def new_lot(self, product=None, donor=None, **values):
        """A lot added now (committed), as the back office adds one."""
        values.setdefault("collected_on", date(2026, 10, 1))
        lot = LotFactory(product=product or self.pbmc, donor=donor or self.a2_neg, **values)
        _db.session.commit()
        return lot


@pytest.fixture
def catalog(db) -> Catalog:
    """Three products (one fresh, with a 36-hour window), three typed donors, two lots in stock."""
    made = Catalog()
    _db.session.commit()
    return made


def ask(client, email: str, query: str = A2_CMV_NEG, headers: dict | None = None, **data):
    """POST the catalog page's box for these filters, as a browser on our own page does."""
    form = MultiDict([*MultiDict(parse_qsl(query)).items(multi=True), ("email", email), *data.items()])
    return client.post("/alerts/", data=form, headers=SAME_ORIGIN if headers is None else headers)


def make_alert(email: str, query: str = A2_CMV_NEG, status: str = ACTIVE, confirmed_at=None) -> DonorAlert:
    """An alert that went through the opt-in (or stopped at ``status``), committed."""
    where = Where("192.0.2.1", "test")
    with link_context():  # the confirmation e-mail's links, as a request would build them
        alert = services.request_alert(email, filters_from_query(query), where)
    if status == ACTIVE:
        services.confirm_alert(alert, where)
        alert.confirmed_at = confirmed_at or alert.confirmed_at
    _db.session.commit()
    return alert


def filters_of(query: str):
    return read_filters(MultiDict(parse_qsl(query)), [])


def run_jobs() -> int:
    """The alert jobs as an outbox round runs them, until nothing is left: e-mails queued."""
    with link_context():
        arrivals.note_arrivals()
        total = 0
        while queued_now := arrivals.send_alerts():
            total += queued_now
        return total


def address(email: str) -> AlertAddress | None:
    _db.session.expire_all()
    return _db.session.scalar(select(AlertAddress).where(AlertAddress.email == email))


def alert_of(email: str) -> DonorAlert | None:
    found = address(email)
    return found.alerts[0] if found and found.alerts else None


def manage_path(alert: DonorAlert) -> str:
    return f"/alerts/manage/{tokens.manage_token(alert.address)}"


def unsubscribe_path(alert: DonorAlert) -> str:
    return f"/alerts/unsubscribe/{tokens.unsubscribe_token(alert)}"


def confirm_path(alert: DonorAlert) -> str:
    return f"/alerts/confirm/{tokens.confirm_token(alert)}"


def an_hour_ago():
    return utcnow() - timedelta(hours=1)
