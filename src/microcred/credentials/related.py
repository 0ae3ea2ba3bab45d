"""Integrity of related resources (VC 2.0 §5.3): a credential pins another resource by its
digest, so a verifier can tell whether what it retrieves is what the issuer saw.

``digestMultibase`` is a Multibase-encoded Multihash (Data Integrity §2.6); we write
base64url-no-pad (``u``) over a SHA2-384 multihash, since VC 2.0 asks for SHA-384 as the minimum
strength, and read the SHA-2 and SHA-3 multihashes and ``digestSRI`` (``sha384-<base64>``) too.
https://www.w3.org/TR/vc-data-model-2.0/#integrity-of-related-resources
https://www.w3.org/TR/vc-data-integrity/#resource-integrity
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from . import multibase
from .errors import MalformedError

__all__ = ["MULTIHASH_CODES", "digest_matches", "digest_multibase"]

#: Multihash function codes (one-byte varints) and the hashlib names they stand for.
MULTIHASH_CODES: dict[int, str] = {
    0x12: "sha256",
    0x13: "sha512",
    0x14: "sha3_512",
    0x15: "sha3_384",
    0x16: "sha3_256",
    0x20: "sha384",
}
_CODE_OF = {name: code for code, name in MULTIHASH_CODES.items()}
_SRI = {"sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}


def digest_multibase(data: bytes, *, algorithm: str = "sha384") -> str:
    """``data``'s digest as a ``digestMultibase`` value: ``u`` + base64url(multihash)."""
    if algorithm not in _CODE_OF:
        raise ValueError(f"no multihash code for {algorithm!r}; use one of {', '.join(sorted(_CODE_OF))}")
    digest = hashlib.new(algorithm, data).digest()
    return multibase.encode_base64url(bytes([_CODE_OF[algorithm], len(digest)]) + digest)


def _multihash_matches(value: str, data: bytes) -> bool:
    raw = multibase.decode(value)
    if len(raw) < 2 or raw[0] not in MULTIHASH_CODES:
        raise MalformedError(f"digestMultibase {value[:20]!r}: not a SHA-2 or SHA-3 multihash")
    algorithm, length, digest = MULTIHASH_CODES[raw[0]], raw[1], raw[2:]
    expected = hashlib.new(algorithm, data).digest()
    if length != len(expected) or len(digest) != length:
        raise MalformedError(f"digestMultibase {value[:20]!r}: the multihash length does not match {algorithm}")
    return hmac.compare_digest(digest, expected)


def _sri_matches(value: str, data: bytes) -> bool:
    algorithm, _, encoded = value.partition("-")
    if algorithm not in _SRI or not encoded:
        raise MalformedError(f"digestSRI {value[:20]!r}: expected sha256-, sha384- or sha512- and a base64 digest")
    try:
        digest = base64.b64decode(encoded.split("?", 1)[0], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedError(f"digestSRI {value[:20]!r}: the digest is not base64") from exc
    return hmac.compare_digest(digest, hashlib.new(_SRI[algorithm], data).digest())


def _values(entry: Mapping[str, Any], key: str) -> list[str]:
    raw = entry.get(key)
    values = [] if raw is None else raw if isinstance(raw, list) else [raw]
    if not all(isinstance(v, str) for v in values):
        raise MalformedError(f"relatedResource {key} must be a string or a list of strings")
    return values


def digest_matches(entry: Mapping[str, Any], data: bytes) -> bool:
    """Whether ``data`` (the resource as retrieved) matches every digest a ``relatedResource``
    entry gives. Raises MalformedError for an entry with no digest or one we cannot read."""
    multihashes, sris = _values(entry, "digestMultibase"), _values(entry, "digestSRI")
    if not multihashes and not sris:
        raise MalformedError("a relatedResource entry needs a digestMultibase or a digestSRI")
    return all(_multihash_matches(v, data) for v in multihashes) and all(_sri_matches(v, data) for v in sris)
