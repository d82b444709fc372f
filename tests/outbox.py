"""E-mails the tests find in the outbox, and the links in them."""

import re

from sqlalchemy import select

from shop.extensions import db
from shop.mail.models import OutboxMessage


def queued(to: str | None = None, template: str | None = None) -> list[OutboxMessage]:
    """Queued e-mails, oldest first, to one address and/or of one template."""
    db.session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if to:
        query = query.where(OutboxMessage.to_address == to)
    if template:
        query = query.where(OutboxMessage.template == template)
    return list(db.session.scalars(query))


def link_in(message: OutboxMessage, path: str) -> str:
    """The path of the first link to ``path...`` in an e-mail's text."""
    found = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[^\s>]*)", message.text_body)
    assert found, f"no {path} link in: {message.text_body}"
    return found.group(1)
