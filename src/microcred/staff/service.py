"""Staff accounts, signing in by emailed link, and browser sessions.

As for learners: a link's token works once, for 15 minutes, and only its SHA-256 is kept; a
session is a random cookie token kept as a SHA-256, with a CSRF token derived from it. Unlike
learners, staff accounts exist before anyone signs in (an admin or an owner makes them), and
asking for a link for an address that has no account sends nothing and answers the same.
Sessions end after ``staff_idle_seconds`` unused, and at ``staff_session_seconds`` in any case.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.base import new_id
from ..db.models import Issuer, StaffMember, StaffSession, StaffSignInAttempt, StaffSignInLink
from ..learners.service import normalised_email
from ..problems import BadRequest, TooManyRequests
from ..tokens import new_token, token_digest
from .repository import StaffRepository
from .roles import ROLES

__all__ = [
    "SIGN_IN_LINK_SECONDS",
    "SignedIn",
    "add_admin",
    "client_hash",
    "complete_sign_in",
    "issue_link",
    "issuers_of",
    "link_member",
    "request_sign_in",
    "role_for",
    "sign_out",
    "signed_in_member",
]

SIGN_IN_LINK_SECONDS = 15 * 60
#: Requests for one address in the window: past this, asking again sends nothing (the answer is
#: the same, so it tells nobody anything), which keeps the form from flooding a mailbox.
MAX_ATTEMPTS_PER_ADDRESS = 5
#: Requests from one client (IP address) in the window, whatever the addresses: past this, a 429.
MAX_ATTEMPTS_PER_CLIENT = 20
ATTEMPT_WINDOW = timedelta(minutes=15)
#: A session's last-seen time is written at most this often (not on every page).
_TOUCH_EVERY = timedelta(seconds=60)


def client_hash(address: str | None, secret: bytes) -> str | None:
    """A keyed hash of the client's IP address: enough to count its requests, and not the address
    (an unkeyed hash of an IPv4 address is reversed by trying all four billion)."""
    if not address:
        return None
    return hmac.new(secret, address.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


async def add_admin(session: AsyncSession, *, email: str, now: datetime) -> StaffMember:
    """A service admin (owner of every issuer); an existing member with that address becomes one."""
    repository = StaffRepository(session)
    address = normalised_email(email)
    member = await repository.by_email(address)
    if member is None:
        member = StaffMember(id=new_id(), email=address, is_admin=True, created_at=now)
        await repository.add(member)
    else:
        member.is_admin = True
        member.disabled_at = None
    return member


async def issue_link(session: AsyncSession, *, member: StaffMember, now: datetime) -> str:
    """A new one-time sign-in link's token for ``member`` (to be sent to them, never logged)."""
    token = new_token()
    await StaffRepository(session).add(
        StaffSignInLink(
            token_hash=token_digest(token), staff_id=member.id, created_at=now, expires_at=now + timedelta(seconds=SIGN_IN_LINK_SECONDS)
        )
    )
    return token


async def request_sign_in(
    session: AsyncSession, *, email: str, client: str | None, secret: bytes, now: datetime
) -> tuple[StaffMember, str] | None:
    """A link for the member with this address, or None (no such member, a removed one, or too
    many requests for the address): the page says the same in every case. Too many requests
    from one client, whatever the addresses, is a 429. Every request counts, in the database, so
    the limits hold across workers."""
    repository = StaffRepository(session)
    since = now - ATTEMPT_WINDOW
    address = normalised_email(email)
    address_key = hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()
    if client is not None:
        await repository.hold_attempts(client)
    await repository.hold_attempts(address_key)  # always after the client's: no two requests wait for each other in turn
    await repository.prune_attempts(since)
    if client is not None and await repository.attempts_from_client(client, since) >= MAX_ATTEMPTS_PER_CLIENT:
        raise TooManyRequests(
            "Too many sign-in requests from your network just now. Wait a quarter of an hour and try again.",
            headers={"Retry-After": str(int(ATTEMPT_WINDOW.total_seconds()))},
        )
    tried = await repository.attempts_for_address(address_key, since)
    await repository.add(StaffSignInAttempt(address_hash=address_key, client_hash=client, at=now))
    member = await repository.by_email(address)
    if member is None or member.disabled_at is not None or tried >= MAX_ATTEMPTS_PER_ADDRESS:
        return None
    return member, await issue_link(session, member=member, now=now)


_LINK_SPENT = "This sign-in link does not work any more: each link works once, for 15 minutes. Ask for a new one."


async def link_member(session: AsyncSession, *, token: str, now: datetime) -> StaffMember:
    """Whom a still-working link signs in (the link stays unused), for the page that continues it."""
    repository = StaffRepository(session)
    link = await repository.usable_link(token_digest(token), now)
    member = await repository.get(link.staff_id) if link is not None else None
    if member is None or member.disabled_at is not None:
        raise BadRequest(_LINK_SPENT)
    return member


@dataclass(frozen=True)
class SignedIn:
    member: StaffMember
    #: for the session cookie: shown once, kept as a SHA-256
    session_token: str


async def complete_sign_in(session: AsyncSession, *, token: str, now: datetime, session_seconds: int) -> SignedIn:
    """Use a sign-in link up and open a new session (always a new token: no session fixation)."""
    repository = StaffRepository(session)
    link = await repository.claim_link(token_digest(token), now)
    member = await repository.get(link.staff_id) if link is not None else None
    if member is None or member.disabled_at is not None:
        raise BadRequest(_LINK_SPENT)
    return SignedIn(member, await open_session(session, member=member, now=now, session_seconds=session_seconds))


async def open_session(session: AsyncSession, *, member: StaffMember, now: datetime, session_seconds: int) -> str:
    """A new browser session for ``member`` (after a link or a passkey); its token, for the cookie."""
    session_token = new_token()
    await StaffRepository(session).add(
        StaffSession(token_hash=token_digest(session_token), staff_id=member.id, created_at=now, last_seen_at=now,
                     expires_at=now + timedelta(seconds=session_seconds))
    )
    return session_token


async def signed_in_member(session: AsyncSession, *, session_token: str | None, now: datetime, idle_seconds: int) -> StaffMember | None:
    """The member of a live session (not expired, not idle too long, not removed), or None."""
    if not session_token or len(session_token) > 100:
        return None
    repository = StaffRepository(session)
    digest = token_digest(session_token)
    found = await repository.session_row(digest)
    if found is None:
        return None
    row, member = found
    if row.expires_at <= now or row.last_seen_at + timedelta(seconds=idle_seconds) <= now or member.disabled_at is not None:
        await repository.end_session(digest)
        return None
    if now - row.last_seen_at >= _TOUCH_EVERY:
        await repository.touch_session(digest, now)
    return member


async def sign_out(session: AsyncSession, *, session_token: str | None) -> None:
    if session_token:
        await StaffRepository(session).end_session(token_digest(session_token))


async def issuers_of(session: AsyncSession, member: StaffMember) -> Sequence[tuple[Issuer, str]]:
    return await StaffRepository(session).issuers_of(member)


async def role_for(session: AsyncSession, member: StaffMember, issuer_id: str) -> tuple[Issuer, str] | None:
    """The issuer and the member's role in it, or None when they have none (or it does not exist)."""
    issuer = await session.get(Issuer, issuer_id)
    if issuer is None:
        return None
    if member.is_admin:
        return issuer, "owner"
    role = await StaffRepository(session).role(member.id, issuer_id)
    return (issuer, role.role) if role is not None and role.role in ROLES else None
