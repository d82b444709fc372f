"""Lots that arrive, matched to the alerts waiting for them, and mailed: each lot once per alert.

A lot *arrives* for an alert when it is in stock (available, free units, within
its stability window, on a product shown) and entered stock after the alert
was confirmed: the catalog notes that moment on the lot (``Lot.entered_stock_at``:
a new lot, one restocked, released from a hold, made available again), so the
catalog never learns of alerts. Two jobs of the outbox worker, in this order:

1. :func:`note_arrivals` finds lots in stock that entered it after the oldest
   active alert was confirmed and whose arrival is not noted yet, and notes it
   (a :class:`LotArrival` row per lot, written by an upsert: two workers noting
   the same arrival write one row; a lot back in stock later is noted again).
2. :func:`send_alerts` takes a batch of arrivals not done, read ``FOR UPDATE
   SKIP LOCKED`` (two workers take different ones), reads each set of filters
   that active alerts wait on against the batch's lots by the catalog's own
   rules (``lots_matching_each``), and queues one e-mail per alert listing the
   lots that arrived for it, with a unique (alert, lot) :class:`AlertDelivery`
   row per lot in the transaction that queues it. So no alert hears of a lot
   twice, whether two workers race or the lot leaves stock and comes back.

One e-mail per alert per batch rather than per lot: a donor's collection often
arrives as several lots at once (a leukopak and the cells isolated from it),
and a researcher waiting on that donor wants one message saying so.
"""

from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from shop.alerts.models import ACTIVE, AlertDelivery, AlertFilter, DonorAlert, LotArrival
from shop.alerts.services import alert_links, list_headers
from shop.catalog import donor_filters
from shop.catalog.models import FORMATS, Donor, Lot, Product
from shop.catalog.services import CatalogFilters, all_categories, filters_from_query, in_stock_lot, lots_matching_each
from shop.extensions import db
from shop.mail import queue_email
from shop.models import utcnow
from shop.templating import site_root

NOTE_BATCH = 500  # arrivals noted per transaction
ARRIVAL_BATCH = 100  # arrivals matched per transaction
ALERT_BATCH = 200  # e-mails (alerts) per transaction
LOTS_LISTED = 10  # lots an e-mail lists; it links the catalog page for the rest


def _upsert(model):
    """An INSERT that can say what to do on a conflict (both dialects have one, spelled alike)."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def note_arrivals() -> int:
    """Note the arrivals (lots in stock since after the oldest active alert's confirmation) not noted yet (job)."""
    oldest = db.session.scalar(select(func.min(DonorAlert.confirmed_at)).where(DonorAlert.status == ACTIVE))
    if oldest is None:
        return 0
    noted = exists().where(LotArrival.lot_id == Lot.id, LotArrival.entered_stock_at >= Lot.entered_stock_at)
    arrived = db.session.execute(
        select(Lot.id, Lot.entered_stock_at)
        .join(Product, Product.id == Lot.product_id)
        .where(in_stock_lot(), Product.active, Lot.entered_stock_at > oldest, ~noted)
        .order_by(Lot.entered_stock_at, Lot.id)
        .limit(NOTE_BATCH)
    ).all()
    now = utcnow()
    for lot_id, entered in arrived:
        statement = _upsert(LotArrival).values(lot_id=lot_id, entered_stock_at=entered, noted_at=now, done_at=None)
        statement = statement.on_conflict_do_update(
            index_elements=[LotArrival.lot_id],
            set_={"entered_stock_at": entered, "noted_at": now, "done_at": None},
            where=LotArrival.entered_stock_at < entered,  # a later arrival, noted by another worker, stays
        )
        db.session.execute(statement)
    db.session.commit()
    return 0  # it queues no mail: send_alerts, next, does


def send_alerts() -> int:
    """Queue the e-mails for a batch of noted arrivals; returns how many were queued (job for the worker)."""
    arrivals = db.session.scalars(
        select(LotArrival)
        .where(LotArrival.done_at.is_(None))
        .order_by(LotArrival.entered_stock_at, LotArrival.lot_id)
        .limit(ARRIVAL_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    if not arrivals:
        db.session.commit()
        return 0
    due = due_lots({arrival.lot_id: arrival.entered_stock_at for arrival in arrivals})
    batch = dict(list(due.items())[:ALERT_BATCH])
    queue_batch(batch)
    if len(due) <= ALERT_BATCH:  # otherwise the rest go next round (the delivery rows skip those done now)
        done = utcnow()
        for arrival in arrivals:
            arrival.done_at = done
    db.session.commit()
    return len(batch)


def due_lots(arrived: dict[int, datetime]) -> dict[int, list[int]]:
    """Alert id -> the lots of ``arrived`` (lot id -> when it entered stock) it is to be sent: matching its
    filters now, arrived after it was confirmed, not sent to it before. Alerts in id order."""
    latest = max(arrived.values())
    waiting = (DonorAlert.status == ACTIVE, DonorAlert.confirmed_at < latest)
    awaited = exists().where(DonorAlert.filter_id == AlertFilter.id, *waiting)
    rows = db.session.execute(select(AlertFilter.id, AlertFilter.query).where(awaited)).all()
    categories = all_categories()
    filters = {row.id: filters_from_query(row.query, categories) for row in rows}
    # Filters the catalog no longer reads as they were asked (a category renamed since) would wait on something
    # broader than the researcher chose: they match nothing instead.
    readable = {filter_id: each for filter_id, each in filters.items() if not each.ignored}
    matched = lots_matching_each(readable, arrived)
    matched = {filter_id: lots for filter_id, lots in matched.items() if lots}
    if not matched:
        return {}
    alerts = db.session.execute(
        select(DonorAlert.id, DonorAlert.filter_id, DonorAlert.confirmed_at)
        .where(DonorAlert.filter_id.in_(matched), *waiting)
        .order_by(DonorAlert.id)
    ).all()
    deliveries = select(AlertDelivery.alert_id, AlertDelivery.lot_id).where(AlertDelivery.lot_id.in_(arrived))
    sent = {(row.alert_id, row.lot_id) for row in db.session.execute(deliveries)}
    due = {}
    for alert in alerts:
        lots = [lot for lot in sorted(matched[alert.filter_id]) if alert.confirmed_at < arrived[lot]]
        lots = [lot for lot in lots if (alert.id, lot) not in sent]
        if lots:
            due[alert.id] = lots
    return due


def queue_batch(batch: dict[int, list[int]]) -> None:
    """One e-mail per alert of the batch, listing its lots, with a delivery row per lot."""
    if not batch:
        return
    alerts = db.session.scalars(
        select(DonorAlert).where(DonorAlert.id.in_(batch)).options(selectinload(DonorAlert.address))
    ).all()
    lots = {
        lot.id: lot
        for lot in db.session.scalars(
            select(Lot)
            .where(Lot.id.in_({lot_id for lot_ids in batch.values() for lot_id in lot_ids}))
            .options(joinedload(Lot.product), joinedload(Lot.donor).selectinload(Donor.alleles))
        ).unique()
    }
    categories = all_categories()
    for alert in sorted(alerts, key=lambda a: a.id):
        filters = filters_from_query(alert.filter.query, categories)
        _queue(alert, [lots[lot_id] for lot_id in batch[alert.id]], filters)


def _queue(alert: DonorAlert, lots: list[Lot], filters: CatalogFilters) -> None:
    """The e-mail about ``lots`` to the alert's address, and the rows saying they were sent, in this transaction."""
    own = alert_links(alert)
    context = {
        **own,
        "sentence": alert.filter.sentence,
        "lots": [lot_summary(lot, filters) for lot in lots[:LOTS_LISTED]],
        "count": len(lots),
        "unlisted": max(0, len(lots) - LOTS_LISTED),
    }
    queue_email(alert.address.email, "alerts/lots_arrived", context, headers=list_headers(alert), bulk=True)
    db.session.add_all(AlertDelivery(alert_id=alert.id, lot_id=lot.id) for lot in lots)


def lot_summary(lot: Lot, filters: CatalogFilters) -> dict:
    """What an e-mail says about a lot: the product, the lot, its donor's values the filters asked about, its link
    (the product page with the donor filters, so the lot is marked as matching, at the lot)."""
    product = lot.product
    return {
        "product": product.name,
        "catalog_number": product.catalog_number,
        "lot_number": lot.lot_number,
        "format": FORMATS.get(product.format, product.format),
        "collected_on": lot.collected_on,
        "usable_until": lot.usable_until,
        "units": lot.units_available,
        "price_cents": product.price_cents,
        "currency": product.currency,
        "donor_code": lot.donor.code,
        "donor": donor_filters.matching_attributes(donor_filters.donor_keys(lot.donor), filters.donor_selected),
        "url": site_root() + filters.product_url(product.slug) + f"#lot-{lot.id}",
    }
