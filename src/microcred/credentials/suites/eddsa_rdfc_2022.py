"""eddsa-rdfc-2022: RDFC-1.0 canonical N-Quads, SHA-256, Ed25519.

https://www.w3.org/TR/vc-di-eddsa/#eddsa-rdfc-2022
"""

from __future__ import annotations

from typing import Any

from ..canonical import canonicalize_rdfc
from ..loader import DocumentLoader
from .base import Cryptosuite


def _canonicalize(document: dict[str, Any], loader: DocumentLoader) -> bytes:
    return canonicalize_rdfc(document, loader=loader).encode("utf-8")


EDDSA_RDFC_2022 = Cryptosuite(
    name="eddsa-rdfc-2022",
    proof_type="DataIntegrityProof",
    required_algorithm="Ed25519",
    canonicalize=_canonicalize,
)
