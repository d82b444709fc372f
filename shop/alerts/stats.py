"""Counts about donor alerts: per alert (the manage page), per filter (the back office), by state (the dashboard)."""

from sqlalchemy import func, select

from shop.alerts.models import ACTIVE, STATUSES, AlertAddress, AlertDelivery, AlertFilter, DonorAlert
from shop.extensions import db


def lots_sent_per_alert(address: AlertAddress) -> dict[int, int]:
    """Alert id -> how many lots it has been sent."""
    rows = db.session.execute(
        select(AlertDelivery.alert_id, func.count())
        .join(DonorAlert, DonorAlert.id == AlertDelivery.alert_id)
        .where(DonorAlert.address_id == address.id)
        .group_by(AlertDelivery.alert_id)
    )
    return dict(rows.all())


def counts_by_status() -> dict[str, int]:
    """How many alerts are in each state, every state named."""
    rows = db.session.execute(select(DonorAlert.status, func.count()).group_by(DonorAlert.status))
    return {**dict.fromkeys(STATUSES, 0), **dict(rows.all())}


def most_awaited(limit: int = 5) -> list:
    """The filters most active alerts wait on: (filter id, sentence, active alerts), most first."""
    waiting = func.count(DonorAlert.id).label("waiting")
    return db.session.execute(
        select(AlertFilter.id, AlertFilter.sentence, waiting)
        .join(DonorAlert, DonorAlert.filter_id == AlertFilter.id)
        .where(DonorAlert.status == ACTIVE)
        .group_by(AlertFilter.id, AlertFilter.sentence)
        .order_by(waiting.desc(), AlertFilter.id)
        .limit(limit)
    ).all()
