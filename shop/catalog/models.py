"""Catalog models: Category, Product, Donor (de-identified), DonorAllele and Lot."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from sqlalchemy.types import JSON

from shop.extensions import db
from shop.markdown import render_markdown
from shop.models import UTCDateTime, utcnow

FORMATS = {"fresh": "Fresh", "cryopreserved": "Cryopreserved"}
GRADES = {"research": "Research use only", "gmp": "GMP"}
CONTAINERS = {"bag": "Bag", "vial": "Vial", "tube": "Tube"}
SHIPPING_CONDITIONS = {
    "ambient": "Ambient (15–25 °C)",
    "refrigerated": "Refrigerated (2–8 °C)",
    "dry_ice": "Dry ice",
    "ln2": "LN2 dry shipper",
}
SEXES = {"F": "Female", "M": "Male"}
# "Not tested" is a choice staff make, never a default: a buyer filtering on CMV negative must not get it.
SEROSTATUS = {"positive": "Positive", "negative": "Negative", "not_tested": "Not tested"}
SMOKING = {"none": "Non-smoker", "tobacco": "Tobacco", "vape": "Vape", "thc": "THC", "unknown": "Not recorded"}
LOT_STATUSES = {
    "available": "Available",
    "reserved": "Reserved",
    "depleted": "Depleted",
    "quarantine": "Quarantine",
}


def description_to_html(description: str | None) -> str:
    """A product description as the product page shows it: for bulk inserts, which skip the model."""
    return str(render_markdown(description))


class Category(db.Model):
    """A group of products, e.g. Leukopaks or T cells."""

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Optimistic locking: an UPDATE must name the version it read (see shop/admin).
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    products: Mapped[list["Product"]] = relationship(back_populates="category")

    def __str__(self) -> str:
        return self.name


class Product(db.Model):
    """A sellable cell product with its specification."""

    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint("price_cents IS NULL OR price_cents >= 0", name="price_not_negative"),
        CheckConstraint("min_purity IS NULL OR (min_purity >= 0 AND min_purity <= 100)", name="purity_percent"),
        CheckConstraint(
            "min_viability IS NULL OR (min_viability >= 0 AND min_viability <= 100)",
            name="viability_percent",
        ),
        Index("ix_product_category_display", "category_id", text("featured DESC"), "name"),
        # The dashboard counts hidden products per category from this index alone.
        Index("ix_product_hidden", "category_id", sqlite_where=text("active = 0"), postgresql_where=text("NOT active")),
        # The freshness rule of the catalog's clock starts from these few products (shop/catalog/freshness.py).
        Index(
            "ix_product_windowed",
            "stability_hours",
            sqlite_where=text("stability_hours IS NOT NULL"),
            postgresql_where=text("stability_hours IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    catalog_number: Mapped[str] = mapped_column(String(40), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    cell_type: Mapped[str] = mapped_column(String(120))
    markers: Mapped[str] = mapped_column(String(200), default="")
    tissue_source: Mapped[str] = mapped_column(String(120))
    mobilization: Mapped[str] = mapped_column(String(60), default="none")
    donor_health: Mapped[str] = mapped_column(String(120), default="Healthy")
    format: Mapped[str] = mapped_column(String(20), index=True)
    container: Mapped[str] = mapped_column(String(20))
    unit_size: Mapped[str] = mapped_column(String(60))
    cells_per_unit: Mapped[int | None] = mapped_column(BigInteger)
    isolation_method: Mapped[str] = mapped_column(String(120))
    min_purity: Mapped[float | None] = mapped_column(Float)
    min_viability: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(20), default="research", index=True)
    price_cents: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    lead_time_days: Mapped[int] = mapped_column(Integer)
    shipping_condition: Mapped[str] = mapped_column(String(20))
    stability: Mapped[str] = mapped_column(String(300), default="")
    # A fresh product's lots can be sold for this many hours from the start of their collection day (UTC);
    # past it a lot is expired: out of stock, facets and counts (see shop/catalog/freshness.py). None: no limit.
    stability_hours: Mapped[int | None] = mapped_column(Integer)
    donor_selectable: Mapped[bool] = mapped_column(Boolean, default=False)
    recallable_donors: Mapped[bool] = mapped_column(Boolean, default=False)
    applications: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    # The description rendered and sanitised when it is written (never per request): see _render_description.
    description_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    image: Mapped[str | None] = mapped_column(String(200))
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Optimistic locking: an UPDATE must name the version it read (see shop/admin).
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    category: Mapped[Category] = relationship(back_populates="products")
    lots: Mapped[list["Lot"]] = relationship(back_populates="product")

    @validates("description")
    def _render_description(self, _key: str, description: str | None) -> str | None:
        """Whoever writes the description (back office, CSV import, seeds) writes its HTML with it."""
        self.description_html = description_to_html(description)
        return description

    @property
    def quote_only(self) -> bool:
        """True when the product has no list price and is sold by quotation."""
        return self.price_cents is None

    def __str__(self) -> str:
        return f"{self.name} ({self.catalog_number})"


class Donor(db.Model):
    """A de-identified donor: a code and the attributes buyers select on, never a person."""

    __tablename__ = "donor"
    __table_args__ = (
        CheckConstraint("age >= 18 AND age <= 100", name="adult_age"),
        CheckConstraint("donations >= 0", name="donations_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    sex: Mapped[str] = mapped_column(String(1), index=True)
    age: Mapped[int] = mapped_column(Integer, index=True)
    ethnicity: Mapped[str] = mapped_column(String(60), default="")
    bmi: Mapped[float | None] = mapped_column(Float)
    blood_type: Mapped[str] = mapped_column(String(4), default="")
    cmv_status: Mapped[str] = mapped_column(String(10), index=True)
    ebv_status: Mapped[str] = mapped_column(String(10))
    smoking: Mapped[str] = mapped_column(String(10), default="none")
    disease_state: Mapped[str | None] = mapped_column(String(120))
    recallable: Mapped[bool] = mapped_column(Boolean, default=False)
    donations: Mapped[int] = mapped_column(Integer, default=1)
    # Optimistic locking: an UPDATE must name the version it read (see shop/admin).
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    alleles: Mapped[list["DonorAllele"]] = relationship(
        back_populates="donor", cascade="all, delete-orphan", order_by="DonorAllele.allele"
    )
    lots: Mapped[list["Lot"]] = relationship(back_populates="donor")

    @property
    def hla_typing(self) -> str:
        """The donor's HLA alleles as one space-separated string."""
        return " ".join(a.allele for a in self.alleles)

    @property
    def age_band(self) -> str:
        """The age band used by the catalog's donor facet."""
        return age_band(self.age)

    def __str__(self) -> str:
        return self.code


class DonorAllele(db.Model):
    """One HLA allele of a donor (e.g. A*02:01), a row each so it can be filtered and counted."""

    __tablename__ = "donor_allele"
    __table_args__ = (UniqueConstraint("donor_id", "allele", name="donor_allele_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donor.id", ondelete="CASCADE"))
    allele: Mapped[str] = mapped_column(String(20), index=True)

    donor: Mapped[Donor] = relationship(back_populates="alleles")


LOW_STOCK_UNITS = 2  # a lot with this many free units or fewer is running low (the dashboard lists it)
# As SQL, literally (a partial index is used only for a query that states its condition as it is written).
RUNNING_LOW = text(f"status = 'available' AND units_available <= {LOW_STOCK_UNITS}")


class Lot(db.Model):
    """What one donor gave for one product, with its QC results and stock."""

    __tablename__ = "lot"
    __table_args__ = (
        CheckConstraint("units_available >= 0", name="units_not_negative"),
        CheckConstraint("units_reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("viability IS NULL OR (viability >= 0 AND viability <= 100)", name="viability_percent"),
        CheckConstraint("purity IS NULL OR (purity >= 0 AND purity <= 100)", name="purity_percent"),
        Index(
            "ix_lot_in_stock",
            "product_id",
            "donor_id",
            sqlite_where=text("status = 'available' AND units_available > 0"),
            postgresql_where=text("status = 'available' AND units_available > 0"),
        ),
        # The dashboard's lots running low, in order. Partial: a plain index on (status, units_available) was
        # taken by unanalysed SQLite for every "lot in stock" query, walking every available lot.
        Index(
            "ix_lot_running_low",
            "units_available",
            "lot_number",
            sqlite_where=RUNNING_LOW,
            postgresql_where=RUNNING_LOW,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_number: Mapped[str] = mapped_column(String(40), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donor.id"), index=True)
    collected_on: Mapped[date]
    frozen_on: Mapped[date | None]
    total_cells: Mapped[int | None] = mapped_column(BigInteger)
    viability: Mapped[float | None] = mapped_column(Float)
    purity: Mapped[float | None] = mapped_column(Float)
    cd3_pct: Mapped[float | None] = mapped_column(Float)
    cd4_pct: Mapped[float | None] = mapped_column(Float)
    cd8_pct: Mapped[float | None] = mapped_column(Float)
    cd19_pct: Mapped[float | None] = mapped_column(Float)
    cd14_pct: Mapped[float | None] = mapped_column(Float)
    cd56_pct: Mapped[float | None] = mapped_column(Float)
    # Units anyone may still ask for; units held for someone (a quote, an open checkout) are not in it but in
    # units_reserved until they are sold or released (shop/catalog/stock.py moves both).
    # active_history: a change knows the old value even when it was not loaded, so a save can tell whether
    # the lot entered or left stock (the catalog clock's "availability" kind: shop/catalog/stock_log.py; and
    # _note_entering_stock below).
    units_available: Mapped[int] = mapped_column(Integer, default=0, active_history=True)
    units_reserved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(20), default="available", index=True, active_history=True)
    # When the lot last entered stock: added with units, or back (restocked, made available again, units released
    # from a hold). Written by the catalog wherever stock moves (_note_entering_stock here; shop/catalog/stock.py's
    # UPDATEs), so a feature telling people about new stock (donor alerts) asks which lots arrived after a moment.
    # None: never in stock since the column exists. Leaving stock leaves it as it was.
    entered_stock_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Optimistic locking: an UPDATE must name the version it read (see shop/admin).
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    product: Mapped[Product] = relationship(back_populates="lots")
    donor: Mapped[Donor] = relationship(back_populates="lots")

    @property
    def usable_until(self) -> datetime | None:
        """When this lot of a fresh product stops being usable (its product's stability window); None: no limit."""
        product = self.product
        if product is None or product.format != "fresh" or product.stability_hours is None:
            return None
        return usable_until(self.collected_on, product.stability_hours)

    @property
    def expired(self) -> bool:
        """True when the lot is past its product's stability window."""
        until = self.usable_until
        return until is not None and until <= utcnow()

    @property
    def in_stock(self) -> bool:
        """True when units of this lot can be ordered now (available, units left, within its window)."""
        return lot_has_free_units(self.status, self.units_available) and not self.expired

    @property
    def subsets(self) -> list[tuple[str, float]]:
        """The measured subset percentages as (marker, percent) pairs."""
        names = ("CD3", "CD4", "CD8", "CD19", "CD14", "CD56")
        values = (self.cd3_pct, self.cd4_pct, self.cd8_pct, self.cd19_pct, self.cd14_pct, self.cd56_pct)
        return [(n, v) for n, v in zip(names, values, strict=True) if v is not None]

    def __str__(self) -> str:
        return self.lot_number


def lot_has_free_units(status: str | None, units_available: int | None) -> bool:
    """True when a lot's status and free units put it in stock (its stability window aside); unset values are
    their column defaults (available, no units)."""
    return (status or "available") == "available" and (units_available or 0) > 0


@event.listens_for(Lot, "before_insert")
def _note_new_lot_in_stock(mapper, connection, lot: Lot) -> None:
    """A lot added with free units entered stock now (unless the caller said when)."""
    if lot.entered_stock_at is None and lot_has_free_units(lot.status, lot.units_available):
        lot.entered_stock_at = utcnow()


@event.listens_for(Lot, "before_update")
def _note_entering_stock(mapper, connection, lot: Lot) -> None:
    """A save that puts a lot back in stock (units from none, a status made available) notes when."""
    state = inspect(lot)
    status, units = state.attrs.status.history, state.attrs.units_available.history
    if not (status.has_changes() or units.has_changes()):
        return
    was = lot_has_free_units(
        status.deleted[0] if status.deleted else lot.status, units.deleted[0] if units.deleted else lot.units_available
    )
    if not was and lot_has_free_units(lot.status, lot.units_available):
        lot.entered_stock_at = utcnow()


def usable_until(collected_on: date, stability_hours: int) -> datetime:
    """The end of a fresh lot's stability window: counted from the start of its collection day (UTC), since
    the collection's hour is not recorded, so a lot is never sold as fresh for longer than the window."""
    return datetime.combine(collected_on, time(), UTC) + timedelta(hours=stability_hours)


AGE_BANDS = {"18-29": (18, 29), "30-39": (30, 39), "40-49": (40, 49), "50+": (50, 200)}


def age_band(age: int) -> str:
    """Return the band ("18-29", "30-39", ...) an age falls in."""
    for band, (low, high) in AGE_BANDS.items():
        if low <= age <= high:
            return band
    return "50+"
