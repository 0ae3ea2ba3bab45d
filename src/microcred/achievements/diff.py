"""Two published versions of an achievement side by side, field by field, in the words a person
reads (the console's version diff). Pure: it reads the OB 3.0 Achievement documents only, since
a version keeps no other copy of what it said."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..credentials import eu_elements
from .document import EQF_FRAMEWORK

__all__ = ["FieldChange", "diff_documents", "fields_of"]


@dataclass(frozen=True)
class FieldChange:
    #: the OB 3.0 term (or ``alignment:<key>`` for an EU element), stable for scripts and tests
    key: str
    label: str
    #: the value in one version, as text ("" when that version does not say it)
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


# (key, label), in the order the form asks for them; the EU elements follow after "Level".
_PLAIN: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("description", "Description"),
    ("achievementType", "Type"),
    ("criteria", "Learning outcomes and criteria"),
    ("creditsAvailable", "Credits (ECTS)"),
    ("level", "Level"),
)
_TAIL: tuple[tuple[str, str], ...] = (
    ("alignment", "Also aligned with"),
    ("resultDescription", "Results described"),
    ("creator", "Training provider"),
    ("inLanguage", "Language"),
    ("fieldOfStudy", "Field of study"),
    ("humanCode", "Course code"),
    ("tag", "Tags"),
    ("image", "Image"),
)
#: Not compared: they differ between any two versions by construction.
_SKIPPED = frozenset({"id", "type", "version", "@context"})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:g}"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _is_level(alignment: dict[str, Any]) -> bool:
    return alignment.get("targetFramework") == EQF_FRAMEWORK or alignment.get("targetType") == "ext:EQF"


def fields_of(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Each field the version states: key -> (label, value in words)."""
    alignments = [a for a in document.get("alignment") or [] if isinstance(a, dict)]
    criteria = document.get("criteria") or {}
    values: dict[str, str] = {
        "name": _text(document.get("name")),
        "description": _text(document.get("description")),
        "achievementType": _text(document.get("achievementType")),
        "criteria": "\n".join(p for p in (_text(criteria.get("narrative")), _text(criteria.get("id"))) if p),
        "creditsAvailable": _text(document.get("creditsAvailable")),
        "level": ", ".join(_text(a.get("targetName")) for a in alignments if _is_level(a)),
    }
    out = {key: (label, values[key]) for key, label in _PLAIN}
    elements = eu_elements.read(document)
    for key, label in eu_elements.ELEMENTS.items():
        out[f"alignment:{key}"] = (label, _text(elements.get(key)))
    others = [a for a in alignments if not _is_level(a) and not eu_elements.is_element(a)]
    results = document.get("resultDescription") or []
    creator = document.get("creator") or {}
    image = document.get("image")
    tail = {
        "alignment": "\n".join(f"{_text(a.get('targetName'))} ({_text(a.get('targetUrl'))})" for a in others),
        "resultDescription": "\n".join(
            f"{_text(r.get('name'))}: {_text(r.get('resultType'))}" for r in results if isinstance(r, dict)
        ),
        "creator": " ".join(p for p in (_text(creator.get("name")), f"({creator['id']})" if creator.get("id") else "") if p),
        "inLanguage": _text(document.get("inLanguage")),
        "fieldOfStudy": _text(document.get("fieldOfStudy")),
        "humanCode": _text(document.get("humanCode")),
        "tag": _text(document.get("tag")),
        "image": _text(image.get("id") if isinstance(image, dict) else image),
    }
    out.update({key: (label, tail[key]) for key, label in _TAIL})
    known = {k for k, _ in _PLAIN} | {k for k, _ in _TAIL}
    for key in sorted(document):
        if key not in known and key not in _SKIPPED and key != "microCredential":
            out[key] = (key, _text(document[key]))
    return out


def translated_fields(translations: dict[str, dict[str, Any]] | None) -> dict[str, tuple[str, str]]:
    """The texts a version carries in other languages (name, description, criteria), a row each:
    key ``translation:<language>:<field>``, labelled with the language."""
    out: dict[str, tuple[str, str]] = {}
    for language in sorted(translations or {}):
        document = (translations or {})[language]
        criteria = document.get("criteria") or {}
        for key, label, value in (
            ("name", "Name", document.get("name")),
            ("description", "Description", document.get("description")),
            ("criteria", "Learning outcomes and criteria", criteria.get("narrative") if isinstance(criteria, dict) else None),
        ):
            out[f"translation:{language}:{key}"] = (f"{label} ({language})", _text(value))
    return out


def diff_documents(
    before: dict[str, Any],
    after: dict[str, Any],
    before_translations: dict[str, dict[str, Any]] | None = None,
    after_translations: dict[str, dict[str, Any]] | None = None,
) -> list[FieldChange]:
    """Every field either version states, in form order, then its texts in other languages, with
    both values (``changed`` marks the rows that differ). A field neither version states is left out."""
    old = {**fields_of(before), **translated_fields(before_translations)}
    new = {**fields_of(after), **translated_fields(after_translations)}
    keys = list(old) + [k for k in new if k not in old]
    rows = []
    for key in keys:
        label = (new.get(key) or old[key])[0]
        row = FieldChange(key, label, old.get(key, ("", ""))[1], new.get(key, ("", ""))[1])
        if row.before or row.after:
            rows.append(row)
    return rows
