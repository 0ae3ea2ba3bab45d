"""The learner's email about a credential, composed when it is sent (from the credential as
issued and the issuer's current settings), in the learner's language: the one their account
chose, else the issuer's default. The words live in ``templates/`` (:mod:`.letters`)."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import formataddr, formatdate, parseaddr
from typing import Any
from urllib.parse import urlsplit

from ..awards.document import credential_url
from ..config import Settings
from ..i18n import DEFAULT, format_date, gettext, supported_or_none, using_language
from ..issuers.branding import BrandingError, palette
from . import letters

__all__ = ["Claimed", "compose", "email_language"]


@dataclass(frozen=True)
class Claimed:
    """What the sender needs to send an email it claimed."""

    delivery_id: str
    issuer_id: str
    credential_id: str
    kind: str
    recipient: str
    recipient_name: str | None
    attempts: int  # made so far
    document: dict[str, Any]
    issuer_name: str
    sender_name: str | None
    reply_to: str | None
    rate: float
    #: the language the email is written in (:func:`email_language`)
    language: str = DEFAULT
    #: the issuer's colours (``#rrggbb``; None: the service's own) and its logo as (media type,
    #: bytes), which travels inside the email: nothing in it is fetched from anywhere
    brand_colour: str | None = None
    accent_colour: str | None = None
    logo: tuple[str, bytes] | None = None


def email_language(learner: str | None, issuer: str | None) -> str:
    """The learner's own language (their account's, for the address or one they added), else
    the issuer's default, else English; a language the service does not speak is passed over."""
    return supported_or_none(learner) or supported_or_none(issuer) or DEFAULT


def _achievement_name(document: dict[str, Any]) -> str:
    subject = document.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    name = achievement.get("name") if isinstance(achievement, dict) else None
    return str(name) if name else gettext("a credential")


def _issued_on(document: dict[str, Any]) -> str:
    """The day the credential was issued, written out in the language in use."""
    raw = document.get("validFrom") or document.get("issuanceDate")
    try:
        day = datetime.fromisoformat(str(raw)).date()
    except ValueError:
        return str(raw or "")
    return format_date(day)


def compose(claimed: Claimed, settings: Settings) -> Message:
    """The email; its Message-ID is the delivery's, so a retry of the same email carries the same
    one and a mailbox (or a test) can tell a duplicate.

    Built with the email package's classic MIME classes rather than :class:`EmailMessage`: the
    modern API parses every header it is given, which made composing a notice cost about 2 ms
    of the service process's CPU, beside a bulk job, thousands of times over. The logo's part is
    built once per logo and shared (its Content-ID names the logo, not the email)."""
    host = urlsplit(settings.base_url).hostname or "microcred"
    with using_language(claimed.language):
        values = {
            "name": claimed.recipient_name,
            "issuer": claimed.issuer_name,
            "achievement": _achievement_name(claimed.document),
            "issued_on": _issued_on(claimed.document),
            "credential_url": credential_url(settings.base_url, claimed.credential_id),
            "backpack_url": f"{settings.base_url.rstrip('/')}/me",
        }
        subject, body = letters.subject(claimed.kind, **values), letters.render(claimed.kind, **values)
        logo = _logo_part(*claimed.logo, host) if claimed.logo is not None and claimed.logo[0] in _EMBEDDABLE else None
        html = letters.render_html(
            claimed.kind, **values, subject=subject, logo_cid=logo[0] if logo else None, **_colours(claimed.brand_colour, claimed.accent_colour)
        )
    message = MIMEMultipart("alternative")
    message["Subject"] = _header(subject)
    _, address = parseaddr(settings.smtp_from or f"microcred <noreply@{host}>")
    message["From"] = formataddr((claimed.sender_name or claimed.issuer_name, address), charset="utf-8")
    message["To"] = claimed.recipient
    if claimed.reply_to:
        message["Reply-To"] = claimed.reply_to
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{claimed.delivery_id}@{host}>"
    message["Auto-Submitted"] = "auto-generated"  # auto-responders stay quiet
    message["Content-Language"] = claimed.language
    message.attach(_text(body, "plain"))
    if logo is None:
        message.attach(_text(html, "html"))
    else:
        related = MIMEMultipart("related")
        related.attach(_text(html, "html"))
        related.attach(logo[1])
        message.attach(related)
    return message


#: Text parts in UTF-8, quoted-printable (readable where it is plain ASCII, as spam filters like).
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP


def _text(content: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    part.set_payload(content, _UTF8)
    return part


def _header(value: str) -> str:
    """A header value, encoded (RFC 2047) only when it is not plain ASCII."""
    return value if value.isascii() else Header(value, "utf-8").encode()


@functools.lru_cache(maxsize=64)
def _logo_part(media_type: str, data: bytes, host: str) -> tuple[str, MIMEImage]:
    """An issuer's logo as an inline image part, and its Content-ID: built once per logo (the
    part is only read when an email is written out, so every email may carry the same one)."""
    cid = f"logo.{hashlib.sha256(data).hexdigest()[:32]}@{host}"
    part = MIMEImage(data, media_type.partition("/")[2])
    part["Content-ID"] = f"<{cid}>"
    part.add_header("Content-Disposition", "inline", filename=f"logo.{media_type.partition('/')[2]}")
    return cid, part


#: Logos most mail clients draw (not SVG, which many refuse): others leave the issuer's name alone.
_EMBEDDABLE = ("image/png", "image/jpeg")
#: The service's own colours, as the pages use them when an issuer chose none.
_BAND, _ACCENT = "#19487a", "#0b57d0"


def _colours(brand: str | None, accent: str | None) -> dict[str, str]:
    """The band, the text on it and the links' colour: the issuer's, readable (WCAG AA) as the
    credential page's are, else the service's own."""
    try:
        chosen, _ = palette(brand or _BAND, accent or _ACCENT)
    except BrandingError:  # stored colours were checked when saved; an old row falls back
        chosen, _ = palette(_BAND, _ACCENT)
    return {"band": chosen.brand, "on_band": chosen.on_brand, "accent": chosen.accent}
