"""The catalog's queries: reading filters from a URL, facet counts, results, product pages.

Facets follow the usual shop rules: values OR within a facet, AND across
facets, and each facet's counts are computed with every *other* active
filter applied, so a count says what you would get by ticking that value.
Donor facets (CMV, HLA, sex, age band) look at the product's available lots:
a product matches when one available lot's donor meets every donor filter.

Counts, matches and the order of results come from the in-memory facet index
(``shop.catalog.index``), so a catalog page sends three statements whatever
the catalog's size: the content clocks, the categories and its page of products
(plus, for a search the index has not seen, the full-text query).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from typing import NamedTuple, TypeVar
from urllib.parse import parse_qsl, quote_plus

from flask import url_for
from sqlalchemy import Select, and_, bindparam, exists, false, func, or_, select
from sqlalchemy.orm import aliased, defer, joinedload, load_only, selectinload
from werkzeug.datastructures import MultiDict

from shop.catalog import donor_filters
from shop.catalog.facets import FACETS, PRODUCT_FACETS, product_values
from shop.catalog.freshness import NOW, now_value, within_window
from shop.catalog.index import catalog_index
from shop.catalog.models import (
    AGE_BANDS,
    FORMATS,
    GRADES,
    LOW_STOCK_UNITS,
    RUNNING_LOW,
    SEROSTATUS,
    SEXES,
    SMOKING,
    Category,
    Donor,
    DonorAllele,
    Lot,
    Product,
)
from shop.catalog.search import MAX_QUERY_LENGTH, looks_like_catalog_number, matching_products, search_terms
from shop.extensions import db
from shop.models import utcnow
from shop.templating import absolute_url
from shop.urls import page_number

K = TypeVar("K")
PRICING = {"list": "List price", "quote": "Quote only"}
STOCK = {"in": "In stock"}
SORTS = {"relevance": "Relevance", "name": "Name (A–Z)", "price": "Price (low to high)", "newest": "Newest"}

# The donor filters a product page reads, to mark the lots that match (the catalog's links carry them).
DONOR_PARAMS = donor_filters.DONOR_FILTERS
# The donor filters an inquiry's donor requirements take over from the catalog (one value each).
QUOTE_CRITERIA = ("hla", "cmv", "sex", "age")
# Every query parameter a catalog page reads (read_filters); the page cache keys on these alone.
# ``more=hla`` lists every allele in the HLA facet.
URL_PARAMS = ("q", *PRODUCT_FACETS, *DONOR_PARAMS, "sort", "page", "more")
FILTER_PARAMS = (*PRODUCT_FACETS, *DONOR_PARAMS)
FACET_TITLES = {
    "category": "Category",
    "format": "Format",
    "grade": "Grade",
    "pricing": "Pricing",
    "stock": "Availability",
    **donor_filters.TITLES,
}
HLA_SHOWN = 12
# What a product card shows (templates/macros/catalog.html): lists of products load these columns
# only, never the description or its HTML (tens of kB each on long products).
PRODUCT_CARD_COLUMNS = (
    Product.id, Product.slug, Product.name, Product.catalog_number, Product.category_id, Product.image,
    Product.format, Product.container, Product.cells_per_unit, Product.grade, Product.markers,
    Product.price_cents, Product.currency, Product.lead_time_days, Product.active, Product.featured,
)  # fmt: skip


@dataclass
class CatalogFilters:
    """What a catalog URL asks for, with unknown values already dropped."""

    q: str = ""
    selected: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    # The words of ``q`` that are not donor filters (see donor_filters.parse_query), and what could not be read.
    text: str = ""
    notes: list[str] = field(default_factory=list)
    more: bool = False  # list every HLA allele
    # Filter values the URL gave that were left out ("age=12-200"): the catalog shows what it can, a stored
    # query (a donor alert) refuses them rather than wait on something other than what was asked.
    ignored: list[str] = field(default_factory=list)

    @property
    def terms(self) -> list[str]:
        """The search words: ``q`` without its donor words."""
        return search_terms(self.text)

    @property
    def donor_selected(self) -> dict[str, list[str]]:
        """The donor filters only (what a product page and a donor alert need)."""
        return {name: values for name, values in self.selected.items() if name in DONOR_PARAMS}

    @property
    def donor_sentence(self) -> str | None:
        """What the donor filters ask for, as one sentence; None without donor filters."""
        return donor_filters.donor_sentence(self.selected)

    def product_url(self, slug: str) -> str:
        """A product page's link from this list: the donor filters travel with it, to mark matching lots."""
        pairs = [(name, value) for name, values in self.donor_selected.items() for value in values]
        query = "&".join(f"{k}={_quote(v)}" for k, v in pairs)
        return url_for("catalog.product_detail", slug=slug) + ("?" + query if query else "")

    def values(self, facet: str) -> list[str]:
        """The selected values of one facet (empty when it is not filtered)."""
        return self.selected.get(facet, [])

    @property
    def query(self) -> str:
        """The search words and filters as one query string, the same whatever order they were ticked in
        (sort and page left out): what a donor alert keeps, and groups alerts by."""
        pairs = [("q", self.text)] if self.text else []
        pairs += [(name, value) for name in FILTER_PARAMS for value in sorted(self.values(name))]
        return "&".join(f"{k}={_quote(v)}" for k, v in pairs)

    @property
    def active(self) -> bool:
        """True when any facet filter or a search is applied."""
        return bool(self.q) or any(self.selected.values())

    @property
    def category_page(self) -> str | None:
        """The category slug when the page is exactly one category's listing (an indexable landing page)."""
        categories = self.values("category")
        if len(categories) == 1 and list(self.selected) == ["category"] and not self.q and self.sort == "relevance":
            return categories[0]
        return None

    def url(
        self, *, toggle: tuple[str, str] | None = None, page: int = 1, q: str | None = None, more: bool | None = None
    ) -> str:
        """The catalog URL for these filters (normalised, so shared links stay tidy), with one change.

        ``toggle=(facet, value)`` switches a value on or off and goes back to
        page 1; ``page`` picks a page; ``q=""`` drops the search; ``more`` lists every allele.
        A search's donor words are written as the filters they were read as: the URL keeps its words only.
        """
        selected = {name: list(values) for name, values in self.selected.items()}
        if toggle is not None:
            name, value = toggle
            values = selected.setdefault(name, [])
            values.remove(value) if value in values else values.append(value)
        pairs = [("q", self.text if q is None else q)]
        pairs += [(name, value) for name, values in selected.items() for value in values]
        pairs += [("sort", self.sort if self.sort != "relevance" else ""), ("page", str(page) if page > 1 else "")]
        pairs += [("more", "hla" if (self.more if more is None else more) else "")]
        # What urlencode() does, with each value's quoting remembered: a page links ~50 variations.
        query = "&".join(f"{k}={_quote(v)}" for k, v in pairs if v)
        return self._path + ("?" + query if query else "")

    @cached_property
    def _path(self) -> str:
        return url_for("catalog.product_list")


_quote = lru_cache(maxsize=4096)(quote_plus)


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
    hidden: int = 0  # options left out (HLA: "Show all N")
    every: list[str] = field(default_factory=list)  # every value with a count (HLA: for the type-ahead)

    @property
    def total(self) -> int:
        """How many options there are, shown or not."""
        return len(self.options) + self.hidden


def read_filters(args: MultiDict, categories: list[Category]) -> CatalogFilters:
    """Build CatalogFilters from query parameters, ignoring values we don't know."""
    known = {
        "category": {c.slug for c in categories},
        "format": set(FORMATS),
        "grade": set(GRADES),
        "pricing": set(PRICING),
        "stock": set(STOCK),
    }
    selected: dict[str, list[str]] = {}
    ignored: list[str] = []
    for facet, allowed in known.items():
        chosen = [v for v in dict.fromkeys(args.getlist(facet)) if v in allowed]
        ignored += [f"{facet}={v}" for v in args.getlist(facet) if v not in allowed]
        if chosen:
            selected[facet] = chosen
    q = (args.get("q") or "")[:MAX_QUERY_LENGTH].strip()
    if len(args.get("q") or "") > MAX_QUERY_LENGTH:
        ignored.append(f"q={q[:20]}…")  # cut to MAX_QUERY_LENGTH, so not the search asked for
    parsed = donor_filters.parse_query(q)
    for name in DONOR_PARAMS:
        chosen = donor_filters.read_donor_values(name, args.getlist(name) + parsed.selected.get(name, []))
        ignored += [f"{name}={v}" for v in donor_filters.unreadable_values(name, args.getlist(name))]
        if chosen:
            selected[name] = chosen
    sort = args.get("sort", "relevance")
    page = args.get("page", "1")
    return CatalogFilters(
        q=q,
        selected=selected,
        sort=sort if sort in SORTS else "relevance",
        # A page past the end is a 404 (see the view), not silently page 1.
        page=page_number(page),
        text=parsed.text,
        notes=parsed.notes,
        more=args.get("more") == "hla",
        ignored=ignored,
    )


def filters_from_query(query: str, categories: list[Category] | None = None) -> CatalogFilters:
    """The filters a stored query string names (:attr:`CatalogFilters.query`), read as a catalog URL is
    (``categories``: every category, when the caller has them already)."""
    if categories is None:
        categories = all_categories()
    return read_filters(MultiDict(parse_qsl(query)), categories)


def unknown_alleles(values: list[str]) -> list[str]:
    """The HLA filter values (alleles or groups) that no donor on record has been typed with."""
    if not values:
        return []
    known = set(db.session.scalars(select(DonorAllele.allele).distinct()))
    return [value for value in values if not donor_filters.covered_keys("hla", value, known)]


def all_categories() -> list[Category]:
    """Every category, in the catalog's order."""
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))


def describe_filters(filters: CatalogFilters) -> str:
    """What a filtered catalog lists, in one sentence: "Lots whose donor is HLA-A*02:01 and CMV negative
    (category: T cells; format: Cryopreserved; search: “CD8”)"."""
    clause = donor_filters.donor_clause(filters.selected) or "lots in stock"
    names = {}
    if filters.values("category"):
        names = dict(db.session.execute(select(Category.slug, Category.name)).all())
    labels = {"category": names, "format": FORMATS, "grade": GRADES, "pricing": PRICING, "stock": STOCK}
    parts = [
        f"{FACET_TITLES[name].lower()}: " + " or ".join(labels[name].get(value, value) for value in values)
        for name in PRODUCT_FACETS
        if (values := filters.values(name))
    ]
    parts += [f"search: “{filters.text}”"] if filters.text else []
    return clause[0].upper() + clause[1:] + (f" ({'; '.join(parts)})" if parts else "")


def find_by_catalog_number(q: str) -> Product | None:
    """The active product whose catalog number is exactly ``q`` (any case), if any."""
    if not looks_like_catalog_number(q):
        return None
    return db.session.scalar(
        select(Product).where(func.upper(Product.catalog_number) == q.strip().upper(), Product.active)
    )


def in_stock_lot(lot=Lot, now=None):
    """Condition on a lot (and Product, in the query): it can be ordered now (or at ``now``: :data:`NOW` in a
    statement built once), within its stability window."""
    moment = utcnow() if now is None else now
    return and_(lot.status == "available", lot.units_available > 0, within_window(moment, lot))


def _has_stock():
    """Condition on Product: some lot is in stock.

    The EXISTS uses its own alias of Lot so that, inside a query that already
    joins Lot (the donor facet counts), it is not correlated to that join.
    """
    lot = aliased(Lot)
    return exists().where(lot.product_id == Product.id, in_stock_lot(lot))


@dataclass(frozen=True)
class Chip:
    """An active filter as the page lists it, with the link that takes it off."""

    facet: str | None  # the facet's title ("Format"); None for the search
    label: str
    url: str
    remove_label: str  # what a screen reader says the link does


@dataclass
class CatalogPage:
    """Everything the catalog list page shows, and what it tells search engines."""

    filters: CatalogFilters
    products: list[tuple[Product, bool]]  # and whether it has a lot in stock
    total: int
    pages: int
    facets: list[Facet]
    category: Category | None = None

    notes: list[str] = field(default_factory=list)
    lot_counts: dict[int, int] = field(default_factory=dict)  # product id -> its lots matching the donor filters

    @cached_property
    def quote_criteria(self) -> dict[str, str]:
        """The donor filters in use, one value each (hla, cmv, sex, age): a quote request carries them along."""
        return {name: values[0] for name in QUOTE_CRITERIA if len(values := self.filters.values(name)) == 1}

    @cached_property
    def filter_chips(self) -> list[Chip]:
        """One chip per selected filter value, in the facets' order (a search's donor words among them)."""
        labels = {facet.name: {o.value: o.label for o in facet.options} for facet in self.facets}
        chips = []
        for name in PRODUCT_FACETS + DONOR_PARAMS:
            for value in self.filters.values(name):
                label = labels.get(name, {}).get(value) or donor_filters.value_label(name, value)
                title = FACET_TITLES[name]
                chips.append(
                    Chip(title, label, self.filters.url(toggle=(name, value)), f"Remove filter {title}: {label}")
                )
        return chips

    @property
    def chips(self) -> list[Chip]:
        """Every chip the page lists: the search's words first (when there are some), then the filters'."""
        text = self.filters.text
        search = (
            [Chip(None, f"Search: {text[:40]}", self.filters.url(q=""), f"Remove search “{text[:60]}”")] if text else []
        )
        return search + self.filter_chips

    @property
    def matching_lots(self) -> bool:
        """True when cards count each product's matching lots (donor filters are on)."""
        return bool(self.filters.donor_selected)

    @property
    def page_numbers(self) -> list[int | None]:
        """The pages the pagination links: the first, the last and two either side of this one; None for a gap."""
        near = range(max(2, self.filters.page - 2), min(self.pages, self.filters.page + 2) + 1)
        numbers = sorted({1, self.pages, *near})
        shown: list[int | None] = []
        for number in numbers:
            if shown and number - shown[-1] > 1:
                shown.append(None)
            shown.append(number)
        return shown

    @property
    def robots(self) -> str | None:
        """The robots directive: filtered, searched and re-sorted lists stay out of search engines;
        the whole catalog and a category's own listing (a landing page) are indexed."""
        if self.category is None and (self.filters.active or self.filters.sort != "relevance"):
            return "noindex, follow"
        return None

    @property
    def canonical_url(self) -> str:
        """The page's canonical address: the catalog or its category's listing, and the page number."""
        page = self.filters.page if self.filters.page > 1 else None
        return absolute_url("catalog.product_list", category=self.category.slug if self.category else None, page=page)


def browse_catalog(args: MultiDict, per_page: int) -> CatalogPage:
    """Run the catalog list page for the given URL parameters: facet counts and one page of results.

    Counts and matches come from the in-memory facet index (``shop.catalog.index``);
    the database is asked for the categories, the search (when the index has not
    seen it yet) and the page's products.
    """
    categories = all_categories()
    filters = read_filters(args, categories)
    index = catalog_index()
    hits = index.search(filters.terms, filters.text) if filters.terms else None
    selected, notes = index_filters(filters.selected, index)
    found = index.match(selected, hits)
    total = found.total
    pages = max(1, -(-total // per_page))
    products, lot_counts = [], {}
    if filters.page <= pages:
        offset = (filters.page - 1) * per_page
        ids = index.page(found.products, offset, per_page, filters.sort, hits)
        in_stock = index.in_stock(ids)
        products = [(product, product.id in in_stock) for product in product_cards(ids)]
        if filters.donor_selected:
            lot_counts = index.lots_per_product(ids, found.lots)
    landing = next((c for c in categories if c.slug == filters.category_page), None)
    facets = build_facets(filters, found.counts, categories)
    return CatalogPage(filters, products, total, pages, facets, landing, filters.notes + notes, lot_counts)


# A value no donor has: a filter that covers none of the indexed values must match nothing, not be dropped.
_NOTHING = "\x00"


def index_filters(selected: dict[str, list[str]], index) -> tuple[dict[str, list[str]], list[str]]:
    """The filters as the facet index keys them, and a note for each donor value no lot in stock has.

    A serological group (A*02), an age range or a BMI range becomes the donor values it covers; age
    bands are kept as bands (the index counts them); a value that covers none matches nothing.
    """
    resolved: dict[str, list[str]] = {}
    notes = []
    for name, values in selected.items():
        if name not in DONOR_PARAMS or (name == "age" and all(v in AGE_BANDS for v in values)):
            resolved[name] = values
            continue
        facet = "age_years" if name == "age" else name
        keys = index.values[facet].keys()
        covered = []
        for value in values:
            found = donor_filters.covered_keys(name, value, keys)
            if not found:
                notes.append(f"No lot in stock comes from a donor who is {donor_filters.phrase(name, value)}.")
            covered += found
        resolved[facet] = covered or [_NOTHING]
    return resolved, notes


def product_cards(ids: list[int]) -> list[Product]:
    """The products with these ids, in this order, with what a card shows (one query)."""
    if not ids:
        return []
    options = load_only(*PRODUCT_CARD_COLUMNS), joinedload(Product.category)
    found = {
        product.id: product
        for product in db.session.scalars(select(Product).where(Product.id.in_(ids)).options(*options))
    }
    return [found[i] for i in ids if i in found]


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
        "ebv": SEROSTATUS,
        "smoking": SMOKING,
        "blood": {blood: blood for blood in donor_filters.BLOOD_TYPES if counts["blood"].get(blood)},
    }
    alleles, hidden, every = hla_options(filters, counts["hla"])
    labels["hla"] = {a: f"HLA-{a}" for a in alleles}
    facets = []
    for name in FACETS:
        chosen = filters.values(name)
        # A chosen value the facet doesn't list (a group, an age range from a search) comes first.
        options = [
            FacetOption(value, donor_filters.value_label(name, value), counts[name].get(value), True)
            for value in chosen
            if value not in labels[name]
        ]
        options += [
            FacetOption(value, label, counts[name].get(value, 0), value in chosen)
            for value, label in labels[name].items()
        ]
        facet = Facet(name, FACET_TITLES[name], options)
        if name == "hla":
            facet.hidden, facet.every = hidden, every
        facets.append(facet)
    return facets


def allele_order(allele: str) -> tuple:
    """Alleles by locus (A, B, C, DRB1 ...), then field by field as numbers: A*02:01 before A*11:01."""
    gene, _, fields = allele.partition("*")
    genes = donor_filters.HLA_GENES
    return (genes.index(gene) if gene in genes else len(genes), gene, [int(f) for f in fields.split(":")])


def hla_options(filters: CatalogFilters, counts: dict[str, int]) -> tuple[list[str], int, list[str]]:
    """The HLA alleles the facet lists, how many it leaves out, and every allele with lots (for the type-ahead).

    The ticked ones first, then the HLA_SHOWN most common (every one with ``more``), by locus and allele:
    an order that stays put when a box is ticked.
    """
    every = sorted((a for a in counts if counts[a]), key=allele_order)
    common = set(sorted(every, key=lambda a: -counts[a])[:HLA_SHOWN])
    chosen = [a for a in filters.values("hla") if a in counts]
    shown = chosen + [a for a in every if (filters.more or a in common) and a not in chosen]
    return shown, len(every) - len([a for a in shown if counts.get(a)]), every


def get_product_page(slug: str) -> tuple[Product, list[Lot], list[Product]] | None:
    """A product, its in-stock lots with donors, and related products; None if not shown."""
    statements = _product_page_statements(db.engine.dialect.name)
    product = db.session.scalar(statements.product, {"slug": slug})
    if product is None:
        return None
    lots = db.session.scalars(statements.lots, {"product_id": product.id, "now": now_value(utcnow())}).all()
    related = db.session.scalars(statements.related, {"category_id": product.category_id, "product_id": product.id})
    return product, list(lots), list(related)


class ProductPageStatements(NamedTuple):
    """The product page's queries, with bound parameters."""

    product: Select
    lots: Select
    related: Select


@cache
def _product_page_statements(dialect: str) -> ProductPageStatements:
    """Built once per database kind and run with parameters: building them took 1.5 of the 2.7 ms the page's
    data cost when the page cache missed (measured on the benchmark's products)."""
    return ProductPageStatements(
        product=select(Product)
        .where(Product.slug == bindparam("slug"), Product.active)
        # The page shows the description's HTML, rendered at save; its Markdown stays in the database.
        .options(defer(Product.description), joinedload(Product.category)),
        lots=select(Lot)
        .join(Product, Product.id == Lot.product_id)
        # Lots whose units are all held for accepted quotes are shown too, as reserved.
        .where(
            Lot.product_id == bindparam("product_id"),
            or_(in_stock_lot(now=NOW), and_(Lot.status == "available", Lot.units_reserved > 0)),
        )
        .options(joinedload(Lot.donor).selectinload(Donor.alleles))
        .order_by(Lot.collected_on.desc(), Lot.lot_number),
        related=select(Product)
        .where(Product.category_id == bindparam("category_id"), Product.id != bindparam("product_id"), Product.active)
        .options(load_only(*PRODUCT_CARD_COLUMNS))
        .order_by(Product.featured.desc(), Product.name)
        .limit(4),
    )


@dataclass
class LotMatches:
    """A product page's lots, read against the donor filters its link carried: the matching ones first."""

    selected: dict[str, list[str]]
    lots: list[Lot]
    matching: set[int]  # lot ids

    @property
    def sentence(self) -> str | None:
        """What the filters ask for, as the catalog said it."""
        return donor_filters.donor_sentence(self.selected)

    @property
    def catalog_url(self) -> str:
        """Back to the catalog with the same donor filters."""
        pairs = [(name, value) for name, values in self.selected.items() for value in values]
        query = "&".join(f"{k}={_quote(v)}" for k, v in pairs)
        return url_for("catalog.product_list") + ("?" + query if query else "")


def match_lots(lots: list[Lot], args: MultiDict) -> LotMatches:
    """Mark the lots whose donor meets the donor filters in ``args`` and list them first (order kept)."""
    selected = {}
    for name in DONOR_PARAMS:
        values = donor_filters.read_donor_values(name, args.getlist(name))
        if values:
            selected[name] = values
    if not selected:
        return LotMatches({}, lots, set())
    matching = {lot.id for lot in lots if donor_filters.donor_matches(donor_filters.donor_keys(lot.donor), selected)}
    ordered = sorted(lots, key=lambda lot: lot.id not in matching)  # a stable sort: each group keeps its order
    return LotMatches(selected, ordered, matching)


def lots_matching(filters: CatalogFilters, lot_ids: Iterable[int]) -> set[int]:
    """Which of these lots the catalog page of ``filters`` lists as matching: in stock now (within its window, on a
    product shown), its product meeting the product filters and the search, its donor every donor filter.

    The facet index answers this for the whole catalog at once; this answers it for a few lots, from the
    database, by the same rules (``facets.product_values``, ``donor_filters.donor_matches``, the full-text
    search): what a donor alert asks of the lots that just arrived.
    """
    return lots_matching_each({None: filters}, lot_ids)[None]


def lots_matching_each(filters: Mapping[K, CatalogFilters], lot_ids: Iterable[int]) -> dict[K, set[int]]:
    """:func:`lots_matching` for several sets of filters over the same lots, which are read once."""
    lots = (
        db.session.scalars(
            select(Lot)
            .join(Product, Product.id == Lot.product_id)
            .where(Lot.id.in_(list(lot_ids)), in_stock_lot(), Product.active)
            .options(joinedload(Lot.product).joinedload(Product.category))
            .options(joinedload(Lot.donor).selectinload(Donor.alleles))
        )
        .unique()
        .all()
    )
    searched: dict[tuple[str, ...], set[int]] = {}
    matched = {}
    for key, each in filters.items():
        found = [lot for lot in lots if _meets_filters(lot, each)]
        if each.terms and found:
            terms = tuple(each.terms)
            if terms not in searched:
                hits = matching_products(each.terms).subquery()
                product_ids = {lot.product_id for lot in lots}
                searched[terms] = set(db.session.scalars(select(hits.c.id).where(hits.c.id.in_(product_ids))))
            found = [lot for lot in found if lot.product_id in searched[terms]]
        matched[key] = {lot.id for lot in found}
    return matched


def _meets_filters(lot: Lot, filters: CatalogFilters) -> bool:
    """The lot's product meets the product filters ("stock": the lot is in stock) and its donor every donor filter."""
    own = product_values(lot.product, lot.product.category.slug)
    if not all(value in filters.values(facet) for facet, value in own if filters.values(facet)):
        return False
    return donor_filters.donor_matches(donor_filters.donor_keys(lot.donor), filters.donor_selected)


def featured_products(limit: int = 6) -> list[Product]:
    """Products chosen for the home page."""
    return db.session.scalars(
        select(Product)
        .where(Product.active, Product.featured)
        .options(load_only(*PRODUCT_CARD_COLUMNS), joinedload(Product.category))
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


def sitemap_entries() -> tuple[list[Category], list]:
    """Categories and active products for the sitemap: slugs and dates only (rows, not whole products)."""
    categories = db.session.scalars(select(Category).options(load_only(Category.slug)).order_by(Category.position))
    products = db.session.execute(
        select(Product.slug, Product.updated_at).where(Product.active).order_by(Product.id)
    ).all()
    return list(categories), list(products)


@dataclass
class CatalogHealth:
    """What the back-office dashboard shows about the catalog."""

    by_category: list
    without_lots: list[Product]
    low_lots: list[Lot]
    low_stock_threshold: int = LOW_STOCK_UNITS
    # The dashboard lists at most DASHBOARD_ROWS of each; True when there are more (on 100,000 products: 9 MB).
    more_without_lots: bool = False
    more_low_lots: bool = False


DASHBOARD_ROWS = 20


class CategorySize(NamedTuple):
    """A category's active and hidden products, for the dashboard."""

    category_id: int
    name: str
    active: int
    hidden: int


def _products_by_category() -> list[CategorySize]:
    """Active and hidden products per category, from two counts each index can answer.

    One grouped join read every product row: 150-250 ms on 100,000 products (SQLite); these take ~20 ms.
    """
    totals = dict(db.session.execute(select(Product.category_id, func.count()).group_by(Product.category_id)).all())
    # Counted from ix_product_hidden, which holds the hidden products alone.
    hidden_rows = select(Product.category_id, func.count()).where(Product.active == false())
    hidden = dict(db.session.execute(hidden_rows.group_by(Product.category_id)).all())
    categories = db.session.execute(select(Category.id, Category.name).order_by(Category.position, Category.name))
    return [
        CategorySize(key, name, totals.get(key, 0) - hidden.get(key, 0), hidden.get(key, 0)) for key, name in categories
    ]


def catalog_health() -> CatalogHealth:
    """Catalog size by category, active products with no lot in stock, and lots running low (a few of each)."""
    by_category = _products_by_category()
    without_lots = db.session.scalars(
        # By catalog number, whose index gives them in order (sorting every match by name took 130 ms).
        select(Product).where(Product.active, ~_has_stock()).order_by(Product.catalog_number).limit(DASHBOARD_ROWS + 1)
    ).all()
    low_lots = db.session.scalars(
        select(Lot)
        .where(RUNNING_LOW)  # as ix_lot_running_low states it, so the index answers in order
        .options(selectinload(Lot.product))  # joined, the sort read every available lot's product: 100 ms
        .order_by(Lot.units_available, Lot.lot_number)
        .limit(DASHBOARD_ROWS + 1)
    ).all()
    return CatalogHealth(
        list(by_category),
        list(without_lots[:DASHBOARD_ROWS]),
        list(low_lots[:DASHBOARD_ROWS]),
        more_without_lots=len(without_lots) > DASHBOARD_ROWS,
        more_low_lots=len(low_lots) > DASHBOARD_ROWS,
    )


@dataclass
class SiteSearch:
    """The catalog's part of the site-wide search: products, and the donor filters its words named."""

    filters: CatalogFilters
    products: list[Product]
    notes: list[str]

    @property
    def catalog_url(self) -> str:
        """The same search in the catalog, its donor words as ticked filters."""
        return self.filters.url()


def search_products(q: str, limit: int = 12) -> SiteSearch:
    """Active products matching a search, best first (for the site-wide search): its donor words are
    filters, as in the catalog, and the other words are searched as text."""
    filters = read_filters(MultiDict({"q": q}), [])
    if not filters.terms and not filters.selected:
        return SiteSearch(filters, [], filters.notes)
    index = catalog_index()
    hits = index.search(filters.terms, filters.text) if filters.terms else None
    selected, notes = index_filters(filters.selected, index)
    found = index.match(selected, hits)
    ids = index.page(found.products, 0, limit, "relevance", hits)
    return SiteSearch(filters, product_cards(ids), filters.notes + notes)
