"""Issue: check a credential as strictly as the strictest verifier will, then sign it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .canonical import lossy_number, to_quads
from .data_model import check_credential
from .errors import ContextError, MalformedError
from .keys import Signer
from .loader import CONTEXTS, DocumentLoader
from .proofs import add_proof
from .related import related_problems
from .suites import get_suite

__all__ = ["DEFAULT_SUITE", "issue", "issue_credential"]

DEFAULT_SUITE = "eddsa-rdfc-2022"


def issuer_id(credential: dict[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def check_before_signing(credential: Any, *, signer: Signer, loader: DocumentLoader, check_terms: bool = True) -> None:
    """Refuse what would not verify elsewhere: wrong contexts, undefined terms, foreign issuer."""
    if not isinstance(credential, dict):
        raise MalformedError("a credential must be a JSON object")
    contexts = credential.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] != CONTEXTS.VC_V2:
        raise ContextError(f"@context must be a list starting with {CONTEXTS.VC_V2}", pointer="/@context")
    for ctx in contexts:
        if isinstance(ctx, str) and not loader.knows(ctx):
            raise ContextError(f"context {ctx} is not bundled with microcred", pointer="/@context")
    for field in ("id", "type", "issuer", "validFrom", "credentialSubject"):
        if field not in credential:
            raise MalformedError(f"the credential has no {field}", pointer=f"/{field}")
    _check_signable(credential, signer=signer, loader=loader, check_terms=check_terms)


def _check_signable(credential: dict[str, Any], *, signer: Signer, loader: DocumentLoader, check_terms: bool) -> None:
    """Not signed yet, issued by the key's controller, and (``check_terms``) every term defined."""
    if "proof" in credential:
        raise MalformedError("the credential is already signed", pointer="/proof")
    controller = signer.id.split("#", 1)[0]
    if issuer_id(credential) != controller:
        raise MalformedError(
            f"issuer {issuer_id(credential)!r} does not control the signing key {signer.id}", pointer="/issuer"
        )
    related = related_problems(credential)
    if related:
        raise related[0]
    lossy = _lossy_number_pointer(credential)
    if lossy is not None:
        raise MalformedError(
            f"the number at {lossy} reads as 0 to JSON-LD processors (jsonld.js, and so most verifiers, make a "
            "non-integer below 1e-6 with one significant digit the integer 0), so no signature would protect it: "
            "give it as a string, or in a smaller unit",
            pointer=lossy,
        )
    if check_terms:
        to_quads(credential, loader=loader, safe=True)  # raises UndefinedTermError naming the term


def _lossy_number_pointer(document: Any) -> str | None:
    """The JSON pointer of the first number that :func:`canonical.lossy_number` says a
    signature would not protect, or None. Floats are rare in credentials: look for one
    first, and spell pointers only when one is found."""
    stack: list[Any] = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(reversed(value.values()))  # in document order: the first one is named
        elif isinstance(value, list):
            stack.extend(reversed(value))
        elif isinstance(value, float) and lossy_number(value):
            return _pointer_to(document, value)
    return None


def _pointer_to(document: Any, target: float, where: str = "") -> str | None:
    if isinstance(document, dict):
        items: Any = ((f"{where}/{k.replace('~', '~0').replace('/', '~1')}", v) for k, v in document.items())
    elif isinstance(document, list):
        items = ((f"{where}/{i}", v) for i, v in enumerate(document))
    else:
        return where if document is target else None
    return next((found for path, value in items if (found := _pointer_to(value, target, path)) is not None), None)


def issue(
    credential: dict[str, Any],
    *,
    signer: Signer,
    loader: DocumentLoader,
    suite: str = DEFAULT_SUITE,
    created: datetime | None = None,
) -> dict[str, Any]:
    """Return a signed copy of ``credential`` (Data Integrity proof of ``suite``)."""
    chosen = get_suite(suite)
    # A JSON-LD suite runs safe mode while canonicalizing; JCS does not, so check terms first:
    # a JCS credential is still JSON-LD to every verifier that reads it.
    check_before_signing(credential, signer=signer, loader=loader, check_terms=not chosen.json_ld)
    return add_proof(
        credential,
        suite=chosen,
        signer=signer,
        loader=loader,
        created=created or datetime.now(UTC),
    )


def issue_credential(
    credential: dict[str, Any],
    *,
    signer: Signer,
    loader: DocumentLoader,
    suite: str = DEFAULT_SUITE,
    created: datetime | None = None,
) -> dict[str, Any]:
    """Return a signed copy of any VC 1.1 or VC 2.0 credential (what the VC-API issues).

    Where :func:`issue` holds a credential to the OB 3.0 profile, this holds it to the data
    model of its version only; contexts, terms and the issuer's control of the key are checked
    alike. A VC 1.1 credential must already carry what a Data Integrity proof needs of it
    (``issuanceDate``, and the Data Integrity context that defines the proof's terms).
    """
    chosen = get_suite(suite)
    check_credential(credential, loader=loader)
    contexts = credential["@context"]
    if "proof" not in credential and contexts[0] == CONTEXTS.VC_V1 and CONTEXTS.DATA_INTEGRITY_V2 not in contexts:
        raise ContextError(f"a VC 1.1 credential needs {CONTEXTS.DATA_INTEGRITY_V2} for a Data Integrity proof", pointer="/@context")
    # RDFC runs safe mode as it canonicalizes; JCS does not, so the terms are checked first.
    _check_signable(credential, signer=signer, loader=loader, check_terms=not chosen.json_ld)
    return add_proof(credential, suite=chosen, signer=signer, loader=loader, created=created or datetime.now(UTC))
