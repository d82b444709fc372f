"""Inquiry test data: products and lots to ask for, the forms as a browser sends them, the mails they queue."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shop.extensions import db as _db
from shop.inquiries.models import Inquiry
from shop.mail.models import OutboxMessage
from tests.factories import LotFactory, ProductFactory
from tests.outbox import link_in, queued  # noqa: F401  (link_in: the tests import it from here)
from tests.visitor_forms import SAME_ORIGIN


def contact(**overrides) -> dict:
    """A complete inquiry form, as a researcher fills it in."""
    form = {
        "name": "Dr. Ada Researcher",
        "email": "ada@lab.example",
        "phone": "+1 555 0100",
        "institution": "Institute of Immunology",
        "institution_type": "academic",
        "department": "CAR-T lab",
        "country": "United States",
        "shipping_address": "1 Lab Road\nBoston, MA",
        "intended_use": "process_development",
        "needed_by": (date.today() + timedelta(days=30)).isoformat(),
        "recurring": "once",
        "notes": "Please call before shipping.",
        "donor_bmi_max": "",  # empty fields as a browser sends them
        "donor_hla": "",
        "donor_age_min": "",
        "donor_count": "",
        "ruo_acknowledged": "y",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


@pytest.fixture
def stocked(db):
    """Two products, the first with a lot of 3 units; committed."""
    first = ProductFactory(name="PBMC 10M", price_cents=None)
    second = ProductFactory(name="Pan T cells 25M", price_cents=95_000)
    lot = LotFactory(product=first, units_available=3)
    _db.session.commit()
    return first, second, lot


def add(client, product, lot=None, quantity=1, headers=SAME_ORIGIN, **extra):
    """POST "Request a quote" (or "Request this lot") as a browser on our page does."""
    data = {"product_id": product.id, "quantity": quantity, **extra}
    if lot is not None:
        data["lot_id"] = lot.id
    return client.post("/quote/", data=data, headers=headers)


def submit_key(client) -> str:
    """The key of a freshly drawn inquiry form."""
    page = client.get("/quote/submit").text
    return re.search(r'name="submit_key"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="submit_key"', page).group(1)


def submit(client, **overrides):
    """Draw the inquiry form and send it."""
    return client.post("/quote/submit", data=contact(**{"submit_key": submit_key(client), **overrides}))


def inquiries() -> list[Inquiry]:
    """Every inquiry, oldest first, read afresh."""
    _db.session.expire_all()
    return list(_db.session.scalars(select(Inquiry).order_by(Inquiry.id)))


def messages(template: str | None = None) -> list[OutboxMessage]:
    """Queued e-mails, oldest first (of one template)."""
    return queued(template=template)
