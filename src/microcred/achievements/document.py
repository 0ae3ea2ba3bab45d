"""From an achievement definition to the OB 3.0 Achievement object credentials embed, and which
EU mandatory elements a definition still lacks. Pure functions: no database, no HTTP."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..credentials import eu_elements, ob3
from ..i18n.languages import supported_or_none
from ..problems import FieldError, field_error

__all__ = [
    "EQF_FRAMEWORK",
    "achievement_document",
    "missing_elements",
    "own_language",
    "translated_documents",
    "translation_errors",
]

EQF_FRAMEWORK = "European Qualifications Framework"
EQF_URL = "https://europa.eu/europass/en/description-eight-eqf-levels"
#: A course that is not individually assessed awards a certificate of participation.
PARTICIPATION_TYPE = "CertificateOfCompletion"

# (field, EU element, how to give it)
_REQUIRED: tuple[tuple[str, str], ...] = (
    ("name", "title of the micro-credential"),
    ("description", "description of the achievement"),
    ("learning_outcomes", "learning outcomes (or a criteria narrative)"),
    ("credits_available", "notional workload (ECTS credits or notional_workload_hours)"),
    ("eqf_level", "level (EQF level 1-8)"),
    ("assessed", "whether the course is individually assessed (diploma) or not (certificate of participation)"),
    ("assessment_type", "type of assessment"),
    ("participation_form", "form of participation (onsite, online, blended)"),
    ("quality_assurance", "type of quality assurance"),
)


def missing_elements(definition: dict[str, Any], *, issuer_country: str | None) -> list[FieldError]:
    """Each EU mandatory element the definition (or its issuer) lacks, as a field error."""
    missing = []
    for field, element in _REQUIRED:
        if field == "learning_outcomes":
            present = bool(definition.get("learning_outcomes")) or bool((definition.get("criteria") or {}).get("narrative"))
        elif field == "credits_available":
            present = definition.get("credits_available") is not None or definition.get("notional_workload_hours") is not None
        elif field == "eqf_level":
            present = definition.get("eqf_level") is not None or any(
                a.get("target_framework") == EQF_FRAMEWORK for a in definition.get("alignments") or []
            )
        else:
            present = definition.get(field) not in (None, "", [])
        if not present:
            missing.append(field_error(f"/{field}", f"missing EU element: {element}"))
    if not issuer_country:
        missing.append(
            field_error("/issuer/address/country", "missing EU element: country of the awarding body (set the issuer's address)")
        )
    kind = definition.get("achievement_type")
    if definition.get("assessed") is False and kind not in (None, PARTICIPATION_TYPE):
        missing.append(
            field_error("/achievement_type", f"a course without assessment awards a certificate of participation ({PARTICIPATION_TYPE}), not {kind}")
        )
    if definition.get("assessed") is True and kind == PARTICIPATION_TYPE:
        missing.append(field_error("/achievement_type", f"an assessed course awards a diploma, not {PARTICIPATION_TYPE}"))
    return missing


#: The heading of the learning outcomes in the criteria narrative, per language. Kept here, not
#: in a message catalogue: it is signed into credentials, so a catalogue edit must not change it.
_OUTCOMES_HEADING = {"en": "Learning outcomes:", "nl": "Leerresultaten:"}


def own_language(definition: dict[str, Any], *, default: str) -> str:
    """The language an achievement's own texts are written in: as stated, else its (deprecated)
    ``in_language`` when it is one we write credentials in, else the issuer's default."""
    stated = definition.get("language")
    if isinstance(stated, str):
        return stated
    return supported_or_none(definition.get("in_language")) or supported_or_none(default) or "en"


def translation_errors(definition: dict[str, Any], *, language: str, publishing: bool) -> list[FieldError]:
    """What is wrong with the definition's translations: one in its own language, and (once
    publishing) a text the achievement states that a translation leaves out, since a
    credential in that language would otherwise mix two languages under one ``inLanguage``."""
    errors = []
    narrative = (definition.get("criteria") or {}).get("narrative")
    for code, texts in (definition.get("translations") or {}).items():
        if code == language:
            errors.append(field_error(f"/translations/{code}", f"{code} is the achievement's own language (language): not a translation"))
            continue
        if not publishing:
            continue
        if definition.get("description") and not texts.get("description"):
            errors.append(field_error(f"/translations/{code}/description", f"missing: the description in {code} (the achievement has one)"))
        if narrative and not texts.get("criteria_narrative"):
            errors.append(
                field_error(f"/translations/{code}/criteria_narrative", f"missing: the criteria in {code} (the achievement has a narrative)")
            )
    return errors


def translated_documents(
    definition: dict[str, Any], *, achievement_url: str, version: int, language: str
) -> dict[str, dict[str, Any]]:
    """The Achievement in each language the definition is translated into: the same achievement
    (same id and version) with that language's name, description and criteria."""
    out = {}
    for code, texts in sorted((definition.get("translations") or {}).items()):
        if code == language:
            continue
        criteria = {**(definition.get("criteria") or {})}
        criteria.pop("narrative", None)
        if texts.get("criteria_narrative"):
            criteria["narrative"] = texts["criteria_narrative"]
        translated = {**definition, "name": texts["name"], "description": texts.get("description"), "criteria": criteria}
        out[code] = achievement_document(translated, achievement_url=achievement_url, version=version, language=code)
    return out


def achievement_document(definition: dict[str, Any], *, achievement_url: str, version: int, language: str) -> dict[str, Any]:
    """The OB 3.0 Achievement for one published version, its texts in ``language`` (its
    ``inLanguage``): OB 3.0 terms only, the EU elements included (as alignments where OB 3.0
    has no property for them).

    Raises ValueError (with a pointer-shaped message) if the result is not a valid OB 3.0
    Achievement, so nothing unsignable is ever published.
    """
    d = definition
    narrative_parts = []
    if d.get("learning_outcomes"):
        heading = _OUTCOMES_HEADING.get(language, _OUTCOMES_HEADING["en"])
        narrative_parts.append(heading + "\n" + "\n".join(f"- {o}" for o in d["learning_outcomes"]))
    criteria_in = d.get("criteria") or {}
    if criteria_in.get("narrative"):
        narrative_parts.append(criteria_in["narrative"])
    criteria: dict[str, Any] = {}
    if criteria_in.get("url"):
        criteria["id"] = criteria_in["url"]
    if narrative_parts:
        criteria["narrative"] = "\n\n".join(narrative_parts)

    assessed = d.get("assessed")
    doc: dict[str, Any] = {
        "id": achievement_url,
        "type": ["Achievement"],
        "achievementType": d.get("achievement_type") or ("Diploma" if assessed else PARTICIPATION_TYPE),
        "name": d["name"],
        "description": d.get("description") or "",
        "criteria": criteria,
        "version": str(version),
    }
    if d.get("image"):
        doc["image"] = {"id": d["image"], "type": "Image"}
    if d.get("credits_available") is not None:
        doc["creditsAvailable"] = _number(d["credits_available"])
    alignments = [_alignment(a) for a in d.get("alignments") or []]
    if d.get("eqf_level") is not None and not any(a.get("targetFramework") == EQF_FRAMEWORK for a in alignments):
        level = str(d["eqf_level"])
        alignments.insert(
            0,
            {
                "type": ["Alignment"],
                "targetName": f"EQF level {level}",
                "targetUrl": EQF_URL,
                "targetFramework": EQF_FRAMEWORK,
                "targetCode": level,
                "targetType": "ext:EQF",
            },
        )
    # The EU elements OB 3.0 has no property for ride as alignments (credentials/eu_elements.py),
    # so the credential needs no context beyond the ones every verifier ships.
    elements = eu_elements.alignments(
        {
            "assessmentType": d.get("assessment_type"),
            "participationForm": d.get("participation_form"),
            "qualityAssurance": d.get("quality_assurance"),
            "supervision": d.get("supervision"),
            "prerequisites": d.get("prerequisites"),
            "stackability": d.get("stackability"),
            "furtherInformation": d.get("further_information"),
            eu_elements.WORKLOAD: _number(d["notional_workload_hours"]) if d.get("notional_workload_hours") is not None else None,
        }
    )
    alignments += elements
    if alignments:
        doc["alignment"] = alignments
    if d.get("result_descriptions"):
        doc["resultDescription"] = [_result_description(r) for r in d["result_descriptions"]]
    if d.get("provider"):
        doc["creator"] = {"id": d["provider"]["id"], "type": ["Profile"], "name": d["provider"]["name"]}
    # The language of the text; the deprecated in_language only where it says the same more precisely (nl-BE).
    stated = d.get("in_language")
    doc["inLanguage"] = stated if isinstance(stated, str) and supported_or_none(stated) == language else language
    for source, target in (("field_of_study", "fieldOfStudy"), ("human_code", "humanCode")):
        if d.get(source):
            doc[target] = d[source]
    if d.get("tags"):
        doc["tag"] = list(d["tags"])
    try:
        ob3.Achievement.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "/".join(str(p) for p in first["loc"])
        raise ValueError(f"the achievement would not be valid OB 3.0 ({where}): {first['msg']}") from None
    return doc


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _alignment(a: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ["Alignment"], "targetName": a["target_name"], "targetUrl": a["target_url"]}
    for source, target in (
        ("target_framework", "targetFramework"),
        ("target_code", "targetCode"),
        ("target_description", "targetDescription"),
        ("target_type", "targetType"),
    ):
        if a.get(source):
            out[target] = a[source]
    return out


def _result_description(r: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": r["id"], "type": ["ResultDescription"], "name": r["name"], "resultType": r["result_type"]}
    for source, target in (("value_min", "valueMin"), ("value_max", "valueMax"), ("required_value", "requiredValue")):
        if r.get(source):
            out[target] = r[source]
    if r.get("allowed_values"):
        out["allowedValue"] = list(r["allowed_values"])
    return out
