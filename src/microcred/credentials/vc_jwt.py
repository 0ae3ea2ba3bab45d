"""VC-JWT: an OpenBadgeCredential secured as a compact JWS, as Open Badges 3.0 section 8.2
("JSON Web Token Proof Format") specifies it.

https://www.imsglobal.org/spec/ob/v3p0/#jwt-proof

What the spec fixes, and this module follows:

* The JOSE header holds ``alg``, ``kid`` and/or ``jwk``, and ``typ`` ("JWT" if present);
  "Additional JOSE Headers are NOT allowed", so the verifier refuses any other member.
* "The JWT Payload is the JSON object of the OpenBadgeCredential" plus the claims
  ``iss`` = issuer.id, ``jti`` = id, ``nbf`` = validFrom, ``sub`` = credentialSubject.id and
  ``exp`` = validUntil ("Required if the OpenBadgeCredential has a validUntil"). There is no
  ``iat``. Tokens that wrap the credential in a ``vc`` claim (VC 1.1 style, which the spec
  still tells verifiers to accept) are read too; VC 1.1 ``issuanceDate`` / ``expirationDate``
  stand in for ``validFrom`` / ``validUntil``.
* Verification resolves ``kid`` (or ``jwk``) to the public key, checks the signature, then
  each claim against the credential, and that validFrom has occurred and the credential has
  not expired.

Choices of ours, where the spec leaves room:

* Only ``EdDSA`` (Ed25519) and ``RS256`` are accepted. ``none`` and the HMAC algorithms are
  refused by name: a token an attacker can mint with a public key as HMAC secret, or with no
  signature at all, proves nothing.
* An embedded ``jwk`` is never trusted on its own: the key always comes from the injected
  resolver, and a ``jwk`` header must describe that same key or the token is refused.
* The resolved key's ``controller`` must be the credential's issuer, so a valid signature by
  somebody else's key (for example a different did:key) does not pass.
* ``sub`` is emitted only when credentialSubject.id exists (OB 3.0 lets a subject go without
  an id, identified by ``identifier`` instead); when it exists the claim is required.
* NumericDates are whole seconds (floor); claims and dates are compared at that precision.
* An ``exp`` claim without validUntil governs the time check, but the credential is handed
  back as signed, not rewritten, so an embedded Data Integrity proof still verifies.
* JSON is serialized with compact separators and ``ensure_ascii=False`` (UTF-8 on the wire):
  the smallest token, names in any script kept readable after base64url decoding, and the
  bytes are signed as produced, so no canonical form is needed. NaN / Infinity are refused.
  Parsing refuses duplicate member names (RFC 7515 section 5.2 allows rejecting them; taking
  the last silently would let two parsers disagree about one signed token).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import strict_json
from .errors import CredentialError, KeyFormatError, MalformedError, ResolutionError
from .keys import Ed25519PublicKeyInfo, Signer, did_key_document, public_key_from_multikey
from .timeutil import parse_datetime

__all__ = [
    "ALGORITHMS",
    "JwtKeyResolver",
    "JwtResult",
    "RsaPublicKey",
    "RsaSigner",
    "VerificationKey",
    "decode_vc_jwt",
    "encode_vc_jwt",
    "key_from_jwk",
    "public_jwk",
    "resolve_did_key_kid",
]

#: JWS ``alg`` -> the ``algorithm`` a Signer / VerificationKey must report for it.
ALGORITHMS: Mapping[str, str] = {"EdDSA": "Ed25519", "RS256": "RS256"}

_ALLOWED_HEADERS = frozenset({"alg", "kid", "jwk", "typ"})
_REGISTERED_CLAIMS = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti")
_PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_MIN_RSA_BITS = 2048


@runtime_checkable
class VerificationKey(Protocol):
    """A public key that checks JWS signatures: ``Ed25519PublicKeyInfo`` or ``RsaPublicKey``.

    ``controller`` names who the key speaks for; it must be the credential's issuer.
    """

    @property
    def id(self) -> str: ...

    @property
    def algorithm(self) -> str: ...

    @property
    def controller(self) -> str | None: ...

    def verify(self, data: bytes, signature: bytes) -> bool: ...


JwtKeyResolver = Callable[[str | None, dict[str, Any]], VerificationKey]


# -- RSA (RS256: RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 section 3.3) ------------------------


class RsaSigner:
    """Signs RS256 with an RSA private key, which it never hands out (the Signer protocol)."""

    algorithm = "RS256"

    def __init__(self, private_key: rsa.RSAPrivateKey, *, id: str) -> None:
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise KeyFormatError("RsaSigner needs an RSA private key")
        if private_key.key_size < _MIN_RSA_BITS:
            raise KeyFormatError(f"RS256 keys must be at least {_MIN_RSA_BITS} bits (RFC 7518 section 3.3)")
        self.id = id
        self._private = private_key

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def public_key(self, *, controller: str | None = None) -> RsaPublicKey:
        return RsaPublicKey(id=self.id, public_key=self._private.public_key(), controller=controller)

    def __repr__(self) -> str:  # never print secrets
        return f"RsaSigner(id={self.id!r})"


@dataclass(frozen=True)
class RsaPublicKey:
    """An RSA public key that verifies RS256 signatures."""

    id: str
    public_key: rsa.RSAPublicKey
    controller: str | None = None
    algorithm: str = field(default="RS256", init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.public_key, rsa.RSAPublicKey):
            raise KeyFormatError("RsaPublicKey needs an RSA public key")
        if self.public_key.key_size < _MIN_RSA_BITS:
            raise KeyFormatError(f"RS256 keys must be at least {_MIN_RSA_BITS} bits (RFC 7518 section 3.3)")

    def verify(self, data: bytes, signature: bytes) -> bool:
        try:
            self.public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True

    def to_jwk(self) -> dict[str, str]:
        numbers = self.public_key.public_numbers()
        return {"kty": "RSA", "n": _b64encode(_int_bytes(numbers.n)), "e": _b64encode(_int_bytes(numbers.e))}


# -- JWK ----------------------------------------------------------------------------------------


def public_jwk(key: VerificationKey) -> dict[str, str]:
    """The public JWK (RFC 7517 / RFC 8037) of an Ed25519 or RSA verification key."""
    if isinstance(key, RsaPublicKey):
        return key.to_jwk()
    raw = getattr(key, "public_key", None)
    if key.algorithm == "Ed25519" and isinstance(raw, bytes) and len(raw) == 32:
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64encode(raw)}
    raise KeyFormatError(f"no JWK form for a key of algorithm {key.algorithm!r}")


def key_from_jwk(jwk: Mapping[str, Any], *, id: str, controller: str | None = None) -> VerificationKey:
    """A verification key from a public JWK, e.g. the one an issuer's ``kid`` URL serves."""
    if not isinstance(jwk, Mapping):
        raise KeyFormatError("a JWK is a JSON object")
    if any(name in jwk for name in _PRIVATE_JWK_MEMBERS):
        raise KeyFormatError("the JWK carries private key material; a public JWK must never contain it")
    kty = jwk.get("kty")
    try:
        if kty == "OKP" and jwk.get("crv") == "Ed25519":
            return Ed25519PublicKeyInfo(id=id, public_key=_b64decode(_jwk_str(jwk, "x")), controller=controller)
        if kty == "RSA":
            n = int.from_bytes(_b64decode(_jwk_str(jwk, "n")), "big")
            e = int.from_bytes(_b64decode(_jwk_str(jwk, "e")), "big")
            return RsaPublicKey(id=id, public_key=rsa.RSAPublicNumbers(e, n).public_key(), controller=controller)
    except MalformedError as exc:
        raise KeyFormatError(f"invalid JWK: {exc.message}") from exc
    except ValueError as exc:  # cryptography refuses impossible RSA numbers
        raise KeyFormatError(f"invalid RSA JWK: {exc}") from exc
    raise KeyFormatError(f"unsupported JWK (kty={kty!r}, crv={jwk.get('crv')!r}); need OKP/Ed25519 or RSA")


def _jwk_str(jwk: Mapping[str, Any], name: str) -> str:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise KeyFormatError(f"the JWK member {name!r} must be a non-empty base64url string")
    return value


def resolve_did_key_kid(kid: str | None, header: Mapping[str, Any]) -> VerificationKey:
    """Resolve a ``did:key:z6Mk...#z6Mk...`` kid offline, for use as ``resolve_key``.

    The did:key document names exactly one verification method; the kid must be that one.
    """
    if not isinstance(kid, str) or not kid.startswith("did:key:"):
        raise ResolutionError(f"not a did:key kid: {kid!r}")
    did, _, fragment = kid.partition("#")
    try:
        document = did_key_document(did)
    except CredentialError as exc:
        raise ResolutionError(f"cannot resolve {kid}: {exc.message}") from exc
    methods = document["verificationMethod"]
    assert isinstance(methods, list)
    for method in methods:
        if method["id"] == kid:
            return Ed25519PublicKeyInfo(
                id=kid, public_key=public_key_from_multikey(method["publicKeyMultibase"]), controller=did
            )
    if not fragment:
        raise ResolutionError(f"kid {kid} has no #fragment naming the verification method")
    raise ResolutionError(f"{did} has no verification method #{fragment}")


# -- encoding -----------------------------------------------------------------------------------


def encode_vc_jwt(
    credential: Mapping[str, Any],
    *,
    signer: Signer,
    kid: str | None = None,
    algorithm: str = "EdDSA",
    jwk: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``credential`` as a compact JWS (OB 3.0 section 8.2.3 steps A-F).

    ``kid`` defaults to ``signer.id``. ``jwk`` embeds the public key too (the spec requires it
    only when there is no ``kid``). The signer signs the bytes; its secret never comes here.
    Raises a ``CredentialError`` for a credential that lacks what the claims map from.
    """
    if algorithm not in ALGORITHMS:
        raise KeyFormatError(f"alg {algorithm!r} is not supported; use one of {sorted(ALGORITHMS)}")
    if signer.algorithm != ALGORITHMS[algorithm]:
        raise KeyFormatError(f"alg {algorithm} needs a {ALGORITHMS[algorithm]} signer, not {signer.algorithm}")
    if not isinstance(credential, Mapping):
        raise MalformedError("a credential is a JSON object")

    header: dict[str, Any] = {"alg": algorithm, "typ": "JWT"}
    kid = kid if kid is not None else signer.id
    if kid:
        header["kid"] = kid
    if jwk is not None:
        if any(name in jwk for name in _PRIVATE_JWK_MEMBERS):
            raise KeyFormatError("refusing to embed a JWK that carries private key material")
        header["jwk"] = dict(jwk)
    if "kid" not in header and "jwk" not in header:
        raise KeyFormatError("a VC-JWT header needs a kid or a jwk so verifiers can find the key")

    claims = _claims_for(credential, vc_v1=False)
    for name, value in claims.items():
        if name in credential and credential[name] != value:
            raise MalformedError(
                f"the credential has a member {name!r} that clashes with the JWT claim", pointer=f"/{name}"
            )
    payload = {**claims, **credential}

    signing_input = _b64encode(_json_bytes(header)) + "." + _b64encode(_json_bytes(payload))
    signature = signer.sign(signing_input.encode("ascii"))
    return signing_input + "." + _b64encode(signature)


def _json_bytes(value: Any) -> bytes:
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise MalformedError(f"the credential is not plain JSON: {exc}") from exc
    return text.encode("utf-8")


def _claims_for(credential: Mapping[str, Any], *, vc_v1: bool) -> dict[str, Any]:
    """The registered claims OB 3.0 maps from the credential (section 8.2.4.1)."""
    claims: dict[str, Any] = {}
    issuer = _issuer_id(credential)
    if issuer is None:
        raise MalformedError("the credential has no issuer id to map to iss", pointer="/issuer")
    claims["iss"] = issuer
    cred_id = credential.get("id")
    if not isinstance(cred_id, str) or not cred_id:
        raise MalformedError("the credential has no id to map to jti", pointer="/id")
    claims["jti"] = cred_id
    subject = _subject_id(credential)
    if subject is not None:
        claims["sub"] = subject
    start_name, end_name = _date_names(credential, vc_v1=vc_v1)
    start = _date_of(credential, start_name)
    if start is None:
        raise MalformedError("the credential has no validFrom to map to nbf", pointer="/validFrom")
    claims["nbf"] = _numeric_date(start)
    end = _date_of(credential, end_name)
    if end is not None:
        claims["exp"] = _numeric_date(end)
    return claims


def _issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) and issuer else None


def _subject_id(credential: Mapping[str, Any]) -> str | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if isinstance(subject, Mapping):
        value = subject.get("id")
        if isinstance(value, str) and value:
            return value
    return None


def _date_names(credential: Mapping[str, Any], *, vc_v1: bool) -> tuple[str, str]:
    """VC 2.0 names, or the VC 1.1 ones when only those are present (spec note, 8.2.5.1)."""
    if "validFrom" not in credential and ("issuanceDate" in credential or vc_v1):
        return "issuanceDate", "expirationDate"
    return "validFrom", "validUntil"


def _date_of(credential: Mapping[str, Any], name: str) -> datetime | None:
    value = credential.get(name)
    return None if value is None else parse_datetime(value, field=name)


def _numeric_date(moment: datetime) -> int:
    return math.floor(moment.timestamp())


# -- decoding -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JwtResult:
    """What ``decode_vc_jwt`` found. ``credential`` is set only once the signature verified,
    so unauthenticated data never reaches a caller that forgets to look at ``verified``."""

    credential: dict[str, Any] | None
    header: dict[str, Any] | None
    verified: bool
    errors: list[str]
    expired: bool = False
    not_yet_valid: bool = False


def decode_vc_jwt(
    token: str,
    *,
    resolve_key: JwtKeyResolver,
    now: datetime | None = None,
    leeway_s: int = 0,
) -> JwtResult:
    """Verify a VC-JWT (OB 3.0 section 8.2.5). Never raises for a bad token: every problem is
    an entry in ``errors``.

    ``resolve_key(kid, header)`` returns the key for ``kid`` (``None`` when the header has only
    a ``jwk``) or raises a ``CredentialError`` (normally ``ResolutionError``) or ``ValueError``.
    """
    now = now if now is not None else datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")

    parsed = _parse(token)
    if isinstance(parsed, str):
        return _failed(parsed)
    header, payload, signing_input, signature = parsed

    errors = _check_header(header)
    if errors:
        return _failed(*errors, header=header)

    alg = header["alg"]
    kid = header.get("kid")
    try:
        key = resolve_key(kid, dict(header))
    except (CredentialError, ValueError) as exc:
        message = exc.message if isinstance(exc, CredentialError) else str(exc)
        return _failed(f"could not resolve the key for kid {kid!r}: {message}", header=header)
    if not isinstance(key, VerificationKey):
        return _failed(f"the key resolver returned no key for kid {kid!r}", header=header)
    if key.algorithm != ALGORITHMS[alg]:
        return _failed(
            f"alg {alg} needs a {ALGORITHMS[alg]} key, but kid {kid!r} resolved to a {key.algorithm} key",
            header=header,
        )
    if "jwk" in header:
        mismatch = _jwk_mismatch(header["jwk"], key)
        if mismatch:
            return _failed(mismatch, header=header)
    if not signature or not key.verify(signing_input, signature):
        return _failed(f"the signature does not verify with the key {key.id}", header=header)

    credential, errors = _credential_and_claim_errors(payload)
    if credential is None:
        return JwtResult(credential=None, header=header, verified=False, errors=errors)
    issuer = _issuer_id(credential)
    if key.controller is None:
        errors.append(f"the key {key.id} names no controller, so it cannot be tied to the issuer")
    elif key.controller != issuer:
        errors.append(f"the key {key.id} belongs to {key.controller}, not to the issuer {issuer}")

    expired = not_yet_valid = False
    nbf, exp = _window(payload, credential, vc_v1="@context" not in payload)
    stamp = now.timestamp()
    if _is_number(nbf) and stamp + leeway_s < nbf:
        not_yet_valid = True
        errors.append(f"the credential is not valid until {_iso(nbf)}")
    if _is_number(exp) and stamp - leeway_s >= exp:
        expired = True
        errors.append(f"the credential expired at {_iso(exp)}")

    return JwtResult(
        credential=credential,
        header=header,
        verified=not errors,
        errors=errors,
        expired=expired,
        not_yet_valid=not_yet_valid,
    )


def _window(payload: Mapping[str, Any], credential: Mapping[str, Any], *, vc_v1: bool) -> tuple[Any, Any]:
    """nbf / exp for the time check: the claims, or the credential's dates when a claim is
    missing (that is already an error, but expiry should still be reported)."""
    bounds = []
    for claim, name in zip(("nbf", "exp"), _date_names(credential, vc_v1=vc_v1)):
        value = payload.get(claim)
        if value is None:
            try:
                moment = _date_of(credential, name)
            except MalformedError:
                moment = None
            value = None if moment is None else _numeric_date(moment)
        bounds.append(value)
    return bounds[0], bounds[1]


def _failed(*errors: str, header: dict[str, Any] | None = None) -> JwtResult:
    return JwtResult(credential=None, header=header, verified=False, errors=list(errors))


def _parse(token: object) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes] | str:
    """The three segments, decoded; or a message saying why the token is not a compact JWS."""
    if not isinstance(token, str):
        return f"a VC-JWT is a string, not {type(token).__name__}"
    token = token.strip()
    if not token:
        return "the token is empty"
    parts = token.split(".")
    if len(parts) != 3:
        return f"a compact JWS has 3 dot-separated parts; this token has {len(parts)}"
    segments = []
    for name, part in zip(("header", "payload", "signature"), parts):
        try:
            segments.append(_b64decode(part))
        except MalformedError as exc:
            return f"the {name} is not valid base64url: {exc.message}"
    objects = []
    for name, raw in zip(("header", "payload"), segments):
        try:
            value = strict_json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            return f"the {name} is not UTF-8"
        except (ValueError, RecursionError) as exc:
            return f"the {name} is not valid JSON: {exc}"
        if not isinstance(value, dict):
            return f"the {name} must be a JSON object"
        objects.append(value)
    signing_input = (parts[0] + "." + parts[1]).encode("ascii")
    return objects[0], objects[1], signing_input, segments[2]



def _check_header(header: Mapping[str, Any]) -> list[str]:
    alg = header.get("alg")
    if not isinstance(alg, str):
        return ["the JOSE header has no alg"]
    if alg.lower() == "none":
        return [f"alg {alg!r} is refused: an unsigned token proves nothing"]
    if alg.upper().startswith("HS"):
        return [f"alg {alg!r} is refused: HMAC needs a shared secret, and an issuer signs with a private key"]
    if alg not in ALGORITHMS:
        return [f"alg {alg!r} is not supported; accepted: {', '.join(sorted(ALGORITHMS))}"]
    errors = []
    if "crit" in header:
        errors.append("the JOSE header has crit; no critical extensions are understood here (RFC 7515 section 4.1.11)")
    extra = sorted(set(header) - _ALLOWED_HEADERS - {"crit"})
    if extra:
        errors.append(f"JOSE header members {extra} are not allowed (OB 3.0 allows only alg, kid, jwk, typ)")
    if "typ" in header and header["typ"] != "JWT":
        errors.append(f"typ must be \"JWT\" when present, not {header['typ']!r}")
    if "kid" in header and (not isinstance(header["kid"], str) or not header["kid"]):
        errors.append("kid must be a non-empty string")
    if "jwk" in header:
        jwk = header["jwk"]
        if not isinstance(jwk, dict):
            errors.append("jwk must be a JSON object")
        elif any(name in jwk for name in _PRIVATE_JWK_MEMBERS):
            errors.append("the jwk header carries private key material; the JWK must never contain \"d\"")
    if "kid" not in header and "jwk" not in header:
        errors.append("the JOSE header has neither kid nor jwk, so there is no key to verify with")
    return errors


def _jwk_mismatch(jwk: Mapping[str, Any], key: VerificationKey) -> str | None:
    """An embedded jwk is accepted only when it is the resolved key itself."""
    try:
        expected = public_jwk(key)
    except KeyFormatError:
        return f"the jwk header cannot be compared with the resolved {key.algorithm} key"
    if any(jwk.get(name) != value for name, value in expected.items()):
        return f"the jwk header is not the key {key.id} that kid resolves to"
    return None


def _credential_and_claim_errors(payload: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """The credential inside the payload and every claim that disagrees with it (8.2.5.1)."""
    vc = payload.get("vc")
    vc_v1 = "@context" not in payload and isinstance(vc, dict)
    if vc_v1:
        assert isinstance(vc, dict)
        credential = dict(vc)
    else:
        credential = {k: v for k, v in payload.items() if k not in _REGISTERED_CLAIMS}
    if "@context" not in credential:
        return None, ["the payload holds no credential (no @context, no vc claim)"]

    errors: list[str] = []
    issuer = _issuer_id(credential)
    _expect_claim(payload, "iss", issuer, "issuer.id", errors)
    _expect_claim(payload, "jti", credential.get("id"), "id", errors)
    subject = _subject_id(credential)
    if subject is not None or "sub" in payload:
        _expect_claim(payload, "sub", subject, "credentialSubject.id", errors)

    start_name, end_name = _date_names(credential, vc_v1=vc_v1)
    try:
        start = _date_of(credential, start_name)
        end = _date_of(credential, end_name)
    except MalformedError as exc:
        errors.append(exc.message)
        return credential, errors
    if start is None:
        errors.append(f"the credential has no {start_name}")
    _expect_date(payload, "nbf", start, start_name, errors, required=True)
    _expect_date(payload, "exp", end, end_name, errors, required=end is not None)
    return credential, errors


def _expect_claim(payload: Mapping[str, Any], claim: str, value: Any, field_name: str, errors: list[str]) -> None:
    if claim not in payload:
        errors.append(f"the {claim} claim is missing")
    elif payload[claim] != value:
        errors.append(f"the {claim} claim {payload[claim]!r} does not match the credential's {field_name} {value!r}")


def _expect_date(
    payload: Mapping[str, Any],
    claim: str,
    moment: datetime | None,
    field_name: str,
    errors: list[str],
    *,
    required: bool,
) -> None:
    if claim not in payload:
        if required:
            errors.append(f"the {claim} claim is missing")
        return
    value = payload[claim]
    if not _is_number(value):
        errors.append(f"the {claim} claim must be a NumericDate (seconds since the epoch)")
    elif moment is not None and math.floor(value) != _numeric_date(moment):
        errors.append(f"the {claim} claim {_iso(value)} does not match the credential's {field_name}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _iso(stamp: float) -> str:
    try:
        return datetime.fromtimestamp(stamp, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return str(stamp)


# -- base64url (RFC 7515 section 2: no padding) --------------------------------------------------


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict: URL-safe alphabet, no padding, canonical (one spelling per byte string)."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedError("expected unpadded base64url (A-Z a-z 0-9 - _)")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise MalformedError(str(exc)) from exc
    if _b64encode(raw) != text:
        raise MalformedError("non-canonical base64url (stray bits in the last character)")
    return raw


def _int_bytes(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
