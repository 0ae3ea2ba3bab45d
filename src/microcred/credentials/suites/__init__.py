"""Cryptosuites by name: each is a small record, so adding one changes nothing else.

https://www.w3.org/TR/vc-di-eddsa/
"""

from __future__ import annotations

from ..errors import ProofError
from .base import Cryptosuite
from .ed25519_signature_2020 import ED25519_SIGNATURE_2020
from .eddsa_jcs_2022 import EDDSA_JCS_2022
from .eddsa_rdfc_2022 import EDDSA_RDFC_2022

__all__ = ["Cryptosuite", "SUITES", "get_suite", "suite_for_proof"]

#: Suites we sign with, by cryptosuite name.
SUITES: dict[str, Cryptosuite] = {s.name: s for s in (EDDSA_RDFC_2022, EDDSA_JCS_2022)}


def get_suite(name: str) -> Cryptosuite:
    try:
        return SUITES[name]
    except KeyError:
        raise ValueError(f"unknown cryptosuite {name!r}; choose one of {', '.join(sorted(SUITES))}") from None


def suite_for_proof(proof: dict[str, object]) -> Cryptosuite:
    """The suite that verifies ``proof``: DataIntegrityProof by ``cryptosuite``, or legacy type."""
    proof_type = proof.get("type")
    if proof_type == "DataIntegrityProof":
        name = proof.get("cryptosuite")
        if isinstance(name, str) and name in SUITES:
            return SUITES[name]
        raise ProofError(f"unsupported cryptosuite {name!r}", pointer="/proof/cryptosuite")
    if proof_type == ED25519_SIGNATURE_2020.proof_type:
        return ED25519_SIGNATURE_2020
    raise ProofError(f"unsupported proof type {proof_type!r}", pointer="/proof/type")
