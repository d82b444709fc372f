"""Fixtures of the catalog's tests: a random catalog for the facet index's oracle tests."""

import random

import pytest

from tests.factories import CategoryFactory, DonorFactory, LotFactory, ProductFactory

ALLELES = ["A*01:01", "A*02:01", "A*03:01", "B*07:02", "B*08:01", "C*07:01", "C*04:01"]
STATUSES = ["available", "available", "available", "reserved", "depleted", "quarantine"]


@pytest.fixture
def random_catalog(db):
    """About 60 products over 3 categories and 12 donors, with lots in every state."""
    rng = random.Random(7)
    categories = [CategoryFactory() for _ in range(3)]
    donors = [
        DonorFactory(
            sex=rng.choice("FM"),
            age=rng.randint(18, 70),
            cmv_status=rng.choice(["positive", "negative"]),
            ebv_status=rng.choice(["positive", "negative"]),
            smoking=rng.choice(["none", "none", "tobacco", "vape", "thc"]),
            blood_type=rng.choice(["O+", "A+", "B-", "AB+", ""]),
            bmi=rng.choice([None, 19.5, 22.4, 25.0, 29.9, 31.2]),
            hla=rng.sample(ALLELES, rng.randint(1, 4)),
        )
        for _ in range(12)
    ]
    for _ in range(60):
        product = ProductFactory(
            category=rng.choice(categories),
            format=rng.choice(["fresh", "cryopreserved"]),
            grade=rng.choice(["research", "gmp"]),
            price_cents=rng.choice([None, 1000, 25_000]),
            active=rng.random() > 0.1,
        )
        for _ in range(rng.choice([0, 1, 1, 2, 3, 6])):
            LotFactory(
                product=product,
                donor=rng.choice(donors),
                status=rng.choice(STATUSES),
                units_available=rng.choice([0, 1, 5]),
            )
    db.session.commit()
    return rng
