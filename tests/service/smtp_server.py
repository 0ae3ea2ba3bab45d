"""A real SMTP server on loopback (aiosmtpd) that keeps every message it is given, so a test reads
sign-in and invitation emails the way a person does: the newest message to an address, and the
link in its body.

Use it from a test module::

    from .smtp_server import Smtp, smtp, smtp_settings  # noqa: F401 (fixtures)

``smtp`` starts the server; ``smtp_settings(settings, smtp)`` (or overriding the ``settings``
fixture with it) points the service's ``MICROCRED_SMTP_*`` settings at it, plain SMTP without
STARTTLS. The live service (``live.py``) and the ASGI client both send through it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from microcred.config import Settings

__all__ = ["LoopbackController", "Mailbox", "Smtp", "smtp", "smtp_settings", "text_of"]

#: Bounds on waiting for a message the service sends (polled, never asserted on).
_WAIT_ATTEMPTS = 200
_POLL_SECONDS = 0.05

_LINK = re.compile(r"https?://[^\s<>\"']+")


def text_of(message: EmailMessage) -> str:
    """What a person reads in an email: its plain-text part (a credential's notice also has a
    branded HTML part, with the same words)."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None, "the email has no plain-text part"
    return str(body.get_content())


@dataclass
class Mailbox:
    """An aiosmtpd handler keeping every message it is given (the server runs in its own thread)."""

    messages: list[EmailMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """Every message to ``address`` (as the To header names it, case aside), oldest first."""
        with self._lock:
            return [m for m in self.messages if str(m["To"]).strip().lower() == address.strip().lower()]

    def newest(self, address: str) -> EmailMessage:
        """The newest message to ``address``, waiting a little for one the service is still sending."""
        for _ in range(_WAIT_ATTEMPTS):
            received = self.to(address)
            if received:
                return received[-1]
            time.sleep(_POLL_SECONDS)
        raise AssertionError(f"no email reached {address} (the mailbox holds {len(self.messages)} for others)")

    def link(self, address: str, *, path: str = "/") -> str:
        """The one link whose path starts with ``path`` in the newest email to ``address`` that
        has such a link, as a person would copy it from the message (waiting a little for the
        service to send it). Other emails to the address (a credential's notice, say) are passed
        over: the service sends several kinds, in no fixed order."""
        pattern = re.compile(r"https?://[^/]+" + re.escape(path))
        for _ in range(_WAIT_ATTEMPTS):
            for message in reversed(self.to(address)):
                body = text_of(message)
                links = [link.rstrip(".,;)") for link in _LINK.findall(body)]
                matching = [link for link in links if pattern.match(link)]
                if matching:
                    assert len(matching) == 1, f"expected one link under {path} in the email to {address}:\n{body}"
                    return matching[0]
            time.sleep(_POLL_SECONDS)
        raise AssertionError(f"no email to {address} has a link under {path} (the mailbox holds {len(self.to(address))} for it)")


class LoopbackController(Controller):
    """aiosmtpd's server on a port of 127.0.0.1 that the kernel picks as it binds (port 0), read
    back from the listening socket: no gap between choosing a port and taking it, in which another
    test process (pytest-xdist's workers) could be given the same one."""

    def __init__(self, handler: Any) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=0)

    def _trigger_server(self) -> None:
        # aiosmtpd calls this once the server listens, to connect to it before start() returns.
        assert self.server is not None
        self.port = int(self.server.sockets[0].getsockname()[1])
        super()._trigger_server()


@dataclass(frozen=True)
class Smtp:
    mailbox: Mailbox
    host: str
    port: int


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    """An SMTP server on a free loopback port for the test's duration."""
    mailbox = Mailbox()
    controller = LoopbackController(mailbox)
    controller.start()
    try:
        yield Smtp(mailbox, "127.0.0.1", controller.port)
    finally:
        controller.stop()


def smtp_settings(settings: Settings, smtp: Smtp) -> Settings:
    """``settings`` sending mail to ``smtp`` (plain SMTP on loopback, no login)."""
    return settings.model_copy(
        update={
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_from": "badges@badges.example.org",
            "smtp_starttls": False,
        }
    )
