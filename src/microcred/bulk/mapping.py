"""Which column of a file holds what: the learner's email, name, the achievement, the completion
date... A first guess comes from the header names (English and Dutch, and the API's own CSV
column names); the office's last choice is remembered per issuer (``service.remember_mapping``)
and wins wherever the new file has the same column names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["FIELDS", "Field", "guess", "normalise", "resolve"]


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    #: Header names that mean this field, normalised (see ``normalise``).
    names: tuple[str, ...]
    required: bool = False


FIELDS: tuple[Field, ...] = (
    Field(
        "email", "Learner's email",
        ("email", "emailaddress", "mail", "emailadres", "mailadres", "recipientemail", "learneremail", "studentemail",
         "emaildeelnemer", "emailcursist", "emailstudent"),
        required=True,
    ),
    Field(
        "name", "Learner's name",
        ("name", "fullname", "naam", "volledigenaam", "recipientname", "learnername", "studentname", "learner", "student",
         "deelnemer", "cursist", "naamdeelnemer", "naamcursist"),
    ),
    Field(
        "achievement", "Achievement (course code or id)",
        ("achievement", "achievementid", "achievementcode", "humancode", "course", "coursecode", "courseid", "code",
         "cursus", "cursuscode", "opleiding", "opleidingscode", "badge", "microcredential", "module", "modulecode"),
    ),
    Field(
        "completion_date", "Completion date",
        ("completiondate", "completed", "completedon", "dateofcompletion", "date", "datum", "afgerond", "afgerondop",
         "datumafgerond", "afrondingsdatum", "behaald", "behaaldop", "datumbehaald", "einddatum", "examendatum"),
        required=True,
    ),
    Field("grade", "Grade", ("grade", "result", "score", "mark", "cijfer", "eindcijfer", "resultaat", "beoordeling")),
    Field(
        "external_id", "External id (your own reference)",
        ("externalid", "reference", "ref", "referentie", "kenmerk", "registrationid", "inschrijvingsnummer", "registratienummer"),
    ),
    Field("credits_earned", "Credits earned (ECTS)", ("creditsearned", "credits", "ects", "studiepunten", "ecpunten")),
    Field("valid_until", "Valid until", ("validuntil", "expires", "expiry", "expirydate", "geldigtot", "vervaldatum", "geldigheid")),
    Field("evidence_url", "Evidence URL", ("evidenceurl", "evidence", "bewijs", "bewijsurl", "portfolio", "portfoliourl")),
    Field("did", "Learner's DID", ("did", "recipientdid", "learnerdid")),
)

_BY_KEY = {f.key: f for f in FIELDS}


def normalise(header: str) -> str:
    """Lower case, accents dropped, letters and digits only: "E-mail adrés" -> "emailadres"."""
    return re.sub(r"[^0-9a-z]", "", unicodedata.normalize("NFKD", header.casefold()))


def guess(header: Sequence[str]) -> dict[str, int]:
    """field key -> column index, from the header names; each column serves one field."""
    names = [normalise(h) for h in header]
    found: dict[str, int] = {}
    taken: set[int] = set()
    for field in FIELDS:
        for name in field.names:
            for index, column in enumerate(names):
                if column == name and index not in taken:
                    found[field.key] = index
                    taken.add(index)
                    break
            if field.key in found:
                break
    return found


def resolve(header: Sequence[str], remembered: Mapping[str, str] | None) -> dict[str, int]:
    """The mapping for a file: the remembered choice (field -> header name) wherever this file
    has that column, and the guess for the rest."""
    names = [normalise(h) for h in header]
    chosen: dict[str, int] = {}
    for key, column in (remembered or {}).items():
        if key in _BY_KEY and normalise(column) in names:
            chosen[key] = names.index(normalise(column))
    taken = set(chosen.values())
    for key, index in guess(header).items():
        if key not in chosen and index not in taken:
            chosen[key] = index
            taken.add(index)
    return chosen
