"""Endorsements under Digital Bazaar's libraries: an EndorsementCredential signed by microcred
verifies there, alone and embedded in the award that carries it, and one they sign verifies
here, embedded in our award."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from microcred.credentials import DocumentLoader, Ed25519KeyPair, issue, verify
from microcred.credentials.endorsement import endorsement_credential

from .nodejs import js_sign, js_verify

pytestmark = pytest.mark.interop

SEED = bytes.fromhex(
    json.loads((Path(__file__).resolve().parents[1] / "vectors" / "ob3-eddsa-rdfc-2022" / "keyPair.json").read_text("utf-8"))["seedHex"]
)
CREATED = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
CREATED_TEXT = "2025-01-15T09:00:00Z"
SUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
COMMENT = "Accredited against the NLQF criteria — niveau 4 (beroepsopleiding)."


@pytest.fixture
def endorser() -> Ed25519KeyPair:
    """The vectors' key: the one the JavaScript side signs with too."""
    return Ed25519KeyPair.from_seed(SEED)


@pytest.fixture
def provider() -> Ed25519KeyPair:
    return Ed25519KeyPair.from_seed(b"\x07" * 32)


@pytest.fixture
def award(ob3_unsigned: dict[str, Any], provider: Ed25519KeyPair) -> dict[str, Any]:
    credential = copy.deepcopy(ob3_unsigned)
    credential["issuer"]["id"] = provider.controller
    return credential


@pytest.fixture
def unsigned_endorsement(award: dict[str, Any], endorser: Ed25519KeyPair) -> dict[str, Any]:
    return endorsement_credential(
        credential_id="https://accreditation.example/endorsements/1",
        issuer={"id": endorser.controller, "type": ["Profile"], "name": "Dutch Accreditation Council"},
        subject_id=award["credentialSubject"]["achievement"]["id"],
        name="Endorsement of Applied Data Protection",
        valid_from=CREATED,
        comment=COMMENT,
    )


def _carrying(award: dict[str, Any], endorsement: dict[str, Any], provider: Ed25519KeyPair, loader: DocumentLoader, suite: str) -> dict[str, Any]:
    credential = copy.deepcopy(award)
    credential["credentialSubject"]["achievement"]["endorsement"] = [endorsement]
    return issue(credential, signer=provider.signer(), loader=loader, suite=suite, created=CREATED)


@pytest.mark.parametrize("suite", SUITES)
def test_an_endorsement_signed_by_microcred_verifies_and_a_changed_comment_fails(
    unsigned_endorsement: dict[str, Any], endorser: Ed25519KeyPair, loader: DocumentLoader, suite: str
) -> None:
    signed = issue(unsigned_endorsement, signer=endorser.signer(), loader=loader, suite=suite, created=CREATED)

    assert js_verify(signed) == (True, None)
    signed["credentialSubject"]["endorsementComment"] = "The best course in Europe."
    assert js_verify(signed) == (False, "Invalid signature.")


@pytest.mark.parametrize("suite", SUITES)
def test_an_award_carrying_an_endorsement_verifies_and_so_does_the_endorsement_taken_out_of_it(
    award: dict[str, Any],
    unsigned_endorsement: dict[str, Any],
    endorser: Ed25519KeyPair,
    provider: Ed25519KeyPair,
    loader: DocumentLoader,
    suite: str,
) -> None:
    endorsement = issue(unsigned_endorsement, signer=endorser.signer(), loader=loader, suite=suite, created=CREATED)
    credential = _carrying(award, endorsement, provider, loader, suite)

    assert js_verify(credential) == (True, None)
    assert js_verify(credential["credentialSubject"]["achievement"]["endorsement"][0]) == (True, None)
    credential["credentialSubject"]["achievement"]["endorsement"][0]["credentialSubject"]["endorsementComment"] = "Changed."
    assert js_verify(credential) == (False, "Invalid signature.")


@pytest.mark.parametrize("suite", SUITES)
def test_an_endorsement_signed_by_digital_bazaar_is_the_same_and_verifies_in_our_award(
    award: dict[str, Any],
    unsigned_endorsement: dict[str, Any],
    endorser: Ed25519KeyPair,
    provider: Ed25519KeyPair,
    loader: DocumentLoader,
    now: datetime,
    suite: str,
) -> None:
    theirs = js_sign(unsigned_endorsement, suite=suite, seed=SEED, created=CREATED_TEXT)
    ours = issue(unsigned_endorsement, signer=endorser.signer(), loader=loader, suite=suite, created=CREATED)
    assert theirs == ours

    report = verify(_carrying(award, theirs, provider, loader, suite), loader=loader, now=now)

    assert (report.verdict, report.valid) == ("valid", True)
    assert [(c.outcome, c.message) for c in report.checks if c.name == "endorsement"] == [
        ("passed", f"endorsed by Dutch Accreditation Council: “{COMMENT}”")
    ]
