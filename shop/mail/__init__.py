"""E-mail for the whole shop, through a transactional outbox: ``queue_email`` inside the caller's transaction.

The feature knows no other feature: callers pass a template name and its context,
and features that mail in bulk register a job with the worker (``worker.register_job``).
"""

from shop.mail.services import InvalidEmail, queue_email

__all__ = ["InvalidEmail", "queue_email"]
