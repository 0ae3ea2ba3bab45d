"""Ed25519Signature2020, the legacy Linked Data suite: verified, never used to sign.

Same shape as eddsa-rdfc-2022 (URDNA2015 of proof options and document, SHA-256 each), but the
proof is typed ``Ed25519Signature2020`` and carries no ``cryptosuite``.
https://w3c-ccg.github.io/di-eddsa-2020/
"""

from __future__ import annotations

from .base import Cryptosuite
from .eddsa_rdfc_2022 import _canonicalize

ED25519_SIGNATURE_2020 = Cryptosuite(
    name="Ed25519Signature2020",
    proof_type="Ed25519Signature2020",
    required_algorithm="Ed25519",
    canonicalize=_canonicalize,
    has_cryptosuite=False,
)
