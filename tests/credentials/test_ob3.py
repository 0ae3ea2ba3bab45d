"""OB 3.0 models: what a credential we build looks like once serialized, and what we refuse."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from pyld import jsonld

from microcred.credentials.errors import ContextError, MalformedError
from microcred.credentials.loader import CONTEXTS, DocumentLoader
from microcred.credentials.ob3 import (
    Achievement,
    AchievementCredential,
    AchievementSubject,
    Address,
    Alignment,
    CredentialSchema,
    CredentialStatus,
    Criteria,
    EndorsementCredential,
    EndorsementSubject,
    Evidence,
    GeoCoordinates,
    IdentifierEntry,
    IdentityObject,
    Image,
    MicroCredentialElements,
    OpenBadgeCredential,
    Profile,
    RefreshService,
    Related,
    Result,
    ResultDescription,
    RubricCriterionLevel,
    TermsOfUse,
    hashed_email_identifier,
    identity_hash,
)
from microcred.credentials.schema import validate

VECTOR = Path(__file__).parent.parent / "vectors" / "ob3-eddsa-rdfc-2022" / "unsigned.json"
ISSUER_DID = "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw"
ACHIEVEMENT_ID = "https://certifier.example/achievements/cnc-101"
GRADE_ID = f"{ACHIEVEMENT_ID}/results/grade"
EQF = "European Qualifications Framework"


def load_vector() -> dict[str, Any]:
    with VECTOR.open(encoding="utf-8") as f:
        vector: dict[str, Any] = json.load(f)
    return vector


def provider() -> Profile:
    return Profile(id="https://provider.example/", name="Metaal Opleidingen BV", url="https://provider.example/")


def issuer() -> Profile:
    return Profile(
        id=ISSUER_DID,
        name="Certifying Body",
        url="https://certifier.example/",
        address=Address(address_country="Netherlands", address_country_code="NL", address_region="Noord-Brabant"),
    )


def elements(**overrides: Any) -> MicroCredentialElements:
    fields: dict[str, Any] = {
        "assessment_type": "practical test",
        "participation_form": "onsite",
        "quality_assurance": "accredited by the certifying body",
        "supervision": "supervised-with-identity-verification",
        "stackability": "stackable",
        "notional_workload_hours": 84,
        "prerequisites": "basic metalworking",
    }
    return MicroCredentialElements(**(fields | overrides))


def achievement(**overrides: Any) -> Achievement:
    fields: dict[str, Any] = {
        "id": ACHIEVEMENT_ID,
        "achievement_type": "Diploma",
        "name": "CNC Milling and Turning",
        "description": "Vocational course on CNC milling and turning, individually assessed.",
        "criteria": Criteria(narrative="Pass the practical assessment of the learning outcomes."),
        "alignment": [
            Alignment(
                target_name="EQF level 4",
                target_url="https://europa.eu/europass/en/description-eight-eqf-levels",
                target_framework=EQF,
                target_code="4",
            )
        ],
        "credits_available": 3,
        "creator": provider(),
        "in_language": "nl",
        "result_description": [
            ResultDescription(id=GRADE_ID, name="Final grade", result_type="LetterGrade", allowed_value=["C", "B", "A"])
        ],
        "micro_credential": elements(),
    }
    return Achievement(**(fields | overrides))


def diploma(**overrides: Any) -> AchievementCredential:
    """An assessed micro-credential: a diploma, with every element the EU asks for."""
    subject = AchievementSubject(
        identifier=[hashed_email_identifier("learner@example.org", salt="fixed-salt")],
        achievement=overrides.pop("achievement", achievement()),
        result=[Result(result_description=GRADE_ID, value="A")],
        source=provider(),
        credits_earned=3,
    )
    fields: dict[str, Any] = {
        "id": "urn:uuid:0b0a8a34-4a3c-4f0e-9d5b-2a1c3e4f5a6b",
        "name": "CNC Milling and Turning",
        "issuer": issuer(),
        "valid_from": datetime(2025, 1, 15, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1))),
        "awarded_date": datetime(2025, 1, 15, 9, tzinfo=UTC),
        "credential_subject": subject,
    }
    return AchievementCredential(**(fields | overrides))


def endorsement() -> EndorsementCredential:
    return EndorsementCredential(
        id="urn:uuid:7d1e2f3a-0000-4000-8000-000000000001",
        name="Endorsement of CNC Milling and Turning",
        issuer=Profile(id="https://chamber.example/", name="Chamber of Trades"),
        valid_from=datetime(2024, 6, 1, tzinfo=UTC),
        credential_subject=EndorsementSubject(id=ACHIEVEMENT_ID, endorsement_comment="Meets industry needs."),
    )


def everything() -> AchievementCredential:
    """A credential that sets every field our models have, to prove each one is a defined term."""
    full_profile = Profile(
        id="https://provider.example/",
        name="Provider",
        url="https://provider.example/",
        phone="+31 40 000 0000",
        description="A training provider.",
        endorsement=[endorsement()],
        image=Image(id="https://provider.example/logo.png", caption="logo"),
        email="info@provider.example",
        address=Address(
            address_country="Netherlands",
            address_country_code="NL",
            address_region="Noord-Brabant",
            address_locality="Eindhoven",
            street_address="Kanaalstraat 1",
            post_office_box_number="12",
            postal_code="5611 AA",
            geo=GeoCoordinates(latitude=51.44, longitude=5.47),
        ),
        other_identifier=[IdentifierEntry(identifier="12345678", identifier_type="systemId")],
        official="J. Jansen",
        parent_org=Profile(id="https://group.example/", name="Group"),
        family_name="Jansen",
        given_name="Jan",
        additional_name="P.",
        patronymic_name="Pieterszoon",
        honorific_prefix="Dr",
        honorific_suffix="PhD",
        family_name_prefix="van",
        date_of_birth=date(1970, 1, 2),
    )
    level = RubricCriterionLevel(
        id=f"{GRADE_ID}/levels/mastered", name="Mastered", level="3", points="3", description="All outcomes mastered."
    )
    full_achievement = achievement(
        alignment=[
            Alignment(
                target_name="EQF level 4",
                target_url="https://europa.eu/eqf",
                target_framework=EQF,
                target_code="4",
                target_description="Level 4",
                target_type="CFItem",
            )
        ],
        creator=full_profile,
        criteria=Criteria(id=f"{ACHIEVEMENT_ID}/criteria", narrative="Pass."),
        endorsement=[endorsement()],
        field_of_study="Engineering",
        human_code="CNC-101",
        image=Image(id="https://certifier.example/cnc.png", caption="badge"),
        other_identifier=[IdentifierEntry(identifier="CNC-101", identifier_type="identifier")],
        related=[Related(id="https://certifier.example/achievements/cnc-101-en", in_language="en", version="1")],
        result_description=[
            ResultDescription(
                id=GRADE_ID,
                name="Level",
                result_type="RubricCriterionLevel",
                rubric_criterion_level=[level],
                required_level=level.id,
                required_value="3",
                value_min="1",
                value_max="3",
                allowed_value=["1", "2", "3"],
                alignment=[Alignment(target_name="x", target_url="https://x.example/")],
            )
        ],
        specialization="Turning",
        tag=["cnc", "metal"],
        version="2025",
        micro_credential=elements(further_information="https://certifier.example/cnc-101"),
    )
    subject = AchievementSubject(
        id="did:example:learner",
        activity_start_date=datetime(2024, 11, 4, 9, tzinfo=UTC),
        activity_end_date=datetime(2024, 12, 13, 17, tzinfo=UTC),
        credits_earned=2.5,
        achievement=full_achievement,
        identifier=[
            hashed_email_identifier("learner@example.org", salt="s"),
            IdentityObject(hashed=False, identity_hash="Anna Jansen", identity_type="name"),
        ],
        image=Image(id="https://certifier.example/baked.png"),
        license_number="L-1",
        narrative="Completed all sessions.",
        result=[
            Result(
                result_description=GRADE_ID,
                achieved_level=level.id,
                status="Completed",
                value="3",
                alignment=[Alignment(target_name="y", target_url="https://y.example/")],
            )
        ],
        role="Apprentice",
        source=full_profile,
        term="Autumn 2024",
    )
    return diploma(
        description="Awarded for CNC milling and turning.",
        image=Image(id="https://certifier.example/credential.png", caption="credential"),
        issuer=issuer().model_copy(update={"endorsement": [endorsement()]}),
        valid_until=datetime(2030, 1, 1, tzinfo=UTC),
        credential_subject=subject,
        endorsement=[endorsement()],
        evidence=[
            Evidence(
                id="https://certifier.example/evidence/1",
                narrative="Workpiece",
                name="Workpiece",
                description="Photos",
                genre="Photograph",
                audience="Assessors",
            )
        ],
        credential_schema=[
            CredentialSchema(
                id="https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
            )
        ],
        credential_status=CredentialStatus(
            id="https://certifier.example/status/1#94567",
            type="BitstringStatusListEntry",
            status_purpose="revocation",
            status_list_index="94567",
            status_list_credential="https://certifier.example/status/1",
        ),
        refresh_service=RefreshService(id="https://certifier.example/refresh", type="1EdTechCredentialRefresh"),
        terms_of_use=[TermsOfUse(id="https://certifier.example/terms", type="https://certifier.example/Terms")],
    )


def compact_values(node: Any) -> int:
    """Scalars in a compact document, @context excluded."""
    if isinstance(node, dict):
        return sum(compact_values(value) for key, value in node.items() if key != "@context")
    if isinstance(node, list):
        return sum(compact_values(item) for item in node)
    return 1


def expanded_values(node: Any, types: list[str]) -> int:
    """Values that survived expansion (@value, @id and each @type); collects the types seen."""
    if isinstance(node, list):
        return sum(expanded_values(item, types) for item in node)
    if not isinstance(node, dict):
        return 0
    if "@value" in node:
        return 1
    count = 0
    for key, value in node.items():
        if key == "@id":
            count += 1
        elif key == "@type":
            types.extend(value)
            count += len(value)
        else:
            count += expanded_values(value, types)
    return count


def assert_every_term_defined(document: dict[str, Any]) -> None:
    types: list[str] = []
    expanded = jsonld.expand(copy.deepcopy(document), {"documentLoader": DocumentLoader()})
    assert expanded_values(expanded, types) == compact_values(document)
    assert all(":" in t for t in types), types  # an undefined type stays relative


class TestIdentityHash:
    def test_reproduces_the_example_in_the_spec(self) -> None:
        # OB 3.0 B.7 IdentityHash: 'sha256$b5809d...' is SHA-256 of 'a@example.comKosher'.
        assert identity_hash("a@example.com", "Kosher") == (
            "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
        )

    def test_is_sha256_of_the_utf8_identity_followed_by_the_salt(self) -> None:
        expected = hashlib.sha256("zoë@example.org".encode() + b"zout").hexdigest()
        assert identity_hash("zoë@example.org", "zout") == "sha256$" + expected

    def test_hashes_the_identity_exactly_as_given(self) -> None:
        assert identity_hash("A@example.com", "s") != identity_hash("a@example.com", "s")


class TestHashedEmailIdentifier:
    def test_makes_a_salted_email_identity_object(self) -> None:
        ident = hashed_email_identifier("learner@example.org", salt="pepper")
        assert ident.model_dump(by_alias=True) == {
            "type": "IdentityObject",
            "hashed": True,
            "identityHash": identity_hash("learner@example.org", "pepper"),
            "identityType": "emailAddress",
            "salt": "pepper",
        }

    def test_uses_a_fresh_random_salt_by_default(self) -> None:
        first = hashed_email_identifier("learner@example.org")
        second = hashed_email_identifier("learner@example.org")
        assert first.salt and second.salt and first.salt != second.salt
        assert len(first.salt) >= 32
        assert first.identity_hash != second.identity_hash

    def test_ignores_surrounding_whitespace(self) -> None:
        assert hashed_email_identifier(" learner@example.org\n", salt="s").identity_hash == identity_hash(
            "learner@example.org", "s"
        )

    def test_refuses_something_that_is_not_an_email_address(self) -> None:
        with pytest.raises(ValueError):
            hashed_email_identifier("learner")

    def test_matches_the_learners_address_and_no_other(self) -> None:
        ident = hashed_email_identifier("learner@example.org")
        assert ident.matches("learner@example.org")
        assert not ident.matches("other@example.org")

    def test_a_hashed_identity_must_look_like_a_hash(self) -> None:
        with pytest.raises(ValidationError):
            IdentityObject(hashed=True, identity_hash="learner@example.org", identity_type="emailAddress")


class TestMicroCredentialDiploma:
    def test_validates_against_the_official_schema_and_our_extension_schema(self) -> None:
        assert validate(diploma().to_jsonld()) == []

    def test_carries_the_eu_elements_where_the_mapping_puts_them(self) -> None:
        doc = diploma().to_jsonld()
        achieved = doc["credentialSubject"]["achievement"]
        assert achieved["achievementType"] == "Diploma"
        assert {"targetFramework": EQF, "targetCode": "4"}.items() <= achieved["alignment"][0].items()
        assert achieved["creditsAvailable"] == 3
        assert achieved["creator"]["id"] == doc["credentialSubject"]["source"]["id"] == "https://provider.example/"
        assert doc["credentialSubject"]["result"][0]["resultDescription"] == achieved["resultDescription"][0]["id"]
        assert doc["issuer"]["address"]["addressCountryCode"] == "NL"
        assert achieved["microCredential"] == {
            "type": ["MicroCredentialElements"],
            "assessmentType": "practical test",
            "participationForm": "onsite",
            "qualityAssurance": "accredited by the certifying body",
            "supervision": "supervised-with-identity-verification",
            "prerequisites": "basic metalworking",
            "stackability": "stackable",
            "notionalWorkloadHours": 84,
        }

    def test_identifies_the_learner_by_a_hashed_email_only(self) -> None:
        subject = diploma().to_jsonld()["credentialSubject"]
        assert "id" not in subject
        assert subject["identifier"][0]["identityHash"] == identity_hash("learner@example.org", "fixed-salt")
        assert "learner@example.org" not in json.dumps(subject)

    def test_writes_datetimes_as_whole_utc_seconds(self) -> None:
        doc = diploma().to_jsonld()
        assert doc["validFrom"] == "2025-01-15T09:00:00Z"
        assert doc["awardedDate"] == "2025-01-15T09:00:00Z"

    def test_emits_no_null_and_no_empty_list(self) -> None:
        text = json.dumps(diploma().to_jsonld())
        assert "null" not in text
        assert "[]" not in text

    def test_always_has_name_and_valid_from(self) -> None:
        doc = diploma().to_jsonld()
        assert doc["name"] == "CNC Milling and Turning"
        assert "validFrom" in doc

    def test_every_emitted_term_survives_json_ld_expansion(self) -> None:
        assert_every_term_defined(diploma().to_jsonld())


class TestContexts:
    def test_microcred_context_is_added_when_micro_credential_is_used(self) -> None:
        assert diploma().to_jsonld()["@context"] == [CONTEXTS.VC_V2, CONTEXTS.OB_V3, CONTEXTS.MICROCRED_V1]

    def test_a_plain_badge_gets_only_vc_and_ob_contexts(self) -> None:
        doc = diploma(achievement=achievement(micro_credential=None)).to_jsonld()
        assert doc["@context"] == [CONTEXTS.VC_V2, CONTEXTS.OB_V3]
        assert validate(doc) == []

    def test_ob_extensions_context_is_added_for_a_1edtech_credential_schema(self) -> None:
        schema = CredentialSchema(
            id="https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
        )
        doc = diploma(credential_schema=[schema]).to_jsonld()
        assert doc["@context"] == [CONTEXTS.VC_V2, CONTEXTS.OB_V3, CONTEXTS.OB_EXTENSIONS, CONTEXTS.MICROCRED_V1]
        assert doc["credentialSchema"] == [{"id": schema.id, "type": "1EdTechJsonSchemaValidator2019"}]

    def test_every_term_of_every_field_is_defined_by_the_contexts_we_emit(self) -> None:
        doc = everything().to_jsonld()
        assert validate(doc) == []
        assert_every_term_defined(doc)

    def test_the_term_check_notices_an_undefined_term(self) -> None:
        doc = diploma().to_jsonld()
        doc["credentialSubject"]["achievement"]["microCredential"]["cohort"] = "2024"
        with pytest.raises(AssertionError):
            assert_every_term_defined(doc)

    def test_the_microcred_context_is_protected(self) -> None:
        context = DocumentLoader().document(CONTEXTS.MICROCRED_V1)["@context"]
        assert context["@protected"] is True
        assert context["MicroCredentialElements"]["@context"]["@protected"] is True


class TestCredentialSubject:
    def test_a_subject_without_id_or_identifier_is_refused(self) -> None:
        with pytest.raises(ValueError, match="id or at least one identifier"):
            AchievementSubject(achievement=achievement())

    def test_a_credential_whose_subject_lost_its_identifier_is_not_serialized(self) -> None:
        credential = diploma()
        credential.credential_subject.identifier.clear()
        with pytest.raises(ValueError, match="id or at least one identifier"):
            credential.to_jsonld()

    def test_a_result_must_point_at_a_result_description_of_the_achievement(self) -> None:
        with pytest.raises(ValueError, match="resultDescription"):
            AchievementSubject(
                id="did:example:learner",
                achievement=achievement(),
                result=[Result(result_description="https://elsewhere.example/grade", value="A")],
            )


class TestStrictness:
    def test_an_unknown_field_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="cohort"):
            MicroCredentialElements.model_validate(
                {"assessmentType": "test", "participationForm": "online", "qualityAssurance": "ISO", "cohort": 1}
            )

    def test_the_mandatory_extension_elements_are_required(self) -> None:
        with pytest.raises(ValidationError, match="quality_assurance|qualityAssurance"):
            MicroCredentialElements(assessment_type="test", participation_form="online")  # type: ignore[call-arg]

    def test_supervision_takes_only_the_three_eu_values(self) -> None:
        with pytest.raises(ValidationError):
            elements(supervision="proctored")

    def test_a_relative_uri_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="absolute URI"):
            achievement(id="achievements/cnc-101")

    def test_a_datetime_without_timezone_is_refused(self) -> None:
        with pytest.raises(ValidationError):
            diploma(valid_from=datetime(2025, 1, 15, 9))

    def test_the_credential_type_must_name_an_open_badge(self) -> None:
        with pytest.raises(ValidationError, match="OpenBadgeCredential"):
            diploma(type=["VerifiableCredential"])

    def test_an_unknown_achievement_type_is_refused_but_ext_terms_are_allowed(self) -> None:
        with pytest.raises(ValidationError):
            achievement(achievement_type="Diplome")
        assert achievement(achievement_type="ext:Pathway").achievement_type == "ext:Pathway"

    def test_whole_numbers_stay_integers_and_fractions_stay_floats(self) -> None:
        # 2 and 2.0 are different RDF literals, so they must not be converted into each other.
        assert (
            json.dumps(diploma(achievement=achievement(credits_available=2)).to_jsonld()).count(
                '"creditsAvailable": 2,'
            )
            == 1
        )
        assert '"creditsAvailable": 2.5,' in json.dumps(
            diploma(achievement=achievement(credits_available=2.5)).to_jsonld()
        )

    def test_a_string_is_not_accepted_as_a_number(self) -> None:
        with pytest.raises(ValidationError):
            achievement(credits_available="3")

    def test_open_badge_credential_is_the_same_class(self) -> None:
        assert OpenBadgeCredential is AchievementCredential


class TestFromJsonld:
    def test_the_ob3_vector_round_trips_unchanged(self) -> None:
        vector = load_vector()
        assert AchievementCredential.from_jsonld(vector).to_jsonld() == vector

    def test_the_round_tripped_vector_validates(self) -> None:
        assert validate(AchievementCredential.from_jsonld(load_vector()).to_jsonld()) == []

    def test_our_own_credential_reads_back_to_an_equal_model(self) -> None:
        credential = everything()
        assert AchievementCredential.from_jsonld(credential.to_jsonld()) == credential

    def test_reads_a_single_value_where_a_set_is_allowed(self) -> None:
        vector = load_vector()
        vector["credentialSchema"] = vector["credentialSchema"][0]
        vector["credentialSubject"]["identifier"] = vector["credentialSubject"]["identifier"][0]
        vector["credentialSubject"]["achievement"]["tag"] = "GDPR"
        document = AchievementCredential.from_jsonld(vector).to_jsonld()
        assert document["credentialSchema"] == [vector["credentialSchema"]]
        assert document["credentialSubject"]["identifier"] == [vector["credentialSubject"]["identifier"]]
        assert document["credentialSubject"]["achievement"]["tag"] == ["GDPR"]

    def test_does_not_change_the_document_it_reads(self) -> None:
        vector = load_vector()
        before = copy.deepcopy(vector)
        AchievementCredential.from_jsonld(vector).to_jsonld()
        assert vector == before

    def test_an_unknown_property_is_refused_with_its_pointer(self) -> None:
        vector = load_vector()
        vector["credentialSubject"]["achievement"]["cohort"] = "2024"
        with pytest.raises(MalformedError) as caught:
            AchievementCredential.from_jsonld(vector)
        assert caught.value.pointer == "/credentialSubject/achievement/cohort"

    def test_a_missing_subject_identifier_is_refused_with_its_pointer(self) -> None:
        vector = load_vector()
        del vector["credentialSubject"]["id"]
        del vector["credentialSubject"]["identifier"]
        with pytest.raises(MalformedError, match="id or at least one identifier") as caught:
            AchievementCredential.from_jsonld(vector)
        assert caught.value.pointer == "/credentialSubject"

    def test_a_context_we_do_not_bundle_is_refused(self) -> None:
        vector = load_vector()
        vector["@context"].append("https://evil.example/context.json")
        with pytest.raises(ContextError) as caught:
            AchievementCredential.from_jsonld(vector)
        assert caught.value.pointer == "/@context"

    def test_a_document_without_the_ob_context_is_refused(self) -> None:
        vector = load_vector()
        vector["@context"] = [CONTEXTS.VC_V2]
        with pytest.raises(ContextError):
            AchievementCredential.from_jsonld(vector)

    def test_something_that_is_not_an_object_is_refused(self) -> None:
        with pytest.raises(MalformedError):
            AchievementCredential.from_jsonld([])  # type: ignore[arg-type]


class TestEndorsementCredential:
    def test_a_model_built_endorsement_validates_against_the_endorsement_schema(self) -> None:
        doc = endorsement().to_jsonld()
        assert doc["@context"] == [CONTEXTS.VC_V2, CONTEXTS.OB_V3]
        assert doc["type"] == ["VerifiableCredential", "EndorsementCredential"]
        assert validate(doc, kind="EndorsementCredential") == []
        assert_every_term_defined(doc)

    def test_an_embedded_endorsement_carries_its_own_context(self) -> None:
        doc = diploma(achievement=achievement(endorsement=[endorsement()])).to_jsonld()
        embedded = doc["credentialSubject"]["achievement"]["endorsement"][0]
        assert embedded["@context"] == [CONTEXTS.VC_V2, CONTEXTS.OB_V3]
        assert validate(doc) == []

    def test_round_trips_through_json_ld(self) -> None:
        doc = endorsement().to_jsonld()
        assert EndorsementCredential.from_jsonld(doc).to_jsonld() == doc
