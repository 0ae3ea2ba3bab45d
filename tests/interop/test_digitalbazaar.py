"""Interoperability with Digital Bazaar's JavaScript libraries (@digitalbazaar/vc 7.3.0).

What microcred signs must verify there, what they sign must verify here, and one changed
character must fail on both sides. Node runs offline with microcred's bundled contexts.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from microcred.credentials import DocumentLoader, Ed25519KeyPair, add_proof, issue, issue_credential, verify, verify_presentation
from microcred.credentials.errors import MalformedError
from microcred.credentials.suites import get_suite

from .nodejs import js_sign, js_sign_presentation, js_verify

pytestmark = pytest.mark.interop

SEED = bytes.fromhex(
    json.loads(
        (Path(__file__).resolve().parents[1] / "vectors" / "ob3-eddsa-rdfc-2022" / "keyPair.json").read_text("utf-8")
    )["seedHex"]
)
CREATED = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
CREATED_TEXT = "2025-01-15T09:00:00Z"
DATA_INTEGRITY_SUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
JS_SUITES = [*DATA_INTEGRITY_SUITES, "Ed25519Signature2020"]
ASCII_NAME = "Applied Data Protection for Training Providers"
NON_ASCII_NAME = "Zoë Ångström – 日本"
#: form feed, vertical tab, backspace, bell, DEL: RDFC-1.0 escapes them (pyld wrote them raw)
CONTROL_NAME = "Page\x0cbreak\x0bvertical\x08back\x07bell\x7fdel\ttab"
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "microcredential.json"


@pytest.fixture
def unsigned(ob3_unsigned: dict[str, Any], vector_key: Ed25519KeyPair) -> dict[str, Any]:
    """The OB 3.0 vector credential, issued by the did:key that signs it on either side."""
    assert vector_key.public_key == Ed25519KeyPair.from_seed(SEED).public_key
    credential = copy.deepcopy(ob3_unsigned)
    credential["issuer"]["id"] = vector_key.controller
    return credential


def _named(credential: dict[str, Any], name: str) -> dict[str, Any]:
    renamed = copy.deepcopy(credential)
    renamed["credentialSubject"]["achievement"]["name"] = name
    return renamed


def _one_character_changed(name: str) -> str:
    """The last code point swapped for its neighbour ("s" -> "t", "本" -> "札")."""
    return name[:-1] + chr(ord(name[-1]) + 1)


def _tamper(signed: dict[str, Any]) -> dict[str, Any]:
    return _named(signed, _one_character_changed(signed["credentialSubject"]["achievement"]["name"]))


def _microcred_sign(
    credential: dict[str, Any], *, suite: str, key: Ed25519KeyPair, loader: DocumentLoader
) -> dict[str, Any]:
    return issue(credential, signer=key.signer(), suite=suite, loader=loader, created=CREATED)


class TestMicrocredSignedVerifiesUnderDigitalBazaar:
    @pytest.mark.parametrize("suite", DATA_INTEGRITY_SUITES)
    @pytest.mark.parametrize("name", [ASCII_NAME, NON_ASCII_NAME])
    def test_credential_signed_by_microcred_verifies(
        self, unsigned: dict[str, Any], vector_key: Ed25519KeyPair, loader: DocumentLoader, suite: str, name: str
    ) -> None:
        signed = _microcred_sign(_named(unsigned, name), suite=suite, key=vector_key, loader=loader)

        assert js_verify(signed) == (True, None)

    @pytest.mark.parametrize("suite", DATA_INTEGRITY_SUITES)
    @pytest.mark.parametrize("name", [ASCII_NAME, NON_ASCII_NAME])
    def test_one_changed_character_in_the_achievement_name_fails(
        self, unsigned: dict[str, Any], vector_key: Ed25519KeyPair, loader: DocumentLoader, suite: str, name: str
    ) -> None:
        signed = _microcred_sign(_named(unsigned, name), suite=suite, key=vector_key, loader=loader)

        assert js_verify(_tamper(signed)) == (False, "Invalid signature.")


class TestDigitalBazaarSignedVerifiesUnderMicrocred:
    @pytest.mark.parametrize("suite", JS_SUITES)
    @pytest.mark.parametrize("name", [ASCII_NAME, NON_ASCII_NAME])
    def test_credential_signed_by_digital_bazaar_is_valid(
        self, unsigned: dict[str, Any], loader: DocumentLoader, now: datetime, suite: str, name: str
    ) -> None:
        signed = js_sign(_named(unsigned, name), suite=suite, seed=SEED, created=CREATED_TEXT)

        report = verify(signed, loader=loader, now=now)

        assert (report.verdict, report.valid) == ("valid", True)

    @pytest.mark.parametrize("suite", JS_SUITES)
    @pytest.mark.parametrize("name", [ASCII_NAME, NON_ASCII_NAME])
    def test_one_changed_character_in_the_achievement_name_is_tampered(
        self, unsigned: dict[str, Any], loader: DocumentLoader, now: datetime, suite: str, name: str
    ) -> None:
        signed = js_sign(_named(unsigned, name), suite=suite, seed=SEED, created=CREATED_TEXT)

        report = verify(_tamper(signed), loader=loader, now=now)

        assert (report.verdict, report.valid) == ("tampered", False)


class TestBothSidesSignAlike:
    """Ed25519 is deterministic, so equal canonical bytes give equal proofs: the strictest check."""

    @pytest.mark.parametrize("suite", DATA_INTEGRITY_SUITES)
    @pytest.mark.parametrize("name", [ASCII_NAME, NON_ASCII_NAME, CONTROL_NAME])
    def test_microcred_and_digital_bazaar_produce_the_same_signed_credential(
        self, unsigned: dict[str, Any], vector_key: Ed25519KeyPair, loader: DocumentLoader, suite: str, name: str
    ) -> None:
        credential = _named(unsigned, name)

        ours = _microcred_sign(credential, suite=suite, key=vector_key, loader=loader)
        theirs = js_sign(credential, suite=suite, seed=SEED, created=CREATED_TEXT)

        assert ours == theirs


class TestMicroCredentialExtension:
    """The sample microcredential: OB 3.0 plus our EU elements context, bundled on both sides."""

    @pytest.fixture
    def sample(self, vector_key: Ed25519KeyPair) -> dict[str, Any]:
        credential = json.loads(SAMPLE.read_text("utf-8"))
        credential["issuer"]["id"] = vector_key.controller
        return credential

    @pytest.mark.parametrize("suite", DATA_INTEGRITY_SUITES)
    def test_both_sides_sign_alike_and_verify_each_other(
        self, sample: dict[str, Any], vector_key: Ed25519KeyPair, loader: DocumentLoader, suite: str
    ) -> None:
        ours = _microcred_sign(sample, suite=suite, key=vector_key, loader=loader)
        theirs = js_sign(sample, suite=suite, seed=SEED, created=CREATED_TEXT)

        assert ours == theirs
        assert js_verify(ours) == (True, None)
        after_award = datetime(2026, 12, 1, tzinfo=UTC)  # the sample is valid from 2026-06-30
        assert verify(theirs, loader=loader, now=after_award).verdict == "valid"

    def test_a_changed_eu_element_fails_under_digital_bazaar(
        self, sample: dict[str, Any], vector_key: Ed25519KeyPair, loader: DocumentLoader
    ) -> None:
        signed = _microcred_sign(sample, suite="eddsa-rdfc-2022", key=vector_key, loader=loader)
        [form] = [a for a in signed["credentialSubject"]["achievement"]["alignment"] if a.get("targetCode") == "participationForm"]
        form["targetDescription"] = "Online"

        assert js_verify(signed) == (False, "Invalid signature.")


class TestAnyCredentialVc11AndVc20:
    """The VC-API's kind of credential: no OB 3.0, VC 2.0 or VC 1.1 (Data Integrity context and
    issuanceDate given, as vc.issue would add them)."""

    @staticmethod
    def _credential(key: Ed25519KeyPair, version: str) -> dict[str, Any]:
        if version == "2.0":
            contexts = ["https://www.w3.org/ns/credentials/v2"]
        else:
            contexts = ["https://www.w3.org/2018/credentials/v1", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json", "https://w3id.org/security/data-integrity/v2"]
        credential: dict[str, Any] = {
            "@context": contexts,
            "id": "urn:uuid:4f4a4c8e-3b1b-4c6e-9a55-2a7d9b3f5e11",
            "type": ["VerifiableCredential"],
            "issuer": key.controller,
            "credentialSubject": {"id": "did:example:learner", "name": NON_ASCII_NAME},
        }
        if version == "1.1":
            credential["issuanceDate"] = CREATED_TEXT
        return credential

    @pytest.mark.parametrize("suite", DATA_INTEGRITY_SUITES)
    @pytest.mark.parametrize("version", ["2.0", "1.1"])
    def test_both_sides_sign_alike_and_verify_each_other(
        self, vector_key: Ed25519KeyPair, loader: DocumentLoader, now: datetime, version: str, suite: str
    ) -> None:
        credential = self._credential(vector_key, version)

        ours = issue_credential(credential, signer=vector_key.signer(), loader=loader, suite=suite, created=CREATED)
        theirs = js_sign(credential, suite=suite, seed=SEED, created=CREATED_TEXT)

        assert ours == theirs
        assert js_verify(ours) == (True, None)
        assert verify(theirs, loader=loader, now=now, profile="vc").verdict == "valid"
        changed = copy.deepcopy(ours)
        changed["credentialSubject"]["name"] = _one_character_changed(NON_ASCII_NAME)
        assert js_verify(changed)[0] is False
        assert verify(changed, loader=loader, now=now, profile="vc").verdict == "tampered"


class TestPresentations:
    CHALLENGE = "1f44d55f-f161-4938-a659-f8026467f126"

    @pytest.mark.parametrize("suite", DATA_INTEGRITY_SUITES)
    def test_both_sides_make_the_same_authentication_proof_and_ours_verifies_theirs(
        self, vector_key: Ed25519KeyPair, loader: DocumentLoader, now: datetime, suite: str
    ) -> None:
        holder = Ed25519KeyPair.from_seed(bytes(range(32)))
        carried = js_sign(TestAnyCredentialVc11AndVc20._credential(vector_key, "2.0"), suite=suite, seed=SEED, created=CREATED_TEXT)
        presentation = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "holder": holder.controller,
            "verifiableCredential": [carried],
        }

        theirs = js_sign_presentation(
            presentation, suite=suite, seed=bytes(range(32)), challenge=self.CHALLENGE, domain="verifier.example", created=CREATED_TEXT
        )
        ours = add_proof(
            presentation, suite=get_suite(suite), signer=holder.signer(), loader=loader, created=CREATED,
            proof_purpose="authentication", challenge=self.CHALLENGE, domain="verifier.example",
        )

        assert ours == theirs
        report = verify_presentation(theirs, loader=loader, challenge=self.CHALLENGE, domain="verifier.example", now=now)
        assert report.verified, report
        assert not verify_presentation(theirs, loader=loader, challenge="another", now=now).verified


class TestProofSetsAndChains:
    """Data Integrity 1.0 proof sets and chains signed by Digital Bazaar's suites verify here,
    member by member, and one broken member fails the credential and is named."""

    def test_a_proof_set_signed_by_digital_bazaar_verifies(self, unsigned: dict[str, Any], loader: DocumentLoader, now: datetime) -> None:
        first = js_sign(unsigned, suite="eddsa-rdfc-2022", seed=SEED, created=CREATED_TEXT)
        signed = js_sign(first, suite="eddsa-jcs-2022", seed=SEED, created=CREATED_TEXT)
        assert len(signed["proof"]) == 2
        assert js_verify(signed) == (True, None)

        report = verify(signed, loader=loader, now=now)

        assert (report.verdict, report.valid) == ("valid", True)
        assert [c.outcome for c in report.checks if c.name.startswith("proof[")] == ["passed", "passed"]

        broken = copy.deepcopy(signed)
        broken["proof"][1]["proofValue"] = first["proof"]["proofValue"]
        report = verify(broken, loader=loader, now=now)
        assert report.verdict == "tampered"
        assert [c.outcome for c in report.checks if c.name.startswith("proof[")] == ["passed", "failed"]

    def test_a_proof_chain_signed_by_digital_bazaar_verifies(self, unsigned: dict[str, Any], vector_key: Ed25519KeyPair, loader: DocumentLoader, now: datetime) -> None:
        first = js_sign(unsigned, suite="eddsa-rdfc-2022", seed=SEED, created=CREATED_TEXT, proof_id="urn:uuid:6a3e1c52-first")
        signed = js_sign(first, suite="eddsa-rdfc-2022", seed=SEED, created=CREATED_TEXT,
                         proof_id="urn:uuid:6a3e1c52-second", previous_proof="urn:uuid:6a3e1c52-first")
        assert signed["proof"][1]["previousProof"] == "urn:uuid:6a3e1c52-first"

        report = verify(signed, loader=loader, now=now)

        assert (report.verdict, report.valid) == ("valid", True), report.check("proof")
        # both sides chain alike: the same proofs, byte for byte
        ours = add_proof(
            add_proof(unsigned, suite=get_suite("eddsa-rdfc-2022"), signer=vector_key.signer(), loader=loader,
                      created=CREATED, proof_id="urn:uuid:6a3e1c52-first"),
            suite=get_suite("eddsa-rdfc-2022"), signer=vector_key.signer(), loader=loader, created=CREATED,
            proof_id="urn:uuid:6a3e1c52-second", previous_proof="urn:uuid:6a3e1c52-first",
        )
        assert [p["proofValue"] for p in ours["proof"]] == [p["proofValue"] for p in signed["proof"]]

        # the chained proof signed the first one: another first proof breaks it, and only it
        other = js_sign(unsigned, suite="eddsa-rdfc-2022", seed=SEED, created="2025-01-16T09:00:00Z", proof_id="urn:uuid:6a3e1c52-first")
        swapped = {**signed, "proof": [other["proof"], signed["proof"][1]]}
        report = verify(swapped, loader=loader, now=now)
        assert report.verdict == "tampered"
        assert [c.outcome for c in report.checks if c.name.startswith("proof[")] == ["passed", "failed"]


class TestOb3OnVc11:
    """OB 3.0.0-3.0.2 credentials were VC 1.1 based; the vector is Digital Bazaar's own output."""

    VECTOR = Path(__file__).resolve().parents[1] / "vectors" / "ob3-vc11-digitalbazaar"

    def test_the_vector_is_what_digital_bazaar_signs_and_both_sides_find_it_valid(self, loader: DocumentLoader, now: datetime) -> None:
        unsigned = json.loads((self.VECTOR / "unsigned.json").read_text("utf-8"))
        signed = json.loads((self.VECTOR / "signed.json").read_text("utf-8"))

        assert js_sign(unsigned, suite="Ed25519Signature2020", seed=SEED, created="2024-03-01T10:00:00Z") == signed
        assert js_verify(signed) == (True, None)
        report = verify(signed, loader=loader, now=now)
        assert (report.verdict, report.valid) == ("valid", True), report.checks
        assert verify(_tamper(signed), loader=loader, now=now).verdict == "tampered"


class TestNumbers:
    """JSON numbers are signed as jsonld.js writes them (RDFC) and as JavaScript prints them (JCS)."""

    @staticmethod
    def _credential(key: Ed25519KeyPair) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
            "id": "urn:uuid:4f4a4c8e-3b1b-4c6e-9a55-2a7d9b3f5e12",
            "type": ["VerifiableCredential"],
            "issuer": key.controller,
            "validFrom": CREATED_TEXT,
            "credentialSubject": {
                "id": "did:example:learner",
                "tiny": 1e-7,
                "negativeTiny": -1e-7,
                "fraction": 0.1,
                "huge": 1e21,
                "whole": 5.0,
                "tie": 1234567890123456.5,
                "scores": [1.5e300, -0.0, 2e-300, 1.5e-7, 1e20, 1.2345678901234568e18],  # JavaScript writes the last two as integers
            },
        }

    @pytest.mark.parametrize("suite", DATA_INTEGRITY_SUITES)
    def test_credential_with_exponents_signed_by_digital_bazaar_is_valid_and_signed_alike(
        self, vector_key: Ed25519KeyPair, loader: DocumentLoader, now: datetime, suite: str
    ) -> None:
        credential = self._credential(vector_key)

        theirs = js_sign(credential, suite=suite, seed=SEED, created=CREATED_TEXT)
        # the proof layer signs what Digital Bazaar signs; issuing refuses 1e-7 (see below)
        ours = add_proof(credential, suite=get_suite(suite), signer=vector_key.signer(), loader=loader, created=CREATED)

        assert verify(theirs, loader=loader, now=now, profile="vc").verdict == "valid"
        assert ours["proof"] == theirs["proof"]
        assert js_verify(ours) == (True, None)

    def test_a_number_no_signature_protects_is_refused_at_issue(self, vector_key: Ed25519KeyPair, loader: DocumentLoader, now: datetime) -> None:
        """jsonld.js reads 1e-7 as the integer 0, so 9e-7 verifies under the same proof: we never sign one."""
        credential = self._credential(vector_key)
        theirs = js_sign(credential, suite="eddsa-rdfc-2022", seed=SEED, created=CREATED_TEXT)
        changed = copy.deepcopy(theirs)
        changed["credentialSubject"]["tiny"] = 9e-7
        assert js_verify(changed) == (True, None)  # what we guard against: Digital Bazaar does not notice

        with pytest.raises(MalformedError) as refused:
            issue_credential(credential, signer=vector_key.signer(), loader=loader, created=CREATED)
        assert refused.value.pointer == "/credentialSubject/tiny"
        subject = credential["credentialSubject"]
        del subject["tiny"], subject["negativeTiny"], subject["scores"][2]  # 2e-300 reads as 0 too
        signed = issue_credential(credential, signer=vector_key.signer(), loader=loader, created=CREATED)
        assert verify(signed, loader=loader, now=now, profile="vc").verdict == "valid"
