"""Name-correction requests: a learner asks from the backpack; the issuer's staff approve (the
credential is corrected and reissued by :func:`awards.reissue.correct_and_reissue`, audit-logged
with the staff member as actor) or decline (audit-logged too); the learner sees the outcome."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..awards.reissue import correct_and_reissue
from ..awards.service import Signing
from ..db.base import new_id
from ..db.models import Credential, Learner, NameCorrection
from ..events import Event, record
from ..i18n import gettext
from ..problems import BadRequest, Conflict, NotFound, field_error
from ..status.service import ListSigning
from ..tokens import new_token
from .service import addresses

__all__ = ["approve", "decline", "for_learner", "pending", "request_correction"]


async def request_correction(session: AsyncSession, learner: Learner, *, credential_id: str, name: str, note: str, now: datetime) -> NameCorrection:
    credential = await session.get(Credential, credential_id)
    if credential is None or credential.recipient_email not in await addresses(session, learner):
        raise NotFound(gettext("That credential is not in your backpack."))
    name, note = name.strip(), note.strip()
    if not name or len(name) > 512:
        raise BadRequest(gettext("Enter your name as it should read (at most 512 characters)."), errors=[field_error("/name", "1 to 512 characters")])
    if credential.revoked_at is not None:
        raise Conflict(gettext("This credential is revoked: its name cannot be corrected."))
    if name == (credential.recipient_name or "").strip():
        raise BadRequest(gettext("That is the name the credential already carries."), errors=[field_error("/name", "unchanged")])
    waiting = await session.scalar(select(NameCorrection.id).where(NameCorrection.credential_id == credential.id, NameCorrection.status == "pending"))
    if waiting is not None:
        raise Conflict("A correction of this credential's name is already waiting for the issuer.")
    correction = NameCorrection(
        id=new_id(), issuer_id=credential.issuer_id, credential_id=credential.id, learner_id=learner.id, requested_name=name,
        note=note[:1000] or None, status="pending", created_at=now,
    )
    session.add(correction)
    await session.flush()
    return correction


async def for_learner(session: AsyncSession, learner: Learner) -> list[NameCorrection]:
    """The learner's requests, newest first (the backpack shows their outcome)."""
    return list(await session.scalars(select(NameCorrection).where(NameCorrection.learner_id == learner.id).order_by(NameCorrection.created_at.desc())))


async def pending(session: AsyncSession, issuer_id: str) -> list[tuple[NameCorrection, Credential]]:
    rows = await session.execute(
        select(NameCorrection, Credential)
        .join(Credential, Credential.id == NameCorrection.credential_id)
        .where(NameCorrection.issuer_id == issuer_id, NameCorrection.status == "pending")
        .order_by(NameCorrection.created_at)
    )
    return [(correction, credential) for correction, credential in rows]


async def _pending_one(session: AsyncSession, issuer_id: str, correction_id: str) -> NameCorrection:
    correction = await session.get(NameCorrection, correction_id)
    if correction is None or correction.issuer_id != issuer_id:
        raise NotFound("There is no such request.")
    if correction.status != "pending":
        raise Conflict(f"This request was {correction.status} already.")
    return correction


async def approve(
    session: AsyncSession, *, principal: Principal, signing: Signing, list_signing: ListSigning, issuer_id: str, correction_id: str, now: datetime
) -> NameCorrection:
    """Reissue the credential with the requested name; the replacement keeps the old one's
    visibility (an unlisted one gets a secret of its own)."""
    correction = await _pending_one(session, issuer_id, correction_id)
    note = "name correction requested by the learner" + (f": {correction.note}" if correction.note else "")
    done = await correct_and_reissue(
        session, principal=principal, signing=signing, list_signing=list_signing, issuer_id=issuer_id,
        credential_id=correction.credential_id, recipient_name=correction.requested_name, note=note, now=now,
    )
    done.new.visibility = done.old.visibility
    done.new.page_secret = new_token() if done.old.visibility == "unlisted" else None
    correction.status, correction.decided_at, correction.decided_by, correction.replacement_id = "approved", now, principal.client_id, done.new.id
    await session.flush()
    return correction


async def decline(session: AsyncSession, *, principal: Principal, issuer_id: str, correction_id: str, now: datetime) -> NameCorrection:
    principal.require(issuer_id, "award")
    correction = await _pending_one(session, issuer_id, correction_id)
    correction.status, correction.decided_at, correction.decided_by = "declined", now, principal.client_id
    await session.flush()
    await record(
        session,
        Event(type="credential.name_correction_declined", issuer_id=issuer_id, actor=principal.client_id, subject=correction.credential_id, at=now,
              private={"requested_name": correction.requested_name}),
    )
    return correction
