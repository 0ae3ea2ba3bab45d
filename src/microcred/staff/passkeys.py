"""Passkeys (WebAuthn) for staff: registering them, signing in with one, and issuers whose owners
require them.

The ceremony itself (relying party, options, checking answers) is :mod:`microcred.passkeys`,
shared with learners' passkeys; here are the staff's challenges (one table, each used once and
expiring), their words, and their rules. Staff are asked for user verification where the
authenticator offers it (a plain security key may not).

An issuer whose owners require passkeys lets a session reach its pages only once a passkey was
used in it: signing in with one, adding one, or (after signing in by email) confirming with one.
A member with no passkey yet is asked to add one: the first passkey rests on the email, as the
account itself does.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from webauthn.helpers.structs import UserVerificationRequirement

from .. import passkeys as ceremony
from ..db.base import new_id
from ..db.models import PasskeyChallenge, PasskeyRequirement, StaffMember, StaffPasskey, StaffSignInAttempt
from ..events import Event, record
from ..problems import BadRequest, Conflict, NotFound, TooManyRequests
from ..tokens import token_digest
from .passkey_repository import PasskeyRepository
from .repository import StaffRepository
from .service import ATTEMPT_WINDOW, MAX_ATTEMPTS_PER_CLIENT

__all__ = [
    "CHALLENGE_SECONDS",
    "MAX_PASSKEYS",
    "authenticate",
    "count_sign_in_attempt",
    "Authenticated",
    "confirm_options",
    "confirm_session",
    "passkey_step",
    "passkeys_of",
    "register",
    "registration_options",
    "remove",
    "requires_passkeys",
    "set_required",
    "sign_in_options",
]

#: How long a ceremony may take, from the options to the answer (the browser's own timeout is
#: shorter: the options say 2 minutes).
CHALLENGE_SECONDS = 5 * 60
#: Passkeys one member may hold (a laptop, a phone, a spare security key... not a thousand).
MAX_PASSKEYS = 20
#: Staff are asked for user verification where the authenticator can (not every security key can).
_VERIFICATION = UserVerificationRequirement.PREFERRED

_NOT_ACCEPTED = "This passkey was not accepted. Try again, or sign in with an emailed link."


async def _new_challenge(session: AsyncSession, *, purpose: str, staff_id: str | None, now: datetime) -> bytes:
    repository = PasskeyRepository(session)
    await repository.drop_expired_challenges(now)
    challenge = ceremony.new_challenge()
    await repository.add(
        PasskeyChallenge(
            challenge_hash=ceremony.challenge_hash(challenge),
            purpose=purpose,
            staff_id=staff_id,
            created_at=now,
            expires_at=now + timedelta(seconds=CHALLENGE_SECONDS),
        )
    )
    return challenge


# --- registering ---------------------------------------------------------------------------------


async def registration_options(session: AsyncSession, *, member: StaffMember, base_url: str, now: datetime) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptions (as JSON) for a new passkey of ``member``."""
    repository = PasskeyRepository(session)
    existing = await repository.of_member(member.id)
    if len(existing) >= MAX_PASSKEYS:
        raise Conflict(f"You have {MAX_PASSKEYS} passkeys, the most one person may have. Remove one you no longer use first.")
    challenge = await _new_challenge(session, purpose="register", staff_id=member.id, now=now)
    # The browser refuses to make a second passkey for this service on an authenticator that
    # already holds one of the member's (``existing``).
    return ceremony.creation_options(
        ceremony.relying_party(base_url),
        user_id=member.id,
        user_name=member.email,
        display_name=member.name or member.email,
        challenge=challenge,
        existing=[p.credential_id for p in existing],
        user_verification=_VERIFICATION,
    )


async def register(
    session: AsyncSession, *, member: StaffMember, name: str, response: Any, base_url: str, now: datetime, session_token: str | None = None
) -> StaffPasskey:
    """Check the browser's answer to :func:`registration_options` and keep the new passkey; the
    session it was added in (``session_token``) counts as confirmed with it."""
    cleaned = ceremony.passkey_name(
        name, required="Give the passkey a name, such as the device it is on.", too_long=f"A passkey's name is at most {ceremony.NAME_MAX} characters of text."
    )
    answer, challenge = ceremony.read_answer(response, refusal=BadRequest(_NOT_ACCEPTED))
    repository = PasskeyRepository(session)
    if not await repository.take_challenge(ceremony.challenge_hash(challenge), purpose="register", staff_id=member.id, now=now):
        raise BadRequest("This passkey request has expired or was already used. Try adding the passkey again.")
    try:
        verified = ceremony.check_registration(answer, challenge=challenge, rp=ceremony.relying_party(base_url), require_user_verification=False)
    except ceremony.CeremonyError:
        raise BadRequest("The browser's answer could not be checked, so no passkey was added. Try again.") from None
    if await repository.by_credential_id(verified.credential_id) is not None:
        raise Conflict("This passkey is already registered.")
    if await repository.count_of_member(member.id) >= MAX_PASSKEYS:
        raise Conflict(f"You have {MAX_PASSKEYS} passkeys, the most one person may have. Remove one you no longer use first.")
    passkey = StaffPasskey(id=new_id(), staff_id=member.id, name=cleaned, created_at=now, **verified.columns())
    await repository.add(passkey)
    if session_token is not None:
        await repository.confirm_session(token_digest(session_token), passkey.id, now)
    await record(
        session,
        Event(type="staff.passkey_added", issuer_id=None, actor=f"staff:{member.id}", subject=passkey.id, at=now, data={"name": cleaned}),
    )
    return passkey


async def passkeys_of(session: AsyncSession, member: StaffMember) -> Sequence[StaffPasskey]:
    return await PasskeyRepository(session).of_member(member.id)


async def remove(session: AsyncSession, *, member: StaffMember, passkey_id: str, now: datetime) -> None:
    """Remove one of ``member``'s own passkeys (another member's answers 404, as a missing one)."""
    repository = PasskeyRepository(session)
    passkey = await repository.get(passkey_id)
    if passkey is None or passkey.staff_id != member.id:
        raise NotFound("You have no such passkey.")
    await repository.remove(passkey)
    await record(
        session,
        Event(type="staff.passkey_removed", issuer_id=None, actor=f"staff:{member.id}", subject=passkey_id, at=now, data={"name": passkey.name}),
    )


# --- signing in ----------------------------------------------------------------------------------


async def count_sign_in_attempt(session: AsyncSession, *, client: str | None, secret: bytes, now: datetime) -> None:
    """A passkey sign-in counts against the client's sign-in limit like a request for an emailed
    link (429 past it), in the database, so the limit holds across workers. No address is typed,
    so it counts under one key of its own for the per-address count."""
    if client is None:
        return
    repository = StaffRepository(session)
    await repository.hold_attempts(client)
    await repository.prune_attempts(now - ATTEMPT_WINDOW)
    if await repository.attempts_from_client(client, now - ATTEMPT_WINDOW) >= MAX_ATTEMPTS_PER_CLIENT:
        raise TooManyRequests(
            "Too many sign-in attempts from your network just now. Wait a quarter of an hour and try again.",
            headers={"Retry-After": str(int(ATTEMPT_WINDOW.total_seconds()))},
        )
    passkey_key = hmac.new(secret, b"\x00passkey", hashlib.sha256).hexdigest()
    await repository.add(StaffSignInAttempt(address_hash=passkey_key, client_hash=client, at=now))


async def sign_in_options(session: AsyncSession, *, base_url: str, now: datetime) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptions (as JSON) for signing in with any of this service's
    passkeys (no allow list: the authenticator offers its discoverable ones)."""
    challenge = await _new_challenge(session, purpose="sign_in", staff_id=None, now=now)
    return ceremony.request_options(ceremony.relying_party(base_url), challenge=challenge, user_verification=_VERIFICATION)


@dataclass(frozen=True)
class Authenticated:
    member: StaffMember
    passkey: StaffPasskey


async def confirm_options(session: AsyncSession, *, member: StaffMember, base_url: str, now: datetime) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptions (as JSON) for a signed-in member to confirm their
    session with one of their own passkeys (an issuer that requires passkeys asks for it)."""
    passkeys = await PasskeyRepository(session).of_member(member.id)
    if not passkeys:
        raise BadRequest("You have no passkey yet: add one first.")
    challenge = await _new_challenge(session, purpose="confirm", staff_id=member.id, now=now)
    rp = ceremony.relying_party(base_url)
    return ceremony.request_options(rp, challenge=challenge, allowed=[p.credential_id for p in passkeys], user_verification=_VERIFICATION)


async def authenticate(
    session: AsyncSession, *, response: Any, base_url: str, now: datetime, member: StaffMember | None = None
) -> Authenticated:
    """The member whose passkey signed the answer to :func:`sign_in_options` (or, with
    ``member``, to their :func:`confirm_options`, with one of their own passkeys). 400
    otherwise: an unknown passkey, a wrong or spent challenge, a bad signature, a counter that
    did not move forward, a removed member."""
    answer, challenge = ceremony.read_answer(response, refusal=BadRequest(_NOT_ACCEPTED))
    repository = PasskeyRepository(session)
    purpose, staff_id = ("sign_in", None) if member is None else ("confirm", member.id)
    if not await repository.take_challenge(ceremony.challenge_hash(challenge), purpose=purpose, staff_id=staff_id, now=now):
        raise BadRequest("This sign-in request has expired or was already used. Try again.")
    credential_id = ceremony.credential_id_of(answer)
    passkey = await repository.by_credential_id(credential_id) if credential_id is not None else None
    if passkey is None or (member is not None and passkey.staff_id != member.id):
        raise BadRequest("This passkey is not registered here (it may have been removed). Sign in with an emailed link.")
    owner = await StaffRepository(session).get(passkey.staff_id)
    try:
        if owner is None or owner.disabled_at is not None:
            raise ceremony.CeremonyError("no such member")
        rp = ceremony.relying_party(base_url)
        ceremony.use_passkey(passkey, answer, challenge=challenge, rp=rp, owner_id=owner.id, require_user_verification=False, now=now)
    except ceremony.CeremonyError:
        raise BadRequest(_NOT_ACCEPTED) from None
    await session.flush()
    return Authenticated(owner, passkey)


async def confirm_session(session: AsyncSession, *, session_token: str, passkey: StaffPasskey, now: datetime) -> None:
    """Note that this browser session used (or added) ``passkey``."""
    await PasskeyRepository(session).confirm_session(token_digest(session_token), passkey.id, now)


# --- issuers that require passkeys ---------------------------------------------------------------


async def requires_passkeys(session: AsyncSession, *, issuer_id: str) -> bool:
    return await PasskeyRepository(session).requirement(issuer_id) is not None


async def passkey_step(session: AsyncSession, *, member: StaffMember, issuer_id: str, session_token: str | None) -> str | None:
    """What an issuer that requires passkeys still asks of this session before its pages:
    "register" (the member has no passkey: add one, which confirms the session too), "confirm"
    (signed in by email: use one of their passkeys), or None (nothing, or not required)."""
    repository = PasskeyRepository(session)
    if await repository.requirement(issuer_id) is None:
        return None
    if session_token is not None and await repository.session_confirmed(token_digest(session_token)):
        return None
    return "confirm" if await repository.count_of_member(member.id) else "register"


async def set_required(session: AsyncSession, *, issuer_id: str, required: bool, actor: str, now: datetime) -> bool:
    """Turn the issuer's passkey requirement on or off; True when that changed anything."""
    repository = PasskeyRepository(session)
    current = await repository.requirement(issuer_id)
    if required == (current is not None):
        return False
    if current is None:
        await repository.add(PasskeyRequirement(issuer_id=issuer_id, required_by=actor, created_at=now))
    else:
        await repository.drop_requirement(current)
    await record(
        session,
        Event(
            type="issuer.passkeys_required" if required else "issuer.passkeys_optional", issuer_id=issuer_id, actor=actor, subject=issuer_id, at=now
        ),
    )
    return True
