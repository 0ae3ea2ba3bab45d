"""What the public side shows of one credential. No API key is needed, and nothing is shown that
the credential itself does not say (a hashed email stays hashed; a revocation reason is never
read here)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Credential, Issuer
from ..problems import NotFound

__all__ = ["STATUS_OF_VERDICT", "elements", "learner_name", "public_credential"]


async def public_credential(session: AsyncSession, credential_id: str) -> tuple[Credential, Issuer]:
    credential = await session.get(Credential, credential_id)
    issuer = await session.get(Issuer, credential.issuer_id) if credential is not None else None
    if credential is None or issuer is None:
        raise NotFound(f"no credential {credential_id!r}")
    return credential, issuer


STATUS_OF_VERDICT = {"valid": "valid", "expired": "expired", "suspended": "suspended", "revoked": "revoked"}

#: The EU micro-credential elements as they sit in the achievement, with the label a person reads.
_ELEMENTS = (
    ("assessmentType", "Type of assessment"),
    ("participationForm", "Form of participation"),
    ("qualityAssurance", "Quality assurance"),
    ("supervision", "Supervision and identity verification"),
    ("prerequisites", "Prerequisites"),
    ("stackability", "Integration and stackability"),
    ("furtherInformation", "Further information"),
)


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
    micro = achievement.get("microCredential", {})
    if isinstance(micro.get("notionalWorkloadHours"), int | float):
        out.append(("Notional workload", f"{micro['notionalWorkloadHours']:g} hours"))
    if isinstance(achievement.get("creditsAvailable"), int | float):
        out.append(("Credits", f"{achievement['creditsAvailable']:g} ECTS"))
    for alignment in achievement.get("alignment", []) or []:
        if isinstance(alignment, dict) and _text(alignment.get("targetName")):
            out.append(("Level", alignment["targetName"]))
    if _text(achievement.get("inLanguage")):
        out.append(("Language", achievement["inLanguage"]))
    for key, label in _ELEMENTS:
        if _text(micro.get(key)):
            out.append((label, micro[key]))
    return out
