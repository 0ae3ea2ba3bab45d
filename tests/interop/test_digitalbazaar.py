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

from microcred.credentials import DocumentLoader, Ed25519KeyPair, issue, verify

from .nodejs import js_sign, js_verify

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
        signed["credentialSubject"]["achievement"]["microCredential"]["participationForm"] = "Online"

        assert js_verify(signed) == (False, "Invalid signature.")
