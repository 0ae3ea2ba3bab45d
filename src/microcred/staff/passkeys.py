"""Passkeys (WebAuthn) for staff: registering them, signing in with one, and issuers whose owners
require them.

The relying party is the service itself: its id is the base URL's host and the only origin
accepted is the base URL's origin, so a passkey made for one service works on no other. Every
ceremony starts with a random challenge that the service keeps (as a SHA-256, until it is
answered once or expires); the answer's clientDataJSON names the challenge, which is how the
service finds it again without a cookie. Registration asks for a discoverable credential (the
authenticator keeps the member's id as its user handle), so signing in needs no address typed:
the browser offers the passkeys it has for this host, and the signature, the user handle and the
authenticator's counter decide. "none" attestation: which authenticator it is does not matter.

An issuer whose owners require passkeys lets a session reach its pages only once a passkey was
used in it: signing in with one, adding one, or (after signing in by email) confirming with one.
A member with no passkey yet is asked to add one: the first passkey rests on the email, as the
account itself does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_client_data_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..db.base import new_id
from ..db.models import PasskeyChallenge, PasskeyRequirement, StaffMember, StaffPasskey, StaffSignInAttempt
from ..events import Event, record
from ..problems import BadRequest, Conflict, NotFound, TooManyRequests, field_error
from ..tokens import token_digest
from .passkey_repository import PasskeyRepository
from .repository import StaffRepository
from .service import ATTEMPT_WINDOW, MAX_ATTEMPTS_PER_CLIENT

__all__ = [
    "CHALLENGE_SECONDS",
    "MAX_PASSKEYS",
    "RelyingParty",
    "authenticate",
    "count_sign_in_attempt",
    "Authenticated",
    "confirm_options",
    "confirm_session",
    "passkey_step",
    "passkeys_of",
    "register",
    "registration_options",
    "relying_party",
    "remove",
    "requires_passkeys",
    "set_required",
    "sign_in_options",
]

#: How long a ceremony may take, from the options to the answer (the browser's own timeout is
#: shorter: the options say 2 minutes).
CHALLENGE_SECONDS = 5 * 60
_BROWSER_TIMEOUT_MS = 120_000
#: Passkeys one member may hold (a laptop, a phone, a spare security key... not a thousand).
MAX_PASSKEYS = 20
_NAME_MAX = 100
#: The answers are a few kilobytes; anything much larger is not from an authenticator.
_MAX_RESPONSE_BYTES = 64 * 1024

_NOT_ACCEPTED = "This passkey was not accepted. Try again, or sign in with an emailed link."


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str
    name: str


def relying_party(base_url: str) -> RelyingParty:
    """The service as WebAuthn names it: its host (the RP id) and its origin, from the base URL."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    return RelyingParty(id=host, origin=f"{parts.scheme}://{parts.netloc.lower()}", name=host)


def _challenge_hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


async def _new_challenge(session: AsyncSession, *, purpose: str, staff_id: str | None, now: datetime) -> bytes:
    repository = PasskeyRepository(session)
    await repository.drop_expired_challenges(now)
    challenge = secrets.token_bytes(32)
    await repository.add(
        PasskeyChallenge(
            challenge_hash=_challenge_hash(challenge),
            purpose=purpose,
            staff_id=staff_id,
            created_at=now,
            expires_at=now + timedelta(seconds=CHALLENGE_SECONDS),
        )
    )
    return challenge


def _answer(response: Any) -> dict[str, Any]:
    """The browser's answer as a JSON object of a sane size (else a 400, never a 500)."""
    if isinstance(response, str):
        if len(response) > _MAX_RESPONSE_BYTES:
            raise BadRequest(_NOT_ACCEPTED)
        try:
            response = json.loads(response)
        except ValueError:
            raise BadRequest(_NOT_ACCEPTED) from None
    if not isinstance(response, dict) or len(json.dumps(response)) > _MAX_RESPONSE_BYTES:
        raise BadRequest(_NOT_ACCEPTED)
    return response


def _answered_challenge(answer: dict[str, Any]) -> bytes:
    """The challenge the answer's clientDataJSON says it answers."""
    try:
        inner = answer["response"]
        client_data = parse_client_data_json(base64url_to_bytes(inner["clientDataJSON"]))
    except (KeyError, TypeError, ValueError, WebAuthnException):
        raise BadRequest(_NOT_ACCEPTED) from None
    return client_data.challenge


# --- registering ---------------------------------------------------------------------------------


async def registration_options(session: AsyncSession, *, member: StaffMember, base_url: str, now: datetime) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptions (as JSON) for a new passkey of ``member``."""
    repository = PasskeyRepository(session)
    existing = await repository.of_member(member.id)
    if len(existing) >= MAX_PASSKEYS:
        raise Conflict(f"You have {MAX_PASSKEYS} passkeys, the most one person may have. Remove one you no longer use first.")
    rp = relying_party(base_url)
    challenge = await _new_challenge(session, purpose="register", staff_id=member.id, now=now)
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=member.id.encode(),
        user_name=member.email,
        user_display_name=member.name or member.email,
        challenge=challenge,
        timeout=_BROWSER_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.PREFERRED
        ),
        # The browser refuses to make a second passkey for this service on an authenticator
        # that already holds one of the member's.
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in existing],
    )
    created: dict[str, Any] = json.loads(options_to_json(options))
    return created


def _transports(answer: dict[str, Any]) -> list[str]:
    known = {t.value for t in AuthenticatorTransport}
    found = answer.get("response", {}).get("transports") if isinstance(answer.get("response"), dict) else None
    return [t for t in found if isinstance(t, str) and t in known][:8] if isinstance(found, list) else []


def _clean_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise BadRequest("Give the passkey a name, such as the device it is on.", errors=[field_error("/name", "required")])
    if len(cleaned) > _NAME_MAX or any(ord(c) < 0x20 or ord(c) == 0x7F for c in cleaned):
        raise BadRequest(f"A passkey's name is at most {_NAME_MAX} characters of text.", errors=[field_error("/name", "too long")])
    return cleaned


async def register(
    session: AsyncSession, *, member: StaffMember, name: str, response: Any, base_url: str, now: datetime, session_token: str | None = None
) -> StaffPasskey:
    """Check the browser's answer to :func:`registration_options` and keep the new passkey; the
    session it was added in (``session_token``) counts as confirmed with it."""
    cleaned = _clean_name(name)
    answer = _answer(response)
    repository = PasskeyRepository(session)
    challenge = _answered_challenge(answer)
    if not await repository.take_challenge(_challenge_hash(challenge), purpose="register", staff_id=member.id, now=now):
        raise BadRequest("This passkey request has expired or was already used. Try adding the passkey again.")
    rp = relying_party(base_url)
    try:
        verified = verify_registration_response(credential=answer, expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=rp.origin)
    except (WebAuthnException, KeyError, TypeError, ValueError):
        raise BadRequest("The browser's answer could not be checked, so no passkey was added. Try again.") from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if await repository.by_credential_id(credential_id) is not None:
        raise Conflict("This passkey is already registered.")
    if await repository.count_of_member(member.id) >= MAX_PASSKEYS:
        raise Conflict(f"You have {MAX_PASSKEYS} passkeys, the most one person may have. Remove one you no longer use first.")
    passkey = StaffPasskey(
        id=new_id(),
        staff_id=member.id,
        name=cleaned,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=_transports(answer),
        created_at=now,
    )
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
    options = generate_authentication_options(
        rp_id=relying_party(base_url).id, challenge=challenge, timeout=_BROWSER_TIMEOUT_MS, user_verification=UserVerificationRequirement.PREFERRED
    )
    requested: dict[str, Any] = json.loads(options_to_json(options))
    return requested


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
    options = generate_authentication_options(
        rp_id=relying_party(base_url).id,
        challenge=challenge,
        timeout=_BROWSER_TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in passkeys],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    requested: dict[str, Any] = json.loads(options_to_json(options))
    return requested


async def authenticate(
    session: AsyncSession, *, response: Any, base_url: str, now: datetime, member: StaffMember | None = None
) -> Authenticated:
    """The member whose passkey signed the answer to :func:`sign_in_options` (or, with
    ``member``, to their :func:`confirm_options`, with one of their own passkeys). 400
    otherwise: an unknown passkey, a wrong or spent challenge, a bad signature, a counter that
    did not move forward, a removed member."""
    answer = _answer(response)
    repository = PasskeyRepository(session)
    challenge = _answered_challenge(answer)
    purpose, staff_id = ("sign_in", None) if member is None else ("confirm", member.id)
    if not await repository.take_challenge(_challenge_hash(challenge), purpose=purpose, staff_id=staff_id, now=now):
        raise BadRequest("This sign-in request has expired or was already used. Try again.")
    credential_id = answer.get("id")
    passkey = await repository.by_credential_id(credential_id) if isinstance(credential_id, str) and len(credential_id) <= 1400 else None
    if passkey is None or (member is not None and passkey.staff_id != member.id):
        raise BadRequest("This passkey is not registered here (it may have been removed). Sign in with an emailed link.")
    handle = answer.get("response", {}).get("userHandle") if isinstance(answer.get("response"), dict) else None
    if handle is not None:
        try:
            if base64url_to_bytes(handle) != passkey.staff_id.encode():
                raise BadRequest(_NOT_ACCEPTED)
        except (TypeError, ValueError):
            raise BadRequest(_NOT_ACCEPTED) from None
    rp = relying_party(base_url)
    try:
        verified = verify_authentication_response(
            credential=answer,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError):
        raise BadRequest(_NOT_ACCEPTED) from None
    owner = await StaffRepository(session).get(passkey.staff_id)
    if owner is None or owner.disabled_at is not None:
        raise BadRequest(_NOT_ACCEPTED)
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = now
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
