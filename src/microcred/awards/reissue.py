"""Correct and reissue: a credential awarded with a mistake in the learner's name is replaced.

The old credential is revoked with the reason ``superseded`` and a new one is signed with the
corrected name and everything else as it was (the same achievement version, result, evidence,
dates and embedded endorsements), in one transaction with both events in the audit log.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..credentials import CredentialError, issue
from ..credentials.timeutil import format_datetime
from ..db.base import new_id
from ..db.models import AchievementVersion, Credential, Issuer
from ..events import record
from ..issuers.key_lock import hold_for_signing
from ..problems import Conflict, NotFound, UnprocessableContent, field_error
from ..status.service import ListSigning, apply_change, credential_status
from .document import credential_url, issued_event
from .service import Signing

__all__ = ["REISSUE_PREFIX", "Reissued", "SUPERSEDED", "correct_and_reissue", "corrected_document", "replacement_of"]

#: The (private) revocation reason of a credential replaced by a corrected one.
SUPERSEDED = "superseded"
#: The dedup key of a replacement is this and the id of the credential it replaces, so the
#: replacement of a credential is found by the unique (dedup_key, issuer_id) index.
REISSUE_PREFIX = "reissue:"


@dataclass(frozen=True)
class Reissued:
    old: Credential
    new: Credential


def replaces_statement(old_url: str) -> str:
    return f"This credential replaces {old_url}, which was issued with an error and has been revoked."


def corrected_document(
    old: dict[str, Any], *, credential_id: str, base_url: str, recipient_name: str, now: datetime, status: dict[str, Any] | list[dict[str, Any]]
) -> dict[str, Any]:
    """The unsigned replacement of ``old`` (a signed credential): a new id, status entry and
    ``validFrom``, the corrected name, and a sentence saying what it replaces.

    Why a sentence in ``description``: OB 3.0 defines no "replaces" property, and a property of
    our own would need a context stock verifiers do not ship (or, undefined, fail their JSON-LD
    safe mode). ``evidence`` is about the learner's work and ``relatedResource`` (VC 2.0) pins
    resources a verifier must fetch and digest-check, which a revoked credential is not meant to
    be. ``description`` is defined by the VC 2.0 context and allowed by the OB 3.0 JSON schema on
    the credential, so the statement is signed, read by people and tools alike, and the
    credential stays valid and verifiable anywhere. The old credential's URL in it is its id.
    """
    document = copy.deepcopy({key: value for key, value in old.items() if key != "proof"})
    document["id"] = credential_url(base_url, credential_id)
    document["validFrom"] = format_datetime(now)
    document["credentialStatus"] = status
    subject = document["credentialSubject"]
    name = {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": recipient_name}
    identifiers = [i for i in subject.get("identifier") or [] if isinstance(i, dict)]
    at = next((n for n, i in enumerate(identifiers) if i.get("identityType") == "name"), None)
    if at is None:
        identifiers.append(name)
    else:
        identifiers[at] = name
    subject["identifier"] = identifiers
    statement = replaces_statement(str(old["id"]))
    document["description"] = f"{document['description']}\n\n{statement}" if document.get("description") else statement
    return document


async def replacement_of(session: AsyncSession, credential: Credential) -> Credential | None:
    """The credential that replaced ``credential``, if it was corrected and reissued."""
    return await session.scalar(
        select(Credential).where(Credential.dedup_key == REISSUE_PREFIX + credential.id, Credential.issuer_id == credential.issuer_id)
    )


async def correct_and_reissue(
    session: AsyncSession,
    *,
    principal: Principal,
    signing: Signing,
    list_signing: ListSigning,
    issuer_id: str,
    credential_id: str,
    recipient_name: str,
    note: str | None = None,
    now: datetime,
) -> Reissued:
    """Revoke ``credential_id`` (reason ``superseded``) and sign its replacement with
    ``recipient_name``. ``note``: why, for the audit log only. The replacement keeps the old
    credential's external id (the LMS's id for the completion), which the old one gives up."""
    principal.require(issuer_id, "award")
    principal.require(issuer_id, "revoke")
    name = recipient_name.strip()
    if not name or len(name) > 512:
        raise UnprocessableContent("the corrected name is empty or too long", errors=[field_error("/recipient_name", "1 to 512 characters")])
    await hold_for_signing(session, issuer_id)  # a key rotation waits for this signature (see key_lock)
    issuer = await session.get(Issuer, issuer_id)
    if issuer is None:
        raise NotFound(f"no issuer {issuer_id!r}")
    current = await session.scalar(select(Credential).where(Credential.id == credential_id, Credential.issuer_id == issuer_id))
    if current is None:
        raise NotFound(f"no credential {credential_id!r}")
    if current.revoked_at is not None:
        raise Conflict("this credential is revoked: a revoked credential cannot be corrected")
    if name == (current.recipient_name or "").strip():
        raise UnprocessableContent("the name is unchanged", errors=[field_error("/recipient_name", "the same as the credential's")])
    replacement_id = new_id()
    replacement_url = credential_url(signing.base_url, replacement_id)
    old, revoked = await apply_change(
        session, principal=principal, signing=list_signing, issuer_id=issuer_id, credential_id=credential_id, change="revoke",
        reason=SUPERSEDED, now=now, data={"superseded_by": replacement_id, "superseded_by_url": replacement_url},
    )
    if revoked is None:  # revoked by another request since we looked
        raise Conflict("this credential is revoked: a revoked credential cannot be corrected")
    if note:
        revoked = dataclasses.replace(revoked, private={**revoked.private, "note": note})
    status = (await signing.statuses.slots_for(session, issuer))[0]
    unsigned = corrected_document(
        old.document, credential_id=replacement_id, base_url=signing.base_url, recipient_name=name, now=now,
        status=credential_status(signing.base_url, *status),
    )
    signer = signing.keystore.signer_for(issuer.current_key_id)
    try:
        document = await asyncio.to_thread(issue, unsigned, signer=signer, loader=signing.loader, suite=issuer.cryptosuite, created=now)
    except CredentialError as exc:
        raise UnprocessableContent(f"cannot sign the corrected credential: {exc.message}") from exc
    external_id, old.external_id = old.external_id, None  # unique per issuer: it moves to the replacement
    await session.flush()
    revocation, suspension = status
    new = Credential(
        id=replacement_id,
        issuer_id=issuer_id,
        achievement_id=old.achievement_id,
        achievement_version_id=old.achievement_version_id,
        dedup_key=REISSUE_PREFIX + old.id,
        request_hash=old.request_hash,
        external_id=external_id,
        recipient_email=old.recipient_email,
        recipient_name=name,
        recipient_did=old.recipient_did,
        completed_at=old.completed_at,
        issued_at=now,
        valid_until=old.valid_until,
        cryptosuite=issuer.cryptosuite,
        document=document,
        revocation_list_id=revocation.list_id,
        revocation_index=revocation.index,
        suspension_list_id=suspension.list_id if suspension else None,
        suspension_index=suspension.index if suspension else None,
    )
    session.add(new)
    await session.flush()
    version = await session.scalar(select(AchievementVersion.version).where(AchievementVersion.id == old.achievement_version_id))
    issued = issued_event(
        new, actor=principal.client_id, base_url=signing.base_url, achievement_version=int(version or 0),
        replaces=old.id, replaces_url=credential_url(signing.base_url, old.id),
    )
    await record(session, revoked, issued)
    return Reissued(old=old, new=new)
