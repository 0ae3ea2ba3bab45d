"""EndorsementCredentials: built to the official schema, signed and verified like any credential,
and, embedded in an award, checked with the same steps and against the object that carries them."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from microcred.credentials import DocumentLoader, Ed25519KeyPair, UndefinedTermError, issue, verify
from microcred.credentials import schema as ob_schema
from microcred.credentials.endorsement import MAX_EMBEDDED, embedded_endorsements, endorsement_credential
from microcred.credentials.status_list import BitstringStatusList, status_entry, status_list_credential
from microcred.credentials.vc_jwt import encode_vc_jwt

ISSUED = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
COMMENT = "Accredited against the NLQF criteria for level 4 vocational courses."
LIST_URL = "https://accreditation.example/status-lists/1"


@pytest.fixture
def endorser() -> Ed25519KeyPair:
    return Ed25519KeyPair.from_seed(b"\x02" * 32)


@pytest.fixture
def provider() -> Ed25519KeyPair:
    return Ed25519KeyPair.from_seed(b"\x01" * 32)


@pytest.fixture
def award(ob3_unsigned: dict[str, Any], provider: Ed25519KeyPair) -> dict[str, Any]:
    """The OB 3.0 vector credential, issued by the provider's did:key."""
    credential = copy.deepcopy(ob3_unsigned)
    credential["issuer"]["id"] = provider.controller
    credential["validFrom"] = "2026-01-10T09:00:00Z"
    return credential


def _endorsement(endorser: Ed25519KeyPair, subject_id: str, **options: Any) -> dict[str, Any]:
    return endorsement_credential(
        credential_id="https://accreditation.example/endorsements/1",
        issuer={"id": endorser.controller, "type": ["Profile"], "name": "Dutch Accreditation Council"},
        subject_id=subject_id,
        name="Endorsement of Applied Data Protection",
        valid_from=ISSUED,
        comment=COMMENT,
        **options,
    )


def _signed(unsigned: dict[str, Any], key: Ed25519KeyPair, loader: DocumentLoader, suite: str = "eddsa-rdfc-2022") -> dict[str, Any]:
    return issue(unsigned, signer=key.signer(), loader=loader, suite=suite, created=ISSUED)


def _endorsed(award: dict[str, Any], endorsement: Any, provider: Ed25519KeyPair, loader: DocumentLoader, *, at: str = "achievement") -> dict[str, Any]:
    """The award, carrying ``endorsement`` in its achievement (or issuer), signed by the provider."""
    credential = copy.deepcopy(award)
    holder = credential["credentialSubject"]["achievement"] if at == "achievement" else credential["issuer"]
    key = "endorsementJwt" if isinstance(endorsement, str) else "endorsement"
    holder[key] = [endorsement]
    return _signed(credential, provider, loader)


def _endorsement_checks(report: Any) -> list[tuple[str, str]]:
    return [(c.outcome, c.message) for c in report.checks if c.name == "endorsement"]


class TestBuild:
    def test_the_unsigned_endorsement_has_the_shape_ob3_requires(self, endorser: Ed25519KeyPair) -> None:
        document = _endorsement(endorser, "https://provider.example/achievements/adp")

        assert document == {
            "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
            "id": "https://accreditation.example/endorsements/1",
            "type": ["VerifiableCredential", "EndorsementCredential"],
            "name": "Endorsement of Applied Data Protection",
            "issuer": {"id": endorser.controller, "type": ["Profile"], "name": "Dutch Accreditation Council"},
            "validFrom": "2026-01-10T09:00:00Z",
            "credentialSubject": {"id": "https://provider.example/achievements/adp", "type": ["EndorsementSubject"], "endorsementComment": COMMENT},
        }
        assert ob_schema.validate(document, kind="EndorsementCredential") == []

    def test_validity_and_status_are_carried_when_given(self, endorser: Ed25519KeyPair) -> None:
        entry = status_entry(purpose="revocation", index=7, list_url=LIST_URL)
        document = _endorsement(endorser, "did:web:provider.example", valid_until=datetime(2027, 1, 1, tzinfo=UTC), credential_status=entry)

        assert document["validUntil"] == "2027-01-01T00:00:00Z"
        assert document["credentialStatus"] == entry
        assert ob_schema.validate(document, kind="EndorsementCredential") == []

    def test_a_relative_subject_id_is_refused(self, endorser: Ed25519KeyPair) -> None:
        with pytest.raises(ValueError, match="not an absolute URI"):
            _endorsement(endorser, "achievements/adp")


class TestVerifyAnEndorsement:
    @pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
    def test_a_signed_endorsement_verifies_against_the_endorsement_schema(
        self, endorser: Ed25519KeyPair, loader: DocumentLoader, now: datetime, suite: str
    ) -> None:
        signed = _signed(_endorsement(endorser, "https://provider.example/achievements/adp"), endorser, loader, suite)

        report = verify(signed, loader=loader, now=now)

        assert (report.verdict, report.valid) == ("valid", True)
        schema_check = report.check("schema")
        assert schema_check is not None and "EndorsementCredential" in schema_check.message

    def test_a_changed_comment_is_tampered(self, endorser: Ed25519KeyPair, loader: DocumentLoader, now: datetime) -> None:
        signed = _signed(_endorsement(endorser, "https://provider.example/achievements/adp"), endorser, loader)
        signed["credentialSubject"]["endorsementComment"] = "The best course in Europe."

        assert verify(signed, loader=loader, now=now).verdict == "tampered"


class TestEmbeddedEndorsements:
    def test_an_endorsement_of_the_achievement_verifies_with_the_credential(
        self, award: dict[str, Any], endorser: Ed25519KeyPair, provider: Ed25519KeyPair, loader: DocumentLoader, now: datetime
    ) -> None:
        endorsement = _signed(_endorsement(endorser, award["credentialSubject"]["achievement"]["id"]), endorser, loader)
        credential = _endorsed(award, endorsement, provider, loader)

        report = verify(credential, loader=loader, now=now)

        assert (report.verdict, report.valid) == ("valid", True)
        assert _endorsement_checks(report) == [("passed", f"endorsed by Dutch Accreditation Council: “{COMMENT}”")]
        assert report.summary["endorsements"] == [
            {
                "id": "https://accreditation.example/endorsements/1",
                "endorser": {"id": endorser.controller, "name": "Dutch Accreditation Council"},
                "subject": award["credentialSubject"]["achievement"]["id"],
                "comment": COMMENT,
                "state": "valid",
                "pointer": "/credentialSubject/achievement/endorsement/0",
            }
        ]
        assert ob_schema.validate(credential) == []

    def test_an_endorsement_of_the_issuer_verifies_in_the_issuer_profile(
        self, award: dict[str, Any], endorser: Ed25519KeyPair, provider: Ed25519KeyPair, loader: DocumentLoader, now: datetime
    ) -> None:
        endorsement = _signed(_endorsement(endorser, provider.controller), endorser, loader)
        credential = _endorsed(award, endorsement, provider, loader, at="issuer")

        report = verify(credential, loader=loader, now=now)

        assert report.verdict == "valid" and [o for o, _ in _endorsement_checks(report)] == ["passed"]

    def test_an_endorsement_jwt_cannot_be_signed_in_because_the_ob3_context_does_not_define_it(
        self, award: dict[str, Any], endorser: Ed25519KeyPair, provider: Ed25519KeyPair, loader: DocumentLoader
    ) -> None:
        token = encode_vc_jwt(_endorsement(endorser, award["credentialSubject"]["achievement"]["id"]), signer=endorser.signer())

        with pytest.raises(UndefinedTermError, match="endorsementJwt"):
            _endorsed(award, token, provider, loader)

    def test_a_tampered_endorsement_fails_the_credential_even_under_the_issuers_own_signature(
        self, award: dict[str, Any], endorser: Ed25519KeyPair, provider: Ed25519KeyPair, loader: DocumentLoader, now: datetime
    ) -> None:
        endorsement = _signed(_endorsement(endorser, award["credentialSubject"]["achievement"]["id"]), endorser, loader)
        endorsement["credentialSubject"]["endorsementComment"] = "The best course in Europe."
        credential = _endorsed(award, endorsement, provider, loader)

        report = verify(credential, loader=loader, now=now)

        assert (report.verdict, report.valid) == ("tampered", False)
        assert report.check("proof").outcome == "passed"  # type: ignore[union-attr]
        [(outcome, message)] = _endorsement_checks(report)
        assert outcome == "failed" and "the endorsement by Dutch Accreditation Council does not verify" in message
        assert report.summary["endorsements"][0]["state"] == "invalid"

    def test_an_endorsement_of_something_else_fails_where_it_is_embedded(
        self, award: dict[str, Any], endorser: Ed25519KeyPair, provider: Ed25519KeyPair, loader: DocumentLoader, now: datetime
    ) -> None:
        other_course = "https://provider.example/achievements/another-course"
        endorsement = _signed(_endorsement(endorser, other_course), endorser, loader)
        credential = _endorsed(award, endorsement, provider, loader)

        report = verify(credential, loader=loader, now=now)

        assert report.verdict == "tampered"
        [(outcome, message)] = _endorsement_checks(report)
        achievement_id = award["credentialSubject"]["achievement"]["id"]
        assert outcome == "failed" and f"is about {other_course}, not about {achievement_id} that carries it" in message

    def test_an_achievement_credential_in_place_of_an_endorsement_is_malformed(
        self, award: dict[str, Any], provider: Ed25519KeyPair, loader: DocumentLoader, now: datetime
    ) -> None:
        not_an_endorsement = _signed(copy.deepcopy(award), provider, loader)
        credential = _endorsed(award, not_an_endorsement, provider, loader)

        report = verify(credential, loader=loader, now=now)

        assert report.verdict == "malformed"
        assert "is not an EndorsementCredential" in _endorsement_checks(report)[0][1]

    @pytest.mark.parametrize(
        ("state", "words"), [("revoked", "was revoked by its issuer"), ("expired", "has expired")]
    )
    def test_a_revoked_or_expired_endorsement_is_a_warning_and_the_credential_stands(
        self,
        award: dict[str, Any],
        endorser: Ed25519KeyPair,
        provider: Ed25519KeyPair,
        loader: DocumentLoader,
        now: datetime,
        state: str,
        words: str,
    ) -> None:
        options: dict[str, Any] = {"credential_status": status_entry(purpose="revocation", index=42, list_url=LIST_URL)}
        if state == "expired":
            options["valid_until"] = datetime(2026, 3, 1, tzinfo=UTC)
        endorsement = _signed(_endorsement(endorser, award["credentialSubject"]["achievement"]["id"], **options), endorser, loader)
        bits = BitstringStatusList()
        if state == "revoked":
            bits.set(42, 1)
        listed = _signed(
            status_list_credential(list_id=LIST_URL, issuer=endorser.controller, purpose="revocation", status_list=bits, valid_from=ISSUED),
            endorser,
            loader,
        )
        credential = _endorsed(award, endorsement, provider, loader)

        report = verify(credential, loader=loader, fetch_status_list={LIST_URL: listed}.__getitem__, now=now)

        assert (report.verdict, report.valid) == ("valid", True)
        assert _endorsement_checks(report) == [("warning", f"the endorsement by Dutch Accreditation Council {words}")]
        assert report.summary["endorsements"][0]["state"] == state

    def test_endorsements_past_the_limit_are_left_unchecked_and_said_so(
        self, award: dict[str, Any], endorser: Ed25519KeyPair, provider: Ed25519KeyPair, loader: DocumentLoader, now: datetime
    ) -> None:
        achievement_id = award["credentialSubject"]["achievement"]["id"]
        credential = copy.deepcopy(award)
        credential["credentialSubject"]["achievement"]["endorsement"] = [
            _signed({**_endorsement(endorser, achievement_id), "id": f"urn:uuid:00000000-0000-4000-8000-{n:012d}"}, endorser, loader)
            for n in range(MAX_EMBEDDED + 2)
        ]
        credential = _signed(credential, provider, loader)

        report = verify(credential, loader=loader, now=now)

        outcomes = [o for o, _ in _endorsement_checks(report)]
        assert outcomes == ["passed"] * MAX_EMBEDDED + ["warning"]
        assert _endorsement_checks(report)[-1][1].startswith("2 more endorsements were not checked")

    def test_verification_can_leave_endorsements_aside(
        self, award: dict[str, Any], endorser: Ed25519KeyPair, provider: Ed25519KeyPair, loader: DocumentLoader, now: datetime
    ) -> None:
        endorsement = _signed(_endorsement(endorser, "https://provider.example/achievements/another-course"), endorser, loader)
        credential = _endorsed(award, endorsement, provider, loader)

        report = verify(credential, loader=loader, now=now, check_endorsements=False)

        assert report.verdict == "valid" and _endorsement_checks(report) == [] and "endorsements" not in report.summary


class TestFindingEndorsements:
    def test_every_place_ob3_allows_is_searched_and_endorsements_inside_endorsements_are_not(self) -> None:
        inner = {"id": "urn:inner", "issuer": {"id": "did:example:x", "endorsement": [{"id": "urn:nested"}]}}
        credential = {
            "id": "https://provider.example/credentials/1",
            "endorsement": [{"id": "urn:on-credential"}],
            "issuer": {"id": "did:example:provider", "endorsement": [inner]},
            "credentialSubject": {
                "achievement": {"id": "https://provider.example/achievements/adp", "endorsement": [{"id": "urn:on-achievement"}]},
                "source": {"id": "https://academy.example", "endorsement": {"id": "urn:single"}},
            },
            "proof": {"endorsement": [{"id": "urn:in-proof"}]},
        }

        found = [(e.pointer, e.holder_id) for e in embedded_endorsements(credential)]

        assert found == [
            ("/endorsement/0", "https://provider.example/credentials/1"),
            ("/issuer/endorsement/0", "did:example:provider"),
            ("/credentialSubject/achievement/endorsement/0", "https://provider.example/achievements/adp"),
            ("/credentialSubject/source/endorsement", "https://academy.example"),
        ]
