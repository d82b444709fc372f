"""The catalog's queries: reading filters from a URL, facet counts, results, product pages.

Facets follow the usual shop rules: values OR within a facet, AND across
facets, and each facet's counts are computed with every *other* active
filter applied, so a count says what you would get by ticking that value.
Donor facets (CMV, HLA, sex, age band) look at the product's available lots:
a product matches when one available lot's donor meets every donor filter.

All facet counts and the total come back from one UNION ALL query, so the
number of queries a catalog page costs does not grow with the catalog.
"""

import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import url_for
from sqlalchemy import String, and_, case, cast, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased, joinedload
from werkzeug.datastructures import MultiDict

from shop.catalog.models import (
    AGE_BANDS,
    FORMATS,
    GRADES,
    SEROSTATUS,
    SEXES,
    Category,
    Donor,
    DonorAllele,
    Lot,
    Product,
)
from shop.catalog.search import MAX_QUERY_LENGTH, looks_like_catalog_number, product_hits, search_terms
from shop.extensions import cache, db
from shop.page_cache import content_stamp
from shop.urls import page_number

PRICING = {"list": "List price", "quote": "Quote only"}
STOCK = {"in": "In stock"}
SORTS = {"relevance": "Relevance", "name": "Name (A–Z)", "price": "Price (low to high)", "newest": "Newest"}
HLA_ALLELE = re.compile(r"^(?:HLA-)?([A-Z]{1,4}[0-9]?\*\d{2,3}(?::\d{2,4}){0,3})$")

PRODUCT_FACETS = ("category", "format", "grade", "pricing", "stock")
DONOR_FACETS = ("cmv", "hla", "sex", "age")
FACET_TITLES = {
    "category": "Category",
    "format": "Format",
    "grade": "Grade",
    "pricing": "Pricing",
    "stock": "Availability",
    "cmv": "Donor CMV status",
    "hla": "Donor HLA allele",
    "sex": "Donor sex",
    "age": "Donor age",
}
HLA_SHOWN = 12


@dataclass
class CatalogFilters:
    """What a catalog URL asks for, with unknown values already dropped."""

    q: str = ""
    selected: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1

    @property
    def terms(self) -> list[str]:
        """The search words of ``q``."""
        return search_terms(self.q)

    def values(self, facet: str) -> list[str]:
        """The selected values of one facet (empty when it is not filtered)."""
        return self.selected.get(facet, [])

    @property
    def active(self) -> bool:
        """True when any facet filter or a search is applied."""
        return bool(self.terms) or any(self.selected.values())

    @property
    def category_page(self) -> str | None:
        """The category slug when the page is exactly one category's listing (an indexable landing page)."""
        categories = self.values("category")
        if len(categories) == 1 and list(self.selected) == ["category"] and not self.q and self.sort == "relevance":
            return categories[0]
        return None

    def url(self, *, toggle: tuple[str, str] | None = None, page: int = 1, q: str | None = None) -> str:
        """The catalog URL for these filters (normalised, so shared links stay tidy), with one change.

        ``toggle=(facet, value)`` switches a value on or off and goes back to
        page 1; ``page`` picks a page; ``q=""`` drops the search.
        """
        selected = {name: list(values) for name, values in self.selected.items()}
        if toggle is not None:
            name, value = toggle
            values = selected.setdefault(name, [])
            values.remove(value) if value in values else values.append(value)
        pairs = [("q", self.q if q is None else q)]
        pairs += [(name, value) for name, values in selected.items() for value in values]
        pairs += [("sort", self.sort if self.sort != "relevance" else ""), ("page", str(page) if page > 1 else "")]
        query = urlencode([(k, v) for k, v in pairs if v])
        return url_for("catalog.product_list") + ("?" + query if query else "")


@dataclass
class FacetOption:
    """One value of a facet as the page shows it."""

    value: str
    label: str
    count: int
    selected: bool


@dataclass
class Facet:
    """One facet: its title and its options."""

    name: str
    title: str
    options: list[FacetOption]


def read_filters(args: MultiDict, categories: list[Category]) -> CatalogFilters:
    """Build CatalogFilters from query parameters, ignoring values we don't know."""
    known = {
        "category": {c.slug for c in categories},
        "format": set(FORMATS),
        "grade": set(GRADES),
        "pricing": set(PRICING),
        "stock": set(STOCK),
        "cmv": set(SEROSTATUS),
        "sex": set(SEXES),
        "age": set(AGE_BANDS),
    }
    selected: dict[str, list[str]] = {}
    for facet, allowed in known.items():
        chosen = [v for v in dict.fromkeys(args.getlist(facet)) if v in allowed]
        if chosen:
            selected[facet] = chosen
    alleles = []
    for raw in args.getlist("hla")[:10]:
        match = HLA_ALLELE.match(raw.strip().upper())
        if match and match.group(1) not in alleles:
            alleles.append(match.group(1))
    if alleles:
        selected["hla"] = alleles
    sort = args.get("sort", "relevance")
    page = args.get("page", "1")
    return CatalogFilters(
        q=(args.get("q") or "")[:MAX_QUERY_LENGTH].strip(),
        selected=selected,
        sort=sort if sort in SORTS else "relevance",
        # A page past the end is a 404 (see the view), not silently page 1.
        page=page_number(page),
    )


def find_by_catalog_number(q: str) -> Product | None:
    """The active product whose catalog number is exactly ``q`` (any case), if any."""
    if not looks_like_catalog_number(q):
        return None
    return db.session.scalar(
        select(Product).where(func.upper(Product.catalog_number) == q.strip().upper(), Product.active)
    )


def _in_stock_lot(lot=Lot):
    """Condition on a lot: it can be ordered now."""
    return and_(lot.status == "available", lot.units_available > 0)


def _has_stock():
    """Condition on Product: some lot is in stock.

    The EXISTS uses its own alias of Lot so that, inside a query that already
    joins Lot (the donor facet counts), it is not correlated to that join.
    """
    lot = aliased(Lot)
    return exists().where(lot.product_id == Product.id, _in_stock_lot(lot))


def _donor_conditions(filters: CatalogFilters, skip: str | None = None) -> list:
    """Conditions on Donor for the selected donor facets, except ``skip``."""
    conditions = []
    if skip != "cmv" and filters.values("cmv"):
        conditions.append(Donor.cmv_status.in_(filters.values("cmv")))
    if skip != "sex" and filters.values("sex"):
        conditions.append(Donor.sex.in_(filters.values("sex")))
    if skip != "age" and filters.values("age"):
        conditions.append(or_(*(Donor.age.between(*AGE_BANDS[band]) for band in filters.values("age"))))
    if skip != "hla" and filters.values("hla"):
        conditions.append(
            exists().where(DonorAllele.donor_id == Donor.id, DonorAllele.allele.in_(filters.values("hla")))
        )
    return conditions


def _product_conditions(filters: CatalogFilters, categories: dict[str, int], skip: str | None = None) -> list:
    """Conditions on Product for the selected product facets, except ``skip``."""
    conditions = []
    if skip != "category" and filters.values("category"):
        conditions.append(Product.category_id.in_([categories[s] for s in filters.values("category")]))
    if skip != "format" and filters.values("format"):
        conditions.append(Product.format.in_(filters.values("format")))
    if skip != "grade" and filters.values("grade"):
        conditions.append(Product.grade.in_(filters.values("grade")))
    pricing = set(filters.values("pricing"))
    if skip != "pricing" and len(pricing) == 1:
        conditions.append(Product.price_cents.is_not(None) if "list" in pricing else Product.price_cents.is_(None))
    if skip != "stock" and filters.values("stock"):
        conditions.append(_has_stock())
    return conditions


def _donor_match(filters: CatalogFilters, skip: str | None = None):
    """Condition on Product: one in-stock lot's donor meets every donor filter (or None)."""
    conditions = _donor_conditions(filters, skip)
    if not conditions:
        return None
    return exists().where(Lot.product_id == Product.id, _in_stock_lot(), Lot.donor_id == Donor.id, *conditions)


def _base_conditions(filters: CatalogFilters, hits) -> list:
    """Conditions every catalog query shares: active products matching the search."""
    conditions = [Product.active]
    if hits is not None:
        conditions.append(Product.id.in_(select(hits.c.id)))
    return conditions


def count_facets(filters: CatalogFilters, categories: dict[str, int], hits) -> tuple[dict[str, dict[str, int]], int]:
    """Counts per facet value, each with the other facets' filters applied, and the total; one query."""
    base = _base_conditions(filters, hits)

    def where(skip: str | None) -> list:
        donor = _donor_match(filters, skip)
        return base + _product_conditions(filters, categories, skip) + ([donor] if donor is not None else [])

    def grouped(facet: str, value, *conditions):
        return (
            select(literal(facet).label("facet"), cast(value, String).label("value"), func.count().label("n"))
            .where(*where(facet), *conditions)
            .group_by(value)
        )

    pricing_value = case((Product.price_cents.is_(None), "quote"), else_="list")
    branches = [
        select(literal("total").label("facet"), literal("").label("value"), func.count().label("n")).where(
            *where(None)
        ),
        grouped("category", Product.category_id),
        grouped("format", Product.format),
        grouped("grade", Product.grade),
        grouped("pricing", pricing_value),
        select(literal("stock"), literal("in"), func.count()).where(*where("stock"), _has_stock()),
    ]
    # Donor facets count distinct products over in-stock lots whose donor has the value
    # and meets the *other* donor filters.
    age_value = case(*((Donor.age.between(low, high), band) for band, (low, high) in AGE_BANDS.items()))
    for facet, value, extra in (
        ("cmv", Donor.cmv_status, None),
        ("sex", Donor.sex, None),
        ("age", age_value, None),
        ("hla", DonorAllele.allele, DonorAllele),
    ):
        product_side = base + _product_conditions(filters, categories)
        donor_side = _donor_conditions(filters, skip=facet)
        query = (
            select(literal(facet), cast(value, String), func.count(func.distinct(Product.id)))
            .select_from(Product)
            .join(Lot, and_(Lot.product_id == Product.id, _in_stock_lot()))
            .join(Donor, Donor.id == Lot.donor_id)
        )
        if extra is not None:
            query = query.join(DonorAllele, DonorAllele.donor_id == Donor.id)
        branches.append(query.where(*product_side, *donor_side).group_by(value))

    counts: dict[str, dict[str, int]] = {name: {} for name in PRODUCT_FACETS + DONOR_FACETS}
    total = 0
    for facet, value, n in db.session.execute(union_all(*branches)):
        if facet == "total":
            total = n
        elif value is not None:
            counts[facet][value] = n
    # Category counts arrive keyed by id; the page speaks in slugs.
    slug_of = {str(i): slug for slug, i in categories.items()}
    counts["category"] = {slug_of[k]: n for k, n in counts["category"].items() if k in slug_of}
    return counts, total


def _order_by(filters: CatalogFilters, hits):
    """ORDER BY clauses for the chosen sort."""
    if filters.sort == "name":
        return [Product.name, Product.id]
    if filters.sort == "price":
        return [Product.price_cents.is_(None), Product.price_cents, Product.name, Product.id]
    if filters.sort == "newest":
        return [Product.created_at.desc(), Product.id.desc()]
    if hits is not None:
        order = [hits.c.score.desc(), Product.name, Product.id]
        if looks_like_catalog_number(filters.q):
            # "CT-TC-CD8" names a catalog-number prefix: those products first. bm25 alone
            # ranks by rare words, and "cd8" appears in half the catalog.
            prefix = filters.q.strip().upper()
            order.insert(0, case((func.upper(Product.catalog_number).startswith(prefix, autoescape=True), 0), else_=1))
        return order
    return [Product.featured.desc(), Category.position, Product.name, Product.id]


def list_products(
    filters: CatalogFilters, categories: dict[str, int], hits, per_page: int
) -> list[tuple[Product, int]]:
    """One page of matching products with their units in stock."""
    stock = (
        select(func.coalesce(func.sum(Lot.units_available), 0))
        .where(Lot.product_id == Product.id, _in_stock_lot())
        .correlate(Product)
        .scalar_subquery()
    )
    query = select(Product, stock.label("units")).join(Product.category).options(joinedload(Product.category))
    if hits is not None:
        query = query.join(hits, hits.c.id == Product.id)
    conditions = [Product.active] + _product_conditions(filters, categories)
    donor = _donor_match(filters)
    if donor is not None:
        conditions.append(donor)
    query = (
        query.where(*conditions)
        .order_by(*_order_by(filters, hits))
        .limit(per_page)
        .offset((filters.page - 1) * per_page)
    )
    return [(product, units) for product, units in db.session.execute(query)]


@dataclass
class CatalogPage:
    """Everything the catalog list page shows."""

    filters: CatalogFilters
    products: list[tuple[Product, int]]
    total: int
    pages: int
    facets: list[Facet]
    category: Category | None = None


def browse_catalog(args: MultiDict, per_page: int) -> CatalogPage:
    """Run the catalog list page's queries for the given URL parameters."""
    categories = db.session.scalars(select(Category).order_by(Category.position, Category.name)).all()
    filters = read_filters(args, categories)
    category_ids = {c.slug: c.id for c in categories}
    # One CTE of search matches, shared by the facet counts and the result page.
    hits = product_hits(filters.terms).cte("hits") if filters.terms else None
    counts, total = _cached_facet_counts(filters, category_ids, hits)
    pages = max(1, -(-total // per_page))
    products = list_products(filters, category_ids, hits, per_page) if filters.page <= pages else []
    landing = next((c for c in categories if c.slug == filters.category_page), None)
    return CatalogPage(filters, products, total, pages, build_facets(filters, counts, categories), landing)


def _cached_facet_counts(filters: CatalogFilters, category_ids: dict[str, int], hits):
    """Facet counts, shared by every sort order and page of the same search and filters.

    They are the expensive part of a catalog page and don't depend on sort or
    page; the content stamp in the key makes them stale when staff save.
    """
    selection = sorted((name, sorted(values)) for name, values in filters.selected.items())
    digest = hashlib.blake2b(repr((filters.terms, selection)).encode(), digest_size=12).hexdigest()
    key = f"facets:{content_stamp()}:{digest}"
    found = cache.get(key)
    if found is None:
        found = count_facets(filters, category_ids, hits)
        cache.set(key, found)
    return found


def build_facets(filters: CatalogFilters, counts: dict[str, dict[str, int]], categories: list[Category]) -> list[Facet]:
    """Facets with labels and counts in display order."""
    labels = {
        "category": {c.slug: c.name for c in categories},
        "format": FORMATS,
        "grade": GRADES,
        "pricing": PRICING,
        "stock": STOCK,
        "cmv": SEROSTATUS,
        "sex": SEXES,
        "age": {band: band.replace("-", "–") + " years" for band in AGE_BANDS},
    }
    # HLA alleles are open-ended: list the most common ones present, and any selected.
    hla_counts = counts["hla"]
    alleles = sorted(hla_counts, key=lambda a: (-hla_counts[a], a))[:HLA_SHOWN]
    alleles += [a for a in filters.values("hla") if a not in alleles]
    labels["hla"] = {a: f"HLA-{a}" for a in alleles}
    facets = []
    for name in PRODUCT_FACETS + DONOR_FACETS:
        chosen = filters.values(name)
        options = [
            FacetOption(value, label, counts[name].get(value, 0), value in chosen)
            for value, label in labels[name].items()
        ]
        facets.append(Facet(name, FACET_TITLES[name], options))
    return facets


def get_product_page(slug: str) -> tuple[Product, list[Lot], list[Product]] | None:
    """A product, its in-stock lots with donors, and related products; None if not shown."""
    product = db.session.scalar(
        select(Product).where(Product.slug == slug, Product.active).options(joinedload(Product.category))
    )
    if product is None:
        return None
    lots = db.session.scalars(
        select(Lot)
        .where(Lot.product_id == product.id, _in_stock_lot())
        .options(joinedload(Lot.donor).selectinload(Donor.alleles))
        .order_by(Lot.collected_on.desc(), Lot.lot_number)
    ).all()
    related = db.session.scalars(
        select(Product)
        .where(Product.category_id == product.category_id, Product.id != product.id, Product.active)
        .order_by(Product.featured.desc(), Product.name)
        .limit(4)
    ).all()
    return product, list(lots), list(related)


def featured_products(limit: int = 6) -> list[Product]:
    """Products chosen for the home page."""
    return db.session.scalars(
        select(Product)
        .where(Product.active, Product.featured)
        .options(joinedload(Product.category))
        .order_by(Product.name)
        .limit(limit)
    ).all()


def categories_with_counts() -> list[tuple[Category, int]]:
    """Every category with its number of active products."""
    count = (
        select(func.count(Product.id))
        .where(Product.category_id == Category.id, Product.active)
        .correlate(Category)
        .scalar_subquery()
    )
    return [(c, n) for c, n in db.session.execute(select(Category, count).order_by(Category.position, Category.name))]


def sitemap_entries() -> tuple[list[Category], list[Product]]:
    """Categories and active products for the sitemap."""
    categories = db.session.scalars(select(Category).order_by(Category.position)).all()
    products = db.session.scalars(select(Product).where(Product.active).order_by(Product.id)).all()
    return list(categories), list(products)


LOW_STOCK_THRESHOLD = 2


@dataclass
class CatalogHealth:
    """What the back-office dashboard shows about the catalog."""

    by_category: list
    without_lots: list[Product]
    low_lots: list[Lot]
    low_stock_threshold: int = LOW_STOCK_THRESHOLD


def catalog_health() -> CatalogHealth:
    """Catalog size by category, active products with no lot in stock, and lots running low."""
    by_category = db.session.execute(
        select(
            Category.id.label("category_id"),
            Category.name,
            func.count(Product.id).filter(Product.active).label("active"),
            func.count(Product.id).filter(~Product.active).label("hidden"),
        )
        .outerjoin(Product, Product.category_id == Category.id)
        .group_by(Category.id, Category.name, Category.position)
        .order_by(Category.position, Category.name)
    ).all()
    without_lots = db.session.scalars(select(Product).where(Product.active, ~_has_stock()).order_by(Product.name)).all()
    low_lots = db.session.scalars(
        select(Lot)
        .where(Lot.status == "available", Lot.units_available <= LOW_STOCK_THRESHOLD)
        .options(joinedload(Lot.product))
        .order_by(Lot.units_available, Lot.lot_number)
    ).all()
    return CatalogHealth(list(by_category), list(without_lots), list(low_lots))


def search_products(q: str, limit: int = 12) -> list[Product]:
    """Active products matching every word of ``q``, best first (for the site-wide search)."""
    terms = search_terms(q)
    if not terms:
        return []
    hits = product_hits(terms).subquery()
    return list(
        db.session.scalars(
            select(Product)
            .join(hits, hits.c.id == Product.id)
            .where(Product.active)
            .options(joinedload(Product.category))
            .order_by(hits.c.score.desc(), Product.name)
            .limit(limit)
        )
    )
