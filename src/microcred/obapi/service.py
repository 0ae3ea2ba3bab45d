"""The OB 3.0 API's use cases for the learner behind an access token.

getCredentials: the credentials this service awarded to exactly the learner's verified address
(``recipient_email``, kept lower-cased; a credential whose document shows only a hash of the
address is found by that column, never by reversing the hash), with those their hosts upserted.
upsertCredential: a credential is verified first (signature, schema, dates, status) and must
name the learner's address if it names an address at all; then it is kept by its ``id``.
https://www.imsglobal.org/spec/ob/v3p0/#getcredentials
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..awards.document import credential_url
from ..credentials import CredentialError
from ..credentials.ob3 import IdentityObject
from ..credentials.timeutil import parse_datetime
from ..db.base import new_id
from ..db.models import Learner, LearnerCredential
from ..problems import BadRequest
from ..verification.service import Verification
from .repository import CollectionRepository

__all__ = ["CredentialsPage", "Upserted", "list_credentials", "upsert_credential"]

#: Verdicts that say the credential is not what it claims to be (an expired or revoked one is
#: still the learner's record: any verifier reading it later sees its status).
_REFUSED = frozenset({"malformed", "unknown_key", "tampered"})
_TYPES = frozenset({"AchievementCredential", "OpenBadgeCredential"})


@dataclass(frozen=True)
class CredentialsPage:
    credentials: list[dict[str, Any]]
    compact_jws: list[str]
    total: int


async def list_credentials(session: AsyncSession, *, learner: Learner, limit: int, offset: int, since: datetime | None) -> CredentialsPage:
    repository = CollectionRepository(session)
    total = await repository.count(email=learner.email, learner_id=learner.id, since=since)
    entries = await repository.page(email=learner.email, learner_id=learner.id, since=since, limit=limit, offset=offset)
    issued = await repository.issued_documents([row_id for source, row_id in entries if source == "issued"])
    upserted = await repository.upserted([row_id for source, row_id in entries if source == "upserted"])
    documents: list[dict[str, Any]] = []
    jws: list[str] = []
    for source, row_id in entries:
        if source == "issued":
            documents.append(issued[row_id])
        elif (row := upserted[row_id]).compact_jws is not None:
            jws.append(row.compact_jws)
        elif row.document is not None:
            documents.append(row.document)
    return CredentialsPage(credentials=documents, compact_jws=jws, total=total)


@dataclass(frozen=True)
class Upserted:
    #: True: a new entry in the collection (201); False: it replaced one with the same id (200)
    created: bool
    #: what was sent, to answer with
    credential: dict[str, Any] | str


def _names_someone_else(credential: dict[str, Any], email: str) -> bool:
    """The credential names one or more email addresses (plain or hashed) and none is ``email``."""
    subjects = credential.get("credentialSubject")
    addresses = 0
    for subject in subjects if isinstance(subjects, list) else [subjects]:
        identifiers = subject.get("identifier") if isinstance(subject, dict) else None
        for raw in identifiers if isinstance(identifiers, list) else [identifiers]:
            if not isinstance(raw, dict) or raw.get("identityType") != "emailAddress":
                continue
            addresses += 1
            try:
                if IdentityObject.model_validate(raw).matches(email):
                    return False
            except ValueError:
                continue
    return addresses > 0


def _own_credential(credential_id: str, base_url: str) -> str | None:
    """The row id when ``credential_id`` is the URL of a credential of this service."""
    prefix = credential_url(base_url, "")
    return credential_id.removeprefix(prefix) if credential_id.startswith(prefix) else None


async def upsert_credential(
    session: AsyncSession, verification: Verification, *, learner: Learner, sent: dict[str, Any] | str, base_url: str, now: datetime
) -> Upserted:
    """upsertCredential: verify ``sent`` (a JSON-LD credential or a VC-JWT), then add it to the
    learner's collection or replace the entry with the same ``id``."""
    report = await verification.of_credential(sent)
    credential = report.credential
    if report.verdict in _REFUSED or credential is None:
        failed = next((c for c in report.checks if c.outcome == "failed"), None)
        why = f"{failed.name}: {failed.message}" if failed else report.verdict
        raise BadRequest(f"the credential does not verify ({report.verdict}): {why}")
    types = credential.get("type")
    if not _TYPES & set(types if isinstance(types, list) else [types]):
        raise BadRequest("only OpenBadgeCredentials (AchievementCredentials) are kept here")
    credential_id = credential.get("id")
    if not isinstance(credential_id, str) or not credential_id:
        raise BadRequest("the credential has no id, by which it would be kept and replaced")
    if _names_someone_else(credential, learner.email):
        raise BadRequest("the credential was awarded to another email address than the one you verified")

    repository = CollectionRepository(session)
    own = _own_credential(credential_id, base_url)
    if own is not None and await repository.issued_to(own, learner.email):
        return Upserted(created=False, credential=sent)  # already in the list: this service issued it to them
    try:
        issued_at = parse_datetime(credential.get("validFrom") or credential.get("issuanceDate"), field="validFrom")
    except CredentialError:
        issued_at = now
    key = hashlib.sha256(credential_id.encode("utf-8", "surrogatepass")).hexdigest()
    stored = {"document": None, "compact_jws": sent} if isinstance(sent, str) else {"document": sent, "compact_jws": None}

    existing = await repository.upserted_by_key(learner.id, key)
    if existing is None:
        try:
            async with session.begin_nested():
                await repository.add(
                    LearnerCredential(
                        id=new_id(), learner_id=learner.id, credential_key=key, credential_id=credential_id,
                        issued_at=issued_at, created_at=now, updated_at=now, **stored,
                    )
                )
            return Upserted(created=True, credential=sent)
        except IntegrityError:  # the same credential upserted at the same moment: replace it
            existing = await repository.upserted_by_key(learner.id, key)
            if existing is None:
                raise
    existing.document, existing.compact_jws = stored["document"], stored["compact_jws"]  # type: ignore[assignment]
    existing.issued_at, existing.updated_at = issued_at, now
    await session.flush()
    return Upserted(created=False, credential=sent)
