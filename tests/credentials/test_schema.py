"""JSON Schema validation against the bundled 1EdTech schemas and our extension schema, offline."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft201909Validator

from microcred.credentials import schema
from microcred.credentials.loader import CONTEXTS
from microcred.credentials.schema import (
    EXTENSION_SCHEMA_ID,
    FORMAT_CHECKER,
    SchemaIssue,
    bundled_schema,
    validate,
    validate_credential_schema,
)

VECTOR = Path(__file__).parent.parent / "vectors" / "ob3-eddsa-rdfc-2022" / "unsigned.json"
ACHIEVEMENT_SCHEMA_ID = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
EXTENSION_POINTER = "/credentialSubject/achievement/microCredential"


def vector() -> dict[str, Any]:
    with VECTOR.open(encoding="utf-8") as f:
        document: dict[str, Any] = json.load(f)
    return document


def with_micro_credential(**block: Any) -> dict[str, Any]:
    document = vector()
    document["@context"].append(CONTEXTS.MICROCRED_V1)
    document["credentialSubject"]["achievement"]["microCredential"] = {
        "type": ["MicroCredentialElements"],
        "assessmentType": "written test",
        "participationForm": "online",
        "qualityAssurance": "internal quality assurance, externally audited",
    } | block
    return document


def pointers(issues: list[SchemaIssue]) -> list[str]:
    return [issue.pointer for issue in issues]


class TestValidate:
    def test_the_ob3_vector_is_valid(self) -> None:
        assert validate(vector()) == []

    def test_a_missing_valid_from_is_reported_at_its_own_pointer(self) -> None:
        document = vector()
        del document["validFrom"]
        assert validate(document) == [SchemaIssue("/validFrom", "'validFrom' is a required property")]

    def test_a_bad_date_time_is_reported_at_its_pointer(self) -> None:
        document = vector()
        document["credentialSubject"]["activityEndDate"] = "13 December 2024"
        issues = validate(document)
        assert pointers(issues) == ["/credentialSubject/activityEndDate"]
        assert "date-time" in issues[0].message

    def test_a_date_time_without_a_timezone_is_invalid(self) -> None:
        document = vector()
        document["validFrom"] = "2025-01-15T09:00:00"
        assert pointers(validate(document)) == ["/validFrom"]

    def test_a_bad_date_in_a_profile_is_reported_at_its_pointer(self) -> None:
        document = vector()
        document["issuer"]["dateOfBirth"] = "1970-02-30"
        assert pointers(validate(document)) == ["/issuer/dateOfBirth"]

    def test_a_value_under_one_of_names_the_field_and_the_real_problem(self) -> None:
        document = vector()
        document["credentialSubject"]["achievement"]["inLanguage"] = "English"
        issues = validate(document)
        assert pointers(issues) == ["/credentialSubject/achievement/inLanguage"]
        assert "does not match" in issues[0].message

    def test_a_wrong_credential_type_is_reported(self) -> None:
        document = vector()
        document["type"] = ["VerifiableCredential"]
        assert pointers(validate(document)) == ["/type"]

    def test_an_extra_property_of_an_identity_object_is_reported(self) -> None:
        document = vector()
        document["credentialSubject"]["identifier"][0]["plaintext"] = "learner@example.org"
        issues = validate(document)
        assert pointers(issues) == ["/credentialSubject/identifier/0"]
        assert "plaintext" in issues[0].message

    def test_input_that_is_not_an_object_gives_an_issue_not_an_exception(self) -> None:
        assert pointers(validate(["not", "a", "credential"])) == [""]
        assert pointers(validate(None)) == [""]

    def test_a_deeply_nested_document_gives_issues_not_an_exception(self) -> None:
        document = vector()
        nested: Any = "x"
        for _ in range(5000):
            nested = [nested]
        document["credentialSubject"]["achievement"]["tag"] = nested
        assert validate(document) != []

    def test_an_unknown_kind_is_a_programming_error(self) -> None:
        with pytest.raises(ValueError):
            validate(vector(), kind="Achievement")  # type: ignore[arg-type]

    def test_a_profile_is_validated_against_the_profile_schema(self) -> None:
        profile = vector()["issuer"]
        assert validate(profile, kind="Profile") == []
        del profile["id"]
        assert pointers(validate(profile, kind="Profile")) == ["/id"]

    def test_an_achievement_credential_is_not_a_valid_endorsement(self) -> None:
        assert "/credentialSubject/type" in pointers(validate(vector(), kind="EndorsementCredential"))

    def test_does_not_change_the_document(self) -> None:
        document = with_micro_credential(supervision="watched")
        before = copy.deepcopy(document)
        validate(document)
        assert document == before


class TestExtension:
    def test_a_complete_block_is_valid(self) -> None:
        document = with_micro_credential(
            supervision="supervised-no-identity-verification",
            stackability="stand-alone",
            notionalWorkloadHours=12.5,
            prerequisites="none",
            furtherInformation="https://provider.example/course",
        )
        assert validate(document) == []

    def test_a_missing_mandatory_element_is_reported_inside_the_block(self) -> None:
        document = with_micro_credential()
        del document["credentialSubject"]["achievement"]["microCredential"]["qualityAssurance"]
        assert pointers(validate(document)) == [f"{EXTENSION_POINTER}/qualityAssurance"]

    def test_supervision_outside_the_eu_values_is_reported(self) -> None:
        assert pointers(validate(with_micro_credential(supervision="watched"))) == [f"{EXTENSION_POINTER}/supervision"]

    def test_a_workload_of_zero_hours_is_reported(self) -> None:
        document = with_micro_credential(notionalWorkloadHours=0)
        assert pointers(validate(document)) == [f"{EXTENSION_POINTER}/notionalWorkloadHours"]

    def test_an_element_we_do_not_define_is_reported(self) -> None:
        issues = validate(with_micro_credential(cohort="2024"))
        assert pointers(issues) == [EXTENSION_POINTER]
        assert "cohort" in issues[0].message

    def test_the_block_needs_the_microcred_context(self) -> None:
        document = with_micro_credential()
        document["@context"].remove(CONTEXTS.MICROCRED_V1)
        assert pointers(validate(document)) == ["/@context"]

    def test_the_extension_schema_is_a_valid_2019_09_schema_with_our_id(self) -> None:
        schema = bundled_schema(EXTENSION_SCHEMA_ID)
        assert schema is not None
        assert schema["$id"] == "https://w3id.org/microcred/schema/v1/microcredential-elements.json"
        Draft201909Validator.check_schema(schema)


class TestFormatChecker:
    @pytest.mark.parametrize(
        "value",
        ["2025-01-15T09:00:00Z", "2025-01-15T09:00:00.123+02:00", "2016-12-31T23:59:60Z", "2025-01-15t09:00:00z"],
    )
    def test_accepts_rfc3339_date_times(self, value: str) -> None:
        assert FORMAT_CHECKER.conforms(value, "date-time")

    @pytest.mark.parametrize(
        "value", ["2025-01-15T09:00:00", "2025-01-15", "2025-02-30T09:00:00Z", "2025-01-15T25:00:00Z", "yesterday"]
    )
    def test_refuses_anything_else_as_a_date_time(self, value: str) -> None:
        assert not FORMAT_CHECKER.conforms(value, "date-time")

    def test_checks_calendar_dates(self) -> None:
        assert FORMAT_CHECKER.conforms("2024-02-29", "date")
        assert not FORMAT_CHECKER.conforms("2023-02-29", "date")
        assert not FORMAT_CHECKER.conforms("2024-02-29T00:00:00Z", "date")


class TestValidateCredentialSchema:
    def test_a_credential_is_valid_against_the_bundled_schema_it_names(self) -> None:
        document = vector()
        schema = bundled_schema(document["credentialSchema"][0]["id"])
        assert schema is not None
        assert validate_credential_schema(document, schema) == []

    def test_reports_issues_of_a_schema_the_caller_supplies(self) -> None:
        schema = {"type": "object", "required": ["awardedDate"], "properties": {"name": {"maxLength": 5}}}
        issues = validate_credential_schema(vector(), schema)
        assert sorted(pointers(issues)) == ["/awardedDate", "/name"]

    def test_checks_formats_too(self) -> None:
        schema = {"properties": {"validFrom": {"format": "date-time"}}}
        document = vector() | {"validFrom": "soon"}
        assert pointers(validate_credential_schema(document, schema)) == ["/validFrom"]

    def test_a_remote_reference_is_reported_and_never_fetched(self) -> None:
        schema = {"$ref": "https://schemas.example/never-fetched.json"}
        issues = validate_credential_schema(vector(), schema)
        assert len(issues) == 1
        assert "never-fetched" in issues[0].message

    def test_a_reference_to_a_bundled_schema_resolves_offline(self) -> None:
        assert validate_credential_schema(vector(), {"$ref": ACHIEVEMENT_SCHEMA_ID}) == []

    def test_a_broken_schema_is_reported_not_raised(self) -> None:
        issues = validate_credential_schema(vector(), {"type": "no-such-type"})
        assert pointers(issues) == [""]
        assert "not a valid JSON Schema" in issues[0].message

    def test_input_that_is_not_an_object_gives_an_issue(self) -> None:
        assert pointers(validate_credential_schema("credential", {"type": "object"})) == [""]


class TestBundledSchema:
    def test_knows_the_official_schemas_and_ours(self) -> None:
        assert bundled_schema(ACHIEVEMENT_SCHEMA_ID) is not None
        assert bundled_schema(EXTENSION_SCHEMA_ID) is not None

    def test_returns_none_for_a_schema_it_does_not_bundle(self) -> None:
        assert bundled_schema("https://schemas.example/other.json") is None

    def test_hands_out_a_copy(self) -> None:
        schema = bundled_schema(ACHIEVEMENT_SCHEMA_ID)
        assert schema is not None
        schema["required"] = []
        document = vector()
        del document["validFrom"]
        assert pointers(validate(document)) == ["/validFrom"]


#: (path, value or None to delete) -> the field the explanation names
SCHEMA_FAILURES: list[tuple[tuple[Any, ...], Any, str]] = [
    (("@context", 1), "https://example.org/not-ob.json", "/@context/1"),
    (("credentialSubject", "achievement", "name"), 5, "/credentialSubject/achievement/name"),
    (("issuer",), {"name": "x"}, "/issuer/id"),
    (("credentialSubject", "identifier", 0, "identityType"), 3, "/credentialSubject/identifier/0/identityType"),
    (("credentialSubject", "achievement", "criteria"), None, "/credentialSubject/achievement/criteria"),
    (("type",), None, "/type"),
    (("credentialSubject",), [], "/credentialSubject"),
    (("credentialSubject", "achievement", "image"), {"type": "Image"}, "/credentialSubject/achievement/image/id"),
    (("validFrom",), "2024-13-01T00:00:00Z", "/validFrom"),
]


class TestFailureExplanations:
    """A failure is explained by the compiled validator (the Python one walks the 1EdTech oneOf
    trees at several times the cost of a whole verification), naming the field the Python
    validator names."""

    @pytest.mark.parametrize(("path", "value", "pointer"), SCHEMA_FAILURES, ids=[p for *_, p in SCHEMA_FAILURES])
    def test_the_field_at_fault_is_named_as_the_python_validator_names_it(self, path: tuple[Any, ...], value: Any, pointer: str) -> None:
        document = vector()
        target: Any = document
        for part in path[:-1]:
            target = target[part]
        if value is None:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        name = "ob_v3p0_achievementcredential_schema.json"
        python = [issue.pointer for issue in schema._evaluate(schema._validator(name), document)]
        assert validate(document)[0].pointer == pointer == python[0]
        fast = schema._explain_fast(schema._fast_validator(name), document, "")
        if pointer != "/validFrom":  # formats alone: the Python validator decides
            assert fast is not None and [i.pointer for i in fast] == python
