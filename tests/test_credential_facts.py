"""What the page and the PDF show of a credential, read from the signed document: the completion
date, the grade, the awarding body's country, and codes in the words a person reads."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from microcred.credentials import eu_elements
from microcred.public.credentials import facts


def _credential(**achievement: Any) -> dict[str, Any]:
    return {
        "id": "https://badges.example.org/credentials/0f6c",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": "did:web:badges.example.org:issuers:spe",
            "type": ["Profile"],
            "name": "Society of Precision Engineers",
            "address": {"type": ["Address"], "addressCountryCode": "NL"},
        },
        "validFrom": "2026-12-03T09:00:00Z",
        "awardedDate": "2024-06-28T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "result": [{"type": ["Result"], "resultDescription": "urn:uuid:4c9e6c4e-0000-4000-8000-000000000001", "value": "8.5"}],
            "achievement": {
                "id": "https://badges.example.org/issuers/spe/achievements/turning",
                "type": ["Achievement"],
                "achievementType": "Diploma",
                "name": "Precision Turning",
                "criteria": {"narrative": "Learning outcomes:\n- measure parts to ±5 µm"},
                "inLanguage": "nl",
                "alignment": [
                    {"type": ["Alignment"], "targetName": "EQF level 4", "targetUrl": "https://europa.eu/europass/en/description-eight-eqf-levels",
                     "targetFramework": "European Qualifications Framework", "targetCode": "4", "targetType": "ext:EQF"},
                ],
                "resultDescription": [
                    {"id": "urn:uuid:4c9e6c4e-0000-4000-8000-000000000001", "type": ["ResultDescription"], "name": "Final grade",
                     "resultType": "GradePointAverage", "valueMin": "1", "valueMax": "10"},
                ],
                "microCredential": {
                    "type": ["MicroCredentialElements"],
                    "notionalWorkloadHours": 84,
                    "assessmentType": "Practical examination",
                    "participationForm": "onsite",
                    "supervision": "supervised-with-identity-verification",
                    "stackability": "stackable",
                },
                **achievement,
            },
        },
    }


def test_completion_date_grade_and_country_are_shown() -> None:
    shown = facts(_credential())
    assert shown.completed_on == date(2024, 6, 28) and shown.issued_on == date(2026, 12, 3)
    assert shown.results == [("Final grade", "8.5 (on a scale of 1 to 10)")]
    assert shown.issuer_country == "Netherlands"


def test_codes_are_shown_in_words() -> None:
    shown = dict(facts(_credential()).elements)
    assert shown["Language"] == "Dutch"
    assert shown["Level"] == "EQF level 4"
    assert shown["Form of participation"] == "On site"
    assert shown["Supervision and identity verification"] == "Supervised, with identity verification"
    assert shown["Integration and stackability"] == "Stackable: it can be combined with other credentials"
    assert shown["Type of assessment"] == "Practical examination"  # free text stays as written
    assert shown["Notional workload"] == "84 hours"
    assert facts(_credential()).kind == "Diploma"
    assert facts(_credential(achievementType="CertificateOfCompletion")).kind == "Certificate of participation"
    assert facts(_credential(achievementType="BachelorDegree")).kind == "Bachelor degree"  # not "Certificate of participation"
    assert facts(_credential(achievementType="ext:WorkshopSeries")).kind == "Workshop series"


def test_the_eu_elements_read_the_same_from_alignments() -> None:
    """Credentials carrying the EU elements as OB 3.0 alignments show what the extension object showed."""
    legacy = _credential()
    aligned = copy.deepcopy(legacy)
    achievement = aligned["credentialSubject"]["achievement"]
    micro = achievement.pop("microCredential")
    keys = ("notionalWorkloadHours", "assessmentType", "participationForm", "supervision", "stackability")
    achievement["alignment"] += eu_elements.alignments({key: micro[key] for key in keys})
    assert facts(aligned).elements == facts(legacy).elements


def test_a_country_written_out_a_grade_with_a_status_and_no_completion_date() -> None:
    document = _credential()
    document["issuer"]["address"] = {"type": ["Address"], "addressCountry": "België", "addressCountryCode": "BE"}
    document["credentialSubject"]["result"][0]["status"] = "Completed"
    del document["awardedDate"]
    shown = facts(document)
    assert shown.issuer_country == "België"  # the issuer's own words win over the code
    assert shown.results == [("Final grade", "8.5 (on a scale of 1 to 10), completed")]
    assert shown.completed_on is None
