"""Endorsing another issuer's profile or achievement, revoking an endorsement, and the
endorsements that credentials embed.

An endorsement is signed once, with the endorser's current key, and holds a slot of the
endorser's revocation list like an award does. Credentials embed the endorsements that stand
when they are awarded (OB 3.0 ``Achievement.endorsement`` and ``Profile.endorsement``); the
published achievement version stays the immutable snapshot it is, and a revoked endorsement is
left out of later awards while the credentials that carry it report it revoked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..achievements.repository import AchievementRepository, PublishedVersion
from ..auth.principal import Principal
from ..awards.document import as_datetime
from ..credentials import CredentialError, DocumentLoader, issue
from ..credentials.endorsement import endorsement_credential
from ..db.base import new_id
from ..db.models import Endorsement
from ..events import Event, record
from ..issuers.key_lock import hold_for_signing
from ..issuers.repository import IssuerRepository
from ..issuers.service import get_issuer, profile
from ..keystore import KeyStore
from ..operations.metrics import SIGNING_SECONDS
from ..problems import NotFound, UnprocessableContent, field_error
from ..status.allocator import Slot, StatusAllocator
from ..status.service import ListSigning, credential_status, revoke_entry
from .repository import EndorsementRepository
from .schemas import EndorsedOut, EndorsementIn, EndorsementOut

__all__ = [
    "EndorsementSigning",
    "StandingEndorsements",
    "create_endorsement",
    "endorsement_out",
    "endorsement_url",
    "get_endorsement",
    "list_endorsements",
    "public_endorsement",
    "revoke_endorsement",
    "standing_endorsements",
]


@dataclass(frozen=True)
class EndorsementSigning:
    keystore: KeyStore
    loader: DocumentLoader
    base_url: str
    statuses: StatusAllocator


def endorsement_url(base_url: str, endorsement_id: str) -> str:
    return f"{base_url}/endorsements/{endorsement_id}"


async def create_endorsement(
    session: AsyncSession, *, principal: Principal, signing: EndorsementSigning, issuer_id: str, data: EndorsementIn, now: datetime
) -> Endorsement:
    """Sign an endorsement by ``issuer_id`` of another issuer's profile or published achievement."""
    principal.require(issuer_id, "manage")
    await hold_for_signing(session, issuer_id)  # a key rotation waits for this signature (see key_lock)
    endorser = await get_issuer(session, principal=principal, issuer_id=issuer_id)
    if data.subject_issuer_id == endorser.id:
        raise UnprocessableContent(
            "an issuer cannot endorse itself", errors=[field_error("/subject_issuer_id", "must be another issuer")]
        )
    endorsed = await IssuerRepository(session).get(data.subject_issuer_id)
    if endorsed is None:
        raise UnprocessableContent(
            f"no issuer {data.subject_issuer_id!r} on this service",
            errors=[field_error("/subject_issuer_id", "not an issuer of this service")],
        )
    if data.subject_achievement_id is None:
        subject_id, subject_name = endorsed.did, endorsed.name
    else:
        version = await AchievementRepository(session).current_version(endorsed.id, data.subject_achievement_id)
        if version is None:
            raise UnprocessableContent(
                f"issuer {endorsed.id!r} has no published achievement {data.subject_achievement_id!r}",
                errors=[field_error("/subject_achievement_id", f"not a published achievement of {endorsed.id}")],
            )
        subject_id, subject_name = version.document["id"], version.document["name"]
    valid_until = as_datetime(data.valid_until) if data.valid_until is not None else None
    if valid_until is not None and valid_until <= now:
        raise UnprocessableContent("valid_until has passed", errors=[field_error("/valid_until", "must lie in the future")])

    endorsement_id = new_id()
    slot = (await signing.statuses.take(session, endorser.id, "revocation", 1))[0]
    try:
        unsigned = endorsement_credential(
            credential_id=endorsement_url(signing.base_url, endorsement_id),
            issuer=profile(endorser),
            subject_id=subject_id,
            name=data.name or f"Endorsement of {subject_name}",
            valid_from=now,
            comment=data.endorsement_comment,
            valid_until=valid_until,
            credential_status=_entry(signing.base_url, slot),
        )
        signer = signing.keystore.signer_for(endorser.current_key_id)
        with SIGNING_SECONDS.labels("endorsement").time():
            document = issue(unsigned, signer=signer, loader=signing.loader, suite=endorser.cryptosuite, created=now)
    except (ValueError, CredentialError) as exc:  # what the endorser's profile or the values make unsignable
        message = exc.message if isinstance(exc, CredentialError) else str(exc).splitlines()[0]
        raise UnprocessableContent(f"cannot sign this endorsement: {message}") from None
    row = Endorsement(
        id=endorsement_id,
        issuer_id=endorser.id,
        subject_kind="profile" if data.subject_achievement_id is None else "achievement",
        subject_issuer_id=endorsed.id,
        subject_achievement_id=data.subject_achievement_id,
        comment=data.endorsement_comment,
        document=document,
        valid_until=valid_until,
        revocation_list_id=slot.list_id,
        revocation_index=slot.index,
        created_at=now,
    )
    await EndorsementRepository(session).add(row)
    await record(
        session,
        Event(
            type="endorsement.issued", issuer_id=endorser.id, actor=principal.client_id, subject=row.id, at=now,
            data={"endorsed": subject_id, "subject_issuer_id": endorsed.id, "subject_achievement_id": data.subject_achievement_id},
        ),
    )
    return row


def _entry(base_url: str, slot: Slot) -> dict[str, Any]:
    entry = credential_status(base_url, slot, None)
    assert isinstance(entry, dict)  # one entry: endorsements are revoked, never suspended
    return entry


async def list_endorsements(session: AsyncSession, *, principal: Principal, issuer_id: str) -> Sequence[Endorsement]:
    """The endorsements ``issuer_id`` gave, oldest first."""
    await get_issuer(session, principal=principal, issuer_id=issuer_id)
    return await EndorsementRepository(session).by_endorser(issuer_id)


async def get_endorsement(session: AsyncSession, *, principal: Principal, issuer_id: str, endorsement_id: str) -> Endorsement:
    await get_issuer(session, principal=principal, issuer_id=issuer_id)
    endorsement = await EndorsementRepository(session).get(issuer_id, endorsement_id)
    if endorsement is None:
        raise NotFound(f"no endorsement {endorsement_id!r}")
    return endorsement


async def revoke_endorsement(
    session: AsyncSession, *, principal: Principal, signing: ListSigning, issuer_id: str, endorsement_id: str, now: datetime
) -> Endorsement:
    """Revoke for good: its bit is set in the endorser's revocation list (re-signed at once), and
    credentials awarded from now on no longer embed it. Repeating it changes nothing."""
    principal.require(issuer_id, "revoke")
    await get_issuer(session, principal=principal, issuer_id=issuer_id)
    endorsement = await EndorsementRepository(session).get(issuer_id, endorsement_id, for_update=True)
    if endorsement is None:
        raise NotFound(f"no endorsement {endorsement_id!r}")
    if endorsement.revoked_at is None:
        endorsement.revoked_at = now
        await revoke_entry(session, signing=signing, slot=Slot(endorsement.revocation_list_id, endorsement.revocation_index), now=now)
        await record(
            session,
            Event(type="endorsement.revoked", issuer_id=issuer_id, actor=principal.client_id, subject=endorsement.id, at=now),
        )
    return endorsement


async def public_endorsement(session: AsyncSession, endorsement_id: str) -> Endorsement:
    endorsement = await EndorsementRepository(session).by_id(endorsement_id)
    if endorsement is None:
        raise NotFound(f"no endorsement {endorsement_id!r}")
    return endorsement


def endorsement_out(endorsement: Endorsement, *, base_url: str) -> EndorsementOut:
    return EndorsementOut(
        id=endorsement.id,
        url=endorsement_url(base_url, endorsement.id),
        issuer_id=endorsement.issuer_id,
        subject=EndorsedOut(
            kind=endorsement.subject_kind,  # type: ignore[arg-type]
            id=endorsement.document["credentialSubject"]["id"],
            issuer_id=endorsement.subject_issuer_id,
            achievement_id=endorsement.subject_achievement_id,
        ),
        endorsement_comment=endorsement.comment,
        status="revoked" if endorsement.revoked_at else "active",
        created_at=endorsement.created_at,
        valid_until=endorsement.valid_until,
        revoked_at=endorsement.revoked_at,
        credential=endorsement.document,
    )


# -- what credentials embed ----------------------------------------------------------------------


@dataclass(frozen=True)
class StandingEndorsements:
    """The endorsements of one issuer's profile and achievements that stand now, ready to embed."""

    profile: list[dict[str, Any]]
    achievements: dict[str, list[dict[str, Any]]]

    def on_profile(self, document: dict[str, Any]) -> dict[str, Any]:
        """The issuer's OB 3.0 Profile carrying its endorsements (a new dict)."""
        return {**document, "endorsement": self.profile} if self.profile else document

    def on_achievement(self, achievement_id: str, document: dict[str, Any]) -> dict[str, Any]:
        """An OB 3.0 Achievement carrying its endorsements (a new dict; the stored snapshot is
        untouched). Each published version has its own id, and an endorsement is about the one
        it names: after an edit, the endorser has not vouched for the new text, and a verifier
        would refuse an endorsement about another id than the achievement carrying it."""
        found = [e for e in self.achievements.get(achievement_id, ()) if _subject_id(e) == document.get("id")]
        return {**document, "endorsement": found} if found else document

    def on_version(self, version: PublishedVersion) -> PublishedVersion:
        """The published version as an award embeds it: with the achievement's endorsements."""
        document = self.on_achievement(version.achievement_id, version.document)
        return version if document is version.document else dataclasses.replace(version, document=document)


def _subject_id(endorsement: dict[str, Any]) -> Any:
    subject = endorsement.get("credentialSubject")
    return subject.get("id") if isinstance(subject, dict) else None


async def standing_endorsements(session: AsyncSession, issuer_id: str, *, now: datetime) -> StandingEndorsements:
    """One query for all of an issuer's standing endorsements (once per award, or per bulk chunk)."""
    on_profile: list[dict[str, Any]] = []
    on_achievements: dict[str, list[dict[str, Any]]] = {}
    for achievement_id, document in await EndorsementRepository(session).standing(issuer_id, now=now):
        if achievement_id is None:
            on_profile.append(document)
        else:
            on_achievements.setdefault(achievement_id, []).append(document)
    return StandingEndorsements(on_profile, on_achievements)
