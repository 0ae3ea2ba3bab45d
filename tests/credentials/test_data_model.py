"""Credentials of any kind, VC 1.1 and 2.0: the data model, signing them, verifying them and the
presentations that carry them (what the VC-API is built on)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from microcred.credentials import (
    ContextError,
    DocumentLoader,
    Ed25519KeyPair,
    MalformedError,
    UndefinedTermError,
    add_proof,
    issue_credential,
    verify,
    verify_presentation,
)
from microcred.credentials.data_model import credential_problems, presentation_problems, validity_period
from microcred.credentials.suites import get_suite

V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
DI = "https://w3id.org/security/data-integrity/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
SIGNED_AT = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def key() -> Ed25519KeyPair:
    return Ed25519KeyPair.from_seed(b"\x02" * 32)


@pytest.fixture
def holder() -> Ed25519KeyPair:
    return Ed25519KeyPair.from_seed(b"\x03" * 32)


def credential(key: Ed25519KeyPair, version: str = "2.0", **fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": [V2] if version == "2.0" else [V1, OB, DI],
        "type": ["VerifiableCredential"],
        "issuer": key.controller,
        "credentialSubject": {"id": "did:example:learner", "name": "Zoë Jansen"},
    }
    if version == "1.1":
        document["issuanceDate"] = "2026-01-10T09:00:00Z"
    document.update(fields)
    return document


class TestDataModel:
    @pytest.mark.parametrize("version", ["2.0", "1.1"])
    def test_a_minimal_credential_conforms(self, key: Ed25519KeyPair, version: str) -> None:
        assert credential_problems(credential(key, version)) == []

    def test_vc_1_1_requires_an_issuance_date_where_vc_2_0_requires_no_dates(self, key: Ed25519KeyPair) -> None:
        old = credential(key, "1.1")
        del old["issuanceDate"]
        assert [(p.pointer, p.message) for p in credential_problems(old)] == [("/issuanceDate", "issuanceDate is missing (VC 1.1 requires it)")]
        period = validity_period(credential(key))
        assert (period.start, period.end, period.start_field) == (None, None, "validFrom")

    def test_every_problem_is_reported_with_its_pointer(self, key: Ed25519KeyPair) -> None:
        bad = credential(key, type="VerifiableCredential", id="two words", credentialSubject=[{}], credentialSchema={"type": "JsonSchema"})
        bad["issuer"] = {"name": "no id"}
        assert [p.pointer for p in credential_problems(bad)] == ["/id", "/issuer/id", "/credentialSubject/0", "/credentialSchema/id"]

    def test_unknown_contexts_are_named_when_a_loader_is_given(self, key: Ed25519KeyPair) -> None:
        document = credential(key, **{"@context": [V2, "https://example.org/ctx"]})
        assert credential_problems(document) == []  # structure alone
        (problem,) = credential_problems(document, loader=DocumentLoader())
        assert isinstance(problem, ContextError) and problem.pointer == "/@context/1" and "never fetched" in problem.message

    def test_a_presentation_names_its_type_and_refuses_enveloped_credentials(self) -> None:
        presentation = {"@context": [V2], "type": ["VerifiablePresentation"], "verifiableCredential": {"type": "EnvelopedVerifiableCredential"}}
        assert [p.pointer for p in presentation_problems(presentation)] == ["/verifiableCredential"]
        assert [p.pointer for p in presentation_problems({"@context": [V2], "type": "VerifiableCredential"})] == ["/type"]


class TestIssueCredential:
    @pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
    @pytest.mark.parametrize("version", ["2.0", "1.1"])
    def test_signed_credentials_verify_with_the_vc_profile(self, key: Ed25519KeyPair, loader: DocumentLoader, version: str, suite: str) -> None:
        signed = issue_credential(credential(key, version), signer=key.signer(), loader=loader, suite=suite, created=SIGNED_AT)

        report = verify(signed, loader=loader, now=NOW, profile="vc")

        assert (report.verdict, report.valid) == ("valid", True), report.to_dict()
        assert report.check("dataModel") is not None and report.check("schema") is None
        # the OB 3.0 profile holds it to the AchievementCredential schema, which it is not
        assert verify(signed, loader=loader, now=NOW).verdict == "malformed"

    def test_vc_1_1_needs_the_data_integrity_context_and_undefined_terms_are_refused(self, key: Ed25519KeyPair, loader: DocumentLoader) -> None:
        with pytest.raises(ContextError, match="data-integrity"):
            issue_credential(credential(key, "1.1", **{"@context": [V1, OB]}), signer=key.signer(), loader=loader)
        for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
            with pytest.raises(UndefinedTermError, match="favouriteColour"):
                issue_credential(credential(key, credentialSubject={"favouriteColour": "blue"}), signer=key.signer(), loader=loader, suite=suite)

    def test_another_issuers_credential_is_not_signed(self, key: Ed25519KeyPair, loader: DocumentLoader) -> None:
        with pytest.raises(MalformedError, match="does not control"):
            issue_credential(credential(key, issuer="did:web:elsewhere.example"), signer=key.signer(), loader=loader)

    @pytest.mark.parametrize(
        ("fields", "verdict"),
        [
            ({"issuanceDate": "2026-07-01T00:00:00Z"}, "not_yet_valid"),
            ({"expirationDate": "2026-02-01T00:00:00Z"}, "expired"),
            ({}, "valid"),
        ],
    )
    def test_vc_1_1_dates_are_read_under_their_own_names(self, key: Ed25519KeyPair, loader: DocumentLoader, fields: dict[str, str], verdict: str) -> None:
        signed = issue_credential(credential(key, "1.1", **fields), signer=key.signer(), loader=loader, created=SIGNED_AT)
        assert verify(signed, loader=loader, now=NOW, profile="vc").verdict == verdict


class TestVerifyPresentation:
    @pytest.fixture
    def presentation(self, key: Ed25519KeyPair, holder: Ed25519KeyPair, loader: DocumentLoader) -> dict[str, Any]:
        carried = issue_credential(credential(key), signer=key.signer(), loader=loader, created=SIGNED_AT)
        return {"@context": [V2], "type": ["VerifiablePresentation"], "holder": holder.controller, "verifiableCredential": [carried]}

    def _sign(self, presentation: dict[str, Any], holder: Ed25519KeyPair, loader: DocumentLoader, **options: Any) -> dict[str, Any]:
        return add_proof(
            presentation, suite=get_suite("eddsa-rdfc-2022"), signer=holder.signer(), loader=loader, created=SIGNED_AT,
            proof_purpose="authentication", **options,
        )

    def test_a_presentation_for_this_verifier_verifies(self, presentation: dict[str, Any], holder: Ed25519KeyPair, loader: DocumentLoader) -> None:
        signed = self._sign(presentation, holder, loader, challenge="abc", domain="verifier.example")

        report = verify_presentation(signed, loader=loader, challenge="abc", domain="verifier.example", now=NOW)

        assert report.verified, report
        assert [c.name for c in report.checks] == ["dataModel", "context", "proof", "challenge", "domain"]
        assert [r.verdict for r in report.credentials] == ["valid"]

    @pytest.mark.parametrize(
        ("signed_with", "expected", "failing"),
        [
            ({"challenge": "abc"}, {"challenge": "xyz"}, "challenge"),
            ({"challenge": "abc", "domain": "other.example"}, {"challenge": "abc", "domain": "verifier.example"}, "domain"),
            ({"challenge": "abc"}, {"challenge": "abc", "domain": "verifier.example"}, "domain"),
        ],
    )
    def test_a_presentation_made_for_another_verifier_fails(
        self, presentation: dict[str, Any], holder: Ed25519KeyPair, loader: DocumentLoader, signed_with: dict[str, str], expected: dict[str, str], failing: str
    ) -> None:
        signed = self._sign(presentation, holder, loader, **signed_with)
        report = verify_presentation(signed, loader=loader, now=NOW, **expected)
        assert not report.verified
        assert [c.name for c in report.checks if c.outcome == "failed"] == [failing]

    def test_every_proof_of_a_set_must_answer_the_challenge_and_name_the_domain(
        self, presentation: dict[str, Any], holder: Ed25519KeyPair, loader: DocumentLoader
    ) -> None:
        ours = self._sign(presentation, holder, loader, challenge="abc", domain="verifier.example")
        # a second proof made for another verifier, added to the set: replayed here, it must fail
        replayed = self._sign(ours, holder, loader, challenge="xyz", domain="other.example")
        assert len(replayed["proof"]) == 2
        report = verify_presentation(replayed, loader=loader, challenge="abc", domain="verifier.example", now=NOW)
        assert not report.verified
        assert [c.name for c in report.checks if c.outcome == "failed"] == ["challenge", "domain"]
        both = self._sign(ours, holder, loader, challenge="abc", domain="verifier.example")
        assert verify_presentation(both, loader=loader, challenge="abc", domain="verifier.example", now=NOW).verified

    def test_the_holder_must_be_the_signer_and_an_assertion_proof_is_no_authentication(
        self, presentation: dict[str, Any], holder: Ed25519KeyPair, key: Ed25519KeyPair, loader: DocumentLoader
    ) -> None:
        impostor = self._sign({**presentation, "holder": key.controller}, holder, loader, challenge="abc")
        assert f"not of the holder {key.controller}" in _failed(verify_presentation(impostor, loader=loader, challenge="abc", now=NOW), "proof")
        asserted = add_proof(presentation, suite=get_suite("eddsa-rdfc-2022"), signer=holder.signer(), loader=loader, created=SIGNED_AT)
        assert "proofPurpose" in _failed(verify_presentation(asserted, loader=loader, now=NOW), "proof")

    def test_a_changed_credential_breaks_the_presentation_and_the_credential(
        self, presentation: dict[str, Any], holder: Ed25519KeyPair, loader: DocumentLoader
    ) -> None:
        signed = self._sign(presentation, holder, loader, challenge="abc")
        changed = copy.deepcopy(signed)
        changed["verifiableCredential"][0]["credentialSubject"]["name"] = "Zoë Janssen"
        report = verify_presentation(changed, loader=loader, challenge="abc", now=NOW)
        assert _failed(report, "proof") and [r.verdict for r in report.credentials] == ["tampered"]

    def test_unsigned_presentations_and_garbage(self, presentation: dict[str, Any], loader: DocumentLoader) -> None:
        unsigned = verify_presentation(presentation, loader=loader, unsigned=True, now=NOW)
        assert unsigned.verified and [c.outcome for c in unsigned.checks if c.name == "proof"] == ["skipped"]
        assert not verify_presentation(presentation, loader=loader, now=NOW).verified  # a proof was expected
        assert not verify_presentation(presentation, loader=loader, unsigned=True, challenge="abc", now=NOW).verified
        for garbage in (None, "x", [], {"@context": 4}, {"@context": [V2], "type": ["VerifiablePresentation"], "verifiableCredential": [4]}):
            assert not verify_presentation(garbage, loader=loader, now=NOW).verified


def _failed(report: Any, name: str) -> str:
    found = [c.message for c in report.checks if c.name == name and c.outcome == "failed"]
    assert found, report
    message: str = found[0]
    return message
