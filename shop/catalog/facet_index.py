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

The index is built from the database (five queries, ``shop.catalog.index_rows``);
on 100,000 products that takes about two seconds and keeps 15-20 MB. Which
index a process serves, and when it is built, is ``shop.catalog.index``'s job.
Searches are answered from the database's full-text index without scores (see
``shop.catalog.search.RELEVANCE``) and kept with the index as bitsets: the most
recent ``CATALOG_SEARCH_CACHE_SIZE``.
"""

import threading
from array import array
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import String, cast, func, select

from shop.catalog import index_rows
from shop.catalog.bitsets import bits_at, bitset, from_marks, positions
from shop.catalog.donor_filters import donor_values
from shop.catalog.facets import DONOR_FACETS, DONOR_INDEXED, FACETS, PRODUCT_FACETS, SAME_FILTER, product_values
from shop.catalog.index_rows import CategoryRow, ProductRow
from shop.catalog.search import (
    RELEVANCE,
    catalog_number_prefix,
    looks_like_catalog_number,
    matching_products,
    matching_products_and_places,
)
from shop.content_clock import Clock
from shop.driver_rows import fetch_rows
from shop.extensions import db

INFINITY = float("inf")


@dataclass
class SearchHits:
    """The products matching a search (first slots); their relevance tiers are found when first needed."""

    terms: tuple[str, ...]
    prefix: str | None
    products: int  # first slots
    tiers: list[int] | None = None  # first slots, best tier first (see CatalogIndex.tiers)
    # (term, place number in RELEVANCE) -> the products with the term there (first slots)
    places: dict[tuple[str, int], int] = field(default_factory=dict)


@dataclass
class Matches:
    """What a set of filters selects: each facet's counts, and the matching products (first slots)."""

    counts: dict[str, dict[str, int]]
    products: int
    lots: int = 0  # the slots (lots in stock) that meet every filter

    @property
    def total(self) -> int:
        """How many products match."""
        return self.products.bit_count()


class CatalogIndex:
    """Bitsets over the in-stock lots of the active products, as of one reading of the catalog's clock."""

    def __init__(self, clock: Clock, search_cache_size: int = 64):
        self.clock = clock
        self.size = 0  # slots
        self.starts = 0  # the first slot of each product
        self.everything = 0  # every slot
        self.values: dict[str, dict[str, int]] = {facet: {} for facet in FACETS + DONOR_INDEXED}
        # (shift, mask): the mask has slot i when slot i + shift belongs to the same product.
        self.folds: list[tuple[int, int]] = []
        self.product_at = array("i")  # the product id of each slot (4-byte arrays: ids and slots fit)
        self.orders: dict[str, array] = {}  # sort name -> first slots in that order
        self._ranks: dict[str, array] = {}  # sort name -> each first slot's place in that order (see rank)
        self._first_slot: dict[int, int] | array = {}  # product id -> first slot
        # The donor each slot stands for (-1: none), and whether that donor has a lot of it in stock now:
        # what updating in place (follow_stock) changes. A slot stands for a donor, not for one lot.
        self.slot_donor = array("i")
        self.live = bytearray()
        self.stock_log_seen = 0  # the last stock-change log id this index follows (shop.catalog.stock_log)
        self.synced_at = 0.0  # when (time.monotonic) it was last known to be up to date with the stock
        self._searches: OrderedDict = OrderedDict()
        self._search_cache_size = search_cache_size
        self._search_lock = threading.Lock()

    # Building

    @classmethod
    def build(cls, clock: Clock, search_cache_size: int = 64) -> "CatalogIndex":
        """Read the active products, their in-stock lots and those lots' donors; lay them out as slots."""
        index = cls(clock, search_cache_size)
        categories = index_rows.categories()
        products = index_rows.active_products()
        lots = index_rows.stocked_lots()

        # Lay out the slots, walking products and their lots together (both in product id order).
        product_at, starts, slot_donors, stocked = index.product_at, [], [], []
        j, lot_count = 0, len(lots)
        for product in products:
            starts.append(len(product_at))
            if j < lot_count and lots[j].product_id == product.id:
                stocked.append(len(product_at))
                while j < lot_count and lots[j].product_id == product.id:
                    product_at.append(product.id)
                    slot_donors.append(lots[j].donor_id)
                    j += 1
            else:
                product_at.append(product.id)
                slot_donors.append(None)
        index.size = size = len(product_at)
        index.slot_donor = array("i", (-1 if donor is None else donor for donor in slot_donors))
        index.live = bytearray(donor is not None for donor in slot_donors)
        index.everything = (1 << size) - 1
        index.starts = bitset(size, starts)
        index._first_slot = _lookup([product.id for product in products], starts)
        index._index_folds(starts)

        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for product, start in zip(products, starts, strict=True):
            for facet, value in product_values(product, categories[product.category_id].slug):
                groups[facet, value].append(start)
        groups["stock", "in"] = stocked
        for (facet, value), firsts in groups.items():
            if firsts:
                index.values[facet][value] = index.spread(bitset(size, firsts))
        index._index_donors(slot_donors)
        index._index_orders(products, starts, categories)
        return index

    def _index_donors(self, slot_donors: list[int | None]) -> None:
        """Donor values, set on the slots of the donor's lots: one bitset per donor, ORed into its values."""
        slots_of: dict[int, list[int]] = defaultdict(list)
        for slot, donor_id in enumerate(slot_donors):
            if donor_id is not None:
                slots_of[donor_id].append(slot)
        alleles: dict[int, list[str]] = defaultdict(list)
        for row in index_rows.alleles():
            alleles[row.donor_id].append(row.allele)
        for donor in index_rows.donors():
            if donor.id not in slots_of:
                continue
            own = bitset(self.size, slots_of[donor.id])
            for facet, value in donor_values(donor, alleles[donor.id]):
                self.values[facet][value] = self.values[facet].get(value, 0) | own

    def _index_folds(self, starts: list[int]) -> None:
        """The masks :meth:`gather` and :meth:`spread` shift by: one per power of two below the most lots."""
        ends = starts[1:] + [self.size]
        runs = [(start, end - start) for start, end in zip(starts, ends, strict=False) if end - start > 1]
        longest = max((length for _, length in runs), default=1)
        shift = 1
        while shift < longest:
            # Slot i is in the mask when slot i + shift belongs to the same product.
            inside = [i for start, length in runs if length > shift for i in range(start, start + length - shift)]
            self.folds.append((shift, bitset(self.size, inside)))
            shift *= 2

    def _index_orders(
        self, products: Sequence[ProductRow], starts: list[int], categories: dict[int, CategoryRow]
    ) -> None:
        """First slots in each sort order; sorted here (stable sorts, least significant key first), so
        both databases order alike, ties fall to the product id, and names sort ignoring case."""
        names = [product.name.casefold() for product in products]
        by_name = sorted(range(len(products)), key=names.__getitem__)
        display = [(not product.featured, categories[product.category_id].position) for product in products]
        prices = [INFINITY if product.price_cents is None else product.price_cents for product in products]
        created = [product.created_at for product in products]  # ISO text (SQLite) or datetimes: either sorts
        orders = {
            "relevance": sorted(by_name, key=display.__getitem__),
            "name": by_name,
            "price": sorted(by_name, key=prices.__getitem__),
            # Newest first, and the higher id first among equal times (reverse=True keeps sorts stable).
            "newest": sorted(range(len(products) - 1, -1, -1), key=created.__getitem__, reverse=True),
        }
        for name, places in orders.items():
            self.orders[name] = array("i", (starts[i] for i in places))

    @property
    def listed(self) -> int:
        """The first slots of the products shown now (every product, unless one was hidden since the build)."""
        return self.starts & self.everything

    # Following stock changes in place

    def donors_in_slots(self, product_ids: Iterable[int]) -> set[int]:
        """The donors the slots of these products stand for (to read their facet values)."""
        return {
            self.slot_donor[slot]
            for product_id in product_ids
            for slot in self._run(product_id)
            if self.slot_donor[slot] >= 0
        }

    def follow_stock(self, stock: "index_rows.StockOf") -> bool:
        """Take these products' stock and visibility as they are now, in place; False (nothing changed) when
        the layout cannot hold them: a product shown that has no slots, or more donors in stock than slots.

        Each slot's donor values are cleared and set again as its donor is in stock or not; a slot whose
        donor went out of stock may stand for another donor of the product that came in. Bitsets are
        replaced whole (ints are immutable), so a request reading the index meanwhile never sees a torn value.
        """
        plans = []
        for product_id, shown in stock.shown.items():
            run = self._run(product_id)
            if not run:
                if shown:
                    return False
                continue
            donors = self._assign(run, stock.donors_in_stock.get(product_id, set()))
            if donors is None:
                return False
            plans.append((run, shown, donors))
        setting: dict[tuple[str, str], list[int]] = defaultdict(list)
        clearing: dict[tuple[str, str], list[int]] = defaultdict(list)
        shown_slots, hidden_slots, newly_shown = [], [], False
        for run, shown, donors in plans:
            newly_shown |= shown and not (self.everything >> run.start) & 1
            (shown_slots if shown else hidden_slots).extend(run)
            (setting if any(d >= 0 for d in donors) else clearing)["stock", "in"].extend(run)
            for slot, donor in zip(run, donors, strict=True):
                if self.live[slot]:
                    for key in stock.values_of.get(self.slot_donor[slot], ()):
                        clearing[key].append(slot)
                if donor >= 0:
                    self.slot_donor[slot] = donor
                    for key in stock.values_of.get(donor, ()):
                        setting[key].append(slot)
                self.live[slot] = donor >= 0
        for key in setting.keys() | clearing.keys():
            facet, value = key
            bits = self.values[facet].get(value, 0)
            self.values[facet][value] = (bits & ~bits_at(clearing.get(key, ()))) | bits_at(setting.get(key, ()))
        self.everything = (self.everything & ~bits_at(hidden_slots)) | bits_at(shown_slots)
        if newly_shown:  # searches were answered without it
            with self._search_lock:
                self._searches.clear()
        return True

    def _run(self, product_id: int) -> range:
        """The slots of one product (empty when it is not in the index)."""
        first = next(iter(self._slots([product_id])))
        if first < 0:
            return range(0)
        end = first + 1
        while end < self.size and self.product_at[end] == product_id:
            end += 1
        return range(first, end)

    def _assign(self, run: range, in_stock: set[int]) -> list[int] | None:
        """The donor each slot of a product stands for from now (-1: none), or None when there are too few slots.

        A slot keeps its donor while that donor is in stock; donors new to the product take the others.
        """
        donors = [-1] * len(run)
        placed = set()
        for i, slot in enumerate(run):
            donor = self.slot_donor[slot]
            if donor in in_stock and donor not in placed:
                donors[i] = donor
                placed.add(donor)
        free = [i for i, donor in enumerate(donors) if donor < 0]
        newcomers = sorted(in_stock - placed)
        if len(newcomers) > len(free):
            return None
        for i, donor in zip(free, newcomers, strict=False):
            donors[i] = donor
        return donors

    def rank(self, order: str) -> array:
        """Each first slot's place in an order; made the first time a page needs it (not every build)."""
        if order not in self._ranks:
            rank = array("i", [0]) * self.size
            for place, slot in enumerate(self.orders[order]):
                rank[slot] = place
            self._ranks[order] = rank
        return self._ranks[order]

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
        scope = self.everything if hits is None else self.everything & self.spread(hits.products)

        def product_side(skip: str | None = None) -> int:
            bits = scope
            for facet in PRODUCT_FACETS:
                if facet in within and facet != skip:
                    bits &= within[facet]
            return bits

        def donor_side(skip: str | None = None) -> int | None:
            bits = None
            skipped = SAME_FILTER.get(skip, (skip,))
            for facet in DONOR_INDEXED:
                if facet in within and facet not in skipped:
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
        for facet in PRODUCT_FACETS:
            others, donors = product_side(facet), donor_side()
            counts[facet] = {value: count(others & bits, donors) for value, bits in self.values[facet].items()}
        everything = product_side()
        for facet in DONOR_FACETS:
            donors = donor_side(facet)
            counts[facet] = {
                value: count(everything & bits, donors, True) for value, bits in self.values[facet].items()
            }
        donors = donor_side()
        lots = everything & donors if donors is not None else everything
        return Matches(counts, products(lots, donors is not None), lots)

    def in_stock(self, product_ids: list[int]) -> set[int]:
        """Which of these products have a lot in stock (what a card says)."""
        stocked = self.values["stock"].get("in", 0)
        return {
            i
            for i, slot in zip(product_ids, self._slots(product_ids), strict=True)
            if slot >= 0 and stocked >> slot & 1
        }

    def lots_per_product(self, product_ids: Iterable[int], lots: int) -> dict[int, int]:
        """How many of each product's slots are in ``lots`` (its lots in stock that meet the filters)."""
        found = {}
        for product_id, slot in zip(product_ids, self._slots(list(product_ids)), strict=True):
            if slot < 0:
                continue
            end = slot
            while end < self.size and self.product_at[end] == product_id:
                end += 1
            found[product_id] = ((lots >> slot) & ((1 << (end - slot)) - 1)).bit_count()
        return found

    def page(self, matched: int, offset: int, limit: int, sort: str, hits: SearchHits | None = None) -> list[int]:
        """Product ids of the matching products in the sort order, from ``offset``, at most ``limit``.

        Relevance with a search walks the search's tiers, best first, each in
        the catalog's display order; whole tiers before ``offset`` are skipped
        by counting them.
        """
        if sort != "relevance" or hits is None:
            return self._walk(matched, sort, offset, limit)
        found: list[int] = []
        for tier in self._tier_stream(hits):
            members = matched & tier
            count = members.bit_count()
            if offset >= count:
                offset -= count
                continue
            found += self._walk(members, "relevance", offset, limit - len(found))
            offset = 0
            if len(found) == limit:
                break
        return found

    def _walk(self, matched: int, order: str, offset: int, limit: int) -> list[int]:
        """Ids of the products in ``matched`` (first slots) in an order, from ``offset``, at most ``limit``."""
        if matched == self.starts:
            return [self.product_at[slot] for slot in self.orders[order][offset : offset + limit]]
        count = matched.bit_count()
        if offset >= count or limit <= 0:
            return []
        # Walk the order, checking each product (~0.1 µs a step), when the page should fill well before
        # the end; otherwise, when the matches are few, sort them by their place (~0.6 µs each).
        # (Matches may cluster late in an order: all of one category, say; then the walk is long.)
        expected_steps = (offset + limit) * self.size // count
        if expected_steps * 4 >= count and count * 6 < self.size:
            chosen = sorted(positions(matched), key=self.rank(order).__getitem__)[offset : offset + limit]
            return [self.product_at[slot] for slot in chosen]
        member = matched.to_bytes((self.size + 7) // 8, "little")
        found: list[int] = []
        for slot in self.orders[order]:
            if member[slot >> 3] >> (slot & 7) & 1:
                if offset:
                    offset -= 1
                    continue
                found.append(self.product_at[slot])
                if len(found) == limit:
                    break
        return found

    # Searching

    def search(self, terms: list[str], q: str) -> SearchHits:
        """The products matching every word, in relevance tiers; kept for the most recent searches."""
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
        """Ask the full-text index which products match every word (no scores computed).

        PostgreSQL rechecks each match's tsvector anyway, so one query also says
        where each word is found; SQLite is asked for that later, if a page is
        sorted by relevance (see :meth:`tiers`).
        """
        if db.engine.dialect.name != "postgresql":
            return SearchHits(tuple(terms), prefix, self._products(matching_products(terms)))
        pairs = [(term, place) for term in terms for place in range(len(RELEVANCE))]
        products, *found = self._bitsets(fetch_rows(matching_products_and_places(terms)), len(pairs))
        return SearchHits(tuple(terms), prefix, products, places=dict(zip(pairs, found, strict=True)))

    def _place(self, hits: SearchHits, term: str, place: int) -> int:
        """The products of the search with ``term`` in RELEVANCE's ``place`` (asked once, then kept)."""
        key = (term, place)
        if key not in hits.places:
            hits.places[key] = hits.products & self._products(matching_products([term], RELEVANCE[place][0]))
        return hits.places[key]

    def _tier_stream(self, hits: SearchHits) -> Iterator[int]:
        """The tiers of :meth:`tiers`, best first; for one word, each place is asked for only when reached."""
        if hits.tiers is not None or len(hits.terms) > 1 or hits.prefix:
            yield from self.tiers(hits)
            return
        # One word: its places are the tiers, so a page filled from the names needs no other query.
        rest = hits.products
        for place in range(len(RELEVANCE)):
            tier = rest & self._place(hits, hits.terms[0], place)
            rest &= ~tier
            yield tier
        yield rest

    def tiers(self, hits: SearchHits) -> list[int]:
        """A search's products grouped by relevance, best first (first slots); found once per search.

        Each word adds 10 when found in the name or catalog number, 5 in the
        markers or cell type, 1 elsewhere; a search that looks like a catalog
        number puts the products whose number starts with it first.
        """
        if hits.tiers is not None:
            return hits.tiers
        by_score = {0: hits.products}
        for term in hits.terms:
            places = [(self._place(hits, term, place), weight) for place, (_fields, weight) in enumerate(RELEVANCE)]
            scored: dict[int, int] = defaultdict(int)
            for score, bits in by_score.items():
                rest = bits
                for found, weight in places:
                    scored[score + weight] |= rest & found
                    rest &= ~found
                scored[score + 1] |= rest
            by_score = {score: bits for score, bits in scored.items() if bits}
        tiers = [by_score[score] for score in sorted(by_score, reverse=True)]
        if hits.prefix:
            # "CT-TC-CD8" names a catalog-number prefix: those products first, whatever the words score.
            named = hits.products & self._products(catalog_number_prefix(hits.prefix))
            tiers = [named] + [tier & ~named for tier in tiers]
        hits.tiers = [tier for tier in tiers if tier]
        return hits.tiers

    def _products(self, ids_query) -> int:
        """First slots of the products whose ids the query returns (ids not in the index are skipped).

        The ids come back as one comma-separated string, a byte is marked per
        slot and the bytes are read as binary digits: a broad word matches
        every product, and 100,000 rows read one by one took three times as long.
        """
        ids = ids_query.subquery()
        if db.engine.dialect.name == "postgresql":
            joined = func.string_agg(cast(ids.c.id, String), ",")
        else:
            joined = func.group_concat(ids.c.id)
        text = db.session.scalar(select(joined))
        if not text or not self.size:
            return 0
        marks = bytearray(self.size + 1)  # the extra last byte takes ids not in the index (-1)
        for slot in self._slots(list(map(int, text.split(",")))):
            marks[slot] = 1
        del marks[-1]
        return from_marks(marks)

    def _slots(self, product_ids: list[int]) -> Iterator[int]:
        """Each product's first slot, -1 for products not in the index; C-level maps where possible."""
        lookup = self._first_slot
        if isinstance(lookup, dict):
            return (lookup.get(i, -1) for i in product_ids)
        if not product_ids or max(product_ids) < len(lookup):  # every id has an entry (-1: not shown)
            return map(lookup.__getitem__, product_ids)
        return (lookup[i] if i < len(lookup) else -1 for i in product_ids)  # saved since the build

    def _bitsets(self, rows: list[tuple], flags: int) -> list[int]:
        """From rows of (product id, flag, ...): the products' first slots, then those with each flag set."""
        slots = self._slots([product_id for product_id, *_flags in rows])
        buffers = [bytearray((self.size + 7) // 8) for _ in range(flags + 1)]
        everything = buffers[0]
        for (_product_id, *flagged), slot in zip(rows, slots, strict=True):
            if slot < 0:
                continue
            byte, bit = slot >> 3, 1 << (slot & 7)
            everything[byte] |= bit
            for flag, on in enumerate(flagged, start=1):
                if on:
                    buffers[flag][byte] |= bit
        return [int.from_bytes(buffer, "little") for buffer in buffers]


def _lookup(ids: list[int], starts: list[int]) -> dict[int, int] | array:
    """Product id -> first slot: an array indexed by id when ids are dense enough, otherwise a dict."""
    if not ids:
        return {}
    if ids[-1] > 4 * len(ids) + 1024:
        return dict(zip(ids, starts, strict=True))
    lookup = array("i", [-1]) * (ids[-1] + 1)
    for product_id, start in zip(ids, starts, strict=True):
        lookup[product_id] = start
    return lookup
