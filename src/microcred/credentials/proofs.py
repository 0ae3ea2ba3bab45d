"""Data Integrity proofs: add_proof and verify_proof, named after the spec's algorithms.

hashData = SHA-256(canonical proof configuration) || SHA-256(canonical unsecured document);
the signature is Ed25519 over those 64 bytes.
https://www.w3.org/TR/vc-data-integrity/ and https://www.w3.org/TR/vc-di-eddsa/
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from functools import partial
from datetime import datetime, timedelta
from typing import Any

from cachetools import LRUCache

from . import multibase
from .errors import CredentialError, MalformedError, ProofError, ResolutionError
from .keys import Signer
from .loader import DocumentLoader, bundled_context_urls
from .resolve import KeyResolver, ResolvedKey
from .suites import Cryptosuite, suite_for_proof
from .timeutil import DATETIME_STAMP, format_datetime, parse_datetime

__all__ = ["MAX_PROOFS", "PROOF_CLOCK_SKEW", "ProofResult", "add_proof", "create_verify_data", "verify_proof"]

#: How far past the verifier's clock a proof's ``created`` may lie: the issuer's clock and ours
#: differ a little, but a proof dated later than that was not made when it says it was.
PROOF_CLOCK_SKEW = timedelta(minutes=5)


def _proof_configuration(suite: Cryptosuite, options: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """The proof options with the document's ``@context`` (§3.2.5 / §3.3.5 of vc-di-eddsa)."""
    config = {k: v for k, v in options.items() if k != "proofValue"}
    config["@context"] = document.get("@context")
    return config


_CREATED_SENTINEL = "1970-01-01T00:00:00Z"
#: canonical proof configurations with ``created`` left as a sentinel, by everything else
_PROOF_TEMPLATES: LRUCache[str, str | None] = LRUCache(maxsize=1024)


def _canonical_proof_config(suite: Cryptosuite, config: dict[str, Any], loader: DocumentLoader) -> bytes:
    """Canonical proof configuration, from a per-(key, contexts, options) template.

    Only ``created`` changes between the proofs one key makes, and it is a plain dateTime
    literal: canonicalizing the configuration once with a sentinel date and substituting the
    real one gives the same bytes at a fraction of the cost. Anything unusual (contexts not
    bundled, other bnodes, a date that is not a plain dateTime) takes the full path.
    """
    created = config.get("created")
    contexts = config.get("@context")
    ctx_list = contexts if isinstance(contexts, list) else [contexts]
    if (
        not suite.json_ld
        or not isinstance(created, str)
        or not DATETIME_STAMP.match(created)
        or not all(isinstance(c, str) and c in bundled_context_urls() for c in ctx_list)
    ):
        return suite.canonicalize(config, loader)
    key = json.dumps({**config, "created": None}, sort_keys=True, ensure_ascii=False)
    template = _PROOF_TEMPLATES.get(key, "")
    if template == "":
        canonical = suite.canonicalize({**config, "created": _CREATED_SENTINEL}, loader).decode("utf-8")
        usable = canonical.count(f'"{_CREATED_SENTINEL}"') == 1 and canonical.count("_:c14n1") == 0
        template = _PROOF_TEMPLATES[key] = canonical if usable else None
    if template is None:
        return suite.canonicalize(config, loader)
    lines = template.replace(f'"{_CREATED_SENTINEL}"', f'"{created}"').splitlines(keepends=True)
    return "".join(sorted(lines)).encode("utf-8")


def create_verify_data(
    suite: Cryptosuite,
    document: dict[str, Any],
    proof_config: dict[str, Any],
    *,
    loader: DocumentLoader,
    transformed_document: bytes | None = None,
) -> bytes:
    """Transformation and hashing: SHA-256 of the canonical proof config, then of the document.

    ``document`` is the input document as signed: no ``proof``, or, for a proof in a chain, the
    proofs it chains to.
    """
    if transformed_document is None:
        transformed_document = suite.canonicalize(document, loader)
    proof_hash = hashlib.sha256(_canonical_proof_config(suite, proof_config, loader)).digest()
    doc_hash = hashlib.sha256(transformed_document).digest()
    return proof_hash + doc_hash


def add_proof(
    document: dict[str, Any],
    *,
    suite: Cryptosuite,
    signer: Signer,
    loader: DocumentLoader,
    created: datetime,
    proof_purpose: str = "assertionMethod",
    expires: datetime | None = None,
    challenge: str | None = None,
    domain: str | None = None,
    proof_id: str | None = None,
    previous_proof: str | list[str] | None = None,
) -> dict[str, Any]:
    """Return a new document with a DataIntegrityProof; the input is not changed.

    ``challenge`` and ``domain`` bind an ``authentication`` proof (a presentation's) to the
    verifier that asked for it. A document that already has proofs gets one more (a proof set);
    with ``previous_proof`` (the ``id`` of earlier proofs) the new one also signs those proofs, a
    proof chain (Data Integrity 1.0 §4.3 "Add Proof Set/Chain").
    """
    if signer.algorithm != suite.required_algorithm:
        raise ValueError(f"{suite.name} needs an {suite.required_algorithm} signer, got {signer.algorithm}")
    existing = _proof_list(document.get("proof"))
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if previous_proof is not None:
        wanted = [previous_proof] if isinstance(previous_proof, str) else list(previous_proof)
        matching = [p for p in existing if isinstance(p, dict) and p.get("id") in wanted]
        if not wanted or len(matching) != len(wanted):
            raise ValueError(f"previousProof {previous_proof!r} names no proof of the document")
        unsecured["proof"] = matching
    # Key order as Digital Bazaar emits it, so signed output matches theirs byte for byte.
    options: dict[str, Any] = {"type": suite.proof_type, "created": format_datetime(created)}
    if proof_id is not None:
        options = {"id": proof_id, **options}
    if expires is not None:
        options["expires"] = format_datetime(expires)
    options["verificationMethod"] = signer.id
    if suite.has_cryptosuite:
        options["cryptosuite"] = suite.name
    options["proofPurpose"] = proof_purpose
    if challenge is not None:
        options["challenge"] = challenge
    if domain is not None:
        options["domain"] = domain
    if previous_proof is not None:
        options["previousProof"] = previous_proof
    config = _proof_configuration(suite, options, document)
    signature = signer.sign(create_verify_data(suite, unsecured, config, loader=loader))
    proof = dict(options)
    if suite.proof_keeps_context:
        proof["@context"] = config["@context"]
    proof["proofValue"] = multibase.encode_base58btc(signature)
    return {**document, "proof": [*existing, proof] if existing else proof}


def _proof_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


#: A document carries at most this many proofs (a set or chain); more is refused unread.
MAX_PROOFS = 8


@dataclass(frozen=True)
class ProofResult:
    verified: bool
    #: "malformed" | "unknown_key" | "tampered" | "not_yet_valid" (dated in the future) | None when verified
    failure: str | None
    message: str
    key: ResolvedKey | None = None
    created: datetime | None = None
    suite: str | None = None
    #: for a proof set or chain, each proof's own result, in the document's order
    members: tuple[ProofResult, ...] = ()
    #: the proof's ``id``, when it has one
    proof_id: str | None = None


def _fail(kind: str, message: str, **kw: Any) -> ProofResult:
    return ProofResult(False, kind, message, **kw)


def verify_proof(
    document: dict[str, Any],
    *,
    loader: DocumentLoader,
    resolve_key: KeyResolver,
    expected_purpose: str = "assertionMethod",
    expected_controller: str | None = None,
    controller_role: str = "issuer",
    now: datetime,
    transformed_document: bytes | None = None,
) -> ProofResult:
    """Verify every proof of ``document`` (one proof, a proof set or a proof chain). Never raises.

    Each proof of a set is verified over the document without its proofs; a proof naming
    ``previousProof`` over the document carrying the proofs it names (Data Integrity 1.0 §4.5
    "Verify Proof Sets and Chains"). All must verify; ``members`` holds each one's result.
    ``transformed_document`` is the canonical unsecured document when the caller already made
    it (the verifier does, while checking terms), so it is not canonicalized twice.
    ``controller_role`` names ``expected_controller`` in messages (the issuer, the holder).
    """
    proofs = _proof_list(document.get("proof"))
    if not proofs:
        return _fail("malformed", "the credential has no proof")
    if len(proofs) > MAX_PROOFS:
        return _fail("malformed", f"the document carries {len(proofs)} proofs; at most {MAX_PROOFS} are verified")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    check = partial(
        _check_one, loader=loader, resolve_key=resolve_key, expected_purpose=expected_purpose,
        expected_controller=expected_controller, controller_role=controller_role, now=now,
    )

    def one(proof: Any) -> ProofResult:
        if not isinstance(proof, dict):
            return _fail("malformed", "a proof must be a JSON object")
        previous = proof.get("previousProof")
        if previous is None:
            return _named(check(unsecured, proof, transformed_document=transformed_document), proof)
        wanted = [previous] if isinstance(previous, str) else previous
        if not isinstance(wanted, list) or not wanted or not all(isinstance(w, str) for w in wanted):
            return _fail("malformed", "previousProof must be a proof id or a list of proof ids")
        matching = [p for p in proofs if isinstance(p, dict) and p.get("id") in wanted and p is not proof]
        missing = [w for w in wanted if not any(p.get("id") == w for p in matching)]
        if missing:
            return _fail("malformed", f"previousProof {missing[0]!r} names no other proof of the document")
        return _named(check({**unsecured, "proof": matching}, proof, transformed_document=None), proof)

    if len(proofs) == 1:
        return one(proofs[0])
    members = tuple(one(p) for p in proofs)
    failed = [(n, r) for n, r in enumerate(members, 1) if not r.verified]
    if failed:
        n, first = failed[0]
        name = f" ({first.proof_id})" if first.proof_id else ""
        return _fail(first.failure or "tampered", f"proof {n} of {len(members)}{name}: {first.message}", key=first.key, suite=first.suite, members=members)
    chained = any(isinstance(p, dict) and "previousProof" in p for p in proofs)
    kind = "proof chain" if chained else "proof set"
    return ProofResult(True, None, f"all {len(members)} proofs of the {kind} verified", key=members[0].key,
                       created=members[0].created, suite=members[0].suite, members=members)


def _named(result: ProofResult, proof: dict[str, Any]) -> ProofResult:
    """One proof's result, carrying the proof's id when it has one (a set's members are told apart by it)."""
    pid = proof.get("id")
    return replace(result, proof_id=pid) if isinstance(pid, str) else result


def _check_one(
    unsecured: dict[str, Any],
    proof: dict[str, Any],
    *,
    loader: DocumentLoader,
    resolve_key: KeyResolver,
    expected_purpose: str,
    expected_controller: str | None,
    controller_role: str,
    now: datetime,
    transformed_document: bytes | None,
) -> ProofResult:
    """Verify Proof (Data Integrity 1.0 §4.4): ``proof`` over ``unsecured``, the document as signed."""
    try:
        suite = suite_for_proof(proof)
    except ProofError as exc:
        return _fail("malformed", exc.message)

    created: datetime | None = None
    if "created" in proof:
        try:
            created = parse_datetime(proof["created"], field="proof.created")
        except MalformedError as exc:
            return _fail("malformed", exc.message, suite=suite.name)
        if created > now + PROOF_CLOCK_SKEW:
            return _fail(
                "not_yet_valid",
                f"the proof is dated {proof['created']}, in the future (more than "
                f"{int(PROOF_CLOCK_SKEW.total_seconds() // 60)} minutes past {format_datetime(now)})",
                suite=suite.name,
            )
    if "expires" in proof:
        try:
            if parse_datetime(proof["expires"], field="proof.expires") < now:
                return _fail("malformed", "the proof has expired", suite=suite.name)
        except MalformedError as exc:
            return _fail("malformed", exc.message, suite=suite.name)
    if proof.get("proofPurpose") != expected_purpose:
        return _fail("malformed", f"proofPurpose is {proof.get('proofPurpose')!r}, expected {expected_purpose!r}", suite=suite.name)
    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str) or not proof_value.startswith("z"):
        return _fail("malformed", "proofValue must be a base58btc multibase string (starting with 'z')", suite=suite.name)
    try:
        signature = multibase.decode(proof_value)
    except CredentialError as exc:
        return _fail("malformed", f"proofValue: {exc.message}", suite=suite.name)
    if len(signature) != 64:
        return _fail("malformed", f"proofValue decodes to {len(signature)} bytes; an Ed25519 signature is 64", suite=suite.name)

    vm_id = proof.get("verificationMethod")
    try:
        key = resolve_key(vm_id if isinstance(vm_id, str) else "")
    except CredentialError as exc:
        return _fail("unknown_key", exc.message, suite=suite.name)
    if key.algorithm != suite.required_algorithm:
        return _fail("unknown_key", f"{suite.name} needs an {suite.required_algorithm} key, {key.id} is {key.algorithm}", suite=suite.name)
    if key.purposes and expected_purpose not in key.purposes:
        return _fail("unknown_key", f"key {key.id} is not authorized for {expected_purpose} by its controller", key=key, suite=suite.name)
    if expected_controller is not None and key.controller != expected_controller:
        return _fail(
            "unknown_key",
            f"the proof was made with a key of {key.controller}, not of the {controller_role} {expected_controller}",
            key=key,
            suite=suite.name,
        )
    if key.valid_until is not None and (created is None or created >= key.valid_until):
        return _fail(
            "unknown_key",
            f"key {key.id} was retired at {format_datetime(key.valid_until)}; the proof is dated "
            f"{proof.get('created', 'without a date')}",
            key=key,
            suite=suite.name,
        )

    options = {k: v for k, v in proof.items() if k not in ("proofValue", "@context")}
    if suite.proof_keeps_context and "@context" in proof:
        # eddsa-jcs-2022 §3.3.2: the document's context must start with the proof's.
        proof_ctx = proof["@context"]
        doc_ctx = unsecured.get("@context")
        unsecured = dict(unsecured)
        proof_list = proof_ctx if isinstance(proof_ctx, list) else [proof_ctx]
        doc_list = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
        if doc_list[: len(proof_list)] != proof_list:
            return _fail("tampered", "the document's @context does not match the proof's", key=key, suite=suite.name)
        unsecured["@context"] = proof_ctx
    config = _proof_configuration(suite, options, unsecured)
    try:
        data = create_verify_data(
            suite, unsecured, config, loader=loader,
            transformed_document=transformed_document if suite.json_ld else None,
        )
    except ResolutionError as exc:
        return _fail("unknown_key", exc.message, key=key, suite=suite.name)
    except CredentialError as exc:
        return _fail("malformed", exc.message, key=key, suite=suite.name)
    if not key.verify(data, signature):
        return _fail("tampered", "the signature does not match the credential: it was changed after signing, or signed by another key", key=key, created=created, suite=suite.name)
    return ProofResult(True, None, f"{suite.name} signature by {key.id} verified", key=key, created=created, suite=suite.name)
