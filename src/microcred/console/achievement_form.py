"""The achievement form of the console: flat HTML form fields to and from the API's achievement
fields, and pydantic's errors back to the form field each belongs to. Presentation only: what
an achievement may say, and what publishing needs, stay in ``achievements``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..achievements.schemas import AchievementFields
from ..credentials.ob3 import ACHIEVEMENT_TYPES, RESULT_TYPES
from ..i18n.languages import SUPPORTED

__all__ = [
    "ACHIEVEMENT_TYPE_CHOICES",
    "ALIGNMENT_ROWS",
    "RESULT_ROWS",
    "RESULT_TYPE_CHOICES",
    "TRANSLATED",
    "FormState",
    "definition_from_form",
    "form_from_definition",
    "form_errors",
    "pointer_to_field",
    "state_from_form",
]

ACHIEVEMENT_TYPE_CHOICES = sorted(ACHIEVEMENT_TYPES)
RESULT_TYPE_CHOICES = sorted(RESULT_TYPES)
#: Rows the form offers beyond those the achievement has (one blank row to add another).
RESULT_ROWS = 1
ALIGNMENT_ROWS = 1

_TEXT = (
    "name", "description", "image", "achievement_type", "assessment_type", "participation_form", "quality_assurance",
    "supervision", "prerequisites", "stackability", "further_information", "field_of_study", "human_code",
)
#: The texts an achievement has in other languages; form fields ``translation_<code>_<key>``.
TRANSLATED = ("name", "description", "criteria_narrative")
_NUMBERS = ("credits_available", "notional_workload_hours")
_RESULT_KEYS = ("id", "name", "result_type", "value_min", "value_max", "required_value", "allowed_values")
_ALIGNMENT_KEYS = ("target_name", "target_url", "target_framework", "target_code", "target_description", "target_type")


@dataclass
class FormState:
    """What the form shows: each field's text, and each field's error (by form field name)."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    #: how many result-description and alignment rows to show
    results: int = RESULT_ROWS
    alignments: int = ALIGNMENT_ROWS


def _clean(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def _number(value: str) -> float | str:
    """A number if it reads as one (a comma as decimal mark too); else the text, for pydantic to refuse."""
    try:
        return float(value.replace(",", "."))
    except ValueError:
        return value


def _rows(form: Mapping[str, str], prefix: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    n = 0
    while any(f"{prefix}_{n}_{k}" in form for k in keys):
        row = {k: _clean(form.get(f"{prefix}_{n}_{k}")) for k in keys}
        row = {k: v for k, v in row.items() if v}
        if set(row) - {"id", "result_type", "target_type"}:  # a blank row (a select keeps a default) is no row
            rows.append(row)
        n += 1
    return rows


def definition_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The achievement fields the form states, every field present (``None``: not given), so an
    edit removes what the form emptied. Not validated: see :func:`form_errors`."""
    out: dict[str, Any] = {key: _clean(form.get(key)) or None for key in _TEXT}
    for key in _NUMBERS:
        out[key] = _number(_clean(form.get(key))) if _clean(form.get(key)) else None
    level = _clean(form.get("eqf_level"))
    out["eqf_level"] = int(level) if level.isdigit() else (level or None)
    assessed = _clean(form.get("assessed"))
    out["assessed"] = {"yes": True, "no": False}.get(assessed)
    out["learning_outcomes"] = _lines(_clean(form.get("learning_outcomes"))) or None
    tags = [t.strip() for t in _clean(form.get("tags")).split(",") if t.strip()]
    out["tags"] = tags or None
    criteria = {"narrative": _clean(form.get("criteria_narrative")), "url": _clean(form.get("criteria_url"))}
    out["criteria"] = {k: v for k, v in criteria.items() if v} or None
    provider = {"name": _clean(form.get("provider_name")), "id": _clean(form.get("provider_url"))}
    out["provider"] = provider if any(provider.values()) else None
    results = _rows(form, "result", _RESULT_KEYS)
    for row in results:
        if "allowed_values" in row:
            row["allowed_values"] = [v.strip() for v in row["allowed_values"].split(",") if v.strip()]
    out["result_descriptions"] = results or None
    out["alignments"] = _rows(form, "alignment", _ALIGNMENT_KEYS) or None
    out["language"] = _clean(form.get("language")) or None
    translations = {}
    for code in SUPPORTED:
        texts = {key: _clean(form.get(f"translation_{code}_{key}")) for key in TRANSLATED}
        if any(texts.values()):
            translations[code] = {key: value for key, value in texts.items() if value}
    out["translations"] = translations or None
    return out


def form_from_definition(definition: Mapping[str, Any], *, language: str | None = None) -> FormState:
    """The form filled in with an achievement's definition; ``language``: the one its texts are
    in when the definition does not say (the issuer's default)."""
    values: dict[str, str] = {"language": str(definition.get("language") or language or "")}
    for code, texts in (definition.get("translations") or {}).items():
        for key in TRANSLATED:
            values[f"translation_{code}_{key}"] = str(texts.get(key) or "")
    for key in _TEXT:
        values[key] = str(definition.get(key) or "")
    for key in (*_NUMBERS, "eqf_level"):
        value = definition.get(key)
        values[key] = "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
    assessed = definition.get("assessed")
    values["assessed"] = "" if assessed is None else "yes" if assessed else "no"
    values["learning_outcomes"] = "\n".join(definition.get("learning_outcomes") or [])
    values["tags"] = ", ".join(definition.get("tags") or [])
    criteria = definition.get("criteria") or {}
    values["criteria_narrative"] = criteria.get("narrative") or ""
    values["criteria_url"] = criteria.get("url") or ""
    provider = definition.get("provider") or {}
    values["provider_name"], values["provider_url"] = provider.get("name") or "", provider.get("id") or ""
    results = definition.get("result_descriptions") or []
    for n, row in enumerate(results):
        for key in _RESULT_KEYS:
            value = row.get(key)
            values[f"result_{n}_{key}"] = ", ".join(value) if isinstance(value, list) else str(value or "")
    alignments = definition.get("alignments") or []
    for n, row in enumerate(alignments):
        for key in _ALIGNMENT_KEYS:
            values[f"alignment_{n}_{key}"] = str(row.get(key) or "")
    return FormState(values, results=len(results) + RESULT_ROWS, alignments=len(alignments) + ALIGNMENT_ROWS)


def state_from_form(form: Mapping[str, str]) -> FormState:
    """The form as it was posted (to show it again with its errors)."""
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    results = sum(1 for k in values if k.startswith("result_") and k.endswith("_name"))
    alignments = sum(1 for k in values if k.startswith("alignment_") and k.endswith("_target_name"))
    return FormState(values, results=max(results, RESULT_ROWS), alignments=max(alignments, ALIGNMENT_ROWS))


_NESTED = {
    ("criteria", "narrative"): "criteria_narrative",
    ("criteria", "url"): "criteria_url",
    ("provider", "name"): "provider_name",
    ("provider", "id"): "provider_url",
}


def pointer_to_field(pointer: str) -> str:
    """The form field for a JSON Pointer into the achievement fields (``#/provider/id`` ->
    ``provider_url``, ``#/result_descriptions/0/name`` -> ``result_0_name``); a pointer outside
    the form (the issuer's address) is returned as it is."""
    parts = pointer.removeprefix("#").strip("/").split("/")
    if len(parts) >= 2 and (parts[0], parts[1]) in _NESTED:
        return _NESTED[(parts[0], parts[1])]
    if parts[0] == "result_descriptions" and len(parts) >= 3:
        return f"result_{parts[1]}_{parts[2]}"
    if parts[0] == "alignments" and len(parts) >= 3:
        return f"alignment_{parts[1]}_{parts[2]}"
    if parts[0] == "translations" and len(parts) >= 2:
        return f"translation_{parts[1]}_{parts[2] if len(parts) >= 3 and parts[2] in TRANSLATED else 'name'}"
    if parts[0] in ("criteria", "provider") and len(parts) == 1:
        return {"criteria": "criteria_narrative", "provider": "provider_name"}[parts[0]]
    return parts[0]


def form_errors(definition: Mapping[str, Any]) -> dict[str, str]:
    """Each form field the definition gets wrong, with pydantic's message (empty: all valid)."""
    language = definition.get("language")
    if isinstance(language, str) and language in (definition.get("translations") or {}):
        return {f"translation_{language}_name": "The achievement is written in this language: clear these fields or choose another language."}
    try:
        AchievementFields.model_validate(dict(definition))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            loc = [str(p) for p in error["loc"] if not (isinstance(p, str) and ("[" in p or p in ("float", "int", "str", "none")))]
            name = pointer_to_field("/" + "/".join(loc))
            message = str(error["msg"]).removeprefix("Value error, ")
            errors.setdefault(name, message)
        return errors
    return {}
