"""The cart: lots of list-price products, kept in the visitor's session (lot id -> units).

Cached public pages are the same for every visitor, so the header's count
can't be drawn into them: every change here also sets the ``cart_count``
cookie (not HttpOnly: it holds a number only), which ``static/js/cart.js``
shows in the header.
"""

from dataclasses import dataclass

from flask import session
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from shop.catalog.models import Lot
from shop.extensions import db
from shop.payments.services import MAX_LINES, MAX_UNITS_PER_LINE, Line

SESSION_KEY = "cart"
COUNT_COOKIE = "cart_count"


class CartProblem(ValueError):
    """Why a lot can't go into the cart, in a sentence for the buyer."""


@dataclass(frozen=True)
class CartLine:
    """A lot in the cart with what the cart page shows of it."""

    lot: Lot
    units: int

    @property
    def total_cents(self) -> int:
        """Units times the list price."""
        return self.units * self.lot.product.price_cents


def _stored() -> dict[str, int]:
    raw = session.get(SESSION_KEY)
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if k.isdigit() and isinstance(v, int) and 0 < v <= MAX_UNITS_PER_LINE}


def _store(cart: dict[str, int]) -> None:
    session[SESSION_KEY] = cart
    session.modified = True


def unit_count() -> int:
    """Units in the cart, for the header's cookie."""
    return sum(_stored().values())


def _sellable_lot(lot_id: int) -> Lot:
    lot = db.session.get(Lot, lot_id, options=[joinedload(Lot.product)])
    if lot is None or not lot.product.active:
        raise CartProblem("That lot is no longer offered.")
    if lot.product.quote_only:
        raise CartProblem(
            f"{lot.product.name} is priced per project, so it can't be bought online: ask us for a quote instead."
        )
    if not lot.in_stock:
        raise CartProblem(f"Lot {lot.lot_number} is out of stock.")
    return lot


def add(lot_id: int, units: int) -> Lot:
    """Put ``units`` more of a lot in the cart (at most what is available); CartProblem says why not."""
    lot = _sellable_lot(lot_id)
    cart = _stored()
    if str(lot_id) not in cart and len(cart) >= MAX_LINES:
        raise CartProblem(f"A cart holds at most {MAX_LINES} lots: check out these first.")
    wanted = cart.get(str(lot_id), 0) + units
    if wanted > lot.units_available:
        raise CartProblem(f"Lot {lot.lot_number} has {lot.units_available} unit(s) available; you asked for {wanted}.")
    cart[str(lot_id)] = wanted
    _store(cart)
    return lot


def set_units(lot_id: int, units: int) -> None:
    """Change a line's units (0 removes it); CartProblem when more than available."""
    cart = _stored()
    if str(lot_id) not in cart:
        return
    if units == 0:
        del cart[str(lot_id)]
    else:
        lot = _sellable_lot(lot_id)
        if units > lot.units_available:
            raise CartProblem(f"Lot {lot.lot_number} has {lot.units_available} unit(s) available.")
        cart[str(lot_id)] = units
    _store(cart)


def clear() -> None:
    """Empty the cart (its order was paid)."""
    session.pop(SESSION_KEY, None)


def lines() -> tuple[list[CartLine], list[str]]:
    """The cart's lines with their lots, and a sentence for each lot that dropped out (sold, withdrawn, repriced
    to quote only) since it was added; those are taken out of the cart."""
    cart = _stored()
    if not cart:
        return [], []
    ids = [int(k) for k in cart]
    found = {
        lot.id: lot
        for lot in db.session.scalars(select(Lot).where(Lot.id.in_(ids)).options(joinedload(Lot.product))).unique()
    }
    kept, notes = [], []
    for key, units in cart.items():
        lot = found.get(int(key))
        if lot is None or not lot.product.active or lot.product.quote_only or not lot.in_stock:
            notes.append(f"Lot {lot.lot_number if lot else key} is no longer available to buy and left your cart.")
            continue
        if units > lot.units_available:
            notes.append(f"Lot {lot.lot_number} has only {lot.units_available} unit(s) left: your cart now has those.")
            units = lot.units_available
        kept.append(CartLine(lot, units))
    if notes:
        _store({str(line.lot.id): line.units for line in kept})
    return kept, notes


def order_lines(cart_lines: list[CartLine]) -> list[Line]:
    """The cart as order lines at today's list prices."""
    return [Line(c.lot.id, c.units, c.lot.product.price_cents, c.lot.product.currency) for c in cart_lines]
