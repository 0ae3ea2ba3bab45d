"""An issuer's staff, as its owners manage them: inviting someone by email with a role, changing a
role, removing someone from the issuer. Every change is in the audit log with the owner who made
it as the actor (``staff:<id>``).

An invitation makes the account when the address has none (accounts are per person, roles per
issuer) and a one-time sign-in link that lasts longer than one asked for on the sign-in page (the
invitee may read their email tomorrow); the link leads to the issuer's console. The last owner
of an issuer cannot be demoted or removed (by themselves or another owner), so the issuer's
office cannot lock itself out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlencode, urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from ..db.base import new_id
from ..db.models import Issuer, StaffMember, StaffPasskey, StaffRole, StaffSignInLink
from ..events import Event, record
from ..learners.mail import new_message
from ..learners.service import normalised_email
from ..problems import BadRequest, Conflict, NotFound, field_error
from ..tokens import new_token, token_digest
from .repository import StaffRepository
from .roles import ROLES

__all__ = ["INVITATION_SECONDS", "Invited", "StaffEntry", "change_role", "invitation_message", "invite", "remove", "staff_of"]

#: How long an invitation's sign-in link works (once): a few days, not the 15 minutes of a link
#: asked for on the sign-in page.
INVITATION_SECONDS = 3 * 86_400


@dataclass(frozen=True)
class StaffEntry:
    member: StaffMember
    role: str
    #: How many passkeys they have (an owner checks who still needs one before requiring them).
    passkeys: int


@dataclass(frozen=True)
class Invited:
    member: StaffMember
    role: str
    #: The one-time sign-in link's token: for the email, never logged.
    token: str


def _role(value: str) -> str:
    if value not in ROLES:
        raise BadRequest(f"Choose a role: {', '.join(ROLES)}.", errors=[field_error("/role", "not a role")])
    return value


async def staff_of(session: AsyncSession, *, issuer_id: str) -> Sequence[StaffEntry]:
    """The issuer's staff with their roles, owners first, then by address."""
    passkeys = select(StaffPasskey.staff_id, func.count().label("n")).group_by(StaffPasskey.staff_id).subquery()
    rows = await session.execute(
        select(StaffMember, StaffRole.role, func.coalesce(passkeys.c.n, 0))
        .join(StaffRole, StaffRole.staff_id == StaffMember.id)
        .outerjoin(passkeys, passkeys.c.staff_id == StaffMember.id)
        .where(StaffRole.issuer_id == issuer_id, StaffMember.disabled_at.is_(None))
        .order_by(StaffMember.email)
    )
    entries = [StaffEntry(member, role, int(count)) for member, role, count in rows.all()]
    return sorted(entries, key=lambda e: (-ROLES.index(e.role) if e.role in ROLES else 1, e.member.email))


async def _owners(session: AsyncSession, issuer_id: str) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(StaffRole)
        .join(StaffMember, StaffMember.id == StaffRole.staff_id)
        .where(StaffRole.issuer_id == issuer_id, StaffRole.role == "owner", StaffMember.disabled_at.is_(None))
    )
    return int(count or 0)


async def invite(session: AsyncSession, *, issuer: Issuer, email: str, role: str, actor: StaffMember, now: datetime) -> Invited:
    """Give the person at ``email`` ``role`` for ``issuer`` (making their account if need be) and
    a sign-in link for the invitation email. Someone already on the issuer's staff: 409 (change
    their role instead)."""
    chosen = _role(role)
    address = normalised_email(email)
    repository = StaffRepository(session)
    member = await repository.by_email(address)
    if member is not None and await repository.role(member.id, issuer.id) is not None:
        raise Conflict(f"{address} is already on the staff of {issuer.name}. Change their role in the list instead.")
    if member is None:
        member = StaffMember(id=new_id(), email=address, is_admin=False, created_at=now)
        await repository.add(member)
    elif member.disabled_at is not None:
        member.disabled_at = None
    await repository.add(StaffRole(staff_id=member.id, issuer_id=issuer.id, role=chosen, created_at=now))
    token = new_token()
    await repository.add(
        StaffSignInLink(token_hash=token_digest(token), staff_id=member.id, created_at=now, expires_at=now + timedelta(seconds=INVITATION_SECONDS))
    )
    await record(
        session,
        Event(
            type="staff.invited",
            issuer_id=issuer.id,
            actor=f"staff:{actor.id}",
            subject=f"staff:{member.id}",
            at=now,
            data={"role": chosen},
            private={"email": address},
        ),
    )
    return Invited(member, chosen, token)


async def _entry(session: AsyncSession, issuer_id: str, staff_id: str) -> tuple[StaffMember, StaffRole]:
    repository = StaffRepository(session)
    member = await repository.get(staff_id)
    role = await repository.role(staff_id, issuer_id) if member is not None else None
    if member is None or role is None:
        raise NotFound("This person is not on the issuer's staff (any more).")
    return member, role


async def change_role(session: AsyncSession, *, issuer: Issuer, staff_id: str, role: str, actor: StaffMember, now: datetime) -> StaffMember:
    chosen = _role(role)
    member, current = await _entry(session, issuer.id, staff_id)
    if current.role == chosen:
        return member
    if current.role == "owner" and await _owners(session, issuer.id) <= 1:
        raise Conflict(f"{member.email} is the only owner of {issuer.name}: make someone else owner first.")
    previous = current.role
    current.role = chosen
    await session.flush()
    await record(
        session,
        Event(
            type="staff.role_changed",
            issuer_id=issuer.id,
            actor=f"staff:{actor.id}",
            subject=f"staff:{member.id}",
            at=now,
            data={"role": chosen, "previous_role": previous},
        ),
    )
    return member


async def remove(session: AsyncSession, *, issuer: Issuer, staff_id: str, actor: StaffMember, now: datetime) -> StaffMember:
    """Take someone off the issuer's staff: their next request for its pages is a 404. Their
    account stays (the audit log names them, and they may work for other issuers)."""
    member, current = await _entry(session, issuer.id, staff_id)
    if current.role == "owner" and await _owners(session, issuer.id) <= 1:
        raise Conflict(f"{member.email} is the only owner of {issuer.name}: make someone else owner first.")
    previous = current.role
    await session.delete(current)
    await session.flush()
    await record(
        session,
        Event(
            type="staff.removed", issuer_id=issuer.id, actor=f"staff:{actor.id}", subject=f"staff:{member.id}", at=now, data={"previous_role": previous}
        ),
    )
    return member


def invitation_link(settings: Settings, *, token: str, issuer_id: str) -> str:
    return f"{settings.base_url}/console/sign-in/confirm?{urlencode({'token': token, 'next': f'/console/{issuer_id}/'})}"


def invitation_message(*, to: str, link: str, issuer: Issuer, role: str, inviter: StaffMember, settings: Settings) -> EmailMessage:
    host = urlsplit(settings.base_url).hostname or "microcred"
    days = INVITATION_SECONDS // 86_400
    message = new_message(to=to, subject=f"You are invited to the staff console of {issuer.name}", settings=settings)
    message.set_content(
        f"{inviter.name or inviter.email} invited you to the staff console of {issuer.name} on {host},\n"
        f"as {role}.\n\n"
        f"To sign in, open this link within {days} days (it works once):\n\n"
        f"{link}\n\n"
        f"Later, sign in at {settings.base_url}/console/sign-in with this email address.\n"
        "If you did not expect this, ignore this email: nothing happens without the link.\n"
    )
    return message
