"""Errors raised by the credential core.

The tree::

    CredentialError
    ├── MalformedError            input is not a credential we can read (JSON, shape, encoding)
    ├── ContextError              a JSON-LD context is unknown, tampered or not allowed
    ├── UndefinedTermError        safe mode: a term or @type that no context defines
    ├── CanonicalizationError     RDFC-1.0 / JCS could not run (including the work limit)
    ├── KeyFormatError            a key is of the wrong type, length or encoding
    ├── ProofError                a proof is missing, malformed, or does not verify
    └── ResolutionError           a verification method could not be resolved

Signing raises these; verification catches them and turns them into a report, so a verifier
never raises for bad input (see ``verify.py``).
"""

from __future__ import annotations

__all__ = [
    "CanonicalizationError",
    "ContextError",
    "CredentialError",
    "KeyFormatError",
    "MalformedError",
    "ProofError",
    "ResolutionError",
    "UndefinedTermError",
]


class CredentialError(Exception):
    """Base of every error the credential core raises on purpose."""

    #: Data Integrity / VC error code where the spec names one.
    code: str = "CREDENTIAL_ERROR"

    def __init__(self, message: str, *, pointer: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: JSON pointer or term naming the field at fault, when known.
        self.pointer = pointer


class MalformedError(CredentialError):
    code = "MALFORMED_PROOF_ERROR"


class ContextError(CredentialError):
    code = "INVALID_CONTEXT"


class UndefinedTermError(CredentialError):
    code = "UNDEFINED_TERM"


class CanonicalizationError(CredentialError):
    code = "CANONICALIZATION_ERROR"


class KeyFormatError(CredentialError):
    code = "INVALID_KEY"


class ProofError(CredentialError):
    code = "PROOF_VERIFICATION_ERROR"


class ResolutionError(CredentialError):
    code = "INVALID_VERIFICATION_METHOD"
