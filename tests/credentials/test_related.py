"""Digests that pin a related resource (VC 2.0 §5.3): written as base64url multihashes, read in
the multihash and Subresource Integrity forms."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import pytest

from microcred.credentials import DocumentLoader, Ed25519KeyPair, MalformedError, issue, issue_credential, multibase, verify
from microcred.credentials.loader import bundled_context_bytes
from microcred.credentials.proofs import add_proof
from microcred.credentials.related import digest_matches, digest_multibase, related_problems
from microcred.credentials.suites import get_suite

#: The Multihash specification's example: sha2-256 of "Merkle–Damgård".
MERKLE = "Merkle–Damgård".encode()
MERKLE_SHA256_MULTIHASH = bytes.fromhex("122041dd7b6443542e75701aa98a0c235951a28a0d851b11564d20022ab11d2589a8")


class TestDigestMultibase:
    def test_sha2_256_is_the_multihash_specs_example_in_base64url(self) -> None:
        value = digest_multibase(MERKLE, algorithm="sha256")
        assert value == "u" + base64.urlsafe_b64encode(MERKLE_SHA256_MULTIHASH).rstrip(b"=").decode()
        assert multibase.decode(value) == MERKLE_SHA256_MULTIHASH

    def test_the_default_is_sha2_384_the_minimum_vc_2_asks_for(self) -> None:
        raw = multibase.decode(digest_multibase(MERKLE))
        assert raw[:2] == bytes([0x20, 48]) and raw[2:] == hashlib.sha384(MERKLE).digest()

    def test_an_unknown_algorithm_is_refused(self) -> None:
        with pytest.raises(ValueError, match="md5"):
            digest_multibase(MERKLE, algorithm="md5")


class TestDigestMatches:
    def test_the_same_bytes_match_and_one_changed_byte_does_not(self) -> None:
        entry = {"id": "https://example.org/r", "digestMultibase": digest_multibase(MERKLE)}
        assert digest_matches(entry, MERKLE)
        assert not digest_matches(entry, MERKLE[:-1] + b"\x00")

    def test_base58btc_multihashes_and_sri_digests_are_read_too(self) -> None:
        z = multibase.encode_base58btc(MERKLE_SHA256_MULTIHASH)
        sri = "sha384-" + base64.b64encode(hashlib.sha384(MERKLE).digest()).decode()
        assert digest_matches({"digestMultibase": [z], "digestSRI": sri}, MERKLE)
        assert not digest_matches({"digestMultibase": z, "digestSRI": sri}, b"other")

    @pytest.mark.parametrize(
        "entry",
        [
            {"id": "https://example.org/r"},
            {"digestMultibase": "u" + base64.urlsafe_b64encode(b"\x11\x14" + bytes(20)).rstrip(b"=").decode()},  # sha1
            {"digestMultibase": "u" + base64.urlsafe_b64encode(b"\x12\x10" + bytes(16)).rstrip(b"=").decode()},  # short
            {"digestMultibase": "xnot-multibase"},
            {"digestSRI": "md5-abc"},
            {"digestSRI": "sha256-%%%"},
            {"digestMultibase": 42},
        ],
    )
    def test_an_entry_without_a_digest_we_can_read_is_malformed(self, entry: dict[str, object]) -> None:
        with pytest.raises(MalformedError):
            digest_matches(entry, MERKLE)


# -- relatedResource on any credential: shape rules at issue and verification, digests matched ---

V2 = "https://www.w3.org/ns/credentials/v2"
KEY = Ed25519KeyPair.from_seed(b"\x05" * 32)
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def _credential(related: object) -> dict[str, object]:
    return {
        "@context": [V2],
        "id": "urn:uuid:0f6f7c1e-2d0b-4d55-9d4a-3b4a5e6f7a8b",
        "type": ["VerifiableCredential"],
        "issuer": KEY.controller,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "name": "Zoë"},
        "relatedResource": related,
    }


#: one well-formed entry pinning the VC 2.0 context by its bundled bytes
CONTEXT_ENTRY = {"id": V2, "digestSRI": _sri(bundled_context_bytes(V2) or b"")}
BROKEN = {
    "a list of strings": (["https://example.org/a"], "/relatedResource/0"),
    "an object without id": ([{"digestSRI": _sri(b"x")}], "/relatedResource/0/id"),
    "duplicate ids": ([CONTEXT_ENTRY, dict(CONTEXT_ENTRY)], "/relatedResource/1/id"),
    "no digest": ([{"id": "https://example.org/a"}], "/relatedResource/0"),
    "an unreadable digest": ([{"id": "https://example.org/a", "digestMultibase": "not-multibase"}], "/relatedResource/0/digestMultibase"),
    "an empty list": ([], "/relatedResource"),
}


class TestRelatedResourceRules:
    @pytest.mark.parametrize("case", list(BROKEN))
    def test_each_rule_names_the_field(self, case: str) -> None:
        related, pointer = BROKEN[case]
        problems = related_problems(_credential(related))
        assert problems and problems[0].pointer == pointer

    @pytest.mark.parametrize("case", list(BROKEN))
    def test_the_issuer_refuses_to_sign(self, case: str, loader: DocumentLoader) -> None:
        related, pointer = BROKEN[case]
        with pytest.raises(MalformedError) as refused:
            issue_credential(_credential(related), signer=KEY.signer(), loader=loader, created=NOW)
        assert refused.value.pointer == pointer
        with pytest.raises(MalformedError):
            issue(_credential(related), signer=KEY.signer(), loader=loader, created=NOW)

    @pytest.mark.parametrize("case", list(BROKEN))
    def test_the_verifier_rejects_a_signed_one(self, case: str, loader: DocumentLoader) -> None:
        related, pointer = BROKEN[case]
        signed = add_proof_unchecked(_credential(related), loader)
        report = verify(signed, loader=loader, now=NOW, profile="vc")
        assert not report.valid and report.verdict == "malformed"
        assert report.check("relatedResource").outcome == "failed"
        assert report.check("relatedResource").message.startswith(pointer)

    def test_a_well_formed_entry_pinning_a_bundled_context_verifies_without_a_fetch(self, loader: DocumentLoader) -> None:
        signed = issue_credential(_credential([CONTEXT_ENTRY]), signer=KEY.signer(), loader=loader, created=NOW)
        report = verify(signed, loader=loader, now=NOW, profile="vc")
        assert report.valid, report.checks
        assert "1 digests match" in report.check("relatedResource").message

    def test_a_digest_that_does_not_match_the_bundled_context_is_rejected(self, loader: DocumentLoader) -> None:
        wrong = {"id": V2, "digestSRI": _sri(b"another context")}
        signed = issue_credential(_credential([wrong]), signer=KEY.signer(), loader=loader, created=NOW)
        report = verify(signed, loader=loader, now=NOW, profile="vc")
        assert not report.valid
        assert "does not match" in report.check("relatedResource").message

    def test_other_resources_are_matched_against_what_the_fetcher_returns(self, loader: DocumentLoader) -> None:
        entry = {"id": "https://example.org/syllabus.pdf", "mediaType": "application/pdf", "digestMultibase": digest_multibase(b"%PDF syllabus")}
        signed = issue_credential(_credential(entry), signer=KEY.signer(), loader=loader, created=NOW)
        asked: list[tuple[str, str | None]] = []

        def serve(body: bytes):
            def fetch(url: str, media: str | None) -> bytes:
                asked.append((url, media))
                return body
            return fetch

        assert verify(signed, loader=loader, now=NOW, profile="vc", fetch_related=serve(b"%PDF syllabus")).valid
        assert asked == [("https://example.org/syllabus.pdf", "application/pdf")]
        changed = verify(signed, loader=loader, now=NOW, profile="vc", fetch_related=serve(b"%PDF syllabus, edited"))
        assert not changed.valid and changed.check("relatedResource").outcome == "failed"
        offline = verify(signed, loader=loader, now=NOW, profile="vc")
        assert offline.valid and "not retrieved" in offline.check("relatedResource").message


def add_proof_unchecked(credential: dict[str, object], loader: DocumentLoader) -> dict[str, object]:
    """Signed as another issuer might sign it, without our issuer's checks."""
    return add_proof(credential, suite=get_suite("eddsa-rdfc-2022"), signer=KEY.signer(), loader=loader, created=NOW)
