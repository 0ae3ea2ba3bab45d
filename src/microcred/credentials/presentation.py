"""Verify a verifiable presentation: its own proof, made for this verifier, then every credential
it carries.

The holder proves control of a key with an ``authentication`` proof over the presentation; the
proof's ``challenge`` (and ``domain``) must be the ones the verifier handed out, or a presentation
recorded elsewhere could be replayed here. Each embedded credential is verified on its own, as
:func:`~microcred.credentials.verify.verify` does with the "vc" profile. Like that function,
this one never raises for bad input.
https://www.w3.org/TR/vc-data-model-2.0/#verifiable-presentations and
https://www.w3.org/TR/vc-data-integrity/#authentication
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .canonical import canonicalize_rdfc, to_quads
from .data_model import presentation_problems
from .errors import ContextError, CredentialError
from .loader import DocumentLoader
from .proofs import verify_proof
from .resolve import KeyResolver, Resolver
from .suites import suite_for_proof
from .verify import Check, VerificationReport, verify

__all__ = ["PresentationReport", "verify_presentation"]


@dataclass(frozen=True)
class PresentationReport:
    """The presentation's own checks, and one report per credential it carries (in order)."""

    checks: list[Check]
    credentials: list[VerificationReport]

    @property
    def verified(self) -> bool:
        return all(c.outcome != "failed" for c in self.checks) and all(r.valid for r in self.credentials)


def _holder(presentation: dict[str, Any]) -> str | None:
    holder = presentation.get("holder")
    if isinstance(holder, dict):
        holder = holder.get("id")
    return holder if isinstance(holder, str) else None


def _single_proof(presentation: dict[str, Any]) -> dict[str, Any] | None:
    proof = presentation.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    return proof if isinstance(proof, dict) else None


def verify_presentation(
    data: Any,
    *,
    loader: DocumentLoader | None = None,
    resolve_key: KeyResolver | None = None,
    fetch_status_list: Callable[[str], Mapping[str, Any]] | None = None,
    challenge: str | None = None,
    domain: str | None = None,
    unsigned: bool = False,
    now: datetime | None = None,
) -> PresentationReport:
    """Verify ``data``, a presentation object. ``unsigned`` accepts a presentation without a proof
    (only its credentials are then verified; a challenge or domain cannot be checked)."""
    loader = loader or DocumentLoader()
    resolve_key = resolve_key or Resolver()
    now = now or datetime.now(UTC)
    checks: list[Check] = []
    credentials: list[VerificationReport] = []
    try:
        _verify(data, checks, credentials, loader, resolve_key, fetch_status_list, challenge, domain, unsigned, now)
    except Exception as exc:  # a verifier answers; it does not crash on what it was given
        checks.append(Check("internal", "failed", f"verification stopped: {type(exc).__name__}: {exc}"))
    return PresentationReport(checks, credentials)


def _verify(
    data: Any,
    checks: list[Check],
    credentials: list[VerificationReport],
    loader: DocumentLoader,
    resolve_key: KeyResolver,
    fetch_status_list: Callable[[str], Mapping[str, Any]] | None,
    challenge: str | None,
    domain: str | None,
    unsigned: bool,
    now: datetime,
) -> None:
    if not isinstance(data, Mapping):
        checks.append(Check("parse", "failed", "a presentation must be a JSON object"))
        return
    presentation = dict(data)
    problems = presentation_problems(presentation, loader=loader)
    if problems:
        first = problems[0]
        name = "context" if isinstance(first, ContextError) else "dataModel"
        checks.append(Check(name, "failed", f"{first.pointer or '/'}: {first.message}"))
        return
    checks.append(Check("dataModel", "passed", "a VerifiablePresentation as the data model defines it"))

    # the presentation's terms (safe mode); for an RDFC proof, the canonical form the proof hashes
    unsecured = {k: v for k, v in presentation.items() if k != "proof"}
    proof = _single_proof(presentation)
    transformed: bytes | None = None
    try:
        if proof is not None and suite_for_proof(proof).json_ld:
            transformed = canonicalize_rdfc(unsecured, loader=loader).encode("utf-8")
        else:
            to_quads(unsecured, loader=loader, safe=True)
        checks.append(Check("context", "passed", "every term is defined by a known context"))
    except CredentialError as exc:
        checks.append(Check("context", "failed", exc.message))

    if "proof" not in presentation:
        if unsigned and challenge is None and domain is None:
            checks.append(Check("proof", "skipped", "an unsigned presentation: only the credentials it carries were verified"))
        else:
            wanted = "a challenge or domain was given, but " if unsigned else ""
            checks.append(Check("proof", "failed", f"{wanted}the presentation has no proof"))
    else:
        _check_proof(presentation, checks, loader, resolve_key, challenge, domain, now, transformed)

    raw = presentation.get("verifiableCredential", [])
    for credential in raw if isinstance(raw, list) else [raw]:
        credentials.append(
            verify(credential, loader=loader, resolve_key=resolve_key, fetch_status_list=fetch_status_list, now=now, profile="vc")
        )


def _check_proof(
    presentation: dict[str, Any],
    checks: list[Check],
    loader: DocumentLoader,
    resolve_key: KeyResolver,
    challenge: str | None,
    domain: str | None,
    now: datetime,
    transformed: bytes | None,
) -> None:
    result = verify_proof(
        presentation,
        loader=loader,
        resolve_key=resolve_key,
        expected_purpose="authentication",
        expected_controller=_holder(presentation),
        controller_role="holder",
        now=now,
        transformed_document=transformed,
    )
    checks.append(Check("proof", "passed" if result.verified else "failed", result.message))
    # every proof of a set must answer the challenge and name the domain: one that does not was
    # made for another verifier, whatever the others say
    raw = presentation.get("proof")
    proofs = [p for p in (raw if isinstance(raw, list) else [raw]) if isinstance(p, dict)]
    if not proofs:
        return
    if challenge is None:
        checks.append(Check("challenge", "warning", "no challenge was given: a presentation made for another verifier would verify too"))
    else:
        wrong = next((p for p in proofs if p.get("challenge") != challenge), None)
        if wrong is None:
            checks.append(Check("challenge", "passed", "the proof answers the challenge given"))
        else:
            checks.append(Check("challenge", "failed", f"the proof's challenge is {wrong.get('challenge')!r}, not the one given"))
    if domain is not None:
        for one in proofs:
            found = one.get("domain")
            if domain not in (found if isinstance(found, list) else [found]):
                checks.append(Check("domain", "failed", f"the proof's domain is {found!r}, not {domain!r}"))
                break
        else:
            checks.append(Check("domain", "passed", f"the proof was made for {domain}"))
