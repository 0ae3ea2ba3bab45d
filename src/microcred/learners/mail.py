"""Sending learners their sign-in links by email.

:class:`SmtpMailer` sends through the configured SMTP server (``MICROCRED_SMTP_*``) with the
standard library, in a worker thread. Without an SMTP server, a development service (its base URL
on localhost, as with ``make run``) writes the email to a file in ``<data_dir>/mail/`` instead and
logs where, so sign-in can be tried; any other service has no mailer, and sign-in says that it is
not configured. The token is in the message only: no log line holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import smtplib
import ssl
import threading
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlsplit

from ..config import Settings
from ..delivery import letters
from ..i18n import current_language

__all__ = ["MailError", "Mailer", "OutboxMailer", "SignInPurpose", "SmtpMailer", "address_message", "mailer_for", "new_message", "sign_in_message"]

log = logging.getLogger("microcred")
_TIMEOUT_SECONDS = 30
#: Connections a keep-open mailer holds between messages.
_IDLE_CONNECTIONS = 4


class MailError(Exception):
    """The message could not be handed to the SMTP server (the reason, without the message).

    ``reason`` says in words what the server (or the connection) answered; ``permanent`` is
    true for a 5xx answer about the message or its recipient (a hard bounce: retrying will not help).
    """

    def __init__(self, message: str, *, reason: str = "", permanent: bool = False) -> None:
        super().__init__(message)
        self.reason = reason or message
        self.permanent = permanent


class Mailer(Protocol):
    async def send(self, message: Message) -> None: ...


class SmtpMailer:
    """Sends each message through the SMTP server. With ``keep_open`` (the learner email sender,
    which sends thousands), connections stay open between messages, a few at most, instead of a
    new connection and greeting per message; a connection the server closed meanwhile is replaced."""

    def __init__(self, settings: Settings, *, keep_open: bool = False) -> None:
        self.host, self.port = settings.smtp_host, settings.smtp_port
        self.username, self.password = settings.smtp_username, settings.smtp_password.get_secret_value()
        self.starttls = settings.smtp_starttls
        self.keep_open = keep_open
        self._idle: list[smtplib.SMTP] = []
        self._lock = threading.Lock()

    async def send(self, message: Message) -> None:
        await asyncio.to_thread(self._send, message)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for smtp in idle:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        smtp = (
            smtplib.SMTP_SSL(self.host, self.port, timeout=_TIMEOUT_SECONDS, context=context)
            if self.port == 465
            else smtplib.SMTP(self.host, self.port, timeout=_TIMEOUT_SECONDS)
        )
        try:
            if self.port != 465 and self.starttls:
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _send(self, message: Message) -> None:
        try:
            if not self.keep_open:
                with self._connect() as smtp:
                    smtp.send_message(message)
                return
            with self._lock:
                reused = self._idle.pop() if self._idle else None
            if reused is not None:
                try:
                    reused.send_message(message)
                except smtplib.SMTPServerDisconnected:
                    reused.close()  # it timed out while idle: a fresh one below
                else:
                    self._keep(reused)
                    return
            smtp = self._connect()
            try:
                smtp.send_message(message)
            except BaseException:
                smtp.close()
                raise
            self._keep(smtp)
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("could not send an email through %s:%s: %s", self.host, self.port, type(exc).__name__)
            reason, permanent = _smtp_reason(exc)
            raise MailError(
                f"the SMTP server {self.host}:{self.port} did not take the message ({type(exc).__name__})",
                reason=f"{self.host}:{self.port}: {reason}",
                permanent=permanent,
            ) from None

    def _keep(self, smtp: smtplib.SMTP) -> None:
        with self._lock:
            if len(self._idle) < _IDLE_CONNECTIONS:
                self._idle.append(smtp)
                return
        smtp.close()


def _smtp_reason(exc: Exception) -> tuple[str, bool]:
    """What the server said, in words, and whether it refused the message for good (a 5xx about
    the message or a recipient; a refused login is the service's configuration, so it is retried)."""
    code: int | None = None
    text = ""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the SMTP server refused the login ({exc.smtp_code})", False
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        code, raw = next(iter(exc.recipients.values()))
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    elif isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    if code is not None:
        return f"the SMTP server answered {code} {text}".strip()[:900], 500 <= code < 600
    if isinstance(exc, ConnectionRefusedError):
        return "could not connect to the SMTP server (connection refused)", False
    if isinstance(exc, TimeoutError):
        return "the SMTP server did not answer in time", False
    return f"could not talk to the SMTP server ({type(exc).__name__})", False


class OutboxMailer:
    """For a service on localhost without SMTP: each email becomes a file in ``outbox`` (its
    name says for whom), and the log says where; the link itself, a secret, is never logged."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    async def send(self, message: Message) -> None:
        path = await asyncio.to_thread(self._write, message)
        log.warning(
            "no SMTP server is configured (MICROCRED_SMTP_HOST): this development service wrote the sign-in "
            "email for %s to %s instead",
            message["To"],
            path,
        )

    def _write(self, message: Message) -> Path:
        self.outbox.mkdir(parents=True, exist_ok=True)
        recipient = re.sub(r"[^A-Za-z0-9@._-]", "_", str(message["To"]))[:100]
        path = self.outbox / f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{recipient}.eml"
        path.write_bytes(bytes(message))
        return path


def mailer_for(settings: Settings) -> Mailer | None:
    if settings.smtp_host:
        return SmtpMailer(settings)
    if settings.base_url_is_local:
        return OutboxMailer(settings.data_dir / "mail")
    return None


def new_message(*, to: str, subject: str, settings: Settings) -> EmailMessage:
    """An email from the service (``MICROCRED_SMTP_FROM``, or noreply at its host), marked as
    sent by a machine so auto-responders stay quiet; the caller sets its content."""
    host = urlsplit(settings.base_url).hostname or "microcred"
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.smtp_from or f"microcred <noreply@{host}>"
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=host)
    message["Auto-Submitted"] = "auto-generated"
    return message


#: Why someone signs in, which the sign-in email says: to let an application use their
#: credentials (the OB 3.0 API's consent), to open their backpack, or (staff) the console.
SignInPurpose = Literal["application", "backpack", "console"]


def sign_in_message(*, to: str, link: str, settings: Settings, minutes: int, purpose: SignInPurpose = "application") -> EmailMessage:
    """The sign-in email, in the language in use (the page's the link was asked from)."""
    host = urlsplit(settings.base_url).hostname or "microcred"
    message = new_message(to=to, subject=letters.subject("sign_in", host=host), settings=settings)
    message.set_content(letters.render("sign_in", host=host, link=link, minutes=minutes, purpose=purpose))
    message["Content-Language"] = current_language()
    return message


def address_message(*, to: str, account: str, link: str, settings: Settings, minutes: int) -> EmailMessage:
    """The email that asks to confirm another address of a signed-in learner (``account``), in
    the language in use."""
    host = urlsplit(settings.base_url).hostname or "microcred"
    message = new_message(to=to, subject=letters.subject("address", host=host), settings=settings)
    message.set_content(letters.render("address", host=host, account=account, link=link, minutes=minutes))
    message["Content-Language"] = current_language()
    return message
