"""The unsigned OB 3.0 AchievementCredential for one award. Pure: everything comes in as values."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any

from ..credentials import CONTEXTS, eu_elements
from ..credentials.ob3 import hashed_email_identifier
from ..credentials.timeutil import format_datetime
from ..db.models import Credential
from ..events import Event
from ..problems import UnprocessableContent, field_error
from .schemas import AwardIn

__all__ = ["as_datetime", "credential_document", "credential_json", "credential_url"]



def credential_url(base_url: str, credential_id: str) -> str:
    return f"{base_url}/credentials/{credential_id}"


def credential_json(document: dict[str, Any]) -> bytes:
    """The bytes a credential's URL serves as JSON-LD. Digests that pin a credential (a
    pathway's ``relatedResource``) are taken over exactly these, so keep them stable."""
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def as_datetime(value: date | datetime) -> datetime:
    """A date is midnight UTC; a datetime without a zone is taken as UTC."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.combine(value, time(0, 0), tzinfo=UTC)


def credential_document(
    award: AwardIn,
    *,
    credential_id: str,
    base_url: str,
    issuer_profile: dict[str, Any],
    achievement: dict[str, Any],
    hash_email: bool,
    now: datetime,
    extension_context: str | None = None,
) -> dict[str, Any]:
    """The credential to sign. Raises UnprocessableContent naming the field when the award does
    not fit the achievement (e.g. a grade for an achievement that describes none).

    By default it uses only the VC 2.0 and OB 3.0 contexts, which every verifier ships: the EU
    elements ride as alignments. ``extension_context`` (the URL an issuer that opted in serves
    the microcred context at) adds that context and the elements' ``microCredential`` object.
    """
    if extension_context is None:
        achievement = eu_elements.as_alignments(achievement)
    else:
        achievement = eu_elements.with_extension(achievement)
    subject: dict[str, Any] = {"type": ["AchievementSubject"]}
    recipient = award.recipient
    if recipient.did:
        subject["id"] = recipient.did
    identifiers = []
    if recipient.email:
        if hash_email:
            identifiers.append(hashed_email_identifier(recipient.email).model_dump(mode="json", by_alias=True, exclude_none=True))
        else:
            identifiers.append({"type": "IdentityObject", "identityType": "emailAddress", "hashed": False, "identityHash": recipient.email})
    if recipient.name:
        identifiers.append({"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": recipient.name})
    if identifiers:
        subject["identifier"] = identifiers
    if award.credits_earned is not None:
        subject["creditsEarned"] = int(award.credits_earned) if float(award.credits_earned).is_integer() else award.credits_earned
    if award.activity_start_date:
        subject["activityStartDate"] = format_datetime(as_datetime(award.activity_start_date))
    if award.activity_end_date:
        subject["activityEndDate"] = format_datetime(as_datetime(award.activity_end_date))
    if award.result:
        subject["result"] = [_result(award, achievement)]
    if "creator" in achievement:
        subject["source"] = achievement["creator"]  # the training provider that ran the course
    subject["achievement"] = achievement

    completed = as_datetime(award.completion_date)
    if completed > now:
        raise UnprocessableContent(
            "completion_date lies in the future", errors=[field_error("/completion_date", "must not lie in the future")]
        )
    contexts = [CONTEXTS.VC_V2, CONTEXTS.OB_V3]
    if extension_context is not None and "microCredential" in achievement:
        contexts.append(extension_context)
    document: dict[str, Any] = {
        "@context": contexts,
        "id": credential_url(base_url, credential_id),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": achievement["name"],
        "issuer": issuer_profile,
        "validFrom": format_datetime(now),
        "awardedDate": format_datetime(completed),
        "credentialSubject": subject,
    }
    if "description" in achievement:
        document["description"] = achievement["description"]
    if "image" in achievement:
        document["image"] = achievement["image"]
    if award.valid_until is not None:
        until = as_datetime(award.valid_until)
        if until <= now:
            raise UnprocessableContent("valid_until has passed", errors=[field_error("/valid_until", "must lie in the future")])
        document["validUntil"] = format_datetime(until)
    if award.evidence:
        document["evidence"] = [_evidence(e.model_dump(exclude_none=True)) for e in award.evidence]
    return document


def _result(award: AwardIn, achievement: dict[str, Any]) -> dict[str, Any]:
    assert award.result is not None
    described = [r["id"] for r in achievement.get("resultDescription", [])]
    chosen = award.result.result_description_id
    if chosen is None:
        if len(described) != 1:
            detail = (
                "the achievement describes no result: define result_descriptions first"
                if not described
                else "the achievement describes several results: name one in result_description_id"
            )
            raise UnprocessableContent(detail, errors=[field_error("/result/result_description_id", detail)])
        chosen = described[0]
    elif chosen not in described:
        raise UnprocessableContent(
            f"the achievement has no result description {chosen!r}",
            errors=[field_error("/result/result_description_id", f"not one of {', '.join(described) or 'none'}")],
        )
    result: dict[str, Any] = {"type": ["Result"], "resultDescription": chosen, "value": award.result.value}
    if award.result.status:
        result["status"] = award.result.status
    return result


def _evidence(evidence: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ["Evidence"]}
    if "url" in evidence:
        out["id"] = evidence["url"]
    for key in ("name", "narrative", "description"):
        if key in evidence:
            out[key] = evidence[key]
    return out


def issued_event(credential: Credential, *, actor: str, base_url: str, achievement_version: int, **extra: Any) -> Event:
    """The credential.issued event: what a webhook receiver needs to find the credential, and the
    learner's name, never their email address (``extra``: e.g. the pathway that issued it)."""
    data = {
        "credential_id": credential.id,
        "url": credential_url(base_url, credential.id),
        "achievement_id": credential.achievement_id,
        "achievement_version": achievement_version,
        "recipient_name": credential.recipient_name,
        "external_id": credential.external_id,
        **extra,
    }
    return Event("credential.issued", credential.issuer_id, actor, credential.id, credential.issued_at, data)
