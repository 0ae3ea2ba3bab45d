"""The cryptosuite record (the shape of Digital Bazaar's four-field suites)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..loader import DocumentLoader

__all__ = ["Cryptosuite"]

#: canonicalize(document, loader) -> bytes to hash
Canonicalize = Callable[[dict[str, Any], DocumentLoader], bytes]


@dataclass(frozen=True)
class Cryptosuite:
    #: cryptosuite name (DataIntegrityProof) or the legacy proof type
    name: str
    #: value of ``proof.type``
    proof_type: str
    #: the Signer/Verifier algorithm this suite needs
    required_algorithm: str
    #: transformation of the unsecured document and of the proof configuration
    canonicalize: Canonicalize
    #: whether canonicalization is JSON-LD processing (which runs safe mode by itself)
    json_ld: bool = True
    #: whether ``proof`` carries ``cryptosuite``
    has_cryptosuite: bool = True
    #: whether the stored proof keeps the proof configuration's ``@context`` (eddsa-jcs-2022)
    proof_keeps_context: bool = False
