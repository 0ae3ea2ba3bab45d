"""Codes a credential carries, in the words a person reads, in the page's language: achievement
types, EU-element codes, language and country codes, result statuses.

Codes we do not know stay readable: a camel-case or dashed code becomes spaced words
("ext:WorkshopSeries" -> "Workshop series"), and anything else is shown as it was written.
Language and country names come from the Unicode CLDR (through Babel). The English words are
the catalogues' source text: :func:`vocabulary` lists them all, so no language misses one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from babel import Locale, UnknownLocaleError

from ..credentials.eu_elements import ELEMENTS, VALUE_WORDS
from ..credentials.ob3 import ACHIEVEMENT_TYPES
from ..i18n import current_language, gettext

__all__ = [
    "achievement_kind",
    "code_words",
    "country_name",
    "element_value",
    "language_name",
    "result_status",
    "vocabulary",
]

#: OB 3.0 achievement types whose plain-English name is not just the spaced code.
_KINDS = {
    "CertificateOfCompletion": "Certificate of participation",  # the EU Recommendation's term
    "CoCurricular": "Co-curricular activity",
    "GeneralEducationDevelopment": "General Educational Development (GED) certificate",
    "MicroCredential": "Micro-credential",
    "ProfessionalDoctorate": "Professional doctorate",
    "QualityAssuranceCredential": "Quality assurance credential",
}

#: OB 3.0 result statuses (spec B.1.34).
_RESULT_STATUS = {
    "Completed": "completed",
    "Enrolled": "enrolled",
    "Failed": "failed",
    "InProgress": "in progress",
    "OnHold": "on hold",
    "Provisional": "provisional",
    "Withdrew": "withdrew",
}

_CODE = re.compile(r"^(?:ext:)?[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*$")


def code_words(code: str) -> str:
    """A code in words: ``BachelorDegree`` -> "Bachelor degree", ``written-exam`` -> "Written exam";
    text that is not a code (it has spaces, say) is returned as written."""
    if not _CODE.match(code):
        return code
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", code.removeprefix("ext:")).replace("-", " ").replace("_", " ").split()
    # Acronyms (EQF, ECTS) stay as they are; the other words are lower case, the first capitalised.
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[:1].upper() + text[1:]


def achievement_kind(achievement_type: str | None) -> str:
    """What kind of credential it is: "Diploma", "Certificate of participation", "Bachelor degree"..."""
    if not achievement_type:
        return gettext("Certificate of participation")
    return gettext(_KINDS.get(achievement_type) or code_words(achievement_type))


def element_value(key: str, value: str) -> str:
    """An EU element's value in words (codes of our vocabularies spelt out, other text as written)."""
    known = VALUE_WORDS.get(key, {})
    return gettext(known.get(value.strip().lower()) or (code_words(value) if _CODE.match(value.strip()) else value))


def result_status(status: str) -> str:
    return gettext(_RESULT_STATUS.get(status) or code_words(status).lower())


def vocabulary() -> Iterator[str]:
    """Every English word this module can return for a known code: the catalogues' share of it."""
    yield "Certificate of participation"
    for code in ACHIEVEMENT_TYPES:
        yield _KINDS.get(code) or code_words(code)
    yield from _RESULT_STATUS.values()
    yield from ELEMENTS.values()
    for words in VALUE_WORDS.values():
        yield from words.values()


@cache
def _names_locale(language: str) -> Locale:
    return Locale.parse(language)


def language_name(code: str) -> str:
    """``nl`` -> "Dutch" ("Nederlands" in Dutch), ``en-GB`` -> "English (United Kingdom)"; an unknown code as written."""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(_names_locale(current_language()))
    except (ValueError, UnknownLocaleError):
        return code
    return name or code


def country_name(code: str) -> str:
    """``NL`` -> "Netherlands" (ISO 3166-1 alpha-2); an unknown code as written."""
    alpha2 = code.strip().upper()
    name = _names_locale(current_language()).territories.get(alpha2) if re.fullmatch(r"[A-Z]{2}", alpha2) and alpha2 != "ZZ" else None
    return name or code
