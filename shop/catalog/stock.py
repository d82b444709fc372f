"""Holding and selling a lot's units: the one place stock moves for quotes and orders.

A lot's ``units_available`` are the units anyone may still ask for; ``units_reserved`` are units held
for someone (an accepted quote, an open checkout) and not yet sold. Holding moves units from the first
to the second, releasing moves them back, selling takes held units out of stock. The catalog's index,
facets and "in stock" rule read ``units_available`` only, so a held unit is gone for everyone else.

Each move is one conditional UPDATE: two buyers racing for the last unit cannot both get it, on SQLite
or PostgreSQL, and no lock is held across requests. The loser's UPDATE matches no row and gets
:class:`OutOfStock`. Every move runs in the session's current transaction (the caller commits or rolls
back), bumps the lot's version, so a staff edit begun before it is refused as a conflict, and moves the
catalog's "stock" clock, so cached pages and the facet index follow. A release that gives units back to
a lot that had none free puts it back in stock: it notes when (``Lot.entered_stock_at``), as the model's
hook does for saves through the ORM.

The catalog does not know who holds units: the caller (inquiries, payments) keeps that in its own rows.
"""

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import case, exists, literal, select, update

from shop.catalog import stock_log
from shop.catalog.freshness import past_window
from shop.catalog.models import Lot, Product
from shop.extensions import db
from shop.models import UTCDateTime, utcnow


class OutOfStock(Exception):
    """Fewer units of a lot are free than were asked for (sold or held by someone else meanwhile)."""

    def __init__(self, lot_id: int, lot_number: str | None, wanted: int, available: int, expired: bool = False):
        self.lot_id, self.lot_number, self.wanted, self.available = lot_id, lot_number, wanted, available
        name = f"Lot {lot_number}" if lot_number else "This lot"
        if lot_number is None:
            text = "This lot no longer exists."
        elif expired:
            text = f"{name} is past its stability window (fresh material): it can no longer be sold."
        elif available <= 0:
            text = f"{name} is no longer available: its last units were taken by someone else meanwhile."
        else:
            left = f"{available} unit{'' if available == 1 else 's'}"
            text = f"{name} has only {left} left; {wanted} were asked for."
        super().__init__(text)


class StockError(Exception):
    """A release or sale of more held units than the lot holds: the caller's own records disagree."""


def hold(lot_id: int, units: int) -> None:
    """Hold ``units`` of a lot for someone: they leave what others may ask for."""
    _move(lot_id, units, free=-1, held=+1)


def hold_all(lines: Iterable[tuple[int, int]]) -> None:
    """Hold units of several lots, all or none: on :class:`OutOfStock` no lot of ``lines`` stays held.

    Lots are held in id order, so two transactions holding the same lots never wait on each other. A short
    lot undoes the holds made before it by releasing them, not with a savepoint: on SQLite, a savepoint
    that is the transaction's first write commits when it is released (the driver sends no BEGIN before
    it), so a later rollback of the caller's transaction would have left the holds in place.
    """
    wanted = Counter()
    for lot_id, units in lines:
        wanted[lot_id] += _positive(units)
    held = []
    try:
        for lot_id in sorted(wanted):
            hold(lot_id, wanted[lot_id])
            held.append(lot_id)
    except OutOfStock:
        for lot_id in held:  # undone in the same transaction: to anyone else, these lots never left stock
            _move(lot_id, wanted[lot_id], free=+1, held=-1, restocks=False)
        raise


def release(lot_id: int, units: int) -> None:
    """End a hold (quote declined, cancelled or expired; checkout expired): the units are free again, and a lot
    whose every free unit was held is back in stock (``Lot.entered_stock_at``)."""
    _move(lot_id, units, free=+1, held=-1, restocks=True)


def sell_held(lot_id: int, units: int) -> None:
    """Held units are sold: they leave stock."""
    _move(lot_id, units, free=0, held=-1)


def sell(lot_id: int, units: int) -> None:
    """Units are sold without having been held first."""
    _move(lot_id, units, free=-1, held=0)


def _move(lot_id: int, units: int, *, free: int, held: int, restocks: bool = False) -> None:
    """One conditional UPDATE moving ``units`` in (+1) or out of (-1) the free and held counts; OutOfStock
    (or StockError) when the lot can't give what is asked. ``restocks``: units coming back to an available lot
    that had none free put it back in stock now (the UPDATE skips the model's hook that notes it)."""
    units = _positive(units)
    needs_free = free < 0
    # A fresh lot past its stability window can't be held or sold, though its units are still counted.
    usable = ~exists().where(Product.id == Lot.product_id, past_window(utcnow(), Lot, Product))
    condition = (
        (Lot.status == "available") & (Lot.units_available >= units) & usable
        if needs_free
        else (Lot.units_reserved >= units)
    )
    values = {
        "units_available": Lot.units_available + free * units,
        "units_reserved": Lot.units_reserved + held * units,
        "version": Lot.version + 1,
    }
    if restocks:  # SET reads the row as it was before this UPDATE, on SQLite and PostgreSQL
        back = (Lot.status == "available") & (Lot.units_available <= 0)
        values["entered_stock_at"] = case((back, literal(utcnow(), UTCDateTime)), else_=Lot.entered_stock_at)
    statement = (
        update(Lot)
        .where(Lot.id == lot_id, condition)
        .values(values)
        .returning(Lot.units_available)
        .execution_options(synchronize_session="fetch")
    )
    left = db.session.execute(statement).scalar_one_or_none()
    if left is None:
        _refuse(lot_id, units, needs_free)
    # In or out of stock: the last free units held or sold, or units freed where none were.
    note_stock_moved([lot_id], availability=free != 0 and left == (units if free > 0 else 0))


def _refuse(lot_id: int, units: int, needs_free: bool) -> None:
    """Say why a move matched no row."""
    row = db.session.execute(
        select(Lot.lot_number, Lot.units_available, Lot.units_reserved, Lot.status).where(Lot.id == lot_id)
    ).first()
    if needs_free or row is None:
        free = row.units_available if row is not None and row.status == "available" else 0
        if row is not None and (lot := db.session.get(Lot, lot_id)) is not None and lot.expired:
            raise OutOfStock(lot_id, row.lot_number, units, 0, expired=True)
        raise OutOfStock(lot_id, row.lot_number if row else None, units, free)
    raise StockError(f"lot {row.lot_number} holds {row.units_reserved} units; {units} were to leave the hold")


def _positive(units: int) -> int:
    """A count of units to move: a positive int (a bool or 0 is a caller's bug)."""
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise ValueError(f"units to move must be a positive whole number, not {units!r}")
    return units


def note_stock_moved(lot_ids: list[int], *, availability: bool = True) -> None:
    """These lots' stock changed in this transaction: the catalog's "stock" clock moves at commit (and its
    "availability" kind, when one entered or left stock), and the stock-change log names their products,
    so every process's facet index and their product pages follow them."""
    stock_log.note_lots(lot_ids, availability=availability)
