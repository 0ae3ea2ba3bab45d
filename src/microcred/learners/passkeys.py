"""Passkeys for learners: a signed-in learner adds them from the backpack, names, lists and
removes them, and signs in with one instead of waiting for an emailed link.

The ceremony is :mod:`microcred.passkeys` (shared with staff). Learners' passkeys must verify the
user (the device's screen lock, a PIN or a fingerprint): a backpack may be opened on a shared
computer, and a passkey stands in for the mailbox, which a password or screen lock protects too.
A sign-in challenge belongs to the browser that asked for it (a SHA-256 of its pre-session
cookie), is used once and expires; each one counts against the client's sign-in limit, as staff
sign-ins do. A passkey sign-in opens the same session an emailed link does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from webauthn.helpers.structs import UserVerificationRequirement

from .. import passkeys as ceremony
from ..db.base import new_id
from ..db.models import Learner, LearnerPasskey, LearnerPasskeyChallenge
from ..i18n import gettext
from ..problems import BadRequest, Conflict, NotFound, TooManyRequests
from ..staff.service import ATTEMPT_WINDOW, MAX_ATTEMPTS_PER_CLIENT
from .passkeys_repository import LearnerPasskeyRepository
from .repository import LearnerRepository
from .service import SignedIn, open_session

__all__ = ["CHALLENGE_SECONDS", "MAX_PASSKEYS", "passkeys_of", "register", "registration_options", "remove", "sign_in", "sign_in_options"]

#: How long a ceremony may take, from the options to the answer.
CHALLENGE_SECONDS = 5 * 60
#: Passkeys one learner may hold (a laptop, a phone, a spare key... not a thousand).
MAX_PASSKEYS = 20
_VERIFY = UserVerificationRequirement.REQUIRED


def _not_accepted() -> BadRequest:
    return BadRequest(gettext("This passkey was not accepted. Try again, or sign in with an emailed link."))


def _too_many() -> Conflict:
    return Conflict(
        gettext("You have %(count)s passkeys, the most one person may have. Remove one you no longer use first.") % {"count": MAX_PASSKEYS}
    )


def _browser_hash(nonce: str) -> str:
    return hashlib.sha256(b"microcred passkey browser\x00" + nonce.encode("utf-8", "surrogatepass")).hexdigest()


async def _new_challenge(
    session: AsyncSession, *, purpose: str, now: datetime, learner_id: str | None = None, browser: str | None = None, client: str | None = None
) -> bytes:
    repository = LearnerPasskeyRepository(session)
    await repository.prune_challenges(now - max(ATTEMPT_WINDOW, timedelta(seconds=CHALLENGE_SECONDS)))
    challenge = ceremony.new_challenge()
    await repository.add(
        LearnerPasskeyChallenge(
            challenge_hash=ceremony.challenge_hash(challenge),
            purpose=purpose,
            learner_id=learner_id,
            browser_hash=_browser_hash(browser) if browser is not None else None,
            client_hash=client,
            created_at=now,
            expires_at=now + timedelta(seconds=CHALLENGE_SECONDS),
        )
    )
    return challenge


# --- from the backpack ---------------------------------------------------------------------------


async def passkeys_of(session: AsyncSession, learner: Learner) -> Sequence[LearnerPasskey]:
    return await LearnerPasskeyRepository(session).of_learner(learner.id)


async def registration_options(session: AsyncSession, *, learner: Learner, base_url: str, now: datetime) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptions (as JSON) for a new passkey of ``learner``."""
    existing = await LearnerPasskeyRepository(session).of_learner(learner.id)
    if len(existing) >= MAX_PASSKEYS:
        raise _too_many()
    challenge = await _new_challenge(session, purpose="register", learner_id=learner.id, now=now)
    return ceremony.creation_options(
        ceremony.relying_party(base_url),
        user_id=learner.id,
        user_name=learner.email,
        display_name=learner.email,
        challenge=challenge,
        existing=[p.credential_id for p in existing],
        user_verification=_VERIFY,
    )


async def register(session: AsyncSession, *, learner: Learner, name: str, response: Any, base_url: str, now: datetime) -> LearnerPasskey:
    """Check the browser's answer to :func:`registration_options` and keep the new passkey."""
    cleaned = ceremony.passkey_name(
        name,
        required=gettext("Give the passkey a name, such as the device it is on."),
        too_long=gettext("A passkey's name is at most %(count)s characters of text.") % {"count": ceremony.NAME_MAX},
    )
    answer, challenge = ceremony.read_answer(response, refusal=_not_accepted())
    repository = LearnerPasskeyRepository(session)
    if not await repository.take_challenge(ceremony.challenge_hash(challenge), purpose="register", learner_id=learner.id, now=now):
        raise BadRequest(gettext("This passkey request has expired or was already used. Try adding the passkey again."))
    try:
        verified = ceremony.check_registration(answer, challenge=challenge, rp=ceremony.relying_party(base_url), require_user_verification=True)
    except ceremony.CeremonyError:
        raise BadRequest(gettext("The browser's answer could not be checked, so no passkey was added. Try again.")) from None
    if await repository.by_credential_id(verified.credential_id) is not None:
        raise Conflict(gettext("This passkey is already registered."))
    if await repository.count_of_learner(learner.id) >= MAX_PASSKEYS:
        raise _too_many()
    passkey = LearnerPasskey(id=new_id(), learner_id=learner.id, name=cleaned, created_at=now, **verified.columns())
    await repository.add(passkey)
    return passkey


async def remove(session: AsyncSession, *, learner: Learner, passkey_id: str) -> None:
    """Remove one of the learner's own passkeys (another's answers 404, as a missing one)."""
    repository = LearnerPasskeyRepository(session)
    passkey = await repository.get(passkey_id) if len(passkey_id) <= 64 else None
    if passkey is None or passkey.learner_id != learner.id:
        raise NotFound(gettext("You have no such passkey."))
    await repository.remove(passkey)


# --- signing in ----------------------------------------------------------------------------------


async def sign_in_options(session: AsyncSession, *, browser: str, client: str | None, base_url: str, now: datetime) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptions (as JSON) for signing in with any learner's passkey (no
    allow list: the authenticator offers its discoverable ones), for the browser whose
    pre-session cookie is ``browser``. 429 past the client's sign-in limit."""
    repository = LearnerPasskeyRepository(session)
    if client is not None:
        await repository.hold_client(client)
        if await repository.sign_ins_from_client(client, now - ATTEMPT_WINDOW) >= MAX_ATTEMPTS_PER_CLIENT:
            raise TooManyRequests(
                gettext("Too many sign-in attempts from your network just now. Wait a quarter of an hour and try again."),
                headers={"Retry-After": str(int(ATTEMPT_WINDOW.total_seconds()))},
            )
    challenge = await _new_challenge(session, purpose="sign_in", browser=browser, client=client, now=now)
    return ceremony.request_options(ceremony.relying_party(base_url), challenge=challenge, user_verification=_VERIFY)


async def sign_in(
    session: AsyncSession, *, response: Any, browser: str | None, base_url: str, now: datetime, session_seconds: int, next_path: str
) -> SignedIn:
    """A new session for the learner whose passkey signed the answer to :func:`sign_in_options`
    in this browser. 400 otherwise: another browser's or a spent or expired challenge, an
    unknown passkey, another site's origin, a bad signature, no user verification, a counter
    that did not move forward."""
    answer, challenge = ceremony.read_answer(response, refusal=_not_accepted())
    repository = LearnerPasskeyRepository(session)
    taken = browser is not None and await repository.take_challenge(
        ceremony.challenge_hash(challenge), purpose="sign_in", browser_hash=_browser_hash(browser), now=now
    )
    if not taken:
        raise BadRequest(gettext("This sign-in request has expired or was already used. Try again."))
    credential_id = ceremony.credential_id_of(answer)
    passkey = await repository.by_credential_id(credential_id) if credential_id is not None else None
    if passkey is None:
        raise BadRequest(gettext("This passkey is not registered here (it may have been removed). Sign in with an emailed link."))
    learner = await LearnerRepository(session).get(passkey.learner_id)
    try:
        if learner is None:
            raise ceremony.CeremonyError("no such learner")
        rp = ceremony.relying_party(base_url)
        ceremony.use_passkey(passkey, answer, challenge=challenge, rp=rp, owner_id=learner.id, require_user_verification=True, now=now)
    except ceremony.CeremonyError:
        raise _not_accepted() from None
    await session.flush()
    token = await open_session(session, learner, now=now, session_seconds=session_seconds)
    return SignedIn(learner=learner, session_token=token, next_path=next_path)
