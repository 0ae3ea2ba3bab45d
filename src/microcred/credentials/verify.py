"""Verify a credential the way OB 3.0 §9 lays out, and report every step.

``verify`` never raises for bad input: whatever arrives (bytes, a VC-JWT, JSON that is not a
credential) comes back as a :class:`VerificationReport` whose ``verdict`` is one word an
employer can act on, with each check's outcome and message beneath it.
https://www.imsglobal.org/spec/ob/v3p0/#verification-and-validation
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from . import data_model, endorsement, status_list, strict_json, vc_jwt
from . import schema as ob_schema
from .canonical import canonicalize_rdfc, to_quads
from .errors import CredentialError
from .issue import issuer_id
from .loader import CONTEXTS, DocumentLoader
from .ob3 import IdentityObject
from .proofs import verify_proof
from .related import check_related
from .resolve import KeyResolver, Resolver
from .suites import suite_for_proof
from .timeutil import parse_datetime

__all__ = ["Check", "Profile", "VERDICTS", "VerificationReport", "verify"]

Profile = Literal["ob3", "vc"]
Outcome = Literal["passed", "failed", "warning", "skipped"]
Verdict = Literal["valid", "expired", "revoked", "suspended", "not_yet_valid", "tampered", "unknown_key", "malformed"]

#: Most severe first: the report's verdict is the first that any failed check calls for.
VERDICTS: tuple[Verdict, ...] = (
    "malformed", "unknown_key", "tampered", "revoked", "suspended", "expired", "not_yet_valid", "valid",
)


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Outcome
    message: str
    #: the verdict a failure of this check calls for
    verdict: Verdict | None = None


@dataclass(frozen=True)
class VerificationReport:
    verdict: Verdict
    checks: list[Check]
    credential: dict[str, Any] | None = None
    #: "ldp" (Data Integrity) or "jwt"
    format: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    #: For a credential that pins other credentials (relatedResource, e.g. a pathway's
    #: components): each one's URL, name and state, filled in by whoever can retrieve them.
    components: list[dict[str, Any]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """Valid, and every requested check (a recipient check, say) passed."""
        return self.verdict == "valid" and all(c.outcome != "failed" for c in self.checks)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "valid": self.valid,
            "format": self.format,
            "summary": self.summary,
            "checks": [{k: v for k, v in asdict(c).items() if k != "verdict"} for c in self.checks],
        }
        if self.components:
            out["components"] = self.components
        return out


class _Steps:
    def __init__(self) -> None:
        self.checks: list[Check] = []
        #: the embedded endorsements, as the summary lists them
        self.endorsements: list[dict[str, Any]] = []

    def passed(self, name: str, message: str) -> None:
        self.checks.append(Check(name, "passed", message))

    def failed(self, name: str, message: str, verdict: Verdict | None) -> None:
        self.checks.append(Check(name, "failed", message, verdict))

    def warning(self, name: str, message: str) -> None:
        self.checks.append(Check(name, "warning", message))

    def skipped(self, name: str, message: str) -> None:
        self.checks.append(Check(name, "skipped", message))

    def report(self, credential: dict[str, Any] | None, fmt: str | None) -> VerificationReport:
        failed = {c.verdict for c in self.checks if c.outcome == "failed" and c.verdict}
        verdict = next(v for v in VERDICTS if v in failed or v == "valid")
        summary = _summary(credential) if credential else {}
        if self.endorsements:
            summary["endorsements"] = self.endorsements
        return VerificationReport(verdict, self.checks, credential, fmt, summary)


def _summary(credential: dict[str, Any]) -> dict[str, Any]:
    """Who issued it, to whom, what it certifies: what a person reads first."""
    issuer = credential.get("issuer")
    raw_subject = credential.get("credentialSubject")
    raw_subject = raw_subject[0] if isinstance(raw_subject, list) and raw_subject else raw_subject
    subject: dict[str, Any] = raw_subject if isinstance(raw_subject, dict) else {}
    raw_achievement = subject.get("achievement")
    achievement: dict[str, Any] = raw_achievement if isinstance(raw_achievement, dict) else {}
    return {
        "id": credential.get("id"),
        "name": credential.get("name"),
        "issuer": {"id": issuer_id(credential), "name": issuer.get("name") if isinstance(issuer, dict) else None},
        "subject": {"id": subject.get("id"), "name": _learner_name(subject)},
        "achievement": {"id": achievement.get("id"), "name": achievement.get("name")},
        "validFrom": credential.get("validFrom", credential.get("issuanceDate")),
        "validUntil": credential.get("validUntil", credential.get("expirationDate")),
    }


def _learner_name(subject: dict[str, Any]) -> str | None:
    """The learner's name as the credential shows it: an unhashed ``name`` IdentityObject."""
    identifiers = subject.get("identifier") or []
    for ident in identifiers if isinstance(identifiers, list) else [identifiers]:
        if isinstance(ident, dict) and ident.get("identityType") == "name" and not ident.get("hashed"):
            value = ident.get("identityHash")
            return value if isinstance(value, str) else None
    return None


def _parse(data: Any) -> tuple[dict[str, Any] | str | None, str]:
    """A credential dict, or a compact JWS string, or None with the reason."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            return None, "the input is not UTF-8 text"
    if isinstance(data, str):
        text = data.strip()
        if text.count(".") == 2 and not text.startswith(("{", '"')):
            return text, "jwt"
        try:
            data = strict_json.loads(text)
        except ValueError as exc:
            return None, f"the input is not JSON: {exc}"
        if isinstance(data, str) and data.count(".") == 2 and data == data.strip():
            return data, "jwt"  # a VC-JWT sent as a JSON string, as JSON APIs do
    if isinstance(data, Mapping):
        return dict(data), "ldp"
    return None, "a credential must be a JSON object or a VC-JWT"


def verify(
    data: Any,
    *,
    loader: DocumentLoader | None = None,
    resolve_key: KeyResolver | None = None,
    fetch_status_list: Callable[[str], Mapping[str, Any]] | None = None,
    fetch_schema: Callable[[str], Mapping[str, Any]] | None = None,
    recipient_email: str | None = None,
    now: datetime | None = None,
    profile: Profile = "ob3",
    check_endorsements: bool = True,
    fetch_related: Callable[[str, str | None], bytes] | None = None,
) -> VerificationReport:
    """Verify ``data`` (a dict, JSON text or bytes, or a VC-JWT). Never raises for bad input.

    ``profile`` "ob3" holds the credential to the OB 3.0 JSON Schema (an AchievementCredential
    or EndorsementCredential with ``validFrom``); "vc" to the VC 1.1 or 2.0 data model alone, for
    credentials of any kind (what the VC-API verifies). ``check_endorsements``: verify every
    EndorsementCredential the credential embeds, with these same steps (the endorsements' own
    embedded endorsements are not followed further). ``fetch_related(url, mediaType)``: the bytes
    of a ``relatedResource`` to check its digest against (bundled contexts need no fetch).
    """
    loader = loader or DocumentLoader()
    resolve_key = resolve_key or Resolver()
    now = now or datetime.now(UTC)
    steps = _Steps()
    try:
        report = _verify(data, steps, loader, resolve_key, fetch_status_list, fetch_schema, recipient_email, now, profile, fetch_related)
        if check_endorsements and report.credential is not None:

            def verify_one(embedded: Any) -> VerificationReport:
                return verify(
                    embedded, loader=loader, resolve_key=resolve_key, fetch_status_list=fetch_status_list,
                    fetch_schema=fetch_schema, now=now, check_endorsements=False,
                )

            _check_endorsements(report.credential, steps, verify_one)
            report = steps.report(report.credential, report.format)
        return report
    except Exception as exc:  # a verifier answers; it does not crash on what it was given
        steps.failed("internal", f"verification stopped: {type(exc).__name__}: {exc}", "malformed")
        return steps.report(None, None)


def _verify(
    data: Any,
    steps: _Steps,
    loader: DocumentLoader,
    resolve_key: KeyResolver,
    fetch_status_list: Callable[[str], Mapping[str, Any]] | None,
    fetch_schema: Callable[[str], Mapping[str, Any]] | None,
    recipient_email: str | None,
    now: datetime,
    profile: Profile,
    fetch_related: Callable[[str, str | None], bytes] | None = None,
) -> VerificationReport:
    parsed, fmt = _parse(data)
    if parsed is None:
        steps.failed("parse", fmt, "malformed")
        return steps.report(None, None)

    # 1. proof (for a VC-JWT the proof comes first: the payload is only a credential once verified)
    if isinstance(parsed, str):
        result = vc_jwt.decode_vc_jwt(parsed, resolve_key=lambda kid, header: resolve_key(kid or ""), now=now)
        credential = result.credential
        if credential is None or not isinstance(credential, dict):
            if result.header is None:
                steps.failed("parse", "; ".join(result.errors) or "not a VC-JWT", "malformed")
            else:
                steps.passed("parse", "VC-JWT read")
                steps.failed("proof", "; ".join(result.errors) or "VC-JWT not verified", _jwt_verdict(result.errors))
            return steps.report(None, "jwt")
        steps.passed("parse", "VC-JWT read")
        # The time window is the validity step's to judge (expired / not yet valid), not the proof's.
        window = ("the credential expired at ", "the credential is not valid until ")
        jwt_problems = [e for e in result.errors if not e.startswith(window)]
        jwt_ok = result.verified or not jwt_problems
    else:
        credential = parsed
        steps.passed("parse", "JSON credential read")
        jwt_ok, jwt_problems = False, []

    # 2. contexts and JSON-LD terms (safe mode); for an RDFC proof the canonical form made
    #    here is the one the proof step hashes, so the document is expanded only once.
    contexts = credential.get("@context")
    ctx_list = contexts if isinstance(contexts, list) else [contexts]
    unknown = [c for c in ctx_list if isinstance(c, str) and not loader.knows(c)]
    transformed: bytes | None = None
    if not ctx_list or ctx_list[0] not in (CONTEXTS.VC_V2, CONTEXTS.VC_V1):
        steps.failed("context", f"@context must start with {CONTEXTS.VC_V2} (or {CONTEXTS.VC_V1})", "malformed")
    elif unknown:
        steps.failed("context", f"unknown context {unknown[0]}: not bundled, and contexts are never fetched", "malformed")
    else:
        try:
            unsecured = {k: v for k, v in credential.items() if k != "proof"}
            if fmt == "ldp" and _suite_is_json_ld(credential):
                transformed = canonicalize_rdfc(unsecured, loader=loader).encode("utf-8")
            else:
                to_quads(unsecured, loader=loader, safe=True)
            steps.passed("context", "every term is defined by a known context")
        except CredentialError as exc:
            steps.failed("context", exc.message, "malformed")

    # 3. JSON Schema (official 1EdTech schema, or the VC data model), then the credential's own
    #    credentialSchema
    if profile == "vc":
        _check_data_model(credential, steps)
    else:
        if ctx_list and ctx_list[0] == CONTEXTS.VC_V1:
            # OB 3.0.0-3.0.2 were VC 1.1 based: its data model, then the OB schema under its names
            _check_data_model(credential, steps)
        _check_ob_schema(credential, steps)
    _check_credential_schema(credential, steps, fetch_schema)

    # 4. proof and issuer
    issuer = issuer_id(credential)
    if fmt == "jwt":
        if jwt_ok:
            steps.passed("proof", "VC-JWT signature verified")
        else:
            steps.failed("proof", "; ".join(jwt_problems) or "VC-JWT not verified", _jwt_verdict(jwt_problems))
    else:
        proof = verify_proof(
            credential, loader=loader, resolve_key=resolve_key, expected_controller=issuer, now=now,
            transformed_document=transformed,
        )
        if proof.verified:
            steps.passed("proof", proof.message)
        else:
            steps.failed("proof", proof.message, proof.failure or "tampered")  # type: ignore[arg-type]
        for n, member in enumerate(proof.members, 1):
            # a proof set or chain: say which proof passed and which failed
            name = f"proof[{n}]"
            label = f"{member.proof_id}: " if member.proof_id else ""
            if member.verified:
                steps.passed(name, label + member.message)
            else:
                steps.checks.append(Check(name, "failed", label + member.message))

    # 5. validity period
    if profile == "vc" or (ctx_list and ctx_list[0] == CONTEXTS.VC_V1):
        _check_period(credential, steps, now)
    else:
        _check_dates(credential, steps, now)

    # 6. status
    _check_status(credential, steps, loader, resolve_key, fetch_status_list, now)

    # 7. related resources (VC 2.0 §5.3): well formed, and each digest matches what it pins
    _check_related(credential, steps, fetch_related)

    # 8. recipient
    if recipient_email is not None:
        _check_recipient(credential, steps, recipient_email)

    return steps.report(credential, fmt)


def _check_endorsements(
    credential: dict[str, Any], steps: _Steps, verify_one: Callable[[Any], VerificationReport]
) -> None:
    """8. Each embedded endorsement verified as an EndorsementCredential (OB 3.0 §9): a forged
    or misplaced one fails the credential; a revoked or expired one is only a warning."""
    results, unchecked = endorsement.check_embedded(credential, verify_one=verify_one)
    for result in results:
        if result.outcome == "failed":
            steps.failed("endorsement", result.message, result.verdict)
        elif result.outcome == "warning":
            steps.warning("endorsement", result.message)
        else:
            steps.passed("endorsement", result.message)
        steps.endorsements.append(result.to_dict())
    if unchecked:
        steps.warning("endorsement", f"{unchecked} more endorsements were not checked (at most {endorsement.MAX_EMBEDDED} are)")


def _check_ob_schema(credential: dict[str, Any], steps: _Steps) -> None:
    types = credential.get("type")
    types = types if isinstance(types, list) else [types]
    kind: Literal["AchievementCredential", "EndorsementCredential"] = (
        "EndorsementCredential" if "EndorsementCredential" in types else "AchievementCredential"
    )
    issues = ob_schema.validate(credential, kind=kind)
    contexts = credential.get("@context")
    ctx_v1 = isinstance(contexts, list) and bool(contexts) and contexts[0] == CONTEXTS.VC_V1
    entries = credential.get("credentialStatus")
    if isinstance(entries, list) and issues and all(i.pointer == "/credentialStatus" for i in issues):
        # VC 2.0 allows several status entries (revocation and suspension); the OB 3.0 schema
        # allows one. Check each entry as the schema would check one, and say what we accepted.
        issues = [i for n, entry in enumerate(entries) for i in ob_schema.validate_status_entry(entry, prefix=f"/credentialStatus/{n}")]
        if not issues:
            steps.warning("schema:credentialStatus", f"{len(entries)} credentialStatus entries: VC 2.0 allows several, the OB 3.0 schema one")
    if issues:
        first = issues[0]
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        steps.failed("schema", f"{kind} schema: {first.pointer or '/'}: {first.message}{more}", "malformed")
    else:
        read = " (VC 1.1 issuanceDate and expirationDate read as validFrom and validUntil)" if ctx_v1 else ""
        steps.passed("schema", f"valid against the 1EdTech OB 3.0 {kind} JSON Schema{read}")


def _check_data_model(credential: dict[str, Any], steps: _Steps) -> None:
    problems = data_model.credential_problems(credential)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        steps.failed("dataModel", f"{first.pointer or '/'}: {first.message}{more}", "malformed")
    else:
        steps.passed("dataModel", f"conforms to the VC {data_model.version_of(credential)} data model")


def _jwt_verdict(errors: list[str]) -> Verdict:
    """The verdict a VC-JWT failure calls for, by what decode_vc_jwt reported first."""
    for error in errors:
        if error.startswith("the signature does not verify"):
            return "tampered"
        if error.startswith(("could not resolve the key", "the key resolver returned no key", "alg ")) or (
            error.startswith("the key ") and "not to the issuer" in error
        ):
            return "unknown_key"
    return "malformed"


def _suite_is_json_ld(credential: dict[str, Any]) -> bool:
    """Whether a proof over the document without its proofs hashes the RDFC canonical form."""
    proof = credential.get("proof")
    for one in proof if isinstance(proof, list) else [proof]:
        try:
            if isinstance(one, dict) and "previousProof" not in one and suite_for_proof(one).json_ld:
                return True
        except CredentialError:
            continue
    return False


def _check_credential_schema(
    credential: dict[str, Any], steps: _Steps, fetch_schema: Callable[[str], Mapping[str, Any]] | None
) -> None:
    entries = credential.get("credentialSchema")
    if entries is None:
        return
    entries = entries if isinstance(entries, list) else [entries]
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            steps.failed("credentialSchema", "credentialSchema entries need an id", "malformed")
            continue
        url = entry["id"]
        bundled = ob_schema.validate_against_bundled(credential, url)
        if bundled is not None:
            if bundled:
                steps.failed("credentialSchema", f"{url}: {bundled[0].pointer or '/'}: {bundled[0].message}", "malformed")
            else:
                steps.passed("credentialSchema", f"valid against {url}")
            continue
        schema_doc = None
        if fetch_schema is not None:
            try:
                schema_doc = dict(fetch_schema(url))
            except Exception as exc:
                steps.warning("credentialSchema", f"schema {url} could not be fetched: {exc}")
                continue
        if schema_doc is None:
            steps.warning("credentialSchema", f"schema {url} is not bundled and no schema fetcher is configured")
            continue
        problems = ob_schema.validate_credential_schema(credential, schema_doc)
        if problems:
            steps.failed("credentialSchema", f"{url}: {problems[0].pointer or '/'}: {problems[0].message}", "malformed")
        else:
            steps.passed("credentialSchema", f"valid against {url}")


def _check_dates(credential: dict[str, Any], steps: _Steps, now: datetime) -> None:
    try:
        valid_from = parse_datetime(credential.get("validFrom"), field="validFrom")
    except CredentialError as exc:
        steps.failed("validity", exc.message, "malformed")
        return
    valid_until = None
    if "validUntil" in credential:
        try:
            valid_until = parse_datetime(credential["validUntil"], field="validUntil")
        except CredentialError as exc:
            steps.failed("validity", exc.message, "malformed")
            return
    if valid_from > now:
        steps.failed("validity", f"not valid before {credential['validFrom']}", "not_yet_valid")
    elif valid_until is not None and valid_until <= now:
        steps.failed("validity", f"expired on {credential['validUntil']}", "expired")
    else:
        until = f" until {credential['validUntil']}" if valid_until else ", with no expiry"
        steps.passed("validity", f"valid from {credential['validFrom']}{until}")


def _check_period(credential: dict[str, Any], steps: _Steps, now: datetime) -> None:
    """The validity period under the names the credential's data model version gives it."""
    try:
        period = data_model.validity_period(credential)
    except CredentialError as exc:
        steps.failed("validity", exc.message, "malformed")
        return
    if period.start is not None and period.start > now:
        steps.failed("validity", f"not valid before {credential[period.start_field]}", "not_yet_valid")
    elif period.end is not None and period.end <= now:
        steps.failed("validity", f"expired on {credential[period.end_field]}", "expired")
    else:
        since = f"valid from {credential[period.start_field]}" if period.start else "valid"
        until = f" until {credential[period.end_field]}" if period.end else ", with no expiry"
        steps.passed("validity", since + until)


def _check_status(
    credential: dict[str, Any],
    steps: _Steps,
    loader: DocumentLoader,
    resolve_key: KeyResolver,
    fetch_status_list: Callable[[str], Mapping[str, Any]] | None,
    now: datetime,
) -> None:
    if "credentialStatus" not in credential:
        steps.skipped("status", "the credential has no credentialStatus")
        return
    if fetch_status_list is None:
        steps.warning("status", "status not checked: no status list fetcher configured")
        return

    def fetch_verified(url: str) -> dict[str, Any]:
        listed = dict(fetch_status_list(url))
        proof = verify_proof(listed, loader=loader, resolve_key=resolve_key, expected_controller=issuer_id(listed), now=now)
        if not proof.verified:
            raise CredentialError(f"status list {url} failed verification: {proof.message}")
        if issuer_id(listed) != issuer_id(credential):
            raise CredentialError(f"status list {url} was issued by {issuer_id(listed)}, not by the credential's issuer")
        return listed

    for result in status_list.check_status(credential, fetch_list=fetch_verified, now=now):
        purpose = result.purpose or "unknown"
        name = f"status:{purpose}"
        if result.error:
            steps.warning(name, f"status could not be checked: {result.error}")
        elif purpose == "revocation" and result.status:
            steps.failed(name, "the issuer has revoked this credential", "revoked")
        elif purpose == "suspension" and result.status:
            steps.failed(name, "the issuer has suspended this credential", "suspended")
        elif purpose in ("revocation", "suspension"):
            steps.passed(name, f"not {'revoked' if purpose == 'revocation' else 'suspended'}")
        elif purpose == "message" and result.status:
            # Validate Algorithm (3.2): any value but 0 is not valid; the message says why. Ours
            # are "revoked" and "suspended"; another issuer's are read as a suspension (not
            # final), which is all a verifier can know of a status it has no rules for.
            if result.message == "revoked":
                steps.failed(name, "the issuer has revoked this credential", "revoked")
            elif result.message == "suspended":
                steps.failed(name, "the issuer has suspended this credential", "suspended")
            else:
                steps.failed(name, f"the status list gives this credential status {result.status:#x} ({result.message}): not valid", "suspended")
        else:
            steps.passed(name, result.message or f"{purpose} status {result.status}")


def _check_related(
    credential: dict[str, Any], steps: _Steps, fetch_related: Callable[[str, str | None], bytes] | None
) -> None:
    result = check_related(credential, retrieve=fetch_related)
    if result is None:
        return
    if result.problems:
        first = result.problems[0]
        more = f" (and {len(result.problems) - 1} more)" if len(result.problems) > 1 else ""
        steps.failed("relatedResource", f"{first.pointer}: {first.message}{more}", "malformed")
    elif result.mismatched:
        steps.failed(
            "relatedResource",
            f"{', '.join(result.mismatched)}: the resource does not match the digest the issuer pinned", None,
        )
    else:
        n = len(result.unretrieved)
        left = f"; {n} not retrieved here ({result.unretrieved[0]}{', ...' if n > 1 else ''})" if n else ""
        steps.passed("relatedResource", f"well formed; {result.matched} digests match their resources{left}")


def _check_recipient(credential: dict[str, Any], steps: _Steps, email: str) -> None:
    subject = credential.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    identifiers = subject.get("identifier") or []
    for raw in identifiers if isinstance(identifiers, list) else [identifiers]:
        if not isinstance(raw, dict) or raw.get("identityType") != "emailAddress":
            continue
        try:
            if IdentityObject.model_validate(raw).matches(email):
                steps.passed("recipient", "the credential was awarded to this email address")
                return
        except ValueError:  # a malformed IdentityObject (or hash algorithm) names nobody
            continue
    steps.failed("recipient", "the credential was not awarded to this email address", None)
