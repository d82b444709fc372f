"""The quote basket: what a researcher has picked, kept in their (signed cookie) session until they send it.

The header's count comes from a small cookie (``basket_count``, a number only)
that static/js/basket.js reads, so cached pages stay the same bytes for every
visitor and still show the count.
"""

from dataclasses import dataclass, field

from flask import session
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.catalog.models import Lot, Product
from shop.extensions import db

KEY = "quote"
COUNT_COOKIE = "basket_count"
MAX_LINES = 50


class BasketFull(ValueError):
    """The basket already has MAX_LINES lines."""


@dataclass
class Line:
    """One basket line as the pages show it: the product and lot now, and what may be wrong with them."""

    index: int
    product: Product | None
    lot: Lot | None
    quantity: int
    preferred_format: str
    note: str
    problem: str = ""


@dataclass
class Basket:
    """The lines, and the catalog filters the researcher used (donor requirements to fill in)."""

    lines: list[Line] = field(default_factory=list)
    criteria: dict = field(default_factory=dict)

    @property
    def problems(self) -> list[Line]:
        """Lines that can't be sent as they are."""
        return [line for line in self.lines if line.problem]

    @property
    def all_gmp(self) -> bool:
        """True when every line is GMP grade (then the research-use acknowledgement is not asked)."""
        return bool(self.lines) and all(line.product and line.product.grade == "gmp" for line in self.lines)


def _stored() -> dict:
    return session.get(KEY) or {"items": [], "criteria": {}}


def _save(data: dict) -> None:
    session[KEY] = data
    session.modified = True


def count() -> int:
    """How many lines the basket holds."""
    return len(_stored()["items"])


def add(product_id: int, lot_id: int | None, quantity: int, preferred_format: str, note: str, criteria: dict) -> None:
    """Add a line (the same product and lot again adds to its quantity); remember the catalog filters used."""
    data = _stored()
    items = data["items"]
    for item in items:
        if item["p"] == product_id and item["l"] == lot_id:
            item["q"] = min(item["q"] + quantity, 1000)
            item["f"], item["n"] = preferred_format or item["f"], note or item["n"]
            break
    else:
        if len(items) >= MAX_LINES:
            raise BasketFull(f"A basket holds at most {MAX_LINES} lines: send this inquiry first, or remove some.")
        items.append({"p": product_id, "l": lot_id, "q": quantity, "f": preferred_format, "n": note})
    data["criteria"] = {**data.get("criteria", {}), **{k: v for k, v in criteria.items() if v}}
    _save(data)


def set_quantities(quantities: list[int]) -> None:
    """New quantities, line by line."""
    data = _stored()
    for item, quantity in zip(data["items"], quantities, strict=False):
        item["q"] = quantity
    _save(data)


def remove(index: int) -> None:
    """Take one line out (an index past the end does nothing)."""
    data = _stored()
    if 0 <= index < len(data["items"]):
        del data["items"][index]
    _save(data)


def clear() -> None:
    """Empty the basket (after the inquiry is sent)."""
    session.pop(KEY, None)


def load() -> Basket:
    """The basket with its products and lots read now, each line marked if it can no longer be asked for."""
    data = _stored()
    items = data["items"]
    products = _by_id(Product, {i["p"] for i in items})
    lots = _by_id(Lot, {i["l"] for i in items if i["l"]})
    basket = Basket(criteria=dict(data.get("criteria", {})))
    for index, item in enumerate(items):
        product, lot = products.get(item["p"]), lots.get(item["l"]) if item["l"] else None
        line = Line(index, product, lot, item["q"], item.get("f", ""), item.get("n", ""))
        line.problem = _problem(line, item)
        basket.lines.append(line)
    return basket


def _by_id(model, ids: set[int]) -> dict:
    if not ids:
        return {}
    query = select(model).where(model.id.in_(ids))
    if model is Product:
        query = query.options(selectinload(Product.category))
    return {row.id: row for row in db.session.scalars(query)}


def _problem(line: Line, item: dict) -> str:
    """Why a line can't be sent: the product withdrawn, the lot gone or sold out."""
    if line.product is None or not line.product.active:
        return "This product is no longer offered. Remove it, or describe what you need in the notes."
    if item["l"] and (line.lot is None or line.lot.product_id != line.product.id):
        return "This lot is no longer listed. Remove the line, or add the product without a lot."
    if line.lot is not None and not line.lot.in_stock:
        return f"Lot {line.lot.lot_number} has sold out meanwhile. Remove the line, or ask for another lot."
    return ""
