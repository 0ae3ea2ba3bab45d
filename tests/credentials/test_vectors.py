"""The W3C vc-di-eddsa vectors and the OB 3.0 vectors, reproduced byte for byte,
every intermediate value included."""

from __future__ import annotations

import hashlib
import json

import pytest

from microcred.credentials import Ed25519KeyPair, canonicalize_jcs, canonicalize_rdfc, multibase
from microcred.credentials.keys import did_key_document
from microcred.credentials.proofs import add_proof, verify_proof
from microcred.credentials.resolve import Resolver
from microcred.credentials.suites import get_suite
from microcred.credentials.timeutil import parse_datetime

from ..conftest import load_vector, read_vector

OB3 = [
    ("ob3-eddsa-rdfc-2022", "eddsa-rdfc-2022", "canonDoc.nq", "proofCanon.nq"),
    ("ob3-eddsa-jcs-2022", "eddsa-jcs-2022", "canonDoc.json", "proofCanon.json"),
]
W3C = [
    ("eddsa-rdfc-2022", "eddsa-rdfc-2022", "DataInt", ".txt", "signedDataInt.json"),
    ("eddsa-jcs-2022", "eddsa-jcs-2022", "JCS", ".txt", "signedJCS.json"),
]


def _canon(suite: str, doc, loader) -> bytes:
    if suite == "eddsa-rdfc-2022":
        return canonicalize_rdfc(doc, loader=loader).encode()
    return canonicalize_jcs(doc)


class TestOb3Vectors:
    @pytest.mark.parametrize(("folder", "suite", "canon_doc", "canon_proof"), OB3)
    def test_every_intermediate_value(self, folder, suite, canon_doc, canon_proof, loader):
        unsigned = load_vector(f"{folder}/unsigned.json")
        proof_config = load_vector(f"{folder}/proofConfig.json")
        doc_c = _canon(suite, unsigned, loader)
        proof_c = _canon(suite, proof_config, loader)
        assert doc_c == read_vector(f"{folder}/{canon_doc}").encode()
        assert proof_c == read_vector(f"{folder}/{canon_proof}").encode()
        doc_hash = hashlib.sha256(doc_c).hexdigest()
        proof_hash = hashlib.sha256(proof_c).hexdigest()
        assert doc_hash == read_vector(f"{folder}/docHash.txt")
        assert proof_hash == read_vector(f"{folder}/proofHash.txt")
        assert proof_hash + doc_hash == read_vector(f"{folder}/combinedHash.txt")
        key = Ed25519KeyPair.from_seed(bytes.fromhex(load_vector(f"{folder}/keyPair.json")["seedHex"]))
        signature = key.signer().sign(bytes.fromhex(proof_hash + doc_hash))
        assert signature.hex() == read_vector(f"{folder}/sigHex.txt")
        assert multibase.encode_base58btc(signature) == read_vector(f"{folder}/proofValue.txt")

    @pytest.mark.parametrize(("folder", "suite", "canon_doc", "canon_proof"), OB3)
    def test_signed_output_is_byte_identical(self, folder, suite, canon_doc, canon_proof, loader):
        key_pair = load_vector(f"{folder}/keyPair.json")
        key = Ed25519KeyPair.from_seed(bytes.fromhex(key_pair["seedHex"]))
        signed = add_proof(
            load_vector(f"{folder}/unsigned.json"),
            suite=get_suite(suite),
            signer=key.signer(),
            loader=loader,
            created=parse_datetime("2025-01-15T09:00:00Z"),
        )
        assert json.dumps(signed, indent=2, ensure_ascii=False) + "\n" == read_vector(f"{folder}/signed.json")

    @pytest.mark.parametrize("folder", ["ob3-eddsa-rdfc-2022", "ob3-eddsa-jcs-2022"])
    def test_key_material_and_did_document(self, folder):
        key_pair = load_vector(f"{folder}/keyPair.json")
        key = Ed25519KeyPair.from_seed(bytes.fromhex(key_pair["seedHex"]))
        assert key.public_key.hex() == key_pair["publicKeyHex"]
        assert key.public_key_multibase == key_pair["publicKeyMultibase"]
        assert key.secret_key_multibase() != key_pair["secretKeyMultibase"]  # ours is the bare seed
        assert Ed25519KeyPair.from_multikey(secret_key_multibase=key_pair["secretKeyMultibase"]).public_key == key.public_key
        assert key.id == key_pair["verificationMethod"]
        assert did_key_document(key_pair["did"]) == load_vector(f"{folder}/didDocument.json")


class TestW3cVectors:
    @pytest.mark.parametrize(("folder", "suite", "tag", "ext", "signed_file"), W3C)
    def test_every_intermediate_value(self, folder, suite, tag, ext, signed_file, w3c_loader):
        unsigned = load_vector(f"{folder}/unsigned.json")
        proof_config = load_vector(f"{folder}/proofConfig{tag}.json")
        doc_c = _canon(suite, unsigned, w3c_loader)
        proof_c = _canon(suite, proof_config, w3c_loader)
        assert doc_c == read_vector(f"{folder}/canonDoc{tag}{ext}").encode()
        assert proof_c == read_vector(f"{folder}/proofCanon{tag}{ext}").encode()
        assert hashlib.sha256(doc_c).hexdigest() == read_vector(f"{folder}/docHash{tag}.txt").strip()
        assert hashlib.sha256(proof_c).hexdigest() == read_vector(f"{folder}/proofHash{tag}.txt").strip()
        combined = read_vector(f"{folder}/combinedHash{tag}.txt").strip()
        assert hashlib.sha256(proof_c).hexdigest() + hashlib.sha256(doc_c).hexdigest() == combined
        keys = load_vector(f"{folder}/keyPair.json")
        key = Ed25519KeyPair.from_multikey(
            secret_key_multibase=keys["privateKeyMultibase"], public_key_multibase=keys["publicKeyMultibase"]
        )
        signature = key.signer().sign(bytes.fromhex(combined))
        assert signature.hex() == read_vector(f"{folder}/sigHex{tag}.txt").strip()
        assert multibase.encode_base58btc(signature) == read_vector(f"{folder}/sigBTC58{tag}.txt").strip()

    @pytest.mark.parametrize(("folder", "suite", "tag", "ext", "signed_file"), W3C)
    def test_signed_output_and_verification(self, folder, suite, tag, ext, signed_file, w3c_loader):
        keys = load_vector(f"{folder}/keyPair.json")
        key = Ed25519KeyPair.from_multikey(secret_key_multibase=keys["privateKeyMultibase"])
        expected = load_vector(f"{folder}/{signed_file}")
        signed = add_proof(
            load_vector(f"{folder}/unsigned.json"),
            suite=get_suite(suite),
            signer=key.signer(),
            loader=w3c_loader,
            created=parse_datetime(expected["proof"]["created"]),
        )
        assert signed == expected
        # The vectors' issuer does not control the key, so bind nothing but the cryptosuite.
        result = verify_proof(expected, loader=w3c_loader, resolve_key=Resolver(), now=parse_datetime("2024-01-01T00:00:00Z"))
        assert result.verified, result.message
