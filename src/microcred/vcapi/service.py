"""The VC-API's use cases: sign a caller's credential for an issuer configured for it, change the
status of one it signed, and verify credentials and presentations for anyone.

Issuing is the awards API's opposite in one respect: the caller writes the claims. So it is off
until the issuer turns it on (``vc_api.enabled``), it needs a key with the ``award`` scope, and
whatever the caller writes must hold up under the strictest verifier: the data model of its
version, bundled contexts only, every term defined, the issuer the one configured. The issuer
adds what the data model or the proof needs and the caller left out: ``issuer``, and for VC 1.1
``issuanceDate`` and the contexts of the Data Integrity proof and of the status entries.
A VC 2.0 credential without ``validFrom`` stays without: VC 2.0 makes it optional, and the issuer
does not date a claim the caller did not.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..credentials import CONTEXTS, Check, CredentialError, DocumentLoader, PresentationReport, Signer, VerificationReport, issue_credential
from ..credentials.data_model import credential_problems, version_of
from ..credentials.loader import bundled_context_bytes
from ..credentials.related import check_related, related_problems
from ..credentials.issue import issuer_id as credential_issuer
from ..credentials.safe_mode import check_shape
from ..credentials.timeutil import format_datetime
from ..db.base import new_id
from ..db.models import Issuer, VcApiCredential
from ..events import Event, record
from ..fetch import FetchError, SafeFetcher
from ..issuers.key_lock import hold_for_signing
from ..issuers.repository import IssuerRepository
from ..issuers.service import vc_api_identifier
from ..keystore import KeyStore
from ..operations.metrics import SIGNING_SECONDS
from ..problems import PROBLEM_BASE, BadRequest, Forbidden, NotFound, NotVerified, field_error
from ..runtime import Runtime
from ..status.allocator import Slot, StatusAllocator
from ..status.service import ListSigning, credential_status, list_signing, set_bit, status_list_url
from ..verification.service import Verification
from .repository import VcApiCredentialRepository
from .schemas import (
    IssueCredentialRequest,
    IssueOptions,
    ProblemDetail,
    UpdateCredentialStatusRequest,
    UpdateCredentialStatusResponse,
    VerifyCredentialRequest,
    VerifyPresentationRequest,
    VerifyPresentationResult,
    VerifyResult,
)

__all__ = ["Issuing", "issue", "issuing", "update_status", "verify_credential", "verify_presentation"]

_VCDM = "https://www.w3.org/TR/vc-data-model-2.0/#"


@dataclass(frozen=True)
class Issuing:
    keystore: KeyStore
    loader: DocumentLoader
    base_url: str
    statuses: StatusAllocator
    lists: ListSigning
    #: retrieves related resources whose digests a credential pins (SSRF-safe)
    fetcher: SafeFetcher


def issuing(runtime: Runtime) -> Issuing:
    return Issuing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses, list_signing(runtime), runtime.fetcher)


def _issuer_for(principal: Principal, named: str | None, *, pointer: str) -> str:
    """The issuer a call acts for: the key's own, or for an admin key the one it names."""
    if principal.issuer_id is not None:
        if named is not None:
            principal.check_issuer(named)
        return principal.issuer_id
    if named is None:
        raise BadRequest(
            "an admin API key has no issuer of its own: name the issuer, or use a key of the issuer",
            errors=[field_error(pointer, "required with an admin API key")],
        )
    return named


async def _configured_issuer(session: AsyncSession, issuer_id: str) -> Issuer:
    issuer = await IssuerRepository(session).get(issuer_id)
    if issuer is None:
        raise NotFound(f"no issuer {issuer_id!r}")
    if not issuer.vc_api_enabled:
        raise Forbidden(f"issuer {issuer_id!r} is not configured for the VC-API (issuer setting vc_api.enabled)")
    return issuer


def _bad_credential(exc: CredentialError) -> BadRequest:
    """A core error about the credential, as a 400 naming the field (a JSON pointer into the
    request body where the core gave one, else the credential as a whole)."""
    where = exc.pointer if exc.pointer is not None and exc.pointer.startswith("/") else ""
    if exc.pointer == "@context":
        where = "/@context"
    return BadRequest(f"credential: {exc.message}", errors=[field_error("/credential" + where, exc.message)])


@dataclass(frozen=True)
class _DidKeySigner:
    """The issuer's current key, under the verification method of its did:key."""

    id: str
    inner: Signer

    @property
    def algorithm(self) -> str:
        return self.inner.algorithm

    def sign(self, data: bytes) -> bytes:
        return self.inner.sign(data)


def _signer(keystore: KeyStore, issuer: Issuer, identifier: str) -> Signer:
    signer = keystore.signer_for(issuer.current_key_id)
    if identifier == issuer.did:
        return signer
    return _DidKeySigner(f"{identifier}#{identifier.removeprefix('did:key:')}", signer)


def _with_context(credential: dict[str, Any], url: str) -> dict[str, Any]:
    contexts = credential["@context"]
    return credential if url in contexts else {**credential, "@context": [*contexts, url]}


def _issued_by(credential: dict[str, Any], identifier: str) -> dict[str, Any]:
    """``credential`` with ``issuer`` where the data model lists it, after ``type``."""
    prepared: dict[str, Any] = {}
    for key, value in credential.items():
        prepared[key] = value
        if key == "type":
            prepared["issuer"] = identifier
    prepared.setdefault("issuer", identifier)
    return prepared


def _prepare(credential: dict[str, Any], *, identifier: str, loader: DocumentLoader, now: datetime) -> dict[str, Any]:
    """The credential as it will be signed, or a 400 saying what is wrong with it."""
    try:
        check_shape(credential)
        version = version_of(credential, loader=loader)
    except CredentialError as exc:
        raise _bad_credential(exc) from exc
    if "proof" in credential:
        raise BadRequest(
            "the credential is signed already; this issuer signs unsigned credentials only",
            errors=[field_error("/credential/proof", "must be absent")],
        )
    prepared = dict(credential) if "issuer" in credential else _issued_by(credential, identifier)
    if version == "1.1":
        prepared.setdefault("issuanceDate", format_datetime(now))
    problems = credential_problems(prepared, loader=loader) or related_problems(prepared)
    if problems:
        raise _bad_credential(problems[0])
    if credential_issuer(prepared) != identifier:
        raise BadRequest(
            f"issuer {credential_issuer(prepared)!r} is not this issuer's: VC-API credentials are issued as {identifier}",
            errors=[field_error("/credential/issuer", f"must be {identifier} (or absent)")],
        )
    credential_id = prepared.get("id")
    if isinstance(credential_id, str) and len(credential_id) > 1000:
        raise BadRequest("the credential's id is longer than 1000 characters", errors=[field_error("/credential/id", "at most 1000 characters")])
    if version == "1.1":
        prepared = _with_context(prepared, CONTEXTS.DATA_INTEGRITY_V2)  # defines DataIntegrityProof for VC 1.1
    return prepared


#: related resources one issue call retrieves to check their digests (bundled contexts are free)
MAX_RELATED_FETCHES = 10


async def _check_related_digests(credential: dict[str, Any], fetcher: SafeFetcher) -> None:
    """Refuse to sign a ``relatedResource`` digest that does not match the resource (VC 2.0
    §5.3): bundled contexts are compared as bundled, anything else is fetched (SSRF-safe)."""
    value = credential.get("relatedResource")
    if value is None:
        return
    entries: list[dict[str, Any]] = value if isinstance(value, list) else [value]
    fetched: dict[str, bytes] = {}
    for n, entry in enumerate(entries):
        url: str = entry["id"]
        if bundled_context_bytes(url) is not None:
            continue
        at = f"/credential/relatedResource/{n}" if isinstance(value, list) else "/credential/relatedResource"
        if len(fetched) >= MAX_RELATED_FETCHES:
            raise BadRequest(
                f"relatedResource: at most {MAX_RELATED_FETCHES} resources are retrieved to check their digests",
                errors=[field_error(at, "one resource too many to retrieve")],
            )
        media = entry.get("mediaType")
        try:
            fetched[url] = (await (fetcher.fetch(url, accept=media) if isinstance(media, str) else fetcher.fetch(url))).body
        except FetchError as exc:
            raise BadRequest(
                f"relatedResource {url} could not be retrieved to check its digest: {exc}",
                errors=[field_error(f"{at}/id", f"could not be retrieved: {exc}")],
            ) from exc
    result = check_related(credential, retrieve=lambda url, _media: fetched[url])
    if result is not None and result.mismatched:
        at = result.mismatched[0]
        raise BadRequest(
            "relatedResource: the digest does not match the resource as it is served",
            errors=[field_error(f"/credential{at}", "digest does not match the resource") for at in result.mismatched],
        )


def _suite(path_suite: str | None, options: IssueOptions) -> str | None:
    if path_suite is not None and options.cryptosuite not in (None, path_suite):
        raise BadRequest(
            f"this endpoint signs with {path_suite}; options.cryptosuite asks for {options.cryptosuite}",
            errors=[field_error("/options/cryptosuite", f"must be {path_suite} here (or absent)")],
        )
    return path_suite or options.cryptosuite


async def issue(
    session: AsyncSession,
    *,
    principal: Principal,
    issuing: Issuing,
    request: IssueCredentialRequest,
    now: datetime,
    path_suite: str | None = None,
) -> dict[str, Any]:
    """Sign the caller's credential for the issuer; returns the verifiable credential."""
    options = request.options or IssueOptions()
    issuer_id = _issuer_for(principal, options.issuer, pointer="/options/issuer")
    principal.require(issuer_id, "award")
    chosen = _suite(path_suite, options)
    if isinstance(request.credential, dict) and not related_problems(request.credential):
        # fetched before any lock is taken: a slow host must not hold up key rotation or writes
        await _check_related_digests(request.credential, issuing.fetcher)
    await hold_for_signing(session, issuer_id)  # a key rotation waits for this signature (see key_lock)
    issuer = await _configured_issuer(session, issuer_id)
    suite = chosen or issuer.cryptosuite
    identifier = vc_api_identifier(issuer)
    credential = _prepare(request.credential, identifier=identifier, loader=issuing.loader, now=now)
    credential_id = options.credential_id or credential.get("id")
    revocation: Slot | None = None
    suspension: Slot | None = None
    if issuer.vc_api_status:
        if "credentialStatus" in credential:
            raise BadRequest(
                "this issuer adds the credential's status entries itself",
                errors=[field_error("/credential/credentialStatus", "must be absent: the issuer sets it (vc_api.status)")],
            )
        if credential_id is None:
            # A handle for POST /credentials/status, which the caller receives as the credential's id.
            credential_id = f"urn:uuid:{uuid.uuid4()}"
            credential = {"@context": credential["@context"], "id": credential_id, **credential}
        revocation, suspension = (await issuing.statuses.slots_for(session, issuer, separate_suspension=True))[0]
        credential["credentialStatus"] = credential_status(issuing.base_url, revocation, suspension)
        if credential["@context"][0] == CONTEXTS.VC_V1:
            credential = _with_context(credential, CONTEXTS.BITSTRING_STATUS_V1)  # VC 1.1 does not define the entries

    def sign() -> dict[str, Any]:
        signer = _signer(issuing.keystore, issuer, identifier)
        with SIGNING_SECONDS.labels("credential").time():
            return issue_credential(credential, signer=signer, loader=issuing.loader, suite=suite, created=now)

    try:
        signed = await asyncio.to_thread(sign)
    except CredentialError as exc:
        raise _bad_credential(exc) from exc
    row = await VcApiCredentialRepository(session).add(
        VcApiCredential(
            id=new_id(),
            issuer_id=issuer.id,
            credential_id=credential_id,
            issued_as=identifier,
            cryptosuite=suite,
            document=signed,
            issued_at=now,
            revocation_list_id=revocation.list_id if revocation else None,
            revocation_index=revocation.index if revocation else None,
            suspension_list_id=suspension.list_id if suspension else None,
            suspension_index=suspension.index if suspension else None,
        )
    )
    await record(
        session,
        Event(
            "credential.issued", issuer.id, principal.client_id, credential_id or row.id, now,
            {"via": "vc-api", "issued_as": identifier, "cryptosuite": suite, "status": revocation is not None},
        ),
    )
    return signed


def _entry_matches(row: VcApiCredential, purpose: str, request: UpdateCredentialStatusRequest, base_url: str) -> bool:
    """Whether the entry the request names (if it names one) is this copy's."""
    target = request.credential_status
    list_id, index = (row.revocation_list_id, row.revocation_index) if purpose == "revocation" else (row.suspension_list_id, row.suspension_index)
    if list_id is None or index is None:
        return True  # refused below, with the reason
    url = status_list_url(base_url, list_id)
    return (
        target.id in (None, f"{url}#{index}")
        and target.status_list_credential in (None, url)
        and target.status_list_index in (None, str(index))
    )


async def update_status(
    session: AsyncSession,
    *,
    principal: Principal,
    issuing: Issuing,
    request: UpdateCredentialStatusRequest,
    now: datetime,
) -> UpdateCredentialStatusResponse:
    """Revoke (final), suspend or unsuspend a credential the VC-API issued: every copy signed
    under ``credentialId``. Repeating a change changes nothing."""
    issuer_id = _issuer_for(principal, request.issuer, pointer="/issuer")
    principal.require(issuer_id, "revoke")
    if await IssuerRepository(session).get(issuer_id) is None:
        raise NotFound(f"no issuer {issuer_id!r}")
    purpose = request.credential_status.status_purpose
    rows = [
        row
        for row in await VcApiCredentialRepository(session).by_credential_id(issuer_id, request.credential_id, for_update=True)
        if _entry_matches(row, purpose, request, issuing.base_url)
    ]
    if not rows:
        raise NotFound(f"no credential {request.credential_id!r}")
    changed = 0
    for row in rows:
        if purpose == "revocation":
            if row.revocation_list_id is None or row.revocation_index is None:
                raise _no_entry(purpose, "this credential was issued without status entries (issuer setting vc_api.status)")
            if not request.status and row.revoked_at is not None:
                raise BadRequest("this credential is revoked; a revocation is final", errors=[field_error("/status", "a revocation is final")])
            if request.status and row.revoked_at is None:
                row.revoked_at = now
                await set_bit(session, row.revocation_list_id, row.revocation_index, 1, issuing.lists, now)
                changed += 1
            continue
        if row.suspension_list_id is None or row.suspension_index is None:
            raise _no_entry(purpose, "this credential carries no suspension entry: the issuer did not offer suspension when it was issued")
        if row.revoked_at is not None:
            raise BadRequest("this credential is revoked; a revocation is final", errors=[field_error("/status", "a revocation is final")])
        if (row.suspended_at is not None) != request.status:
            row.suspended_at = now if request.status else None
            await set_bit(session, row.suspension_list_id, row.suspension_index, int(request.status), issuing.lists, now)
            changed += 1
    if changed:
        change = "revoked" if purpose == "revocation" else "suspended" if request.status else "unsuspended"
        event = Event(f"credential.{change}", issuer_id, principal.client_id, request.credential_id, now, {"via": "vc-api", "copies": changed})
        await record(session, event)
    return UpdateCredentialStatusResponse(credential_id=request.credential_id, status_purpose=purpose, status=request.status, updated=len(rows))


def _no_entry(purpose: str, detail: str) -> BadRequest:
    return BadRequest(detail, errors=[field_error("/credentialStatus/statusPurpose", f"the credential has no {purpose} entry")])


# -- verification --------------------------------------------------------------------------------


def _problem_type(check: Check) -> str:
    if check.outcome == "warning":
        return PROBLEM_BASE + "verification-warning"
    if check.name == "parse":
        return _VCDM + "PARSING_ERROR"
    if check.name.split("[")[0] in ("proof", "challenge", "domain") or check.verdict in ("tampered", "unknown_key"):
        return _VCDM + "CRYPTOGRAPHIC_SECURITY_ERROR"
    if check.verdict in ("revoked", "suspended", "expired", "not_yet_valid"):
        return PROBLEM_BASE + check.verdict.replace("_", "-")
    return _VCDM + "MALFORMED_VALUE_ERROR"


def _detail(check: Check) -> ProblemDetail:
    return ProblemDetail(type=_problem_type(check), title=check.name, detail=check.message)


def _result(checks: list[Check], verified: bool) -> VerifyResult:
    return VerifyResult(
        verified=verified,
        checks=[c.name for c in checks if c.outcome in ("passed", "failed")],
        warnings=[_detail(c) for c in checks if c.outcome == "warning"],
        errors=[_detail(c) for c in checks if c.outcome == "failed"],
    )


def _credential_result(report: VerificationReport) -> VerifyResult:
    result = _result(report.checks, report.valid)
    if not report.valid and not result.errors:  # cannot happen: a verdict other than valid comes from a failed check
        result.errors.append(ProblemDetail(type=_VCDM + "MALFORMED_VALUE_ERROR", title="verdict", detail=report.verdict))
    return result


def _not_verified(result: VerifyResult, **more: Any) -> NotVerified:
    first = result.errors[0].detail if result.errors else "not verified"
    return NotVerified(
        f"not verified: {first}",
        errors=[e.model_dump() for e in result.errors],
        verified=False,
        checks=result.checks,
        warnings=[w.model_dump() for w in result.warnings],
        **more,
    )


def _readable(document: dict[str, Any], pointer: str) -> None:
    """Refuse what no verification could answer about (lone surrogates, which no response can
    carry; nesting and size beyond the core's limits) as an unreadable request."""
    try:
        check_shape(document)
    except CredentialError as exc:
        raise BadRequest(f"{pointer.removeprefix('/')}: {exc.message}", errors=[field_error(pointer, exc.message)], verified=False) from exc


async def verify_credential(verification: Verification, request: VerifyCredentialRequest) -> VerifyResult:
    """Verify a credential of any kind (VC 1.1 or 2.0); NotVerified (400) when it is not valid."""
    _readable(request.verifiable_credential, "/verifiableCredential")
    report = await verification.of_credential(request.verifiable_credential, profile="vc")
    result = _credential_result(report)
    if not result.verified:
        raise _not_verified(result)
    return result


def _presentation_result(report: PresentationReport) -> VerifyPresentationResult:
    own = _result(report.checks, report.verified)
    results = [_credential_result(r) for r in report.credentials]
    errors = list(own.errors)
    for n, result in enumerate(results):
        if not result.verified:  # which always comes with an error (see _credential_result)
            first = result.errors[0]
            errors.append(ProblemDetail(type=first.type, title=f"verifiableCredential/{n}", detail=f"credential {n} is not valid: {first.detail}"))
    return VerifyPresentationResult(
        verified=report.verified, checks=own.checks, warnings=own.warnings, errors=errors, credential_results=results
    )


async def verify_presentation(verification: Verification, request: VerifyPresentationRequest) -> VerifyPresentationResult:
    """Verify a presentation and each credential in it; NotVerified (400) when any is not valid."""
    options = request.options
    unsigned = request.verifiable_presentation is None
    presentation = request.presentation if unsigned else request.verifiable_presentation
    assert presentation is not None  # the request model requires one of them
    _readable(presentation, "/presentation" if unsigned else "/verifiablePresentation")
    report = await verification.of_presentation(
        presentation, challenge=options.challenge if options else None, domain=options.domain if options else None, unsigned=unsigned
    )
    result = _presentation_result(report)
    if options is not None and options.return_presentation:
        result.verifiable_presentation = presentation
    if not result.verified:
        more: dict[str, Any] = {"credentialResults": [r.model_dump() for r in result.credential_results]}
        if result.verifiable_presentation is not None:
            more["verifiablePresentation"] = result.verifiable_presentation
        raise _not_verified(result, **more)
    return result
