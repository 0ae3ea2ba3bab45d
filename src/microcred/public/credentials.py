"""What the public side shows of one credential. No API key is needed, and nothing is shown that
the credential itself does not say (a hashed email stays hashed; a revocation reason is never
read here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..credentials import eu_elements
from ..credentials.timeutil import parse_datetime
from ..db.models import Credential, Issuer
from ..problems import NotFound
from .page import EndorsementView, Kind

__all__ = ["CredentialFacts", "elements", "endorsements", "facts", "learner_name", "public_credential"]


async def public_credential(session: AsyncSession, credential_id: str) -> tuple[Credential, Issuer]:
    credential = await session.get(Credential, credential_id)
    issuer = await session.get(Issuer, credential.issuer_id) if credential is not None else None
    if credential is None or issuer is None:
        raise NotFound(f"no credential {credential_id!r}")
    return credential, issuer


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def learner_name(document: dict[str, Any]) -> str | None:
    for identifier in document.get("credentialSubject", {}).get("identifier", []) or []:
        if isinstance(identifier, dict) and identifier.get("identityType") == "name" and identifier.get("hashed") is False:
            return _text(identifier.get("identityHash"))
    return None


def elements(achievement: dict[str, Any]) -> list[tuple[str, str]]:
    """The EU mandatory elements a person should see, in the order of the Council Recommendation."""
    out: list[tuple[str, str]] = []
    criteria = achievement.get("criteria", {})
    if _text(criteria.get("narrative")):
        # The narrative opens with its own "Learning outcomes:" line when it lists them.
        out.append(("Learning outcomes", criteria["narrative"].removeprefix("Learning outcomes:\n")))
    # alignments since issue 11, a microCredential object before: both read alike
    micro = eu_elements.read(achievement)
    if isinstance(workload := micro.get(eu_elements.WORKLOAD), int | float):
        out.append((eu_elements.ELEMENTS[eu_elements.WORKLOAD], f"{workload:g} hours"))
    if isinstance(achievement.get("creditsAvailable"), int | float):
        out.append(("Credits", f"{achievement['creditsAvailable']:g} ECTS"))
    for alignment in achievement.get("alignment", []) or []:
        if isinstance(alignment, dict) and not eu_elements.is_element(alignment) and _text(alignment.get("targetName")):
            out.append(("Level", alignment["targetName"]))
    if _text(achievement.get("inLanguage")):
        out.append(("Language", achievement["inLanguage"]))
    for key, label in eu_elements.ELEMENTS.items():
        if key != eu_elements.WORKLOAD and isinstance(value := micro.get(key), str) and value:
            out.append((label, value))
    return out


@dataclass(frozen=True)
class CredentialFacts:
    """What a person is shown of a credential, on the page and on the PDF certificate alike."""

    credential_id: str
    public_url: str
    title: str
    kind: Kind
    description: str
    learner_name: str | None
    issuer_name: str
    provider_name: str | None
    issued_on: date
    valid_until: date | None
    elements: list[tuple[str, str]]


def facts(document: dict[str, Any]) -> CredentialFacts:
    subject = document["credentialSubject"]
    achievement = subject["achievement"]
    issuer = document["issuer"]
    return CredentialFacts(
        credential_id=document["id"].rsplit("/", 1)[-1],
        public_url=document["id"],
        title=achievement["name"],
        kind="Diploma" if achievement.get("achievementType") == "Diploma" else "Certificate of participation",
        description=achievement.get("description", ""),
        learner_name=learner_name(document),
        issuer_name=issuer.get("name", issuer.get("id", "")),
        provider_name=(subject.get("source") or {}).get("name"),
        issued_on=parse_datetime(document["validFrom"]).date(),
        valid_until=parse_datetime(document["validUntil"]).date() if "validUntil" in document else None,
        elements=elements(achievement),
    )


def endorsements(document: dict[str, Any], found: Any) -> list[EndorsementView]:
    """The endorsements the verifier found in the credential (its summary's ``endorsements``),
    with what each endorses in words."""
    issuer = document.get("issuer")
    about = {
        document.get("id"): "this credential",
        (issuer.get("id") if isinstance(issuer, dict) else issuer): "the issuer",
        document.get("credentialSubject", {}).get("achievement", {}).get("id"): "the achievement",
    }
    views = []
    for entry in found if isinstance(found, list) else []:
        if not isinstance(entry, dict):
            continue
        endorser = entry.get("endorser")
        endorser = endorser if isinstance(endorser, dict) else {}
        subject = entry.get("subject")
        views.append(
            EndorsementView(
                endorser_name=_text(endorser.get("name")) or _text(endorser.get("id")) or "an unnamed issuer",
                about=about.get(subject) or _text(subject) or "nothing it names",
                comment=_text(entry.get("comment")),
                state=_text(entry.get("state")) or "invalid",
            )
        )
    return views
