"""Queueing mail: check the addresses and headers, render the templates, add the message to the caller's transaction.

This is the one way the shop sends an e-mail. Nothing is sent here: the row is
committed with the change it reports (a subscription, an inquiry, an order),
or not at all, and ``flask outbox work`` delivers it afterwards.
"""

import re
import secrets
from email.utils import formataddr, getaddresses, parseaddr
from functools import lru_cache
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template
from sqlalchemy import func, select, update

from shop.extensions import db
from shop.mail.models import FAILED, PRIORITY_BULK, PRIORITY_TRANSACTIONAL, QUEUED, STATUSES, OutboxMessage
from shop.models import utcnow
from shop.templating import absolute_url
from shop.text import has_invisible_characters
from shop.times import export_datetime

MAX_ADDRESS_LENGTH = 254  # RFC 5321's limit on a forward path
MAX_SUBJECT_LENGTH = 300
_HEADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,75}")
# Set from the message itself: a caller's headers can't replace them.
_OWN_HEADERS = {"from", "to", "cc", "bcc", "subject", "reply-to", "message-id", "date", "sender", "return-path"}


class InvalidEmail(ValueError):
    """An address or header that can't go into an e-mail: malformed, too long, or with a line break in it."""


def checked_address(raw: object) -> str:
    """The address, normalised (domain in lower case); InvalidEmail for anything that isn't one plain address."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_ADDRESS_LENGTH or has_invisible_characters(raw):
        raise InvalidEmail("Enter one e-mail address, such as name@institute.org.")
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidEmail(str(error)) from None


@lru_cache(maxsize=64)  # the configured From and Reply-To, checked once rather than for each of 10,000 notices
def checked_mailbox(raw: str) -> str:
    """A From or Reply-To value: an address with an optional display name ("CellShop <news@...>")."""
    if has_invisible_characters(raw):
        raise InvalidEmail("A mailbox can't contain line breaks or control characters.")
    mailboxes = getaddresses([raw])
    if len(mailboxes) != 1 or raw.count("@") != 1:
        raise InvalidEmail("Give one mailbox, such as CellShop <news@cellshop.example>.")
    name, address = mailboxes[0]
    return formataddr((name, checked_address(address))) if name else checked_address(address)


def checked_headers(headers: dict[str, str]) -> dict[str, str]:
    """Extra headers (List-Unsubscribe ...): a header name of letters, digits and dashes, a value on one line."""
    checked = {}
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name) or name.lower() in _OWN_HEADERS:
            raise InvalidEmail(f"{name!r} can't be set as an extra header.")
        if not isinstance(value, str) or has_invisible_characters(value) or len(value) > 998:
            raise InvalidEmail(f"The {name} header must be one line of text.")
        checked[name] = value
    return checked


def one_line(text: str, limit: int = MAX_SUBJECT_LENGTH) -> str:
    """Text for a header such as the subject: every run of whitespace (line breaks too) one space, at most ``limit``."""
    line = " ".join("".join(" " if has_invisible_characters(c) else c for c in text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def render_email(template: str, context: dict) -> tuple[str, str, str]:
    """(subject, plain text, HTML) from ``templates/emails/<template>.txt`` (its ``subject`` block) and ``.html``."""
    context = {"site_name": current_app.config["SITE_NAME"], **context}
    text_template = current_app.jinja_env.get_template(f"emails/{template}.txt")
    full_context = dict(context)
    current_app.update_template_context(full_context)
    subject = "".join(text_template.blocks["subject"](text_template.new_context(full_context)))
    text_body = render_template(f"emails/{template}.txt", **context)
    html_body = render_template(f"emails/{template}.html", **context)
    return one_line(subject), text_body, html_body


def new_message_id(from_address: str) -> str:
    """A Message-ID on the sender's domain, random, made once per message and kept for every attempt."""
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "localhost"
    return f"<{secrets.token_hex(16)}@{domain}>"


def queue_email(
    to: str,
    template: str,
    context: dict | None = None,
    *,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    bulk: bool = False,
) -> OutboxMessage:
    """Render an e-mail and add it to the outbox in the caller's transaction (the caller commits).

    ``template`` names ``templates/emails/<template>.txt`` and ``.html``;
    ``bulk`` mail (newsletters) waits behind what one person is waiting for.
    InvalidEmail when an address or header would be malformed or forge another
    header, so nothing half-checked is ever queued.
    """
    config = current_app.config
    sender = checked_mailbox(config["MAIL_FROM"])
    reply = reply_to or config["MAIL_REPLY_TO"]
    subject, text_body, html_body = render_email(template, context or {})
    message = OutboxMessage(
        to_address=checked_address(to),
        from_address=sender,
        reply_to=checked_mailbox(reply) if reply else None,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        headers=checked_headers(headers or {}),
        template=template,
        message_id=new_message_id(sender),
        priority=PRIORITY_BULK if bulk else PRIORITY_TRANSACTIONAL,
    )
    db.session.add(message)
    return message


def retry_messages(ids: list[int]) -> int:
    """Make failed (or waiting) messages due now with a fresh set of attempts; returns how many. The caller commits."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status.in_((FAILED, QUEUED)))
        .values(status=QUEUED, available_at=utcnow(), attempts=0)
    )
    return result.rowcount


def counts_by_status() -> dict[str, int]:
    """How many messages are in each state, every state named (``flask outbox status``, the back office)."""
    rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    return {**dict.fromkeys(STATUSES, 0), **dict(rows.all())}


def forget_messages_to(address: str, template_prefix: str) -> int:
    """Delete the messages a feature queued to an address (its templates start with ``template_prefix``)."""
    result = db.session.execute(
        OutboxMessage.__table__.delete().where(
            OutboxMessage.to_address == address, OutboxMessage.template.startswith(template_prefix, autoescape=True)
        )
    )
    return result.rowcount


def mailing_list_headers(unsubscribe_url: str, list_name: str, list_label: str) -> dict[str, str]:
    """A mailing list's headers: RFC 8058 one-click unsubscribe (what Gmail and Yahoo require of bulk senders) and
    its List-Id, "<SITE_NAME> <list_name> <<list_label>.<host>>" (the host of the site's links)."""
    host = urlsplit(absolute_url("main.home")).hostname or "localhost"
    return {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"{current_app.config['SITE_NAME']} {list_name} <{list_label}.{host}>",
    }


def exported_messages(address: str, template_prefix: str) -> list[dict]:
    """The messages a feature queued to an address, as the person's data export lists them."""
    return [
        {
            "subject": m.subject,
            "queued_at": export_datetime(m.created_at),
            "status": m.status,
            "sent_at": export_datetime(m.sent_at),
        }
        for m in messages_to(address, template_prefix)
    ]


def messages_to(address: str, template_prefix: str) -> list[OutboxMessage]:
    """The messages a feature queued to an address, oldest first (for a subscriber's data export)."""
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.to_address == address, OutboxMessage.template.startswith(template_prefix, autoescape=True)
            )
            .order_by(OutboxMessage.id)
        )
    )
