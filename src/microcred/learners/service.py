"""Signing learners in by email, their browser sessions, and their OB 3.0 Profile.

A learner proves an address by opening a link sent to it: the link's token works once, for 15
minutes, and only its SHA-256 is kept. The account is made (or found) when the link is used, so
asking for a link reveals nothing about who has an account. A browser session is a random token
in a cookie, kept as a SHA-256 too; its CSRF token is derived from it, so a page of another site,
which cannot read the cookie, cannot forge the consent form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..credentials import CONTEXTS
from ..credentials.schema import validate
from ..db.base import new_id
from ..db.models import Learner, LearnerAddress, LearnerSession, SignInLink
from ..i18n import N_, gettext
from ..problems import BadRequest, field_error
from ..schemas_common import EmailAddress, contains_nul
from ..tokens import new_token, token_digest
from ..web.csrf import csrf_matches, csrf_token
from .repository import LearnerRepository

__all__ = [
    "SIGN_IN_LINK_SECONDS",
    "SignedIn",
    "complete_sign_in",
    "csrf_matches",
    "csrf_token",
    "link_email",
    "learner_url",
    "local_path",
    "normalised_email",
    "open_session",
    "profile_document",
    "replace_profile",
    "request_sign_in",
    "sign_out",
    "signed_in_learner",
]

SIGN_IN_LINK_SECONDS = 15 * 60
#: Links that may be pending for one address: past this, asking again sends nothing (the
#: answer is the same, so it tells nobody anything), which keeps the form from flooding a mailbox.
MAX_PENDING_LINKS = 5
#: The largest profile a host may store for a learner, as JSON.
MAX_PROFILE_BYTES = 64 * 1024
#: Profile members the service decides: the rest is the learner's (through their hosts).
_OWN_MEMBERS = ("@context", "id", "type", "email")

_EMAIL: TypeAdapter[str] = TypeAdapter(EmailAddress)


def normalised_email(value: str) -> str:
    """The address as accounts and credentials keep it: trimmed, lower-cased."""
    try:
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value.strip()):
            raise ValueError("control character")
        return _EMAIL.validate_python(value.strip()).lower()
    except (ValidationError, ValueError):
        raise BadRequest("Enter your email address, like name@example.org.", errors=[field_error("/email", "not an email address")]) from None


def local_path(value: str | None, default: str = "/learners/sign-in") -> str:
    """``value`` when it is a path on this service (never another site: no scheme, no host,
    no ``//`` or backslash tricks), else ``default``."""
    if not value or len(value) > 4096 or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in value):
        return default
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else default


async def request_sign_in(session: AsyncSession, *, email: str, next_path: str, now: datetime) -> str | None:
    """A new sign-in link's token for ``email`` (to be sent there), or None when enough links
    are already waiting in that mailbox."""
    repository = LearnerRepository(session)
    if await repository.pending_links(email, now) >= MAX_PENDING_LINKS:
        return None
    token = new_token()
    await repository.add(
        SignInLink(token_hash=token_digest(token), email=email, next_path=next_path, created_at=now, expires_at=now + timedelta(seconds=SIGN_IN_LINK_SECONDS))
    )
    return token


@dataclass(frozen=True)
class SignedIn:
    learner: Learner
    #: for the session cookie: shown once, kept as a SHA-256
    session_token: str
    next_path: str


async def link_email(session: AsyncSession, *, token: str, now: datetime) -> str:
    """The address a sign-in link that still works was sent to (the link stays unused), so the
    page that continues it can say whom it signs in as; 400 when it works no more."""
    link = await LearnerRepository(session).usable_link(token_digest(token), now)
    if link is None:
        raise BadRequest(gettext(_LINK_SPENT))
    return link.email


_LINK_SPENT = N_("This sign-in link does not work any more: each link works once, for 15 minutes. Ask for a new one.")


async def complete_sign_in(session: AsyncSession, *, token: str, now: datetime, session_seconds: int) -> SignedIn:
    """Use a sign-in link: the learner of its address (made on first sign-in) and a new session."""
    repository = LearnerRepository(session)
    link = await repository.claim_link(token_digest(token), now)
    if link is None:
        raise BadRequest(gettext(_LINK_SPENT))
    learner = await repository.by_email(link.email)
    if learner is None and (address := await session.get(LearnerAddress, link.email)) is not None:
        learner = await repository.get(address.learner_id)  # another verified address of an account (the backpack)
    if learner is None:
        learner = Learner(id=new_id(), email=link.email, profile={}, verified_at=now, created_at=now)
        try:
            async with session.begin_nested():
                await repository.add(learner)
        except IntegrityError:  # the same address signed in at the same moment elsewhere
            learner = await repository.by_email(link.email)
            if learner is None:
                raise
    session_token = await open_session(session, learner, now=now, session_seconds=session_seconds)
    return SignedIn(learner=learner, session_token=session_token, next_path=link.next_path)


async def open_session(session: AsyncSession, learner: Learner, *, now: datetime, session_seconds: int) -> str:
    """A new browser session of ``learner`` (an emailed link or a passkey opens it): its token,
    for the cookie."""
    session_token = new_token()
    await LearnerRepository(session).add(
        LearnerSession(token_hash=token_digest(session_token), learner_id=learner.id, created_at=now, expires_at=now + timedelta(seconds=session_seconds))
    )
    return session_token


async def signed_in_learner(session: AsyncSession, *, session_token: str | None, now: datetime) -> Learner | None:
    if not session_token or len(session_token) > 100:
        return None
    return await LearnerRepository(session).session_learner(token_digest(session_token), now)


async def sign_out(session: AsyncSession, *, session_token: str | None) -> None:
    if session_token:
        await LearnerRepository(session).end_session(token_digest(session_token))


# --- the OB 3.0 Profile ----------------------------------------------------------------------------


def learner_url(base_url: str, learner_id: str) -> str:
    """The learner's Profile id: an identifier on this service (nothing is published there)."""
    return f"{base_url}/learners/{learner_id}"


def profile_document(learner: Learner, *, base_url: str) -> dict[str, Any]:
    """The learner's OB 3.0 Profile: what hosts stored, with the id and the verified email the
    service vouches for."""
    stored = {k: v for k, v in (learner.profile or {}).items() if k not in _OWN_MEMBERS}
    return {"@context": [CONTEXTS.OB_V3], "id": learner_url(base_url, learner.id), "type": "Profile", **stored, "email": learner.email}


def _check_profile(learner: Learner, body: Any, *, base_url: str) -> None:
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a Profile: a JSON object")
    try:
        too_big = len(json.dumps(body, ensure_ascii=False).encode()) > MAX_PROFILE_BYTES
        has_nul = contains_nul(body)
        issues = [] if too_big or has_nul else validate(body, kind="Profile")
    except (RecursionError, ValueError):
        raise BadRequest("the Profile is nested too deeply") from None
    if too_big:
        raise BadRequest(f"the Profile is larger than {MAX_PROFILE_BYTES} bytes")
    if has_nul:
        raise BadRequest("the Profile must not contain the NUL character (U+0000)")
    if issues:
        raise BadRequest(f"not an OB 3.0 Profile: {issues[0]}", errors=[field_error(issue.pointer or "/", issue.message) for issue in issues[:10]])
    types = body["type"] if isinstance(body["type"], list) else [body["type"]]
    if "Profile" not in types:
        raise BadRequest("type must be Profile", errors=[field_error("/type", "must be Profile")])
    own_id = learner_url(base_url, learner.id)
    if body["id"] != own_id:
        raise BadRequest(f"id must be {own_id}: the service names the learner's profile", errors=[field_error("/id", f"must be {own_id}")])
    email = body.get("email")
    if email is not None and (not isinstance(email, str) or email.strip().lower() != learner.email):
        raise BadRequest(
            "email is the address the learner verified and cannot be changed here", errors=[field_error("/email", f"must be {learner.email}")]
        )


async def replace_profile(session: AsyncSession, learner: Learner, body: Any, *, base_url: str) -> dict[str, Any]:
    """putProfile: the whole Profile is replaced by ``body`` (except its id and email, which the
    service decides; a different value of either is refused)."""
    _check_profile(learner, body, base_url=base_url)
    learner.profile = {k: v for k, v in body.items() if k not in _OWN_MEMBERS}
    await session.flush()
    return profile_document(learner, base_url=base_url)
