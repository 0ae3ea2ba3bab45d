"""The EU micro-credential elements OB 3.0 has no property for, carried as OB 3.0 alignments.

Council Recommendation 2022/C 243/02 (Annex I) asks for elements such as the type of
assessment and the form of participation. OB 3.0 has no property for them, and a term of our
own needs a context that stock verifiers (Digital Bazaar's and DCC's loaders) do not ship: they
then reject the credential. So each element is one ``Alignment`` of the achievement, a type the
OB 3.0 context defines and OB-aware tools read:

- ``targetFramework``: :data:`FRAMEWORK` (the element set), ``targetType`` :data:`TARGET_TYPE`
- ``targetCode``: the element's key (``assessmentType``, ...), stable for machines
- ``targetName``: the label and the value, for people ("Type of assessment: Written exam")
- ``targetDescription``: the value alone (hours as a number in text, e.g. ``"84"``)
- ``targetUrl``: the Recommendation on EUR-Lex, which defines the element

Credentials issued before kept the elements in a ``microCredential`` object (context
``https://w3id.org/microcred/v1``); :func:`read` reads both, so their pages keep working.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .loader import CONTEXTS, DocumentLoader

__all__ = [
    "ELEMENTS", "EXTENSION_CONTEXT_PATH", "FRAMEWORK", "TARGET_TYPE", "TARGET_URL", "VALUE_WORDS", "WORKLOAD",
    "alignments", "as_alignments", "extension_context_url", "is_element", "read", "served_contexts", "with_extension",
]

FRAMEWORK = "EU micro-credential elements (Council Recommendation 2022/C 243/02, Annex I)"
TARGET_URL = "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32022H0627(02)"
TARGET_TYPE = "ext:EUMicroCredentialElement"
#: The notional workload in hours (the element itself; ECTS go in ``creditsAvailable``).
WORKLOAD = "notionalWorkloadHours"

#: Element key -> the label a person reads, in the Recommendation's order (mandatory, then optional).
ELEMENTS: Mapping[str, str] = {
    WORKLOAD: "Notional workload",
    "assessmentType": "Type of assessment",
    "participationForm": "Form of participation",
    "qualityAssurance": "Quality assurance",
    "prerequisites": "Prerequisites",
    "supervision": "Supervision and identity verification",
    "stackability": "Integration and stackability",
    "furtherInformation": "Further information",
}


#: Words for the coded values (the API's own vocabularies, and common spellings of the forms
#: of participation), by element key: the ``targetName`` of an alignment, and what pages show.
#: The code itself stays in ``targetDescription``.
VALUE_WORDS: Mapping[str, Mapping[str, str]] = {
    "supervision": {
        "unsupervised-no-identity-verification": "Unsupervised, without identity verification",
        "supervised-no-identity-verification": "Supervised, without identity verification",
        "supervised-with-identity-verification": "Supervised, with identity verification",
    },
    "stackability": {
        "stand-alone": "Stand-alone",
        "stackable": "Stackable: it can be combined with other credentials",
    },
    "participationForm": {
        "online": "Online",
        "onsite": "On site",
        "on-site": "On site",
        "in-person": "On site",
        "blended": "Blended (online and on site)",
        "hybrid": "Blended (online and on site)",
    },
}


def _text(key: str, value: str | int | float) -> str:
    if key == WORKLOAD:
        return f"{value:g}" if isinstance(value, int | float) else str(value)
    return str(value)


def alignments(values: Mapping[str, str | int | float | None]) -> list[dict[str, Any]]:
    """One OB 3.0 Alignment per element given (keys of :data:`ELEMENTS`), in the Recommendation's order."""
    unknown = set(values) - set(ELEMENTS)
    if unknown:
        raise ValueError(f"not EU micro-credential elements: {', '.join(sorted(unknown))}")
    out = []
    for key, label in ELEMENTS.items():
        value = values.get(key)
        if value is None or value == "":
            continue
        text = _text(key, value)
        shown = f"{text} hours" if key == WORKLOAD else VALUE_WORDS.get(key, {}).get(text, text)
        out.append(
            {
                "type": ["Alignment"],
                "targetName": f"{label}: {shown}",
                "targetDescription": text,
                "targetUrl": TARGET_URL,
                "targetFramework": FRAMEWORK,
                "targetCode": key,
                "targetType": TARGET_TYPE,
            }
        )
    return out


def is_element(alignment: Any) -> bool:
    """Whether an alignment carries an EU element (rather than a level or a skill)."""
    return isinstance(alignment, dict) and alignment.get("targetFramework") == FRAMEWORK and alignment.get("targetCode") in ELEMENTS


def read(achievement: Mapping[str, Any]) -> dict[str, str | float]:
    """The elements an achievement states, by key: from its alignments, or from the
    ``microCredential`` object of credentials issued before. The workload is a number."""
    found: dict[str, str | float] = {}
    legacy = achievement.get("microCredential")
    if isinstance(legacy, dict):
        for key in ELEMENTS:
            value = legacy.get(key)
            if key == WORKLOAD and isinstance(value, int | float) and not isinstance(value, bool):
                found[key] = value
            elif key != WORKLOAD and isinstance(value, str) and value:
                found[key] = value
    for alignment in achievement.get("alignment") or []:
        if not is_element(alignment):
            continue
        key, value = alignment["targetCode"], alignment.get("targetDescription")
        if not isinstance(value, str) or not value:
            continue
        if key == WORKLOAD:
            try:
                hours = float(value)
            except ValueError:
                continue
            if math.isfinite(hours) and hours >= 0:
                found[key] = int(hours) if hours.is_integer() else hours
        else:
            found[key] = value
    return found


def as_alignments(achievement: Mapping[str, Any]) -> dict[str, Any]:
    """The achievement with the elements as alignments only: a ``microCredential`` object (an
    achievement version published before) becomes alignments, so new credentials of it need
    no context of ours. A new dict; the input is left as it is."""
    out = dict(achievement)
    legacy = out.pop("microCredential", None)
    if legacy is None:
        return out
    carried = {a["targetCode"] for a in out.get("alignment") or [] if is_element(a)}
    values = {key: value for key, value in read({"microCredential": legacy}).items() if key not in carried}
    added = alignments(values)
    if added:
        out["alignment"] = [*(out.get("alignment") or []), *added]
    return out


def with_extension(achievement: Mapping[str, Any]) -> dict[str, Any]:
    """The achievement with the elements also in a ``microCredential`` object, for an issuer
    that opted into the microcred extension context (the alignments stay, so OB-only readers
    still see them). A new dict."""
    out = as_alignments(achievement)
    values = read(out)
    if values:
        out["microCredential"] = {"type": ["MicroCredentialElements"], **values}
    return out


#: Where an installation serves the microcred extension context, under its base URL.
EXTENSION_CONTEXT_PATH = "/contexts/microcred/v1.jsonld"


def extension_context_url(base_url: str) -> str:
    """The URL an installation serves the extension context at, and that credentials of issuers
    who opted in name in ``@context`` (it resolves, unlike https://w3id.org/microcred/v1)."""
    return base_url.rstrip("/") + EXTENSION_CONTEXT_PATH


def served_contexts(base_url: str) -> dict[str, Any]:
    """``extra`` contexts for a :class:`~microcred.credentials.DocumentLoader`: the extension
    context at this installation's URL, the bundled document itself (never fetched)."""
    return {extension_context_url(base_url): DocumentLoader().document(CONTEXTS.MICROCRED_V1)}
