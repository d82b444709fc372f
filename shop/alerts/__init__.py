"""Donor alerts: "e-mail me when a matching lot arrives" on a catalog page with donor filters; double opt-in, one
e-mail per lot that arrives for an alert, one-click stop, a page to manage, export or delete an address's alerts."""

from flask import Flask

from shop.alerts import arrivals, services
from shop.mail import worker

# In this order: arrivals are noted before a batch of them is matched and mailed.
JOBS = (arrivals.note_arrivals, arrivals.send_alerts, services.forget_unconfirmed)


def init_app(app: Flask) -> None:
    """Stop an address's alerts when the mail server refuses it; give the outbox worker this feature's jobs."""
    worker.address_refused.connect(services.mark_bounced)
    for job in JOBS:
        worker.register_job(job)
