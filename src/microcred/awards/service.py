"""Awarding credentials, once.

Every award has a deduplication key, unique per issuer in the database: the caller's
Idempotency-Key, else its ``external_id``, else the award's natural key (achievement, learner,
completion date). The ``external_id`` is unique per issuer on its own too, whatever key came
with it. A retry finds the first credential (200), the same key or external id with a different
body is a conflict (409), and two identical requests racing on different workers meet at a
unique constraint: one inserts, the other reads what it inserted.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import rfc8785
from pydantic import ValidationError
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..achievements.repository import AchievementRepository, PublishedVersion
from ..auth.principal import Principal
from ..credentials import CredentialError, DocumentLoader, eu_elements, issue
from ..db.base import new_id
from ..db.models import AchievementVersion, Credential, Issuer
from ..endorsements.service import StandingEndorsements, standing_endorsements
from ..events import Event, record
from ..issuers.key_lock import hold_for_signing
from ..issuers.service import get_issuer, profile
from ..keystore import KeyStore
from ..pathways.completion import after_awards
from ..pagination import decode_cursor, encode_cursor
from ..problems import BadRequest, Conflict, NotFound, ProblemError, UnprocessableContent, body_pointer, field_error
from .document import as_datetime, credential_document, credential_url, issued_event
from .language import choose, learner_languages
from .repository import CredentialRepository
from ..status.allocator import StatusAllocator, StatusSlots
from ..status.service import credential_state, credential_status
from ..operations.metrics import SIGNING_SECONDS
from .signing_pool import SigningPool
from ..status.schemas import CredentialState
from .schemas import AwardIn, AwardOut, CredentialPage, CredentialSummary

__all__ = ["AwardResult", "Signing", "award", "award_out", "dedup_key", "list_credentials", "request_hash"]


_ISSUER = select(Issuer).where(Issuer.id == bindparam("issuer_id"))


@dataclass(frozen=True)
class Signing:
    """What signing needs besides the database: keys, contexts and the public base URL."""

    keystore: KeyStore
    loader: DocumentLoader
    base_url: str
    #: Hands out the credentials' status list entries (revocation, and suspension if offered).
    statuses: StatusAllocator
    #: Signs bulk chunks on every core; None signs in a thread of this process.
    pool: SigningPool | None = None


@dataclass(frozen=True)
class AwardResult:
    credential: Credential
    achievement_version: int
    created: bool


def request_hash(data: AwardIn) -> str:
    return hashlib.sha256(rfc8785.dumps(data.model_dump(mode="json", exclude_none=True))).hexdigest()


def dedup_key(data: AwardIn, idempotency_key: str | None = None) -> str:
    if idempotency_key:
        return "key:" + idempotency_key
    if data.external_id:
        return "external:" + data.external_id
    learner = data.recipient.email.lower() if data.recipient.email else data.recipient.did
    natural = [data.achievement_id, learner, as_datetime(data.completion_date).isoformat()]
    return "natural:" + hashlib.sha256(rfc8785.dumps(natural)).hexdigest()


def _same_request(existing: Credential, digest: str, *, by_external_id: bool = False) -> Credential:
    if existing.request_hash != digest:
        where = field_error("/external_id", "reused with another body") if by_external_id else {"header": "Idempotency-Key", "detail": "reused with another body"}
        raise Conflict(
            f"this {'external_id' if by_external_id else 'Idempotency-Key or external_id'} was already used for a different award",
            errors=[where],
            credential_id=existing.id,
        )
    return existing


async def _awarded_before(repository: CredentialRepository, issuer_id: str, *, key: str, external_id: str | None) -> tuple[Credential, bool] | None:
    """The credential an award that could not be inserted met: by its dedup key, else by its
    external id (awarded under another Idempotency-Key, or none); and whether it was the latter."""
    existing = await repository.by_dedup_key(issuer_id, key)
    if existing is not None:
        return existing, False
    if external_id is not None and (existing := await repository.by_external_id(issuer_id, external_id)) is not None:
        return existing, True
    return None


async def _version(session: AsyncSession, issuer_id: str, achievement_id: str) -> PublishedVersion:
    version = await AchievementRepository(session).current_version(issuer_id, achievement_id)
    if version is None:
        raise UnprocessableContent(
            f"no published achievement {achievement_id!r}",
            errors=[field_error("/achievement_id", "not a published achievement of this issuer")],
        )
    if version.retired:
        raise UnprocessableContent(
            f"achievement {achievement_id!r} is retired: it awards no new credentials (those already issued stay valid)",
            errors=[field_error("/achievement_id", "retired: no new awards")],
        )
    return version


async def _in_language(session: AsyncSession, issuer: Issuer, data: AwardIn, version: PublishedVersion) -> PublishedVersion:
    """The version in the language this award's credential is written in (see awards.language);
    an achievement in one language only needs no look-up."""
    if not version.translations:
        return version
    email = data.recipient.email.lower() if data.recipient.email else None
    known = await learner_languages(session, [email]) if email else {}
    return version.in_language(choose(learner=known.get(email or ""), requested=data.language, issuer_default=issuer.default_language))


def _unsigned(
    data: AwardIn,
    *,
    issuer: Issuer,
    version: PublishedVersion,
    signing: Signing,
    credential_id: str,
    now: datetime,
    status: StatusSlots,
    issuer_profile: dict[str, Any] | None = None,
) -> dict[str, Any]:
    document = credential_document(
        data,
        credential_id=credential_id,
        base_url=signing.base_url,
        issuer_profile=issuer_profile or profile(issuer),
        achievement=version.document,
        hash_email=issuer.hash_recipient_emails,
        now=now,
        extension_context=eu_elements.extension_context_url(signing.base_url) if issuer.extension_context else None,
    )
    document["credentialStatus"] = credential_status(signing.base_url, *status)
    return document


def sign_award(
    data: AwardIn, *, issuer: Issuer, version: PublishedVersion, signing: Signing, credential_id: str, now: datetime, status: StatusSlots,
    issuer_profile: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build and sign one credential (CPU only; safe to run in a worker thread)."""
    document = _unsigned(
        data, issuer=issuer, version=version, signing=signing, credential_id=credential_id, now=now, status=status,
        issuer_profile=issuer_profile,
    )
    signer = signing.keystore.signer_for(issuer.current_key_id)
    with SIGNING_SECONDS.labels("credential").time():
        return issue(document, signer=signer, loader=signing.loader, suite=issuer.cryptosuite, created=now)


def _row(
    data: AwardIn, *, issuer: Issuer, version: PublishedVersion, key: str, digest: str, credential_id: str,
    document: dict[str, Any], now: datetime, status: StatusSlots, job_id: str | None = None,
) -> Credential:
    revocation, suspension = status
    return Credential(
        revocation_list_id=revocation.list_id,
        revocation_index=revocation.index,
        suspension_list_id=suspension.list_id if suspension else None,
        suspension_index=suspension.index if suspension else None,
        id=credential_id,
        issuer_id=issuer.id,
        achievement_id=version.achievement_id,
        achievement_version_id=version.id,
        dedup_key=key,
        request_hash=digest,
        external_id=data.external_id,
        recipient_email=data.recipient.email.lower() if data.recipient.email else None,
        recipient_name=data.recipient.name,
        recipient_did=data.recipient.did,
        completed_at=as_datetime(data.completion_date),
        issued_at=now,
        valid_until=as_datetime(data.valid_until) if data.valid_until else None,
        cryptosuite=issuer.cryptosuite,
        document=document,
        job_id=job_id,
    )


async def award(
    session: AsyncSession,
    *,
    principal: Principal,
    signing: Signing,
    issuer_id: str,
    data: AwardIn,
    idempotency_key: str | None,
    now: datetime,
) -> AwardResult:
    principal.require(issuer_id, "award")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        raise BadRequest("Idempotency-Key must be 1 to 200 characters", errors=[{"header": "Idempotency-Key", "detail": "1-200 characters"}])
    await hold_for_signing(session, issuer_id)  # a key rotation waits for this award (see key_lock)
    issuer = await session.scalar(_ISSUER, {"issuer_id": issuer_id})
    if issuer is None:
        raise NotFound(f"no issuer {issuer_id!r}")
    key, digest = dedup_key(data, idempotency_key), request_hash(data)
    repository = CredentialRepository(session)
    version = await _in_language(session, issuer, data, await _version(session, issuer.id, data.achievement_id))
    endorsed = await standing_endorsements(session, issuer.id, now=now)  # embedded as they stand now
    version = endorsed.on_version(version)
    credential_id = new_id()
    status = (await signing.statuses.slots_for(session, issuer))[0]
    # Sign first and let the unique (issuer, dedup key) constraint decide: new awards (the
    # common case) cost one INSERT; a retry costs a signature (and status indexes) it throws
    # away, then one read.
    document = sign_award(
        data, issuer=issuer, version=version, signing=signing, credential_id=credential_id, now=now, status=status,
        issuer_profile=endorsed.on_profile(profile(issuer)),
    )
    row = _row(
        data, issuer=issuer, version=version, key=key, digest=digest, credential_id=credential_id, document=document, now=now, status=status
    )
    if not await repository.insert_unless_awarded(row):
        found = await _awarded_before(repository, issuer.id, key=key, external_id=data.external_id)
        if found is None:  # cannot happen: the conflict was on this key or external id
            raise Conflict("the award conflicted with another that is no longer there; retry")
        existing, by_external_id = found
        return await _result(session, _same_request(existing, digest, by_external_id=by_external_id), created=False)
    completed = await after_awards(session, signing, [row], now)  # the pathways this award completes, if any
    await record(session, issued_event(row, actor=principal.client_id, base_url=signing.base_url, achievement_version=version.version), *completed)
    return AwardResult(credential=row, achievement_version=version.version, created=True)


async def _result(session: AsyncSession, credential: Credential, *, created: bool) -> AwardResult:
    version = await session.get(AchievementVersion, credential.achievement_version_id)
    assert version is not None
    return AwardResult(credential=credential, achievement_version=version.version, created=created)


def award_out(result: AwardResult, *, base_url: str, now: datetime) -> AwardOut:
    c = result.credential
    return AwardOut(
        id=c.id,
        url=credential_url(base_url, c.id),
        issuer_id=c.issuer_id,
        achievement_id=c.achievement_id,
        achievement_version=result.achievement_version,
        external_id=c.external_id,
        issued_at=c.issued_at,
        status=credential_state(c, now=now),
        revoked_at=c.revoked_at,
        suspended_at=c.suspended_at,
        credential=c.document,
    )


# -- many awards at once (bulk jobs) -----------------------------------------------------------


@dataclass(frozen=True)
class RowOutcome:
    status: str  # awarded | duplicate | failed
    credential_id: str | None = None
    error: dict[str, Any] | None = None


def _error(problem: ProblemError) -> dict[str, Any]:
    return {"status": problem.status, "detail": problem.detail, "errors": problem.errors}


def _validation_error(exc: ValidationError) -> dict[str, Any]:
    errors: list[dict[str, str]] = []
    for e in exc.errors():
        pointer = body_pointer(e["loc"])
        if all(error["pointer"] != pointer for error in errors):
            errors.append({"pointer": pointer, "detail": str(e["msg"]).removeprefix("Value error, ")})
    return {"status": 422, "detail": f"{errors[0]['pointer']}: {errors[0]['detail']}", "errors": errors}


async def award_many(
    session: AsyncSession, *, signing: Signing, issuer_id: str, payloads: Sequence[dict[str, Any]], job_id: str, now: datetime
) -> list[RowOutcome]:
    """Award each payload (the body of a single award) and say what became of it. Invalid rows
    fail alone; rows already awarded (by any earlier request or file) are duplicates."""
    await hold_for_signing(session, issuer_id)  # a key rotation waits for this award (see key_lock)
    issuer = await session.scalar(_ISSUER, {"issuer_id": issuer_id})
    if issuer is None:
        return [RowOutcome("failed", error={"status": 404, "detail": f"no issuer {issuer_id!r}"})] * len(payloads)
    outcomes: list[RowOutcome | None] = [None] * len(payloads)
    parsed: list[tuple[int, AwardIn, str, str]] = []
    for index, payload in enumerate(payloads):
        if "_invalid" in payload:  # a row the file reader could not shape (see jobs.parsing)
            detail = payload["_invalid"] if isinstance(payload["_invalid"], str) else "the row is not a JSON object"
            outcomes[index] = RowOutcome("failed", error={"status": 422, "detail": detail, "errors": [{"pointer": "#", "detail": detail}]})
            continue
        try:
            data = AwardIn.model_validate(payload)
        except ValidationError as exc:
            outcomes[index] = RowOutcome("failed", error=_validation_error(exc))
            continue
        parsed.append((index, data, dedup_key(data), request_hash(data)))

    repository = CredentialRepository(session)
    existing = await repository.by_dedup_keys(issuer.id, [key for _, _, key, _ in parsed])
    # An external id awarded under an Idempotency-Key (so under another dedup key) is awarded too.
    external = await repository.by_external_ids(issuer.id, sorted({d.external_id for _, d, _, _ in parsed if d.external_id}))
    endorsed = await standing_endorsements(session, issuer.id, now=now)  # once per chunk, embedded in every row
    issuer_profile = endorsed.on_profile(profile(issuer))
    versions: dict[str, PublishedVersion | ProblemError] = {}
    to_sign: list[tuple[int, AwardIn, str, str, PublishedVersion]] = []
    seen: dict[str, tuple[str, str]] = {}
    for index, data, key, digest in parsed:
        earlier = existing.get(key) or (external.get(data.external_id) if data.external_id else None) or seen.get(key)
        if earlier is not None:
            if earlier[1] == digest:
                outcomes[index] = RowOutcome("duplicate", credential_id=earlier[0])
            else:
                outcomes[index] = RowOutcome(
                    "failed",
                    credential_id=earlier[0],
                    error={"status": 409, "detail": "external_id already used for a different award", "errors": [{"pointer": "#/external_id", "detail": "reused"}]},
                )
            continue
        if data.achievement_id not in versions:
            try:
                versions[data.achievement_id] = await _version(session, issuer.id, data.achievement_id)
            except ProblemError as problem:
                versions[data.achievement_id] = problem
        version = versions[data.achievement_id]
        if isinstance(version, ProblemError):
            outcomes[index] = RowOutcome("failed", error=_error(version))
            continue
        credential_id = new_id()
        seen[key] = (credential_id, digest)
        to_sign.append((index, data, key, digest, version))

    to_sign = await _embedded(session, issuer, endorsed, to_sign)
    statuses = await signing.statuses.slots_for(session, issuer, len(to_sign))

    def sign_all() -> list[dict[str, Any] | ProblemError]:
        signed: list[dict[str, Any] | ProblemError] = []
        for (_, data, key, _, version), status in zip(to_sign, statuses, strict=True):
            try:
                signed.append(
                    sign_award(
                        data, issuer=issuer, version=version, signing=signing, credential_id=seen[key][0], now=now, status=status,
                        issuer_profile=issuer_profile,
                    )
                )
            except ProblemError as problem:
                signed.append(problem)
            except CredentialError as exc:  # the row's values cannot be signed as they are
                signed.append(UnprocessableContent(f"cannot sign this award: {exc.message}"))
        return signed

    if signing.pool is None:
        signed = await asyncio.to_thread(sign_all)
    else:
        signed = await _sign_in_pool(signing, issuer, to_sign, statuses, seen, now, issuer_profile)
    rows: list[tuple[int, Credential]] = []
    for (index, data, key, digest, version), status, document in zip(to_sign, statuses, signed, strict=True):
        if isinstance(document, ProblemError):
            outcomes[index] = RowOutcome("failed", error=_error(document))
            seen.pop(key, None)
            continue
        credential_id = seen[key][0]
        rows.append(
            (
                index,
                _row(
                    data, issuer=issuer, version=version, key=key, digest=digest, credential_id=credential_id,
                    document=document, now=now, status=status, job_id=job_id,
                ),
            )
        )
    try:
        async with session.begin_nested():
            session.add_all([row for _, row in rows])
    except IntegrityError:
        rows = await _insert_one_by_one(session, repository, issuer.id, rows, outcomes)
    for index, row in rows:
        outcomes[index] = RowOutcome("awarded", credential_id=row.id)
    completed = await after_awards(session, signing, [row for _, row in rows], now)  # the pathways these awards complete, if any
    versions_of = {v.id: v.version for v in versions.values() if not isinstance(v, ProblemError)}
    actor = f"job:{job_id}"
    await record(
        session,
        *(issued_event(row, actor=actor, base_url=signing.base_url, achievement_version=versions_of[row.achievement_version_id]) for _, row in rows),
        *completed,
    )
    return [o if o is not None else RowOutcome("failed", error={"status": 500, "detail": "not processed"}) for o in outcomes]


async def _embedded(
    session: AsyncSession, issuer: Issuer, endorsed: StandingEndorsements, to_sign: list[tuple[int, AwardIn, str, str, PublishedVersion]]
) -> list[tuple[int, AwardIn, str, str, PublishedVersion]]:
    """Each row with its achievement as its credential embeds it: in the row's language (one
    query for the learners' settings, only when an achievement has translations), endorsed."""
    emails = {data.recipient.email.lower() for _, data, _, _, version in to_sign if version.translations and data.recipient.email}
    known = await learner_languages(session, emails)
    embedded: dict[tuple[str, str], PublishedVersion] = {}
    out = []
    for index, data, key, digest, version in to_sign:
        language = ""
        if version.translations:
            email = data.recipient.email.lower() if data.recipient.email else ""
            language = choose(learner=known.get(email), requested=data.language, issuer_default=issuer.default_language)
        if (version.id, language) not in embedded:
            embedded[(version.id, language)] = endorsed.on_version(version.in_language(language) if language else version)
        out.append((index, data, key, digest, embedded[(version.id, language)]))
    return out


async def _sign_in_pool(
    signing: Signing,
    issuer: Issuer,
    to_sign: list[tuple[int, AwardIn, str, str, PublishedVersion]],
    statuses: list[StatusSlots],
    seen: dict[str, tuple[str, str]],
    now: datetime,
    issuer_profile: dict[str, Any],
) -> list[dict[str, Any] | ProblemError]:
    assert signing.pool is not None
    out: list[dict[str, Any] | ProblemError] = []
    documents: list[dict[str, Any]] = []
    slots: list[int] = []
    for (_, data, key, _, version), status in zip(to_sign, statuses, strict=True):
        try:
            documents.append(
                _unsigned(
                    data, issuer=issuer, version=version, signing=signing, credential_id=seen[key][0], now=now,
                    status=status, issuer_profile=issuer_profile,
                )
            )
            slots.append(len(out))
            out.append({})
        except ProblemError as problem:
            out.append(problem)
    signed = await signing.pool.sign(documents, verification_method=issuer.current_key_id, suite=issuer.cryptosuite, created=now)
    for slot, result in zip(slots, signed, strict=True):
        out[slot] = result if isinstance(result, dict) else UnprocessableContent(f"cannot sign this award: {result}")
    return out


async def _insert_one_by_one(
    session: AsyncSession, repository: CredentialRepository, issuer_id: str, rows: list[tuple[int, Credential]], outcomes: list[RowOutcome | None]
) -> list[tuple[int, Credential]]:
    """After a conflict in a chunk (an award raced us), insert row by row; the losers are duplicates."""
    inserted = []
    for index, row in rows:
        try:
            async with session.begin_nested():
                session.add(row)
        except IntegrityError:
            found = await _awarded_before(repository, issuer_id, key=row.dedup_key, external_id=row.external_id)
            if found is None:
                raise
            existing = found[0]
            same = existing.request_hash == row.request_hash
            outcomes[index] = RowOutcome(
                "duplicate" if same else "failed",
                credential_id=existing.id,
                error=None if same else {"status": 409, "detail": "already used for a different award"},
            )
            continue
        inserted.append((index, row))
    return inserted


# -- listing ------------------------------------------------------------------------------------


async def list_credentials(
    session: AsyncSession,
    *,
    principal: Principal,
    issuer_id: str,
    base_url: str,
    recipient: str | None = None,
    achievement_id: str | None = None,
    issued_after: datetime | None = None,
    issued_before: datetime | None = None,
    state: CredentialState | None = None,
    cursor: str | None = None,
    limit: int = 50,
    now: datetime,
    learner: str | None = None,
) -> CredentialPage:
    """``learner``: any part of the learner's name or email address (the console's search box);
    ``recipient``: exactly their email address or DID."""
    await get_issuer(session, principal=principal, issuer_id=issuer_id)
    email = did = None
    if recipient is not None:
        did, email = (recipient, None) if recipient.startswith("did:") else (None, recipient.strip().lower())
    rows = await CredentialRepository(session).page(
        issuer_id,
        recipient_email=email,
        recipient_did=did,
        achievement_id=achievement_id,
        issued_after=as_datetime(issued_after) if issued_after else None,
        issued_before=as_datetime(issued_before) if issued_before else None,
        after=decode_cursor(cursor) if cursor else None,
        limit=limit + 1,
        state=state,
        now=now,
        learner=learner.strip() if learner and learner.strip() else None,
    )
    items = [
        CredentialSummary(
            id=c.id,
            url=credential_url(base_url, c.id),
            achievement_id=c.achievement_id,
            achievement_version=version,
            recipient_email=c.recipient_email,
            recipient_name=c.recipient_name,
            recipient_did=c.recipient_did,
            external_id=c.external_id,
            completed_at=c.completed_at,
            issued_at=c.issued_at,
            valid_until=c.valid_until,
            status=credential_state(c, now=now),
            revoked_at=c.revoked_at,
            suspended_at=c.suspended_at,
        )
        for c, version in rows[:limit]
    ]
    more = len(rows) > limit
    return CredentialPage(items=items, next_cursor=encode_cursor(items[-1].issued_at, items[-1].id) if more and items else None)


async def get_credential(session: AsyncSession, *, principal: Principal, issuer_id: str, credential_id: str) -> AwardResult:
    await get_issuer(session, principal=principal, issuer_id=issuer_id)
    credential = await CredentialRepository(session).get(issuer_id, credential_id)
    if credential is None:
        raise NotFound(f"no credential {credential_id!r}")
    return await _result(session, credential, created=False)
