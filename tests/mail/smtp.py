"""A real SMTP server for tests (aiosmtpd, in a thread of the test process) that can refuse, fail and drop."""

import re
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A local TCP port nobody listens on (for a server that isn't there, or one started later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Mailbox:
    """What the server received, and how it should misbehave.

    ``refuse`` maps an address to the reply its RCPT gets (e.g. "550 5.1.1 No such user");
    ``drop_on`` lists which DATA commands (1 = the first) drop the connection instead of answering;
    ``delay`` is how long each DATA takes to answer (so a test can act mid-batch).
    """

    messages: list[EmailMessage] = field(default_factory=list)
    transactions: int = 0
    refuse: dict[str, str] = field(default_factory=dict)
    drop_on: set[int] = field(default_factory=set)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        """Accept the recipient, or refuse it as told."""
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        """Keep the message and say 250, or drop the connection without a word."""
        with self.lock:
            self.transactions += 1
            number = self.transactions
        if number in self.drop_on:
            server.transport.close()
            return "421 closing"  # never reaches the client: the connection is gone
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK queued"

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        """The messages, once at least ``count`` have come (AssertionError after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"{len(self.messages)} of {count} messages arrived"
            time.sleep(0.02)
        return list(self.messages)

    def message_ids(self) -> list[str]:
        """The Message-ID of every message received, in order, repeats included."""
        return [m["Message-ID"] for m in self.messages]

    def to(self, address: str) -> list[EmailMessage]:
        """The messages received for one address."""
        return [m for m in self.messages if m["To"] == address]


class SMTPServer:
    """aiosmtpd on a local port: ``with SMTPServer() as server: ... server.url, server.mailbox``."""

    def __init__(self, mailbox: Mailbox | None = None, port: int | None = None):
        self.mailbox = mailbox or Mailbox()
        self.port = port or free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        """The SMTP_URL that delivers here."""
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> "SMTPServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def text_part(message: EmailMessage) -> str:
    """The plain-text part of a received message."""
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def html_part(message: EmailMessage) -> str:
    """The HTML part of a received message."""
    return message.get_body(preferencelist=("html",)).get_content().replace("\r\n", "\n")


def link_in_text(message: EmailMessage, path: str) -> str:
    """The first absolute link to ``path...`` in a received message's plain text."""
    found = re.search(r"(https?://\S+" + re.escape(path) + r"\S+)", text_part(message))
    assert found, text_part(message)
    return found.group(1)
