"""Digests that pin a related resource (VC 2.0 §5.3): written as base64url multihashes, read in
the multihash and Subresource Integrity forms."""

from __future__ import annotations

import base64
import hashlib

import pytest

from microcred.credentials import MalformedError, multibase
from microcred.credentials.related import digest_matches, digest_multibase

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
