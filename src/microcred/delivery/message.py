"""The learner's email about a credential, composed when it is sent (from the credential as
issued and the issuer's current settings). The words live in ``templates/``."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..awards.document import credential_url
from ..config import Settings
from ..learners.mail import new_message

__all__ = ["Claimed", "compose"]

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True)


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


def _achievement_name(document: dict[str, Any]) -> str:
    subject = document.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    name = achievement.get("name") if isinstance(achievement, dict) else None
    return str(name) if name else "a credential"


def compose(claimed: Claimed, settings: Settings) -> EmailMessage:
    """The email; its Message-ID is the delivery's, so a retry of the same email carries the same
    one and a mailbox (or a test) can tell a duplicate."""
    values = {
        "name": claimed.recipient_name,
        "issuer": claimed.issuer_name,
        "achievement": _achievement_name(claimed.document),
        "credential_url": credential_url(settings.base_url, claimed.credential_id),
        "backpack_url": f"{settings.base_url.rstrip('/')}/me",
    }
    lines = (Path(__file__).parent / "templates" / "subjects.txt").read_text(encoding="utf-8").splitlines()
    subjects = dict(line.split(": ", 1) for line in lines if line)
    subject = _templates.from_string(subjects[claimed.kind]).render(values)
    message = new_message(to=claimed.recipient, subject=subject, settings=settings)
    _, address = parseaddr(str(message["From"]))
    del message["From"]
    message["From"] = formataddr((claimed.sender_name or claimed.issuer_name, address))
    if claimed.reply_to:
        message["Reply-To"] = claimed.reply_to
    host = urlsplit(settings.base_url).hostname or "microcred"
    del message["Message-ID"]
    message["Message-ID"] = f"<{claimed.delivery_id}@{host}>"
    message.set_content(_templates.get_template(f"{claimed.kind}.txt").render(values))
    return message
