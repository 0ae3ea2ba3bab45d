"""The JavaScript harness is the judge in the interop tests, so it is checked first: against
the published vectors, which Digital Bazaar's libraries generated."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from .nodejs import NodeHarnessError, ensure_installed, js_sign, js_verify

pytestmark = pytest.mark.interop

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
CREATED = "2025-01-15T09:00:00Z"


def _vector(path: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((VECTORS / path).read_text(encoding="utf-8"))
    return document


def _seed() -> bytes:
    return bytes.fromhex(_vector("ob3-eddsa-rdfc-2022/keyPair.json")["seedHex"])


def _rename_achievement(credential: dict[str, Any], name: str) -> dict[str, Any]:
    changed = copy.deepcopy(credential)
    changed["credentialSubject"]["achievement"]["name"] = name
    return changed


class TestJsSign:
    @pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
    def test_signing_the_ob3_vector_reproduces_the_published_credential(self, suite: str) -> None:
        signed = js_sign(_vector(f"ob3-{suite}/unsigned.json"), suite=suite, seed=_seed(), created=CREATED)

        assert signed == _vector(f"ob3-{suite}/signed.json")

    def test_legacy_suite_adds_its_context_and_signs_with_the_did_key(self) -> None:
        signed = js_sign(
            _vector("ob3-eddsa-rdfc-2022/unsigned.json"), suite="Ed25519Signature2020", seed=_seed(), created=CREATED
        )

        assert signed["@context"][-1] == "https://w3id.org/security/suites/ed25519-2020/v1"
        assert signed["proof"]["type"] == "Ed25519Signature2020"
        assert signed["proof"]["verificationMethod"] == _vector("ob3-eddsa-rdfc-2022/keyPair.json")["verificationMethod"]

    def test_an_unknown_suite_is_refused_before_node_runs(self) -> None:
        with pytest.raises(ValueError, match="suite must be one of"):
            js_sign({}, suite="RsaSignature2018", seed=_seed())


class TestJsVerify:
    @pytest.mark.parametrize("path", ["ob3-eddsa-rdfc-2022/signed.json", "ob3-eddsa-jcs-2022/signed.json"])
    def test_published_ob3_credential_verifies(self, path: str) -> None:
        assert js_verify(_vector(path)) == (True, None)

    @pytest.mark.parametrize("path", ["ob3-eddsa-rdfc-2022/signed.json", "ob3-eddsa-jcs-2022/signed.json"])
    def test_one_changed_letter_in_the_achievement_name_fails(self, path: str) -> None:
        signed = _vector(path)
        tampered = _rename_achievement(signed, signed["credentialSubject"]["achievement"]["name"].replace("P", "Q", 1))

        verified, error = js_verify(tampered)

        assert verified is False
        assert error == "Invalid signature."

    def test_w3c_vector_signature_holds_but_its_issuer_is_not_the_key_controller(self) -> None:
        signed = _vector("eddsa-rdfc-2022/signedDataInt.json")

        assert js_verify(signed, purpose="assertion") == (True, None)
        verified, error = js_verify(signed)
        assert verified is False
        assert error == "Credential issuer must match the verification method controller."

    def test_a_context_that_microcred_does_not_bundle_is_never_fetched(self) -> None:
        signed = _vector("ob3-eddsa-rdfc-2022/signed.json")
        signed["@context"] = [*signed["@context"], "https://example.org/unbundled"]

        verified, error = js_verify(signed)

        assert verified is False
        assert error is not None and 'refuses to load URL "https://example.org/unbundled"' in error

    def test_a_credential_past_valid_until_is_rejected(self) -> None:
        unsigned = _vector("ob3-eddsa-rdfc-2022/unsigned.json") | {"validUntil": "2025-06-01T00:00:00Z"}
        signed = js_sign(unsigned, suite="eddsa-rdfc-2022", seed=_seed(), created=CREATED)

        assert js_verify(signed, now="2025-03-01T00:00:00Z") == (True, None)
        assert js_verify(signed, now="2026-01-01T00:00:00Z")[0] is False


class TestEnsureInstalled:
    def test_missing_node_modules_names_the_install_command(self, tmp_path: Path) -> None:
        with pytest.raises(NodeHarnessError, match=r"run `npm ci --prefix tests/interop/js`"):
            ensure_installed(tmp_path)
