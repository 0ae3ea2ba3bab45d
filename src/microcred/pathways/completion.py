"""Completing pathways: the pathway credential, issued once per learner, in the transaction of
the award that completed it (or, for awards made before the pathway, by an evaluation job).

A learner is one identity across issuers: the lower-cased email of their awards, or their DID
when an award names no email. A component counts while its credential is neither revoked nor
suspended nor expired, so a revoked course never completes a pathway; a course revoked after
completion leaves the pathway credential standing (verifiers see it flagged).

Exactly once: the pathway credential's deduplication key (``pathway:<id>:<learner>``) is unique
per issuer, and on PostgreSQL the evaluation holds a transaction-scoped advisory lock per learner
from before it reads their credentials to the commit. Two of a learner's courses completing at
the same moment under READ COMMITTED would otherwise each see only their own new credential and
neither would issue; with the lock the second waits, then reads the first's committed award and
issues. On SQLite every write transaction is exclusive already.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..achievements.repository import AchievementRepository, PublishedVersion
from ..awards.document import as_datetime, credential_document, credential_json, credential_url, issued_event
from ..awards.repository import CredentialRepository
from ..awards.language import choose, learner_languages
from ..awards.schemas import AwardIn, RecipientIn
from ..credentials import CredentialError, Signer, eu_elements, issue
from ..credentials.related import digest_multibase
from ..db.base import new_id
from ..db.models import Credential, Issuer, Pathway, PathwayCompletion, PathwayComponent
from ..endorsements.service import standing_endorsements
from ..issuers.key_lock import hold_for_signing
from ..issuers.service import profile
from ..operations.metrics import SIGNING_SECONDS
from ..problems import Conflict, ProblemError
from ..status.allocator import StatusSlots
from ..status.service import credential_status
from .repository import ComponentCredential, PathwayRepository

if TYPE_CHECKING:  # awards.service calls after_awards: a runtime import would be circular
    from ..awards.service import Signing

__all__ = ["COMPONENT_MEDIA_TYPE", "Learner", "LearnerOutcome", "after_awards", "evaluate_learners"]

log = logging.getLogger("microcred.pathways")

#: What a pathway credential's relatedResource says its components are (and what their URLs
#: serve when asked for it).
COMPONENT_MEDIA_TYPE = "application/vc+ld+json"

Loaded = tuple[Pathway, list[PathwayComponent]]


@dataclass(frozen=True)
class Learner:
    email: str | None
    did: str | None

    @classmethod
    def of(cls, email: str | None, did: str | None) -> Learner | None:
        if email:
            return cls(email.lower(), None)
        return cls(None, did) if did else None

    @property
    def key(self) -> str:
        """What completions and deduplication keys record: a digest, never the email itself."""
        name = f"email:{self.email}" if self.email else f"did:{self.did}"
        return hashlib.sha256(name.encode()).hexdigest()

    @property
    def lock_key(self) -> int:
        return int.from_bytes(bytes.fromhex(self.key[:8]), "big", signed=True)

    def payload(self) -> dict[str, str]:
        return {"email": self.email} if self.email else {"did": self.did or ""}


@dataclass(frozen=True)
class LearnerOutcome:
    """What an evaluation did for one learner (the shape of a job row's outcome)."""

    status: str  # awarded (issued now) | duplicate (issued before) | incomplete | failed
    credential_id: str | None = None
    error: dict[str, Any] | None = None


@dataclass(frozen=True)
class _Completed:
    pathway: Pathway
    learner: Learner
    #: the credential that counts for each component the learner holds, in component order
    counted: list[ComponentCredential]


def _needed(pathway: Pathway, components: Sequence[PathwayComponent]) -> int:
    return pathway.min_count if pathway.rule == "at_least" and pathway.min_count else len(components)


async def after_awards(session: AsyncSession, signing: Signing, credentials: Sequence[Credential], now: datetime) -> list[events.Event]:
    """Issue the pathway credentials these newly inserted credentials complete, in their
    transaction, and return their events for the caller to record with its own (one record per
    transaction: a pathway may be another issuer's, and its chain's head is then locked with the
    award's, in one order). One indexed query when none of their achievements is in an active
    pathway."""
    if not credentials:
        return []
    touched = await PathwayRepository(session).touched_by(sorted({c.achievement_id for c in credentials}))
    if not touched:
        return []
    wanted: dict[str, set[Learner]] = defaultdict(set)
    for credential in credentials:
        learner = Learner.of(credential.recipient_email, credential.recipient_did)
        if learner is None:
            continue
        for pathway_id, (_, components) in touched.items():
            if any(component.achievement_id == credential.achievement_id for component in components):
                wanted[pathway_id].add(learner)
    issued: list[events.Event] = []
    outcomes = await _settle(session, signing, touched, wanted, now=now, into=issued)
    for (pathway_id, _), outcome in outcomes.items():
        if outcome.status == "failed":  # the award itself stands
            log.warning("pathway %s: a completion could not be issued: %s", pathway_id, outcome.error)
    return issued


async def evaluate_learners(
    session: AsyncSession, *, signing: Signing, pathway_id: str, learners: Sequence[dict[str, Any]], job_id: str | None, now: datetime
) -> list[LearnerOutcome]:
    """Evaluate one pathway for these learners (job rows: ``{"email": ...}`` or ``{"did": ...}``)."""
    pathway = await session.get(Pathway, pathway_id)
    if pathway is None or pathway.status != "active":
        gone = {"status": 409, "detail": "the pathway was archived" if pathway else "the pathway no longer exists"}
        return [LearnerOutcome("failed", error=gone)] * len(learners)
    components = (await PathwayRepository(session).components([pathway_id]))[pathway_id]
    parsed = [Learner.of(row.get("email"), row.get("did")) for row in learners]
    wanted = {pathway_id: {learner for learner in parsed if learner is not None}}
    issued: list[events.Event] = []
    outcomes = await _settle(session, signing, {pathway_id: (pathway, components)}, wanted, now=now, job_id=job_id, into=issued)
    await events.record(session, *issued)
    return [
        outcomes[(pathway_id, learner.key)] if learner is not None else LearnerOutcome("failed", error={"status": 422, "detail": "no email or did"})
        for learner in parsed
    ]


async def _settle(
    session: AsyncSession,
    signing: Signing,
    pathways: dict[str, Loaded],
    wanted: dict[str, set[Learner]],
    *,
    now: datetime,
    job_id: str | None = None,
    into: list[events.Event],
) -> dict[tuple[str, str], LearnerOutcome]:
    """Evaluate each pathway for each of its wanted learners, and issue what is complete (its
    events go ``into`` the list, to be recorded by the transaction's one record call)."""
    repository = PathwayRepository(session)
    learners = {learner for group in wanted.values() for learner in group}
    await repository.lock_learners([learner.lock_key for learner in learners])
    # Every read from here on starts after the locks are held: it sees what other transactions
    # committed for these learners while we waited.
    done = await repository.completions(list(wanted), [learner.key for learner in learners])
    outcomes: dict[tuple[str, str], LearnerOutcome] = {}
    pending: list[tuple[str, Learner]] = []
    for pathway_id, group in wanted.items():
        for learner in group:
            if (pathway_id, learner.key) in done:
                outcomes[(pathway_id, learner.key)] = LearnerOutcome("duplicate", done[(pathway_id, learner.key)])
            else:
                pending.append((pathway_id, learner))
    if not pending:
        return outcomes

    components = [c for pathway_id in {p for p, _ in pending} for c in pathways[pathway_id][1]]
    held = await repository.counting_credentials(
        issuer_ids=sorted({c.issuer_id for c in components}),
        achievement_ids=sorted({c.achievement_id for c in components}),
        emails=sorted({learner.email for _, learner in pending if learner.email}),
        dids=sorted({learner.did for _, learner in pending if learner.did}),
        now=now,
    )
    latest: dict[Learner, dict[str, ComponentCredential]] = defaultdict(dict)
    for credential in held:
        holder = Learner.of(credential.recipient_email, credential.recipient_did)
        assert holder is not None  # matched by email or DID
        known = latest[holder].get(credential.achievement_id)
        if known is None or (credential.issued_at, credential.id) > (known.issued_at, known.id):
            latest[holder][credential.achievement_id] = credential

    complete: list[_Completed] = []
    for pathway_id, learner in pending:
        pathway, pathway_components = pathways[pathway_id]
        counted = [latest[learner][c.achievement_id] for c in pathway_components if c.achievement_id in latest[learner]]
        if len(counted) >= _needed(pathway, pathway_components):
            complete.append(_Completed(pathway, learner, counted))
        else:
            outcomes[(pathway_id, learner.key)] = LearnerOutcome("incomplete")
    if complete:
        outcomes.update(await _issue(session, signing, complete, now=now, job_id=job_id, into=into))
    return outcomes


async def _issue(
    session: AsyncSession, signing: Signing, complete: list[_Completed], *, now: datetime, job_id: str | None, into: list[events.Event]
) -> dict[tuple[str, str], LearnerOutcome]:
    repository = PathwayRepository(session)
    documents = await repository.documents(sorted({c.id for done in complete for c in done.counted}))
    outcomes: dict[tuple[str, str], LearnerOutcome] = {}
    issued: list[Credential] = []
    version_numbers: dict[str, int] = {}  # achievement version id -> its number, for the events
    by_issuer: dict[str, list[_Completed]] = defaultdict(list)
    for done in complete:
        by_issuer[done.pathway.issuer_id].append(done)
    for issuer_id, group in by_issuer.items():
        await hold_for_signing(session, issuer_id)  # a key rotation waits for this award (see key_lock)
        issuer = await session.scalar(select(Issuer).where(Issuer.id == issuer_id).execution_options(populate_existing=True))
        assert issuer is not None  # pathways go with their issuer
        endorsed = await standing_endorsements(session, issuer_id, now=now)  # embedded as in any award
        issuer_profile = endorsed.on_profile(profile(issuer))
        versions: dict[str, PublishedVersion | None] = {}
        for done in group:
            if done.pathway.achievement_id not in versions:
                version = await AchievementRepository(session).current_version(issuer_id, done.pathway.achievement_id)
                versions[done.pathway.achievement_id] = version
                if version:
                    version_numbers[version.id] = version.version
        translated = {achievement_id for achievement_id, v in versions.items() if v is not None and v.translations}
        known = await learner_languages(
            session, {done.learner.email for done in group if done.learner.email and done.pathway.achievement_id in translated}
        )
        embedded: dict[tuple[str, str], PublishedVersion] = {}
        slots = await signing.statuses.slots_for(session, issuer, len(group))
        unsigned: list[tuple[_Completed, Credential]] = []
        for done, status in zip(group, slots, strict=True):
            version = versions[done.pathway.achievement_id]
            if version is not None:
                language = _language(done, version, documents, known, issuer) if version.translations else ""
                if (version.id, language) not in embedded:
                    embedded[(version.id, language)] = endorsed.on_version(version.in_language(language) if language else version)
                version = embedded[(version.id, language)]
            try:
                if version is None:  # published achievements stay published: cannot happen
                    raise Conflict("the pathway's achievement is not published")
                if version.retired:
                    raise Conflict("the pathway's achievement is retired: it awards no new credentials")
                row = _unsigned(
                    done, issuer=issuer, issuer_profile=issuer_profile, version=version, status=status,
                    documents=documents, signing=signing, now=now,
                )
            except (ProblemError, ValidationError) as exc:
                detail = exc.detail if isinstance(exc, ProblemError) else f"the components' recipient does not make an award: {exc}"
                outcomes[(done.pathway.id, done.learner.key)] = LearnerOutcome("failed", error={"status": 422, "detail": detail})
                continue
            row.job_id = job_id
            unsigned.append((done, row))

        signer = signing.keystore.signer_for(issuer.current_key_id)
        signed_all = await asyncio.to_thread(_sign, [row.document for _, row in unsigned], signer=signer, signing=signing, suite=issuer.cryptosuite, now=now)
        for (done, row), signed in zip(unsigned, signed_all, strict=True):
            key = (done.pathway.id, done.learner.key)
            if isinstance(signed, str):
                outcomes[key] = LearnerOutcome("failed", error={"status": 422, "detail": f"cannot sign the pathway credential: {signed}"})
                continue
            row.document = signed
            if not await CredentialRepository(session).insert_unless_awarded(row):
                existing = await CredentialRepository(session).by_dedup_key(issuer_id, row.dedup_key)
                outcomes[key] = LearnerOutcome("duplicate", existing.id if existing else None)
                continue
            session.add(PathwayCompletion(pathway_id=done.pathway.id, recipient_key=done.learner.key, credential_id=row.id, completed_at=now))
            outcomes[key] = LearnerOutcome("awarded", row.id)
            issued.append(row)
    await session.flush()
    into.extend(event for row in issued for event in _events(row, version_numbers[row.achievement_version_id], now, signing.base_url))
    # A pathway credential may itself be a component of another pathway.
    into.extend(await after_awards(session, signing, issued, now))
    return outcomes


def _language(
    done: _Completed, version: PublishedVersion, documents: dict[str, dict[str, Any]], known: dict[str, str], issuer: Issuer
) -> str:
    """The pathway credential's language: the learner's setting, else the language the latest
    counted course credential was written in, else the issuer's default (see awards.language)."""
    latest = max(done.counted, key=lambda c: (c.issued_at, c.id))
    subject = documents.get(latest.id, {}).get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    written = achievement.get("inLanguage") if isinstance(achievement, dict) else None
    return choose(
        learner=known.get(done.learner.email or ""),
        requested=written if isinstance(written, str) else None,
        issuer_default=issuer.default_language,
    )


def _unsigned(
    done: _Completed,
    *,
    issuer: Issuer,
    issuer_profile: dict[str, Any],
    version: PublishedVersion,
    status: StatusSlots,
    documents: dict[str, dict[str, Any]],
    signing: Signing,
    now: datetime,
) -> Credential:
    """The pathway credential's row, its document not signed yet: the recipient as the latest
    counted award names them, completed when the last counted course was, and each counted
    credential pinned by the digest of the bytes its URL serves."""
    credential_id = new_id()
    latest = max(done.counted, key=lambda c: (c.issued_at, c.id))
    named = max((c for c in done.counted if c.recipient_name), key=lambda c: (c.issued_at, c.id), default=None)
    award = AwardIn(
        achievement_id=version.achievement_id,
        recipient=RecipientIn(email=done.learner.email, did=latest.recipient_did, name=named.recipient_name if named else None),
        completion_date=max(c.completed_at for c in done.counted),
    )
    document = credential_document(
        award, credential_id=credential_id, base_url=signing.base_url, issuer_profile=issuer_profile,
        achievement=version.document, hash_email=issuer.hash_recipient_emails, now=now,
        extension_context=eu_elements.extension_context_url(signing.base_url) if issuer.extension_context else None,
    )
    document["credentialStatus"] = credential_status(signing.base_url, *status)
    document["relatedResource"] = [
        {
            "id": credential_url(signing.base_url, c.id),
            "mediaType": COMPONENT_MEDIA_TYPE,
            "digestMultibase": digest_multibase(credential_json(documents[c.id])),
        }
        for c in done.counted
    ]
    revocation, suspension = status
    return Credential(
        id=credential_id,
        issuer_id=issuer.id,
        achievement_id=version.achievement_id,
        achievement_version_id=version.id,
        dedup_key=f"pathway:{done.pathway.id}:{done.learner.key}",
        request_hash=hashlib.sha256(json.dumps(sorted(c.id for c in done.counted)).encode()).hexdigest(),
        recipient_email=done.learner.email,
        recipient_name=award.recipient.name,
        recipient_did=latest.recipient_did,
        completed_at=as_datetime(award.completion_date),
        issued_at=now,
        cryptosuite=issuer.cryptosuite,
        document=document,
        revocation_list_id=revocation.list_id,
        revocation_index=revocation.index,
        suspension_list_id=suspension.list_id if suspension else None,
        suspension_index=suspension.index if suspension else None,
    )


def _sign(documents: list[dict[str, Any]], *, signer: Signer, signing: Signing, suite: str, now: datetime) -> list[dict[str, Any] | str]:
    """Each document signed, or why it could not be (CPU only: runs in a worker thread)."""
    signed: list[dict[str, Any] | str] = []
    for document in documents:
        try:
            with SIGNING_SECONDS.labels("credential").time():
                signed.append(issue(document, signer=signer, loader=signing.loader, suite=suite, created=now))
        except CredentialError as exc:
            signed.append(exc.message)
    return signed


def _events(row: Credential, version: int, now: datetime, base_url: str) -> list[events.Event]:
    pathway_id = row.dedup_key.split(":")[1]
    return [
        issued_event(row, actor="system", base_url=base_url, achievement_version=version, pathway_id=pathway_id),
        events.Event(
            type="pathway.completed", issuer_id=row.issuer_id, actor="system", subject=row.id, at=now,
            data={"pathway_id": pathway_id, "credential_id": row.id, "url": credential_url(base_url, row.id)},
        ),
    ]
