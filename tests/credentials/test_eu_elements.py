"""The EU elements OB 3.0 lacks, carried by OB 3.0's own Alignment, and read back from both the
new carrier and the ``microCredential`` object of credentials issued before."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from microcred.credentials import CONTEXTS, DocumentLoader, Ed25519KeyPair, eu_elements, issue, schema
from microcred.credentials.canonical import canonicalize_rdfc

ELEMENTS: dict[str, str | int] = {
    "notionalWorkloadHours": 84,
    "assessmentType": "Practical examination",
    "participationForm": "Onsite",
    "qualityAssurance": "Accredited by the society's accreditation board",
    "prerequisites": "Basic metalworking",
    "supervision": "supervised-with-identity-verification",
    "stackability": "stackable",
    "furtherInformation": "https://turning-academy.example/courses/precision",
}
LEGACY = {"type": ["MicroCredentialElements"], **ELEMENTS}


def credential(achievement_extra: dict[str, Any], *, issuer: str) -> dict[str, Any]:
    return {
        "@context": [CONTEXTS.VC_V2, CONTEXTS.OB_V3],
        "id": "https://issuer.example/credentials/1",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Precision Turning",
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Turning Academy"},
        "validFrom": "2026-01-15T09:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://issuer.example/achievements/1",
                "type": ["Achievement"],
                "name": "Precision Turning",
                "description": "Turns instrument parts to ±5 µm.",
                "criteria": {"narrative": "Learning outcomes:\n- measure parts to ±5 µm"},
                **achievement_extra,
            },
        },
    }


class TestAlignments:
    def test_each_element_is_one_alignment_a_person_and_a_machine_can_read(self) -> None:
        made = eu_elements.alignments(ELEMENTS)
        assert [a["targetCode"] for a in made] == list(eu_elements.ELEMENTS)  # the Recommendation's order
        workload, assessment = made[0], made[1]
        assert assessment == {
            "type": ["Alignment"],
            "targetName": "Type of assessment: Practical examination",
            "targetDescription": "Practical examination",
            "targetUrl": "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32022H0627(02)",
            "targetFramework": "EU micro-credential elements (Council Recommendation 2022/C 243/02, Annex I)",
            "targetCode": "assessmentType",
            "targetType": "ext:EUMicroCredentialElement",
        }
        assert (workload["targetName"], workload["targetDescription"]) == ("Notional workload: 84 hours", "84")

    def test_coded_values_are_named_in_words_and_kept_as_codes_for_machines(self) -> None:
        by_code = {a["targetCode"]: a for a in eu_elements.alignments(ELEMENTS)}
        supervision, stackability = by_code["supervision"], by_code["stackability"]
        assert supervision["targetName"] == "Supervision and identity verification: Supervised, with identity verification"
        assert supervision["targetDescription"] == "supervised-with-identity-verification"
        assert stackability["targetName"] == "Integration and stackability: Stackable: it can be combined with other credentials"

    def test_absent_elements_are_left_out_and_unknown_ones_refused(self) -> None:
        assert [a["targetCode"] for a in eu_elements.alignments({"assessmentType": "Exam", "supervision": None, "stackability": ""})] == [
            "assessmentType"
        ]
        with pytest.raises(ValueError, match="cohort"):
            eu_elements.alignments({"cohort": "2024"})

    def test_a_credential_carrying_them_is_valid_ob3_and_signs_with_only_vc_and_ob_contexts(self) -> None:
        key = Ed25519KeyPair.from_seed(b"\x07" * 32)
        unsigned = credential({"alignment": eu_elements.alignments(ELEMENTS)}, issuer=key.controller)
        assert schema.validate(unsigned) == []
        # signing runs safe mode: every term must be defined by VC 2.0 / OB 3.0 (no @vocab fallback)
        signed = issue(unsigned, signer=key.signer(), loader=DocumentLoader(), created=datetime(2026, 1, 15, tzinfo=UTC))
        assert signed["@context"] == [CONTEXTS.VC_V2, CONTEXTS.OB_V3]
        quads = canonicalize_rdfc({k: v for k, v in signed.items() if k != "proof"}, loader=DocumentLoader())
        assert "<https://purl.imsglobal.org/spec/vc/ob/vocab.html#targetCode> \"assessmentType\"" in quads
        assert "https://www.w3.org/ns/credentials/issuer-dependent#" not in quads  # no term fell to VC 2.0's @vocab


class TestRead:
    def test_credentials_issued_before_read_like_new_ones(self) -> None:
        new = {"alignment": eu_elements.alignments(ELEMENTS)}
        old = {"microCredential": LEGACY}
        assert eu_elements.read(new) == eu_elements.read(old) == ELEMENTS

    def test_other_alignments_and_unusable_values_are_ignored(self) -> None:
        eqf = {"type": ["Alignment"], "targetName": "EQF level 4", "targetUrl": "https://europa.eu/", "targetFramework": "European Qualifications Framework", "targetCode": "4"}
        broken = eu_elements.alignments({"notionalWorkloadHours": 84})[0] | {"targetDescription": "a lot"}
        assert eu_elements.read({"alignment": [eqf, broken]}) == {}

    def test_an_old_version_awarded_now_carries_alignments_and_no_extension(self) -> None:
        eqf = {"type": ["Alignment"], "targetName": "EQF level 4", "targetUrl": "https://europa.eu/", "targetFramework": "European Qualifications Framework", "targetCode": "4"}
        old = {"id": "https://issuer.example/achievements/1", "alignment": [eqf], "microCredential": LEGACY}
        converted = eu_elements.as_alignments(old)
        assert "microCredential" not in converted and old["microCredential"] == LEGACY  # input untouched
        assert converted["alignment"][0] == eqf and eu_elements.read(converted) == ELEMENTS

    def test_an_issuer_that_opted_in_gets_both_carriers(self) -> None:
        both = eu_elements.with_extension({"alignment": eu_elements.alignments(ELEMENTS)})
        assert both["microCredential"] == LEGACY and eu_elements.read(both) == ELEMENTS
