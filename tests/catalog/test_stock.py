"""Holding and selling a lot's units (shop/catalog/stock.py): one conditional UPDATE per move, race-safe."""

import threading

import pytest

from shop.admin.locking import STALE_MESSAGE, record_version, refusal
from shop.catalog import stock
from shop.catalog.models import Lot
from shop.content_clock import reading
from shop.extensions import db
from tests.factories import LotFactory


def _units(lot: Lot) -> tuple[int, int]:
    db.session.refresh(lot)
    return lot.units_available, lot.units_reserved


def test_a_hold_moves_units_out_of_what_others_may_ask_for(db):
    lot = LotFactory(units_available=5)
    stock.hold(lot.id, 2)
    assert _units(lot) == (3, 2)
    stock.release(lot.id, 1)
    assert _units(lot) == (4, 1)
    stock.sell_held(lot.id, 1)
    assert _units(lot) == (4, 0)
    stock.sell(lot.id, 4)
    assert _units(lot) == (0, 0)
    assert not lot.in_stock


def test_asking_for_more_than_is_free_says_how_many_are_left(db):
    lot = LotFactory(units_available=2, lot_number="2611-D00001-01")
    with pytest.raises(stock.OutOfStock) as refused:
        stock.hold(lot.id, 3)
    assert str(refused.value) == "Lot 2611-D00001-01 has only 2 units left; 3 were asked for."
    assert (refused.value.wanted, refused.value.available) == (3, 2)
    assert _units(lot) == (2, 0)


def test_a_lot_out_of_stock_or_withdrawn_holds_nothing(db):
    empty = LotFactory(units_available=0)
    withdrawn = LotFactory(units_available=4, status="quarantine")
    for lot in (empty, withdrawn):
        with pytest.raises(stock.OutOfStock, match="no longer available"):
            stock.hold(lot.id, 1)
    with pytest.raises(stock.OutOfStock, match="no longer exists"):
        stock.sell(2_000_000_000, 1)


def test_several_lots_are_held_all_or_none(db):
    plenty, short = LotFactory(units_available=5), LotFactory(units_available=1)
    with pytest.raises(stock.OutOfStock) as refused:
        stock.hold_all([(plenty.id, 2), (short.id, 1), (short.id, 1)])  # the same lot twice counts twice
    assert refused.value.lot_id == short.id
    assert _units(plenty) == (5, 0) and _units(short) == (1, 0)
    stock.hold_all([(plenty.id, 2), (short.id, 1)])
    assert _units(plenty) == (3, 2) and _units(short) == (0, 1)


def test_leaving_a_hold_the_lot_does_not_have_is_the_callers_bug(db):
    lot = LotFactory(units_available=5)
    stock.hold(lot.id, 1)
    with pytest.raises(stock.StockError, match="holds 1 units; 2 were to leave"):
        stock.release(lot.id, 2)
    with pytest.raises(stock.StockError):
        stock.sell_held(lot.id, 2)
    assert _units(lot) == (4, 1)


@pytest.mark.parametrize("units", [0, -1, True, 1.0, "1", None])
def test_units_must_be_a_positive_whole_number(db, units):
    lot = LotFactory(units_available=5)
    with pytest.raises(ValueError, match="positive whole number"):
        stock.hold(lot.id, units)


def test_a_move_is_a_stock_change_of_the_catalog_and_bumps_the_version(db, app):
    lot = LotFactory(units_available=5)
    db.session.commit()
    version, before = lot.version, reading("catalog")
    stock.hold(lot.id, 1)
    db.session.commit()
    after = reading("catalog")
    assert after.newer_than(before, ["stock"]) and not after.newer_than(before, ["content"])
    assert lot.version == version + 1  # the session's copy follows the UPDATE


def test_a_staff_edit_begun_before_a_hold_is_a_conflict(db):
    lot = LotFactory(units_available=5)
    db.session.commit()
    opened_on = record_version(lot)  # what the edit form carries
    stock.hold(lot.id, 1)
    db.session.commit()
    assert refusal(opened_on, lot) == STALE_MESSAGE


@pytest.mark.usefixtures("committing_db")
@pytest.mark.parametrize("buyers", [2, 8])
def test_buyers_racing_for_the_last_unit_one_gets_it(app, buyers):
    lot = LotFactory(units_available=1)
    db.session.commit()
    lot_id, start, outcomes = lot.id, threading.Barrier(buyers), []

    def buy():
        with app.app_context():
            start.wait()
            try:
                stock.hold(lot_id, 1)
                db.session.commit()
                outcomes.append("held")
            except stock.OutOfStock:
                db.session.rollback()
                outcomes.append("told")

    threads = [threading.Thread(target=buy) for _ in range(buyers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["held"] + ["told"] * (buyers - 1)
    assert _units(db.session.get(Lot, lot_id)) == (0, 1)
