"""The credential core: OB 3.0 / VC 2.0 data model, offline JSON-LD, Data Integrity proofs,
VC-JWT, Bitstring Status List and verification.

It imports no web framework, database or HTTP client (``tests/credentials/test_purity.py``
enforces it): everything that needs the outside world (keys of other issuers, status lists,
schemas) comes in as a function argument.
"""

from .canonical import canonicalize_jcs, canonicalize_rdfc
from .errors import (
    CanonicalizationError,
    ContextError,
    CredentialError,
    KeyFormatError,
    MalformedError,
    ProofError,
    ResolutionError,
    UndefinedTermError,
)
from .issue import DEFAULT_SUITE, issue, issue_credential
from .keys import Ed25519KeyPair, Signer, Verifier, did_key_document, did_key_from_public
from .loader import CONTEXTS, DocumentLoader
from .presentation import PresentationReport, verify_presentation
from .proofs import add_proof, verify_proof
from .resolve import ResolvedKey, Resolver
from .suites import SUITES
from .verify import Check, VerificationReport, verify

__all__ = [
    "CONTEXTS",
    "CanonicalizationError",
    "Check",
    "ContextError",
    "CredentialError",
    "DEFAULT_SUITE",
    "DocumentLoader",
    "Ed25519KeyPair",
    "KeyFormatError",
    "MalformedError",
    "PresentationReport",
    "ProofError",
    "ResolutionError",
    "ResolvedKey",
    "Resolver",
    "SUITES",
    "Signer",
    "UndefinedTermError",
    "VerificationReport",
    "Verifier",
    "add_proof",
    "canonicalize_jcs",
    "canonicalize_rdfc",
    "did_key_document",
    "did_key_from_public",
    "issue",
    "issue_credential",
    "verify",
    "verify_presentation",
    "verify_proof",
]
