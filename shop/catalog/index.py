"""The catalog's facet index: counts, matches and result pages from bitsets held in memory.

Counting facets in SQL groups every matching product's lots, donors and HLA
alleles once per facet, for every new combination of filters: seconds per page
on a catalog of 100,000 products. Instead the catalog is laid out, once per
content change, as *slots*: one per in-stock lot, grouped by product (a
product with no lot in stock gets one empty slot). Each facet value is a
Python integer used as a bitset over the slots, so a filter is an AND of ORs
and a count is ``int.bit_count()``: microseconds per facet value.

Product values (category, format, ...) are set on every slot of a product.
Donor values (CMV, sex, age band, HLA allele) are set on the slots whose lot
comes from a donor with that value, so ANDing donor filters slot by slot keeps
the catalog's rule that one in-stock lot's donor must meet every donor filter.
:meth:`CatalogIndex.gather` then folds each product's slots onto its first
slot, and counting first slots counts products.

The index is built from the database (four queries) the first time it is asked
for after the content stamp moved (:mod:`shop.page_cache`), once per process;
on 100,000 products that takes about a second. Search results (product slots
in relevance order for a set of words) are kept with it, the most recent
``CATALOG_SEARCH_CACHE_SIZE`` searches.
"""

import threading
from array import array
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import case, func, select

from shop.catalog.models import Category, Donor, DonorAllele, Lot, Product, age_band
from shop.catalog.search import looks_like_catalog_number, product_hits
from shop.extensions import db
from shop.page_cache import content_stamp

PRODUCT_LEVEL = ("category", "format", "grade", "pricing", "stock")
DONOR_LEVEL = ("cmv", "sex", "age", "hla")
_build_lock = threading.Lock()


class _Bits:
    """A bitset being filled in, one bit at a time; ``value`` is the finished integer."""

    __slots__ = ("buffer",)

    def __init__(self, size: int):
        self.buffer = bytearray((size + 7) // 8)

    def add(self, i: int) -> None:
        self.buffer[i >> 3] |= 1 << (i & 7)

    def add_range(self, start: int, stop: int) -> None:
        for i in range(start, stop):
            self.buffer[i >> 3] |= 1 << (i & 7)

    def value(self) -> int:
        return int.from_bytes(self.buffer, "little")


@dataclass
class SearchHits:
    """The products matching a search: their first slots in relevance order, and all their slots as a bitset."""

    ranked: array
    slots: int


@dataclass
class Matches:
    """What a set of filters selects: each facet's counts, and the matching products (first slots)."""

    counts: dict[str, dict[str, int]]
    products: int

    @property
    def total(self) -> int:
        """How many products match."""
        return self.products.bit_count()


class CatalogIndex:
    """Bitsets over the in-stock lots of the active products, for one content stamp."""

    def __init__(self, stamp: str, search_cache_size: int = 64):
        self.stamp = stamp
        self.size = 0  # slots
        self.starts = 0  # the first slot of each product
        self.everything = 0  # every slot
        self.values: dict[str, dict[str, int]] = {facet: {} for facet in PRODUCT_LEVEL + DONOR_LEVEL}
        # (shift, mask): mask has slot i when slot i + shift belongs to the same product.
        self.folds: list[tuple[int, int]] = []
        self.product_at = array("q")  # product id of each slot
        self.orders: dict[str, array] = {}  # sort name -> first slots in that order
        self._start_of: dict[int, int] | array = {}
        self._searches: OrderedDict = OrderedDict()
        self._search_cache_size = search_cache_size
        self._search_lock = threading.Lock()

    # Building

    @classmethod
    def build(cls, stamp: str, search_cache_size: int = 64) -> "CatalogIndex":
        """Read the active products, their in-stock lots and those lots' donors; lay them out as slots."""
        index = cls(stamp, search_cache_size)
        products = db.session.execute(
            select(
                Product.id,
                Category.slug,
                Category.position,
                Product.format,
                Product.grade,
                Product.price_cents,
                Product.featured,
                Product.name,
                Product.created_at,
            )
            .join(Category, Category.id == Product.category_id)
            .where(Product.active)
            .order_by(Product.id)
        ).all()
        donors_of: dict[int, list[int]] = defaultdict(list)
        in_stock = (
            select(Lot.product_id, Lot.donor_id)
            .join(Product, Product.id == Lot.product_id)
            .where(Product.active, Lot.status == "available", Lot.units_available > 0)
            .order_by(Lot.product_id, Lot.id)
        )
        for product_id, donor_id in db.session.execute(in_stock):
            donors_of[product_id].append(donor_id)

        # Lay out the slots: a product's lots side by side, or one empty slot.
        starts: list[int] = []
        slots_of_donor: dict[int, list[int]] = defaultdict(list)
        for row in products:
            starts.append(len(index.product_at))
            for donor_id in donors_of.get(row.id, ()):
                slots_of_donor[donor_id].append(len(index.product_at))
                index.product_at.append(row.id)
            if row.id not in donors_of:
                index.product_at.append(row.id)
        index.size = len(index.product_at)
        index.everything = (1 << index.size) - 1
        first = _Bits(index.size)
        for start in starts:
            first.add(start)
        index.starts = first.value()
        index._start_of = _lookup(products, starts)

        index._index_products(products, starts, donors_of)
        index._index_donors(slots_of_donor)
        index._index_folds(starts)
        index._index_orders(products, starts)
        return index

    def _index_products(self, products: list, starts: list[int], donors_of: dict[int, list[int]]) -> None:
        """Product values, set on every slot of the product."""
        builders: dict[tuple[str, str], _Bits] = defaultdict(lambda: _Bits(self.size))
        for row, (start, end) in zip(products, _runs(starts, self.size), strict=True):
            builders["category", row.slug].add_range(start, end)
            builders["format", row.format].add_range(start, end)
            builders["grade", row.grade].add_range(start, end)
            builders["pricing", "quote" if row.price_cents is None else "list"].add_range(start, end)
            if row.id in donors_of:
                builders["stock", "in"].add_range(start, end)
        for (facet, value), builder in builders.items():
            self.values[facet][value] = builder.value()

    def _index_donors(self, slots_of_donor: dict[int, list[int]]) -> None:
        """Donor values, set on the slots of the donor's lots: one bitset per donor, ORed into its values."""
        alleles: dict[int, list[str]] = defaultdict(list)
        for donor_id, allele in db.session.execute(select(DonorAllele.donor_id, DonorAllele.allele)):
            alleles[donor_id].append(allele)
        for donor_id, cmv, sex, age in db.session.execute(select(Donor.id, Donor.cmv_status, Donor.sex, Donor.age)):
            if donor_id not in slots_of_donor:
                continue
            bits = _Bits(self.size)
            for slot in slots_of_donor[donor_id]:
                bits.add(slot)
            own = bits.value()
            values = [("cmv", cmv), ("sex", sex), ("age", age_band(age))] + [("hla", a) for a in alleles[donor_id]]
            for facet, value in values:
                self.values[facet][value] = self.values[facet].get(value, 0) | own

    def _index_folds(self, starts: list[int]) -> None:
        """The masks :meth:`gather` and :meth:`spread` shift by: one per power of two below the most lots."""
        runs = [(start, end - start) for start, end in _runs(starts, self.size)]
        longest = max((length for _, length in runs), default=1)
        shift = 1
        while shift < longest:
            mask = _Bits(self.size)
            for start, length in runs:
                if length > shift:
                    mask.add_range(start, start + length - shift)
            self.folds.append((shift, mask.value()))
            shift *= 2

    def _index_orders(self, products: list, starts: list[int]) -> None:
        """First slots in each sort order (sorted here, so both databases order alike)."""
        names = [row.name.casefold() for row in products]
        keys: dict[str, Callable[[int], tuple]] = {
            "relevance": lambda i: (not products[i].featured, products[i].position, names[i], i),
            "name": lambda i: (names[i], i),
            "price": lambda i: (products[i].price_cents is None, products[i].price_cents or 0, names[i], i),
            "newest": lambda i: (-products[i].created_at.timestamp(), -i),
        }
        for name, key in keys.items():
            self.orders[name] = array("q", (starts[i] for i in sorted(range(len(products)), key=key)))

    # Asking

    def gather(self, bits: int) -> int:
        """Fold each product's slots onto its first slot (OR), so counting first slots counts products."""
        for shift, mask in self.folds:
            bits |= (bits >> shift) & mask
        return bits

    def spread(self, bits: int) -> int:
        """Copy each first slot's bit onto every slot of its product (the reverse of :meth:`gather`)."""
        for shift, mask in self.folds:
            bits |= (bits & mask) << shift
        return bits

    def any_of(self, facet: str, values: Iterable[str]) -> int:
        """The slots having any of ``values`` for ``facet`` (OR within a facet)."""
        bits = 0
        for value in values:
            bits |= self.values[facet].get(value, 0)
        return bits

    def match(self, selected: dict[str, list[str]], hits: SearchHits | None = None) -> Matches:
        """Counts per facet value, each with the *other* facets' filters applied, and the matching products.

        Facets AND together, values of one facet OR. A product facet's count
        keeps every donor filter; a donor facet's count keeps the other donor
        filters, and all of them must hold for the same lot.
        """
        within = {facet: self.any_of(facet, values) for facet, values in selected.items() if values}
        scope = self.everything if hits is None else hits.slots

        def product_side(skip: str | None = None) -> int:
            bits = scope
            for facet in PRODUCT_LEVEL:
                if facet in within and facet != skip:
                    bits &= within[facet]
            return bits

        def donor_side(skip: str | None = None) -> int | None:
            bits = None
            for facet in DONOR_LEVEL:
                if facet in within and facet != skip:
                    bits = within[facet] if bits is None else bits & within[facet]
            return bits

        def products(bits: int, per_lot: bool) -> int:
            """First slots of the products with a slot in ``bits``."""
            return (self.gather(bits) if per_lot else bits) & self.starts

        def count(bits: int, donors: int | None, per_lot: bool = False) -> int:
            if donors is not None:
                bits &= donors
            return products(bits, per_lot or donors is not None).bit_count()

        counts: dict[str, dict[str, int]] = {}
        for facet in PRODUCT_LEVEL:
            others, donors = product_side(facet), donor_side()
            counts[facet] = {value: count(others & bits, donors) for value, bits in self.values[facet].items()}
        everything = product_side()
        for facet in DONOR_LEVEL:
            donors = donor_side(facet)
            counts[facet] = {
                value: count(everything & bits, donors, True) for value, bits in self.values[facet].items()
            }
        donors = donor_side()
        matched = products(everything & donors if donors is not None else everything, donors is not None)
        return Matches(counts, matched)

    def page(self, matched: int, order: Iterable[int], offset: int, limit: int) -> list[int]:
        """Product ids of the matching products, in ``order`` (first slots), from ``offset``, at most ``limit``."""
        if matched == self.starts and isinstance(order, array):
            return [self.product_at[slot] for slot in order[offset : offset + limit]]
        member = matched.to_bytes((self.size + 7) // 8, "little")
        found: list[int] = []
        for slot in order:
            if member[slot >> 3] >> (slot & 7) & 1:
                if offset:
                    offset -= 1
                    continue
                found.append(self.product_at[slot])
                if len(found) == limit:
                    break
        return found

    def search(self, terms: list[str], q: str) -> SearchHits:
        """The products matching every word, best first; kept for the most recent searches."""
        prefix = q.strip().upper() if looks_like_catalog_number(q) else None
        key = (tuple(terms), prefix)
        with self._search_lock:
            if key in self._searches:
                self._searches.move_to_end(key)
                return self._searches[key]
        found = self._run_search(terms, prefix)
        with self._search_lock:
            self._searches[key] = found
            while len(self._searches) > self._search_cache_size:
                self._searches.popitem(last=False)
        return found

    def _run_search(self, terms: list[str], prefix: str | None) -> SearchHits:
        hits = product_hits(terms).subquery()
        order = [hits.c.score.desc(), Product.name, Product.id]
        if prefix:
            # "CT-TC-CD8" names a catalog-number prefix: those products first. bm25 alone
            # ranks by rare words, and "cd8" appears in half the catalog.
            order.insert(0, case((func.upper(Product.catalog_number).startswith(prefix, autoescape=True), 0), else_=1))
        ids = db.session.scalars(select(Product.id).join(hits, hits.c.id == Product.id).order_by(*order))
        ranked = array("q")
        first = _Bits(self.size)
        for product_id in ids:
            start = self._start(product_id)
            if start is not None:  # not shown: inactive, or saved after this index was built
                ranked.append(start)
                first.add(start)
        return SearchHits(ranked, self.spread(first.value()))

    def _start(self, product_id: int) -> int | None:
        lookup = self._start_of
        if isinstance(lookup, dict):
            return lookup.get(product_id)
        start = lookup[product_id] if 0 <= product_id < len(lookup) else -1
        return start if start >= 0 else None


def _runs(starts: list[int], size: int) -> list[tuple[int, int]]:
    """Each product's slots as (first, past the last)."""
    return list(zip(starts, starts[1:] + [size], strict=False))


def _lookup(products: list, starts: list[int]) -> dict[int, int] | array:
    """Product id -> first slot: an array indexed by id when ids are dense enough, otherwise a dict."""
    if not products:
        return {}
    largest = products[-1].id
    if largest > 4 * len(products) + 1024:
        return {row.id: start for row, start in zip(products, starts, strict=True)}
    lookup = array("q", [-1]) * (largest + 1)
    for row, start in zip(products, starts, strict=True):
        lookup[row.id] = start
    return lookup


def catalog_index() -> CatalogIndex:
    """The index for the current content stamp, built if the stamp moved since the last one."""
    stamp = content_stamp()
    index = current_app.extensions.get("cellshop.catalog_index")
    if index is None or index.stamp != stamp:
        with _build_lock:
            index = current_app.extensions.get("cellshop.catalog_index")
            if index is None or index.stamp != stamp:
                index = CatalogIndex.build(stamp, current_app.config.get("CATALOG_SEARCH_CACHE_SIZE", 64))
                current_app.extensions["cellshop.catalog_index"] = index
    return index


def forget_catalog_index(app) -> None:
    """Drop the process's index, so the next request builds it (tests that write with Core use this)."""
    app.extensions.pop("cellshop.catalog_index", None)
