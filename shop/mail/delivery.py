"""Delivering one outbox message: built by Flask-Mailman, sent over SMTP or written to an .eml file.

SMTP when ``SMTP_URL`` is set (Flask-Mailman's SMTP backend, with certificates
checked on STARTTLS too); otherwise one ``.eml`` file per message in
``MAIL_FOLDER``. Flask-Mailman's own file backend appends every message of a
connection to one ``.log`` file; staff and tests want one file per message,
named for it, so that backend is the few lines below.

A failure says whether trying again can help: a recipient or content the
server refuses for good (5xx) is permanent; a refused connection, a dropped
one, a full mailbox (4xx), even a login the server turns down (a setting to
fix, after which the mail must still go) are worth another attempt.
"""

import contextlib
import os
import smtplib
import ssl
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app
from flask_mailman import EmailMultiAlternatives
from flask_mailman.backends.base import BaseEmailBackend
from flask_mailman.backends.smtp import EmailBackend as MailmanSMTPBackend

from shop.config import ConfigurationError
from shop.extensions import mail
from shop.mail.models import OutboxMessage

SMTP_SCHEMES = {"smtp": (25, False, False), "smtp+starttls": (587, True, False), "smtps": (465, False, True)}


class DeliveryFailed(Exception):
    """Not delivered. ``permanent``: trying again won't help; ``connection``: nothing more goes on this connection."""

    def __init__(self, reason: str, *, permanent: bool = False, connection: bool = False):
        super().__init__(reason)
        self.permanent = permanent
        self.connection = connection


def smtp_settings(url: str) -> dict:
    """Flask-Mailman's MAIL_* settings from an SMTP_URL such as ``smtp+starttls://user:password@host:587``."""
    parts = urlsplit(url)
    if parts.scheme not in SMTP_SCHEMES or not parts.hostname:
        raise ConfigurationError(
            f"SMTP_URL must look like smtp://host:25, smtp+starttls://user:password@host:587 or smtps://host:465, "
            f"not {parts.scheme or 'no scheme'}://…"
        )
    default_port, starttls, tls = SMTP_SCHEMES[parts.scheme]
    return {
        "MAIL_SERVER": parts.hostname,
        "MAIL_PORT": parts.port or default_port,
        "MAIL_USERNAME": unquote(parts.username or ""),
        "MAIL_PASSWORD": unquote(parts.password or ""),
        "MAIL_USE_TLS": starttls,
        "MAIL_USE_SSL": tls,
    }


def init_app(app: Flask) -> None:
    """Configure Flask-Mailman from SMTP_URL (SMTP) or MAIL_FOLDER (.eml files)."""
    config = app.config
    if config["SMTP_URL"]:
        config.update(smtp_settings(config["SMTP_URL"]), MAIL_BACKEND=SMTPBackend)
    else:
        config["MAIL_BACKEND"] = EmlFileBackend
    config.update(MAIL_TIMEOUT=config["SMTP_TIMEOUT"], MAIL_DEFAULT_SENDER=config["MAIL_FROM"])
    mail.init_app(app)


class _CheckedSMTP(smtplib.SMTP):
    """smtplib.SMTP whose STARTTLS checks the server's certificate (smtplib's default context does not)."""

    def starttls(self, *args, context=None, **kwargs):
        """Upgrade to TLS with the system's trusted certificates."""
        return super().starttls(*args, context=context or ssl.create_default_context(), **kwargs)


class SMTPBackend(MailmanSMTPBackend):
    """Flask-Mailman's SMTP backend, with certificates checked on STARTTLS as well as on smtps://."""

    @property
    def connection_class(self):
        """SMTP over TLS from the start, or plain SMTP that may upgrade with STARTTLS."""
        return smtplib.SMTP_SSL if self.use_ssl else _CheckedSMTP


class EmlFileBackend(BaseEmailBackend):
    """Writes each message to ``MAIL_FOLDER/<file name>.eml``, whole or not at all."""

    def send_messages(self, email_messages) -> int:
        """Write the messages; a retried message overwrites its own file, so it is never there twice."""
        folder = Path(current_app.config["MAIL_FOLDER"])
        folder.mkdir(parents=True, exist_ok=True)
        for email in email_messages:
            path = folder / email.eml_name
            draft = path.with_name(f".{path.name}.{os.getpid()}")
            draft.write_bytes(email.message().as_bytes(linesep="\r\n"))
            os.replace(draft, path)  # atomic: a reader never sees half a message
        return len(email_messages)


def eml_name(message: OutboxMessage) -> str:
    """The file a message is written to when there is no SMTP server: sortable by time, unique by id."""
    return f"{message.created_at:%Y%m%d-%H%M%S}-{message.id:08d}.eml"


def build_email(message: OutboxMessage, connection) -> EmailMultiAlternatives:
    """The MIME message: plain text and HTML alternatives, its own Message-ID, dated when it was queued."""
    headers = {"Message-ID": message.message_id, "Date": format_datetime(message.created_at), **message.headers}
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text_body,
        from_email=message.from_address,
        to=[message.to_address],
        reply_to=[message.reply_to] if message.reply_to else None,
        headers=headers,
        connection=connection,
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    email.eml_name = eml_name(message)
    return email


def open_connection():
    """A connection to the configured backend, opened once for a batch of messages."""
    connection = mail.get_connection()
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryFailed(f"Could not reach the mail server: {describe(error)}", connection=True) from error
    return connection


def deliver(connection, message: OutboxMessage) -> None:
    """Hand one message to the server (or the folder); DeliveryFailed says whether to try again."""
    try:
        connection.send_messages([build_email(message, connection)])
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        raise DeliveryFailed(f"Recipient refused: {describe(error)}", permanent=min(codes) >= 500) from error
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as error:
        raise DeliveryFailed(f"Connection lost: {describe(error)}", connection=True) from error
    except (smtplib.SMTPSenderRefused, smtplib.SMTPAuthenticationError) as error:
        # The server turns down our sender or login: a setting to fix, after which this mail must still go.
        raise DeliveryFailed(f"The server refused the sender or login: {describe(error)}") from error
    except smtplib.SMTPResponseException as error:
        permanent = error.smtp_code >= 500
        raise DeliveryFailed(f"The server refused the message: {describe(error)}", permanent=permanent) from error
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryFailed(f"Connection failed: {describe(error)}", connection=True) from error


def close_connection(connection) -> None:
    """Close the batch's connection, whatever state a failure left it in."""
    with contextlib.suppress(OSError, smtplib.SMTPException):
        connection.close()


def describe(error: Exception) -> str:
    """An error in one line for the outbox's "last error": SMTP code and text, or the exception's own words."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{address}: {code} {_text(reply)}" for address, (code, reply) in error.recipients.items())
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _text(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
