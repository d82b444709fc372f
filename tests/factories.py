"""factory-boy factories for test data."""

from datetime import date

import factory
from factory.alchemy import SQLAlchemyModelFactory

from shop.catalog.models import Category, Donor, DonorAllele, Lot, Product
from shop.extensions import db


class BaseFactory(SQLAlchemyModelFactory):
    """Factories share the app's session and flush so ids exist."""

    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class CategoryFactory(BaseFactory):
    class Meta:
        model = Category

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")
    description = "Cells for research."
    position = factory.Sequence(int)


class ProductFactory(BaseFactory):
    class Meta:
        model = Product

    catalog_number = factory.Sequence(lambda n: f"CT-TEST-CR-{n}M")
    slug = factory.Sequence(lambda n: f"test-product-{n}")
    name = factory.Sequence(lambda n: f"Test cells {n}")
    category = factory.SubFactory(CategoryFactory)
    cell_type = "PBMC"
    markers = "CD3+ CD19+"
    tissue_source = "Peripheral blood"
    mobilization = "none"
    donor_health = "Healthy"
    format = "cryopreserved"
    container = "vial"
    unit_size = "1 vial"
    cells_per_unit = 10_000_000
    isolation_method = "Density gradient (Ficoll-Paque)"
    min_purity = None
    min_viability = 85.0
    grade = "research"
    price_cents = 35_000
    lead_time_days = 3
    shipping_condition = "dry_ice"
    stability = "Stable in LN2 vapour phase."
    donor_selectable = False
    recallable_donors = False
    applications = factory.LazyFunction(lambda: ["Assay development"])
    description = "Peripheral blood mononuclear cells for assays."


class DonorFactory(BaseFactory):
    class Meta:
        model = Donor

    code = factory.Sequence(lambda n: f"D{20000 + n}")
    sex = "F"
    age = 34
    ethnicity = "White"
    bmi = 23.5
    blood_type = "O+"
    cmv_status = "negative"
    ebv_status = "positive"
    smoking = "none"
    recallable = True
    donations = 6

    @factory.post_generation
    def hla(self, create, extracted, **kwargs):
        """``DonorFactory(hla=["A*02:01", ...])`` sets the donor's alleles."""
        for allele in extracted or ["A*01:01", "B*08:01"]:
            self.alleles.append(DonorAllele(allele=allele))
        if create:
            db.session.flush()


class LotFactory(BaseFactory):
    class Meta:
        model = Lot

    lot_number = factory.Sequence(lambda n: f"2610-D{n:05d}-01")
    product = factory.SubFactory(ProductFactory)
    donor = factory.SubFactory(DonorFactory)
    collected_on = date(2026, 10, 1)
    frozen_on = date(2026, 10, 1)
    total_cells = 200_000_000
    viability = 92.5
    purity = None
    cd3_pct = 65.0
    units_available = 10
    status = "available"
