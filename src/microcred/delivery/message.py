"""The learner's email about a credential, composed when it is sent (from the credential as
issued and the issuer's current settings), in the learner's language: the one their account
chose, else the issuer's default. The words live in ``templates/`` (:mod:`.letters`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from typing import Any
from urllib.parse import urlsplit

from ..awards.document import credential_url
from ..config import Settings
from ..i18n import DEFAULT, format_date, gettext, supported_or_none, using_language
from ..issuers.branding import BrandingError, palette
from ..learners.mail import new_message
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


def compose(claimed: Claimed, settings: Settings) -> EmailMessage:
    """The email; its Message-ID is the delivery's, so a retry of the same email carries the same
    one and a mailbox (or a test) can tell a duplicate."""
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
        logo_cid = f"logo.{claimed.delivery_id}@{urlsplit(settings.base_url).hostname or 'microcred'}"
        embedded = claimed.logo if claimed.logo is not None and claimed.logo[0] in _EMBEDDABLE else None
        html = letters.render_html(
            claimed.kind, **values, subject=subject, logo_cid=logo_cid if embedded else None, **_colours(claimed.brand_colour, claimed.accent_colour)
        )
    message = new_message(to=claimed.recipient, subject=subject, settings=settings)
    _, address = parseaddr(str(message["From"]))
    del message["From"]
    message["From"] = formataddr((claimed.sender_name or claimed.issuer_name, address))
    if claimed.reply_to:
        message["Reply-To"] = claimed.reply_to
    host = urlsplit(settings.base_url).hostname or "microcred"
    del message["Message-ID"]
    message["Message-ID"] = f"<{claimed.delivery_id}@{host}>"
    message.set_content(body)
    message.add_alternative(html, subtype="html")
    if embedded is not None:
        maintype, _, subtype = embedded[0].partition("/")
        html_part = message.get_body(preferencelist=("html",))
        assert html_part is not None
        html_part.add_related(embedded[1], maintype=maintype, subtype=subtype, cid=f"<{logo_cid}>", disposition="inline", filename=f"logo.{subtype}")
    message["Content-Language"] = claimed.language  # after the content, which replaces Content-* headers
    return message


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
