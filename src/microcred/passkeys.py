"""The WebAuthn ceremony that staff passkeys (:mod:`.staff.passkeys`) and learner passkeys
(:mod:`.learners.passkeys`) share: the relying party, options for the browser, and checking its
answers. Who owns a passkey, where challenges are kept and what a person is told when something
fails are each side's own: a failed check here is a :class:`CeremonyError` without words, or
the caller's own 400 where it passes its words in.

The relying party is the service itself: its id is the base URL's host and the only origin
accepted is the base URL's origin, so a passkey made for one service works on no other. Every
ceremony starts with a random challenge that the caller keeps (as a SHA-256) until it is
answered once or expires; the answer's clientDataJSON names the challenge, which is how the
caller finds it again. Registration asks for a discoverable credential (the authenticator keeps
the owner's id as its user handle), so signing in needs no address typed. "none" attestation:
which authenticator it is does not matter. :class:`NewPasskey` and :class:`PasskeySignIn` are
what the browser's script (the console's ``static/passkeys.js``, used by both) posts.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, Field
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

from .problems import BadRequest, ProblemError, field_error

__all__ = [
    "BROWSER_TIMEOUT_MS",
    "CeremonyError",
    "NAME_MAX",
    "NewCredential",
    "NewPasskey",
    "PasskeySignIn",
    "RelyingParty",
    "StoredPasskey",
    "challenge_hash",
    "check_registration",
    "credential_id_of",
    "creation_options",
    "new_challenge",
    "passkey_name",
    "read_answer",
    "relying_party",
    "request_options",
    "use_passkey",
]

#: How long the browser offers its dialog (the caller's challenge may live a little longer).
BROWSER_TIMEOUT_MS = 120_000
#: A passkey's name (what its owner calls it), at most.
NAME_MAX = 100
#: The answers are a few kilobytes; anything much larger is not from an authenticator.
_MAX_RESPONSE_BYTES = 64 * 1024
_MAX_CREDENTIAL_ID = 1400


class NewPasskey(BaseModel):
    """What the passkey script posts to add a passkey."""

    name: str = Field(default="", max_length=200)
    #: ``PublicKeyCredential.toJSON()`` of navigator.credentials.create()
    credential: dict[str, Any]


class PasskeySignIn(BaseModel):
    """What the passkey script posts to sign in (or confirm a session) with a passkey."""

    #: ``PublicKeyCredential.toJSON()`` of navigator.credentials.get()
    credential: dict[str, Any]
    next: str | None = Field(default=None, max_length=4096)


class CeremonyError(Exception):
    """The browser's answer is not acceptable (malformed, wrong origin or challenge, bad
    signature, a counter that did not move forward, no user verification where required)."""


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


def new_challenge() -> bytes:
    return secrets.token_bytes(32)


def challenge_hash(challenge: bytes) -> str:
    """What is kept of a challenge: enough to find it again, not enough to answer it."""
    return hashlib.sha256(challenge).hexdigest()


def _answer_of(response: Any) -> dict[str, Any]:
    """The browser's answer as a JSON object of a sane size."""
    if isinstance(response, str):
        if len(response) > _MAX_RESPONSE_BYTES:
            raise CeremonyError("too large")
        try:
            response = json.loads(response)
        except ValueError:
            raise CeremonyError("not JSON") from None
    if not isinstance(response, dict) or len(json.dumps(response)) > _MAX_RESPONSE_BYTES:
        raise CeremonyError("not an answer")
    return response


def read_answer(response: Any, *, refusal: ProblemError) -> tuple[dict[str, Any], bytes]:
    """The browser's answer and the challenge its clientDataJSON says it answers; ``refusal``
    (a 400 in the caller's words) when it is no answer at all, never a 500."""
    try:
        answer = _answer_of(response)
        client_data = parse_client_data_json(base64url_to_bytes(answer["response"]["clientDataJSON"]))
    except (CeremonyError, KeyError, TypeError, ValueError, WebAuthnException):
        raise refusal from None
    return answer, client_data.challenge


def credential_id_of(answer: dict[str, Any]) -> str | None:
    found = answer.get("id")
    return found if isinstance(found, str) and len(found) <= _MAX_CREDENTIAL_ID else None


def passkey_name(name: str, *, required: str, too_long: str) -> str:
    """The name a person gave a passkey, tidied (one space between words); a 400 with
    ``required`` or ``too_long`` (the caller's words) when it is empty or not a short text."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise BadRequest(required, errors=[field_error("/name", "required")])
    if len(cleaned) > NAME_MAX or any(ord(c) < 0x20 or ord(c) == 0x7F for c in cleaned):
        raise BadRequest(too_long, errors=[field_error("/name", "too long")])
    return cleaned


def _descriptors(credential_ids: Iterable[str]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in credential_ids]


def creation_options(
    rp: RelyingParty,
    *,
    user_id: str,
    user_name: str,
    display_name: str,
    challenge: bytes,
    existing: Iterable[str],
    user_verification: UserVerificationRequirement,
) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptions (as JSON) for a discoverable passkey; ``existing``:
    the owner's credential ids, which the browser will not make a second passkey beside."""
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_id.encode(),
        user_name=user_name,
        user_display_name=display_name,
        challenge=challenge,
        timeout=BROWSER_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(resident_key=ResidentKeyRequirement.REQUIRED, user_verification=user_verification),
        exclude_credentials=_descriptors(existing),
    )
    created: dict[str, Any] = json.loads(options_to_json(options))
    return created


def request_options(
    rp: RelyingParty, *, challenge: bytes, allowed: Iterable[str] = (), user_verification: UserVerificationRequirement
) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptions (as JSON); no ``allowed``: any discoverable passkey."""
    options = generate_authentication_options(
        rp_id=rp.id, challenge=challenge, timeout=BROWSER_TIMEOUT_MS, allow_credentials=_descriptors(allowed) or None, user_verification=user_verification
    )
    requested: dict[str, Any] = json.loads(options_to_json(options))
    return requested


@dataclass(frozen=True)
class NewCredential:
    credential_id: str
    public_key: bytes
    sign_count: int
    transports: list[str]

    def columns(self) -> dict[str, Any]:
        """The stored passkey's columns (:class:`~microcred.db.models.passkey.PasskeyKey`)."""
        return {"credential_id": self.credential_id, "public_key": self.public_key, "sign_count": self.sign_count, "transports": self.transports}


def _transports(answer: dict[str, Any]) -> list[str]:
    known = {t.value for t in AuthenticatorTransport}
    inner = answer.get("response")
    found = inner.get("transports") if isinstance(inner, dict) else None
    return [t for t in found if isinstance(t, str) and t in known][:8] if isinstance(found, list) else []


def check_registration(answer: dict[str, Any], *, challenge: bytes, rp: RelyingParty, require_user_verification: bool) -> NewCredential:
    """The new passkey in the answer to :func:`creation_options`, checked."""
    try:
        verified = verify_registration_response(
            credential=answer,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=require_user_verification,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError):
        raise CeremonyError("registration not verified") from None
    return NewCredential(bytes_to_base64url(verified.credential_id), verified.credential_public_key, verified.sign_count, _transports(answer))


class StoredPasskey(Protocol):
    public_key: bytes
    sign_count: int
    last_used_at: datetime | None


def use_passkey(
    passkey: StoredPasskey,
    answer: dict[str, Any],
    *,
    challenge: bytes,
    rp: RelyingParty,
    owner_id: str,
    require_user_verification: bool,
    now: datetime,
) -> None:
    """Check the answer to :func:`request_options` against the stored ``passkey`` of
    ``owner_id``: the user handle (when sent) names the owner, the signature holds, and the
    counter moved forward (unless the authenticator never counts). Then note the new counter
    and when it was used."""
    inner = answer.get("response")
    handle = inner.get("userHandle") if isinstance(inner, dict) else None
    try:
        if handle is not None and base64url_to_bytes(handle) != owner_id.encode():
            raise CeremonyError("another owner's passkey")
        verified = verify_authentication_response(
            credential=answer,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=require_user_verification,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError):
        raise CeremonyError("assertion not verified") from None
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = now
