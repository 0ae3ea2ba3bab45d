"""eddsa-jcs-2022: JSON Canonicalization Scheme (RFC 8785), SHA-256, Ed25519.

The signed proof keeps the proof configuration's ``@context``.
https://www.w3.org/TR/vc-di-eddsa/#eddsa-jcs-2022
"""

from __future__ import annotations

from typing import Any

from ..canonical import canonicalize_jcs
from ..loader import DocumentLoader
from .base import Cryptosuite


def _canonicalize(document: dict[str, Any], loader: DocumentLoader) -> bytes:
    return canonicalize_jcs(document)


EDDSA_JCS_2022 = Cryptosuite(
    name="eddsa-jcs-2022",
    proof_type="DataIntegrityProof",
    required_algorithm="Ed25519",
    canonicalize=_canonicalize,
    json_ld=False,
    proof_keeps_context=True,
)
