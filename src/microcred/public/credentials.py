"""What the public side knows about one credential: the signed document, its live status as our
own verifier computes it, and the view a person sees. No API key is needed, and nothing is shown
that the credential itself does not say (a hashed email stays hashed; a revocation reason is
never read here)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..credentials import Resolver, VerificationReport, verify
from ..credentials.resolve import resolved_from_published
from ..db.models import Credential, Issuer
from ..problems import NotFound
from ..runtime import Runtime
from ..status.service import ListSigning, public_list

__all__ = ["STATUS_OF_VERDICT", "elements", "learner_name", "local_report", "public_credential"]


async def public_credential(session: AsyncSession, credential_id: str) -> tuple[Credential, Issuer]:
    credential = await session.get(Credential, credential_id)
    issuer = await session.get(Issuer, credential.issuer_id) if credential is not None else None
    if credential is None or issuer is None:
        raise NotFound(f"no credential {credential_id!r}")
    return credential, issuer


def _entries(document: dict[str, Any]) -> list[dict[str, Any]]:
    status = document.get("credentialStatus")
    entries = status if isinstance(status, list) else [status] if status else []
    return [e for e in entries if isinstance(e, dict)]


async def local_report(session: AsyncSession, runtime: Runtime, document: dict[str, Any], issuer: Issuer) -> VerificationReport:
    """Verify one of our credentials with the core verifier, its keys and status lists read
    from here rather than over the network (what any verifier would fetch, read at the source)."""
    settings = runtime.settings
    signing = ListSigning(runtime.keystore, runtime.loader, settings.base_url, settings.status_list_ttl_seconds)
    prefix = f"{settings.base_url}/status-lists/"
    lists: dict[str, dict[str, Any]] = {}
    for entry in _entries(document):
        url = entry.get("statusListCredential")
        if isinstance(url, str) and url.startswith(prefix):
            status_list = await public_list(session, signing=signing, list_id=url.removeprefix(prefix))
            assert status_list.document is not None
            lists[url] = status_list.document
    keys = await asyncio.to_thread(runtime.keystore.published_keys, issuer.did)
    resolver = Resolver(keys={k.id: resolved_from_published(k) for k in keys})
    return await asyncio.to_thread(verify, document, loader=runtime.loader, resolve_key=resolver, fetch_status_list=lists.__getitem__)


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
        out.append(("Learning outcomes", criteria["narrative"]))
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
