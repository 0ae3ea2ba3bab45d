"""What the public side shows of one credential. No API key is needed, and nothing is shown that
the credential itself does not say (a hashed email stays hashed; a revocation reason is never
read here)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..achievements.document import EQF_FRAMEWORK
from ..credentials import eu_elements
from ..credentials.timeutil import parse_datetime
from ..db.models import Credential, Issuer
from ..problems import NotFound
from ..i18n import format_decimal, gettext
from . import words
from .page import EndorsementView

__all__ = [
    "CredentialFacts",
    "elements",
    "endorsements",
    "skills",
    "facts",
    "issuer_country",
    "learner_name",
    "may_see_page",
    "public_credential",
    "results",
]


async def public_credential(session: AsyncSession, credential_id: str) -> tuple[Credential, Issuer]:
    credential = await session.get(Credential, credential_id)
    issuer = await session.get(Issuer, credential.issuer_id) if credential is not None else None
    if credential is None or issuer is None:
        raise NotFound(f"no credential {credential_id!r}")
    return credential, issuer


def may_see_page(credential: Credential, secret: str | None) -> bool:
    """Whether a person may see the credential's page: always, unless the learner made it
    unlisted, when only its URL's secret part (``?k=``) opens it."""
    if credential.visibility != "unlisted":
        return True
    if not secret or credential.page_secret is None:
        return False
    return hmac.compare_digest(secret.encode(), credential.page_secret.encode())


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def learner_name(document: dict[str, Any]) -> str | None:
    for identifier in document.get("credentialSubject", {}).get("identifier", []) or []:
        if isinstance(identifier, dict) and identifier.get("identityType") == "name" and identifier.get("hashed") is False:
            return _text(identifier.get("identityHash"))
    return None


def _alignments(achievement: dict[str, Any]) -> list[tuple[str, str]]:
    """The level (EQF) and whatever else the achievement aligns with, not the EU elements."""
    out: list[tuple[str, str]] = []
    for alignment in achievement.get("alignment") or []:
        if not isinstance(alignment, dict) or eu_elements.is_element(alignment):
            continue
        name = _text(alignment.get("targetName"))
        if alignment.get("targetFramework") == EQF_FRAMEWORK or alignment.get("targetType") == "ext:EQF":
            code = _text(alignment.get("targetCode"))
            out.append((gettext("Level"), name or (gettext("EQF level %(level)s") % {"level": code} if code else "")))
        elif name:
            out.append((gettext("Aligned with"), name))
    return [(label, value) for label, value in out if value]


def skills(achievement: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    """The skills and frameworks the achievement aligns with, as (name, framework, link), and its
    tags: not the EU elements nor the EQF level, which the elements section shows."""
    out: list[tuple[str, str | None, str | None]] = []
    for alignment in achievement.get("alignment") or []:
        if not isinstance(alignment, dict) or eu_elements.is_element(alignment):
            continue
        if alignment.get("targetFramework") == EQF_FRAMEWORK or alignment.get("targetType") == "ext:EQF":
            continue
        if name := _text(alignment.get("targetName")):
            out.append((name, _text(alignment.get("targetFramework")), _text(alignment.get("targetUrl"))))
    for tag in achievement.get("tag") or []:
        if _text(tag):
            out.append((tag, None, None))
    return out


def elements(achievement: dict[str, Any]) -> list[tuple[str, str]]:
    """The EU elements a person should see, in words, in the order of the Council Recommendation."""
    out: list[tuple[str, str]] = []
    criteria = achievement.get("criteria", {})
    if _text(criteria.get("narrative")):
        # The narrative opens with its own "Learning outcomes:" line when it lists them.
        out.append((gettext("Learning outcomes"), criteria["narrative"].removeprefix("Learning outcomes:\n")))
    # alignments since issue 11, a microCredential object before: both read alike
    values = eu_elements.read(achievement)
    if isinstance(workload := values.get(eu_elements.WORKLOAD), float | int):
        out.append((gettext(eu_elements.ELEMENTS[eu_elements.WORKLOAD]), gettext("%(hours)s hours") % {"hours": format_decimal(workload)}))
    if isinstance(achievement.get("creditsAvailable"), int | float):
        out.append((gettext("Credits"), gettext("%(credits)s ECTS") % {"credits": format_decimal(achievement["creditsAvailable"])}))
    out += _alignments(achievement)
    if _text(achievement.get("inLanguage")):
        out.append((gettext("Language"), words.language_name(achievement["inLanguage"])))
    for key, label in eu_elements.ELEMENTS.items():
        if key != eu_elements.WORKLOAD and isinstance(value := values.get(key), str):
            out.append((gettext(label), words.element_value(key, value)))
    return out


def results(document: dict[str, Any]) -> list[tuple[str, str]]:
    """The learner's results (the grade) as (what, value in words): the result description's
    name, and the value with its scale ("8.5 (on a scale of 1 to 10)")."""
    subject = document.get("credentialSubject", {})
    found = subject.get("result")
    described = {
        d.get("id"): d for d in subject.get("achievement", {}).get("resultDescription", []) or [] if isinstance(d, dict)
    }
    out = []
    for result in found if isinstance(found, list) else [found] if isinstance(found, dict) else []:
        if not isinstance(result, dict):
            continue
        description = described.get(result.get("resultDescription"), {})
        label = _text(description.get("name")) or gettext("Result")
        value = result.get("value")
        shown = str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value) else ""
        low, high = _text(description.get("valueMin")), _text(description.get("valueMax"))
        if shown and low and high:
            shown += " " + gettext("(on a scale of %(low)s to %(high)s)") % {"low": low, "high": high}
        if _text(result.get("status")):
            status = words.result_status(result["status"])
            shown = f"{shown}, {status}" if shown else status[:1].upper() + status[1:]
        if shown:
            out.append((label, shown))
    return out


def issuer_country(issuer: dict[str, Any]) -> str | None:
    """The awarding body's country, in words ("NL" -> "Netherlands")."""
    address = issuer.get("address")
    if not isinstance(address, dict):
        return None
    country = _text(address.get("addressCountry"))
    code = _text(address.get("addressCountryCode"))
    if country:
        return words.country_name(country)
    return words.country_name(code) if code else None


@dataclass(frozen=True)
class CredentialFacts:
    """What a person is shown of a credential, on the page and on the PDF certificate alike."""

    credential_id: str
    public_url: str
    title: str
    kind: str
    description: str
    learner_name: str | None
    issuer_name: str
    issuer_country: str | None
    provider_name: str | None
    #: when the learner completed it (``awardedDate``), which may be long before it was issued
    completed_on: date | None
    #: when it was signed (``validFrom``)
    issued_on: date
    valid_until: date | None
    #: the learner's results as (what, value), e.g. ("Final grade", "8.5 (on a scale of 1 to 10)")
    results: list[tuple[str, str]]
    elements: list[tuple[str, str]]


def facts(document: dict[str, Any]) -> CredentialFacts:
    subject = document["credentialSubject"]
    achievement = subject["achievement"]
    issuer = document["issuer"]
    awarded = _text(document.get("awardedDate"))
    return CredentialFacts(
        credential_id=document["id"].rsplit("/", 1)[-1],
        public_url=document["id"],
        title=achievement["name"],
        kind=words.achievement_kind(achievement.get("achievementType")),
        description=achievement.get("description", ""),
        learner_name=learner_name(document),
        issuer_name=issuer.get("name", issuer.get("id", "")),
        issuer_country=issuer_country(issuer),
        provider_name=(subject.get("source") or {}).get("name"),
        completed_on=parse_datetime(awarded, field="awardedDate").date() if awarded else None,
        issued_on=parse_datetime(document["validFrom"]).date(),
        valid_until=parse_datetime(document["validUntil"]).date() if "validUntil" in document else None,
        results=results(document),
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
