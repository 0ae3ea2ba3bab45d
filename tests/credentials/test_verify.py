"""The verifier: one verdict per credential, a check per step, never an exception."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred.credentials import (
    DocumentLoader,
    Ed25519KeyPair,
    Resolver,
    UndefinedTermError,
    issue,
    verify,
)
from microcred.credentials import schema as ob_schema
from microcred.credentials.did import PublishedKey, controller_document
from microcred.credentials.ob3 import identity_hash
from microcred.credentials.proofs import add_proof
from microcred.credentials.suites import get_suite
from microcred.credentials.status_list import BitstringStatusList, status_entry, status_list_credential
from microcred.credentials.vc_jwt import encode_vc_jwt

ISSUED = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
SALT = "f00dfeed"
EMAIL = "learner@example.org"


@pytest.fixture
def key() -> Ed25519KeyPair:
    return Ed25519KeyPair.from_seed(b"\x01" * 32)


@pytest.fixture
def unsigned(ob3_unsigned: dict[str, Any], key: Ed25519KeyPair) -> dict[str, Any]:
    credential = copy.deepcopy(ob3_unsigned)
    credential["issuer"]["id"] = key.controller
    credential["validFrom"] = "2026-01-10T09:00:00Z"
    credential["credentialSubject"]["identifier"] = [
        {
            "type": "IdentityObject",
            "identityType": "emailAddress",
            "hashed": True,
            "salt": SALT,
            "identityHash": identity_hash(EMAIL, SALT),
        }
    ]
    return credential


@pytest.fixture
def signed(unsigned: dict[str, Any], key: Ed25519KeyPair, loader: DocumentLoader) -> dict[str, Any]:
    return issue(unsigned, signer=key.signer(), loader=loader, created=ISSUED)


def _failed(report, name: str) -> str:
    check = report.check(name)
    assert check is not None and check.outcome == "failed", report.to_dict()
    return check.message


class TestValidCredential:
    def test_every_step_passes(self, signed, now):
        report = verify(signed, now=now)
        assert report.verdict == "valid" and report.valid
        assert [c.name for c in report.checks if c.outcome == "passed"] == [
            "parse", "context", "schema", "credentialSchema", "proof", "validity",
        ]
        assert report.summary["issuer"]["id"] == signed["issuer"]["id"]
        assert report.summary["achievement"]["name"] == signed["credentialSubject"]["achievement"]["name"]

    def test_json_text_and_bytes_are_accepted(self, signed, now):
        text = json.dumps(signed, ensure_ascii=False)
        assert verify(text, now=now).verdict == "valid"
        assert verify(text.encode("utf-8"), now=now).verdict == "valid"

    def test_jcs_suite(self, unsigned, key, loader, now):
        signed = issue(unsigned, signer=key.signer(), loader=loader, suite="eddsa-jcs-2022", created=ISSUED)
        assert verify(signed, now=now).verdict == "valid"

    def test_signed_credentials_validate_against_the_official_schema(self, signed):
        assert ob_schema.validate(signed, kind="AchievementCredential") == []


class TestBadInput:
    def test_malformed_json(self, now):
        report = verify('{"@context": [', now=now)
        assert report.verdict == "malformed"
        assert "not JSON" in _failed(report, "parse")

    @pytest.mark.parametrize("value", [None, 42, ["a"], "", b"\xff\xfe"])
    def test_not_a_credential(self, value, now):
        assert verify(value, now=now).verdict == "malformed"

    def test_unknown_context_is_named_and_not_fetched(self, signed, now):
        doc = {**signed, "@context": [*signed["@context"], "https://contexts.example/evil.json"]}
        report = verify(doc, now=now)
        assert report.verdict == "malformed"
        assert "https://contexts.example/evil.json" in _failed(report, "context")

    def test_undefined_term_is_named(self, signed, now):
        doc = copy.deepcopy(signed)
        doc["credentialSubject"]["achievement"]["secretNote"] = "not signed by anyone"
        report = verify(doc, now=now)
        assert report.verdict == "malformed"
        assert "secretNote" in _failed(report, "context")

    def test_signing_refuses_undefined_terms_by_name(self, unsigned, key, loader):
        with pytest.raises(UndefinedTermError, match="learnerNickname"):
            issue({**unsigned, "learnerNickname": "Zo"}, signer=key.signer(), loader=loader)

    def test_signing_refuses_undefined_terms_under_jcs_too(self, unsigned, key, loader):
        with pytest.raises(UndefinedTermError, match="learnerNickname"):
            issue({**unsigned, "learnerNickname": "Zo"}, signer=key.signer(), loader=loader, suite="eddsa-jcs-2022")

    def test_truncated_proof_value(self, signed, now):
        doc = copy.deepcopy(signed)
        doc["proof"]["proofValue"] = doc["proof"]["proofValue"][:40]
        report = verify(doc, now=now)
        assert report.verdict == "malformed"
        assert "64" in _failed(report, "proof")

    def test_proof_value_that_is_not_base58(self, signed, now):
        doc = copy.deepcopy(signed)
        doc["proof"]["proofValue"] = "z0OIl" + doc["proof"]["proofValue"][5:]
        assert verify(doc, now=now).verdict == "malformed"

    def test_missing_proof(self, unsigned, now):
        report = verify(unsigned, now=now)
        assert report.verdict == "malformed"
        assert "no proof" in _failed(report, "proof")

    def test_wrong_key_type(self, signed, now):
        doc = copy.deepcopy(signed)
        # A P-256 did:key: a real key, but not one an Ed25519 suite can use.
        p256 = "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"
        doc["issuer"]["id"] = p256
        doc["proof"]["verificationMethod"] = f"{p256}#{p256.removeprefix('did:key:')}"
        report = verify(doc, now=now)
        assert report.verdict == "unknown_key"
        assert "Ed25519" in _failed(report, "proof")

    def test_proof_copied_from_another_credential(self, unsigned, signed, key, loader, now):
        other = copy.deepcopy(unsigned)
        other["id"] = "urn:uuid:1b9e8f3c-0000-4000-8000-000000000099"
        other["credentialSubject"]["achievement"]["name"] = "A course never taken"
        other["proof"] = copy.deepcopy(signed["proof"])
        report = verify(other, now=now)
        assert report.verdict == "tampered"
        assert "does not match" in _failed(report, "proof")

    def test_one_changed_character_is_tampering(self, signed, now):
        doc = copy.deepcopy(signed)
        doc["credentialSubject"]["achievement"]["description"] += "!"
        assert verify(doc, now=now).verdict == "tampered"

    def test_key_of_someone_else_than_the_issuer(self, unsigned, loader, now):
        stranger = Ed25519KeyPair.from_seed(b"\x02" * 32)
        doc = copy.deepcopy(unsigned)
        doc["issuer"]["id"] = stranger.controller
        forged = issue(doc, signer=stranger.signer(), loader=loader, created=ISSUED)
        forged["issuer"]["id"] = unsigned["issuer"]["id"]  # claim another issuer afterwards
        report = verify(forged, now=now)
        assert report.verdict == "unknown_key"

    def test_jwt_with_alg_none(self, signed, now):
        def b64(obj: Any) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

        payload = {k: v for k, v in signed.items() if k != "proof"}
        token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."
        report = verify(token, now=now)
        assert not report.valid
        assert "none" in json.dumps(report.to_dict())

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        junk=st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
            lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
            max_leaves=20,
        )
    )
    def test_arbitrary_json_never_raises(self, signed, junk):
        report = verify(junk)
        assert report.verdict == "malformed"
        mixed = {**signed, "credentialSubject": junk}
        assert verify(mixed).verdict in {"malformed", "tampered"}


class TestValidityPeriod:
    def test_expired(self, unsigned, key, loader):
        doc = {**unsigned, "validUntil": "2026-03-01T00:00:00Z"}
        signed = issue(doc, signer=key.signer(), loader=loader, created=ISSUED)
        report = verify(signed, now=datetime(2026, 3, 2, tzinfo=UTC))
        assert report.verdict == "expired"
        assert "2026-03-01" in _failed(report, "validity")
        assert verify(signed, now=datetime(2026, 2, 1, tzinfo=UTC)).verdict == "valid"

    def test_not_yet_valid(self, signed):
        assert verify(signed, now=datetime(2025, 12, 31, tzinfo=UTC)).verdict == "not_yet_valid"

    def test_proof_dated_in_the_future_fails_the_credential(self, unsigned, key, loader, now):
        signed = issue(unsigned, signer=key.signer(), loader=loader, created=now + timedelta(days=4 * 365))
        report = verify(signed, now=now)
        assert report.verdict == "not_yet_valid" and not report.valid
        assert report.check("proof").outcome == "failed" and "in the future" in report.check("proof").message


class TestStatus:
    LIST_URL = "https://issuer.example/status/1"

    def _issue_with_status(self, unsigned, key, loader, purpose: str = "revocation"):
        # The official OB 3.0 schema allows one credentialStatus object, not a list.
        doc = copy.deepcopy(unsigned)
        doc["credentialStatus"] = status_entry(purpose=purpose, index=94567, list_url=self.LIST_URL + purpose[0])
        return issue(doc, signer=key.signer(), loader=loader, created=ISSUED)

    def _lists(self, key, loader, *, revoked: bool = False, suspended: bool = False):
        lists = {}
        for purpose, on in (("revocation", revoked), ("suspension", suspended)):
            bits = BitstringStatusList()
            if on:
                bits.set(94567, 1)
            url = self.LIST_URL + purpose[0]
            unsigned_list = status_list_credential(
                list_id=url, issuer=key.controller, purpose=purpose, status_list=bits, valid_from=ISSUED
            )
            lists[url] = issue(unsigned_list, signer=key.signer(), loader=loader, created=ISSUED)
        return lists

    @pytest.mark.parametrize(
        ("purpose", "bit_set", "verdict"),
        [("revocation", False, "valid"), ("revocation", True, "revoked"),
         ("suspension", False, "valid"), ("suspension", True, "suspended")],
    )
    def test_status_bit_decides_the_verdict(self, unsigned, key, loader, now, purpose, bit_set, verdict):
        signed = self._issue_with_status(unsigned, key, loader, purpose)
        lists = self._lists(key, loader, revoked=bit_set, suspended=bit_set)
        report = verify(signed, fetch_status_list=lists.__getitem__, now=now)
        assert report.verdict == verdict, report.to_dict()
        assert report.check(f"status:{purpose}").outcome == ("failed" if bit_set else "passed")

    @pytest.mark.parametrize(
        ("value", "verdict", "outcome"),
        [(0, "valid", "passed"), (1, "revoked", "failed"), (2, "suspended", "failed"), (3, "suspended", "failed")],
    )
    def test_a_message_entry_is_not_valid_for_any_value_but_zero(self, unsigned, key, loader, now, value, verdict, outcome):
        """Validate Algorithm (3.2): a value other than 0 is not valid; its message says why
        (an unknown one is read as a suspension: nothing says it is final)."""
        doc = copy.deepcopy(unsigned)
        url = self.LIST_URL + "m"
        doc["credentialStatus"] = status_entry(
            purpose="message", index=94567, list_url=url, status_size=2, status_messages=["active", "revoked", "suspended", "undefined"]
        )
        signed = issue(doc, signer=key.signer(), loader=loader, created=ISSUED)
        bits = BitstringStatusList(status_size=2)
        bits.set(94567, value)
        unsigned_list = status_list_credential(list_id=url, issuer=key.controller, purpose="message", status_list=bits, valid_from=ISSUED)
        lists = {url: issue(unsigned_list, signer=key.signer(), loader=loader, created=ISSUED)}
        report = verify(signed, fetch_status_list=lists.__getitem__, now=now)
        assert report.verdict == verdict, report.to_dict()
        assert report.check("status:message").outcome == outcome

    def test_a_status_list_signed_by_someone_else_is_not_trusted(self, unsigned, key, loader, now):
        signed = self._issue_with_status(unsigned, key, loader)
        stranger = Ed25519KeyPair.from_seed(b"\x03" * 32)
        lists = self._lists(stranger, loader, revoked=False)
        report = verify(signed, fetch_status_list=lists.__getitem__, now=now)
        warnings = [c for c in report.checks if c.name.startswith("status") and c.outcome == "warning"]
        assert warnings and "not by the credential's issuer" in warnings[0].message

    def test_unreachable_list_is_a_warning_not_a_crash(self, unsigned, key, loader, now):
        signed = self._issue_with_status(unsigned, key, loader)

        def down(url: str) -> dict:
            raise TimeoutError("status host did not answer")

        report = verify(signed, fetch_status_list=down, now=now)
        assert any(c.outcome == "warning" and "did not answer" in c.message for c in report.checks)


class TestKeyRotation:
    DID = "did:web:issuer.example"

    def _keys(self):
        old = Ed25519KeyPair.from_seed(b"\x05" * 32, controller=self.DID)
        new = Ed25519KeyPair.from_seed(b"\x06" * 32, controller=self.DID)
        old = Ed25519KeyPair.from_seed(b"\x05" * 32, controller=self.DID, id=f"{self.DID}#{old.public_key_multibase}")
        new = Ed25519KeyPair.from_seed(b"\x06" * 32, controller=self.DID, id=f"{self.DID}#{new.public_key_multibase}")
        rotated = datetime(2026, 3, 1, tzinfo=UTC)
        document = controller_document(
            self.DID,
            [
                PublishedKey(old.id, self.DID, old.public_key_multibase, datetime(2025, 1, 1, tzinfo=UTC), rotated),
                PublishedKey(new.id, self.DID, new.public_key_multibase, rotated, None),
            ],
        )
        return old, new, rotated, Resolver(fetch_did_document=lambda did: document)

    def test_old_credentials_keep_verifying_after_rotation(self, unsigned, loader, now):
        old, _new, _rotated, resolver = self._keys()
        doc = {**unsigned, "issuer": {**unsigned["issuer"], "id": self.DID}}
        signed = issue(doc, signer=old.signer(), loader=loader, created=ISSUED)
        assert verify(signed, resolve_key=resolver, now=now).verdict == "valid"

    def test_new_key_signs_after_rotation(self, unsigned, loader, now):
        _old, new, rotated, resolver = self._keys()
        doc = {**unsigned, "issuer": {**unsigned["issuer"], "id": self.DID}, "validFrom": "2026-03-02T00:00:00Z"}
        signed = issue(doc, signer=new.signer(), loader=loader, created=rotated + timedelta(days=1))
        assert verify(signed, resolve_key=resolver, now=now).verdict == "valid"

    def test_proof_dated_after_retirement_fails(self, unsigned, loader, now):
        old, _new, rotated, resolver = self._keys()
        doc = {**unsigned, "issuer": {**unsigned["issuer"], "id": self.DID}}
        late = issue(doc, signer=old.signer(), loader=loader, created=rotated + timedelta(hours=1))
        report = verify(late, resolve_key=resolver, now=now)
        assert report.verdict == "unknown_key"
        assert "retired" in _failed(report, "proof")


class TestRecipient:
    def test_the_learners_email_matches(self, signed, now):
        report = verify(signed, recipient_email=EMAIL, now=now)
        assert report.valid and report.check("recipient").outcome == "passed"

    def test_another_email_does_not(self, signed, now):
        report = verify(signed, recipient_email="someone.else@example.org", now=now)
        assert report.verdict == "valid" and not report.valid
        assert "not awarded" in _failed(report, "recipient")


class TestVcJwt:
    def test_signed_jwt_verifies(self, unsigned, key, now):
        token = encode_vc_jwt(unsigned, signer=key.signer())
        report = verify(token, now=now)
        assert report.format == "jwt" and report.verdict == "valid", report.to_dict()

    def test_jwt_sent_as_a_json_string_verifies(self, unsigned, key, now):
        token = encode_vc_jwt(unsigned, signer=key.signer())
        for quoted in (json.dumps(token), json.dumps(token).encode(), f" {json.dumps(token)}\n"):
            report = verify(quoted, now=now)
            assert report.format == "jwt" and report.verdict == "valid", report.to_dict()

    def test_expired_jwt_is_expired_not_malformed(self, unsigned, key):
        token = encode_vc_jwt({**unsigned, "validUntil": "2026-03-01T00:00:00Z"}, signer=key.signer())
        report = verify(token, now=datetime(2026, 3, 2, tzinfo=UTC))
        assert report.verdict == "expired"
        assert report.check("proof").outcome == "passed"

    def test_tampered_jwt(self, unsigned, key, now):
        token = encode_vc_jwt(unsigned, signer=key.signer())
        header, payload, signature = token.split(".")
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        body["name"] = "Something else"
        forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
        report = verify(f"{header}.{forged}.{signature}", now=now)
        assert report.verdict == "tampered"
        assert "signature does not verify" in _failed(report, "proof")

    def test_jwt_from_an_unresolvable_key_is_unknown_key(self, unsigned, now):
        web_key = Ed25519KeyPair.from_seed(b"\x07" * 32, id="did:web:elsewhere.example#key-1")
        token = encode_vc_jwt({**unsigned, "issuer": {**unsigned["issuer"], "id": "did:web:elsewhere.example"}},
                              signer=web_key.signer())
        assert verify(token, now=now).verdict == "unknown_key"


class TestOb3OnVc11:
    """OB 3.0.0-3.0.2 (VC 1.1) credentials: the VC 1.1 data model, and the OB schema under VC 1.1's names."""

    @pytest.fixture
    def vc11(self) -> dict[str, Any]:
        from ..conftest import load_vector

        return load_vector("ob3-vc11-digitalbazaar/signed.json")

    def test_a_digital_bazaar_signed_credential_is_valid(self, vc11, now):
        report = verify(vc11, now=now)
        assert (report.verdict, report.valid) == ("valid", True), report.checks
        assert report.check("dataModel").outcome == "passed"
        assert report.summary["validUntil"] == "2030-01-01T00:00:00Z"

    def test_its_expiration_date_is_read(self, vc11):
        assert verify(vc11, now=datetime(2030, 1, 2, tzinfo=UTC)).verdict == "expired"

    def test_without_issuance_date_it_is_malformed_naming_the_field(self, vc11, now):
        unsigned = {k: v for k, v in vc11.items() if k != "issuanceDate"}
        report = verify(unsigned, now=now)
        assert report.verdict == "malformed"
        assert "issuanceDate" in report.check("dataModel").message
        assert "issuanceDate" in report.check("schema").message

    def test_the_ob_schema_still_applies(self, vc11, now):
        broken = copy.deepcopy(vc11)
        del broken["credentialSubject"]["achievement"]["criteria"]
        report = verify(broken, now=now)
        assert report.check("schema").outcome == "failed" and "criteria" in report.check("schema").message

    def test_its_credential_schema_naming_the_ob_schema_is_read_under_vc_1_1_names(self, vc11, vector_key, loader, now):
        """1EdTech's schema URL now serves the VC 2.0 shape; OB 3.0.0-3.0.2 credentials named it too."""
        unsigned = {k: v for k, v in vc11.items() if k != "proof"}
        unsigned["@context"] = [*unsigned["@context"], "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json", "https://w3id.org/security/data-integrity/v2"]
        unsigned["credentialSchema"] = [{
            "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
            "type": "1EdTechJsonSchemaValidator2019",
        }]
        signed = add_proof(unsigned, suite=get_suite("eddsa-rdfc-2022"), signer=vector_key.signer(), loader=loader, created=ISSUED)
        report = verify(signed, loader=loader, now=now)
        assert report.check("credentialSchema").outcome == "passed", report.checks
        assert report.valid
