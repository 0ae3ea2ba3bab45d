"""VC-JWT as Open Badges 3.0 section 8.2 specifies it."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from microcred.credentials.errors import KeyFormatError, MalformedError, ResolutionError
from microcred.credentials.keys import Ed25519KeyPair, Ed25519PublicKeyInfo
from microcred.credentials.loader import CONTEXTS
from microcred.credentials.vc_jwt import (
    JwtResult,
    RsaPublicKey,
    RsaSigner,
    decode_vc_jwt,
    encode_vc_jwt,
    key_from_jwk,
    public_jwk,
    resolve_did_key_kid,
)

ISSUER = Ed25519KeyPair.from_seed(bytes(range(32)))
OTHER = Ed25519KeyPair.from_seed(bytes(range(1, 33)))
NOW = datetime(2025, 1, 1, tzinfo=UTC)
VALID_FROM = "2024-05-01T12:00:00Z"
RSA_ISSUER = "https://example.edu/issuers/565049"
RSA_KID = RSA_ISSUER + "#key-1"


def make_credential(issuer: str = ISSUER.controller, **changes: Any) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": [CONTEXTS.VC_V2, CONTEXTS.OB_V3],
        "id": "urn:uuid:91537dba-56cb-11ec-bf63-0242ac130002",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Hochschule Zürich"},
        "validFrom": VALID_FROM,
        "name": "Grundlagen der Ökologie",
        "credentialSubject": {
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://example.edu/achievements/ecology-101",
                "type": ["Achievement"],
                "name": "Grundlagen der Ökologie",
                "criteria": {"narrative": "Prüfung bestanden — 合格"},
            },
        },
    }
    credential.update(changes)
    return {k: v for k, v in credential.items() if v is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return json.loads(unb64(header)), json.loads(unb64(payload))


def hand_built(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join([b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)])


def hand_signed(header: dict[str, Any], payload: dict[str, Any], *, key: Ed25519KeyPair = ISSUER) -> str:
    """A token signed correctly over whatever header and payload a test needs."""
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    return signing_input + "." + b64(key.signer().sign(signing_input.encode()))


def nbf_of(moment: str) -> int:
    return int(datetime.fromisoformat(moment).timestamp())


def decode(token: str, **options: Any) -> JwtResult:
    options.setdefault("resolve_key", resolve_did_key_kid)
    options.setdefault("now", NOW)
    return decode_vc_jwt(token, **options)


@pytest.fixture(scope="module")
def rsa_signer() -> RsaSigner:
    return RsaSigner(rsa.generate_private_key(public_exponent=65537, key_size=2048), id=RSA_KID)


@pytest.fixture(scope="module")
def rsa_resolver(rsa_signer: RsaSigner) -> Any:
    known = {RSA_KID: rsa_signer.public_key(controller=RSA_ISSUER)}

    def resolve(kid: str | None, header: dict[str, Any]) -> RsaPublicKey:
        if kid not in known:
            raise ResolutionError(f"unknown kid {kid}")
        return known[kid]

    return resolve


class TestEncodeVcJwt:
    def test_claims_map_from_the_credential_fields(self) -> None:
        credential = make_credential(validUntil="2026-05-01T12:00:00Z")
        _, payload = parts(encode_vc_jwt(credential, signer=ISSUER.signer()))
        assert payload["iss"] == credential["issuer"]["id"]
        assert payload["jti"] == credential["id"]
        assert payload["sub"] == credential["credentialSubject"]["id"]
        assert payload["nbf"] == nbf_of(VALID_FROM)
        assert payload["exp"] == int(datetime(2026, 5, 1, 12, tzinfo=UTC).timestamp())
        assert "iat" not in payload

    def test_exp_is_absent_without_valid_until(self) -> None:
        _, payload = parts(encode_vc_jwt(make_credential(), signer=ISSUER.signer()))
        assert "exp" not in payload

    def test_sub_is_absent_when_the_subject_has_no_id(self) -> None:
        credential = make_credential()
        del credential["credentialSubject"]["id"]
        _, payload = parts(encode_vc_jwt(credential, signer=ISSUER.signer()))
        assert "sub" not in payload

    def test_payload_is_the_credential_itself_not_a_vc_claim(self) -> None:
        credential = make_credential()
        _, payload = parts(encode_vc_jwt(credential, signer=ISSUER.signer()))
        assert "vc" not in payload
        assert {k: payload[k] for k in credential} == credential

    def test_header_names_alg_typ_and_the_signers_key(self) -> None:
        header, _ = parts(encode_vc_jwt(make_credential(), signer=ISSUER.signer()))
        assert header == {"alg": "EdDSA", "typ": "JWT", "kid": ISSUER.id}

    def test_issuance_date_maps_to_nbf_for_a_vc_1_1_credential(self) -> None:
        credential = make_credential(validFrom=None, issuanceDate="2024-05-01T12:00:00Z")
        _, payload = parts(encode_vc_jwt(credential, signer=ISSUER.signer()))
        assert payload["nbf"] == nbf_of(VALID_FROM)

    def test_non_ascii_is_written_as_utf8_in_compact_json(self) -> None:
        token = encode_vc_jwt(make_credential(), signer=ISSUER.signer())
        raw = unb64(token.split(".")[1])
        assert "Hochschule Zürich".encode() in raw
        assert b'","' in raw and b'", "' not in raw

    def test_leaves_the_callers_credential_unchanged(self) -> None:
        credential = make_credential()
        snapshot = json.dumps(credential)
        encode_vc_jwt(credential, signer=ISSUER.signer())
        assert json.dumps(credential) == snapshot

    def test_refuses_a_signer_of_the_wrong_algorithm(self, rsa_signer: RsaSigner) -> None:
        with pytest.raises(KeyFormatError, match="Ed25519"):
            encode_vc_jwt(make_credential(), signer=rsa_signer, algorithm="EdDSA")

    def test_refuses_hmac_and_none_as_algorithm(self) -> None:
        for alg in ("HS256", "none"):
            with pytest.raises(KeyFormatError, match="not supported"):
                encode_vc_jwt(make_credential(), signer=ISSUER.signer(), algorithm=alg)

    def test_refuses_a_credential_without_an_issuer_id(self) -> None:
        with pytest.raises(MalformedError, match="iss"):
            encode_vc_jwt(make_credential(issuer=""), signer=ISSUER.signer())

    def test_refuses_a_credential_without_valid_from(self) -> None:
        with pytest.raises(MalformedError, match="nbf"):
            encode_vc_jwt(make_credential(validFrom=None), signer=ISSUER.signer())

    def test_refuses_a_private_jwk_in_the_header(self) -> None:
        with pytest.raises(KeyFormatError, match="private"):
            private = {"kty": "OKP", "crv": "Ed25519", "x": "a", "d": "b"}
            encode_vc_jwt(make_credential(), signer=ISSUER.signer(), jwk=private)


class TestDecodeVcJwtRoundTrip:
    def test_eddsa_token_verifies_and_returns_the_credential(self) -> None:
        credential = make_credential(validUntil="2026-05-01T12:00:00Z")
        result = decode(encode_vc_jwt(credential, signer=ISSUER.signer()))
        assert result.verified, result.errors
        assert result.credential == credential
        assert result.header is not None and result.header["alg"] == "EdDSA"

    def test_rs256_token_verifies_and_returns_the_credential(self, rsa_signer: RsaSigner, rsa_resolver: Any) -> None:
        credential = make_credential(issuer=RSA_ISSUER)
        token = encode_vc_jwt(credential, signer=rsa_signer, algorithm="RS256")
        result = decode(token, resolve_key=rsa_resolver)
        assert result.verified, result.errors
        assert result.credential == credential
        assert parts(token)[0]["alg"] == "RS256"

    def test_pyjwt_verifies_our_tokens(self, rsa_signer: RsaSigner) -> None:
        ed_token = encode_vc_jwt(make_credential(), signer=ISSUER.signer())
        ed_key = Ed25519PublicKey.from_public_bytes(ISSUER.public_key)
        assert pyjwt.decode(ed_token, ed_key, algorithms=["EdDSA"])["iss"] == ISSUER.controller
        rsa_token = encode_vc_jwt(make_credential(issuer=RSA_ISSUER), signer=rsa_signer, algorithm="RS256")
        rsa_key = rsa_signer.public_key().public_key
        assert pyjwt.decode(rsa_token, rsa_key, algorithms=["RS256"])["iss"] == RSA_ISSUER

    def test_non_ascii_names_survive_the_round_trip(self) -> None:
        result = decode(encode_vc_jwt(make_credential(), signer=ISSUER.signer()))
        assert result.credential is not None
        assert result.credential["issuer"]["name"] == "Hochschule Zürich"
        achievement = result.credential["credentialSubject"]["achievement"]
        assert achievement["criteria"]["narrative"] == "Prüfung bestanden — 合格"

    def test_a_credential_without_subject_id_verifies(self) -> None:
        credential = make_credential()
        del credential["credentialSubject"]["id"]
        assert decode(encode_vc_jwt(credential, signer=ISSUER.signer())).verified

    def test_embedded_jwk_matching_the_resolved_key_is_accepted(self, rsa_signer: RsaSigner, rsa_resolver: Any) -> None:
        jwk = public_jwk(rsa_signer.public_key())
        token = encode_vc_jwt(make_credential(issuer=RSA_ISSUER), signer=rsa_signer, algorithm="RS256", jwk=jwk)
        assert decode(token, resolve_key=rsa_resolver).verified

    def test_embedded_jwk_of_another_key_is_refused(self) -> None:
        other_jwk = public_jwk(OTHER.public_info())
        token = encode_vc_jwt(make_credential(), signer=ISSUER.signer(), jwk=other_jwk)
        result = decode(token)
        assert not result.verified
        assert "jwk header is not the key" in result.errors[0]

    def test_a_vc_claim_token_in_vc_1_1_style_verifies(self) -> None:
        credential = make_credential(validFrom=None, issuanceDate=VALID_FROM)
        payload = {
            "iss": ISSUER.controller,
            "jti": credential["id"],
            "sub": credential["credentialSubject"]["id"],
            "nbf": nbf_of(VALID_FROM),
            "vc": credential,
        }
        result = decode(hand_signed({"alg": "EdDSA", "kid": ISSUER.id}, payload))
        assert result.verified, result.errors
        assert result.credential == credential


class TestDecodeVcJwtRefusesAlgorithms:
    def test_alg_none_is_refused_by_name(self) -> None:
        credential = make_credential()
        _, payload = parts(encode_vc_jwt(credential, signer=ISSUER.signer()))
        result = decode(hand_built({"alg": "none", "kid": ISSUER.id}, payload))
        assert not result.verified and result.credential is None
        assert "'none' is refused" in result.errors[0]

    def test_hs256_signed_with_the_public_key_as_secret_is_refused(self) -> None:
        _, payload = parts(encode_vc_jwt(make_credential(), signer=ISSUER.signer()))
        token = pyjwt.encode(payload, key=ISSUER.public_key, algorithm="HS256", headers={"kid": ISSUER.id})
        result = decode(token)
        assert not result.verified and result.credential is None
        assert "'HS256' is refused" in result.errors[0]

    def test_an_unsupported_algorithm_is_refused(self) -> None:
        result = decode(hand_built({"alg": "ES256", "kid": ISSUER.id}, {}, b"x" * 64))
        assert not result.verified
        assert "'ES256' is not supported" in result.errors[0]

    def test_a_crit_header_is_refused(self) -> None:
        result = decode(hand_built({"alg": "EdDSA", "kid": ISSUER.id, "crit": ["b64"], "b64": False}, {}, b"x" * 64))
        assert not result.verified
        assert any("crit" in e for e in result.errors)

    def test_a_key_of_the_other_algorithm_is_refused(self, rsa_signer: RsaSigner) -> None:
        token = encode_vc_jwt(make_credential(), signer=ISSUER.signer())
        result = decode(token, resolve_key=lambda kid, header: rsa_signer.public_key(controller=ISSUER.controller))
        assert not result.verified
        assert "needs a Ed25519 key" in result.errors[0]


class TestDecodeVcJwtTampering:
    def test_a_changed_payload_fails_the_signature(self) -> None:
        header, payload, signature = encode_vc_jwt(make_credential(), signer=ISSUER.signer()).split(".")
        changed = json.loads(unb64(payload))
        changed["name"] = "Grundlagen der Ökonomie"
        result = decode(".".join([header, b64(json.dumps(changed).encode()), signature]))
        assert not result.verified and result.credential is None
        assert "signature does not verify" in result.errors[0]

    def test_a_changed_payload_byte_fails(self) -> None:
        header, payload, signature = encode_vc_jwt(make_credential(), signer=ISSUER.signer()).split(".")
        raw = bytearray(unb64(payload))
        raw[raw.index(b"Hochschule")] ^= 0x20  # "H" -> "h"
        result = decode(".".join([header, b64(bytes(raw)), signature]))
        assert not result.verified
        assert "signature does not verify" in result.errors[0]

    def test_a_truncated_token_fails(self) -> None:
        token = encode_vc_jwt(make_credential(), signer=ISSUER.signer())
        for cut in (1, 4, 20):
            result = decode(token[:-cut])
            assert not result.verified and result.errors

    def test_a_kid_naming_a_different_did_key_fails(self) -> None:
        token = encode_vc_jwt(make_credential(), signer=ISSUER.signer(), kid=OTHER.id)
        result = decode(token)
        assert not result.verified
        assert "signature does not verify" in result.errors[0]

    def test_a_valid_signature_by_a_key_not_the_issuers_fails(self) -> None:
        forged = make_credential(issuer=ISSUER.controller)
        result = decode(encode_vc_jwt(forged, signer=OTHER.signer()))
        assert not result.verified
        assert f"belongs to {OTHER.controller}, not to the issuer {ISSUER.controller}" in result.errors[0]

    def test_a_claim_that_disagrees_with_the_credential_fails(self) -> None:
        credential = make_credential()
        payload = {
            "iss": ISSUER.controller,
            "jti": "urn:uuid:another",
            "sub": credential["credentialSubject"]["id"],
            "nbf": nbf_of(VALID_FROM),
            **credential,
        }
        result = decode(hand_signed({"alg": "EdDSA", "kid": ISSUER.id}, payload))
        assert not result.verified
        expected = f"the jti claim 'urn:uuid:another' does not match the credential's id '{credential['id']}'"
        assert result.errors == [expected]

    def test_duplicate_header_members_are_refused(self) -> None:
        header = b64(b'{"alg":"EdDSA","alg":"none","kid":"x"}')
        result = decode(header + ".e30.")
        assert not result.verified
        assert "duplicate member 'alg'" in result.errors[0]


class TestDecodeVcJwtTimeWindow:
    def test_an_expired_credential_is_reported_as_expired(self) -> None:
        credential = make_credential(validUntil="2024-12-31T00:00:00Z")
        result = decode(encode_vc_jwt(credential, signer=ISSUER.signer()))
        assert result.expired and not result.verified
        assert result.credential == credential
        assert result.errors == ["the credential expired at 2024-12-31T00:00:00Z"]

    def test_a_credential_before_valid_from_is_not_yet_valid(self) -> None:
        token = encode_vc_jwt(make_credential(), signer=ISSUER.signer())
        result = decode(token, now=datetime(2024, 5, 1, 11, 59, tzinfo=UTC))
        assert result.not_yet_valid and not result.verified

    def test_leeway_absorbs_clock_skew(self) -> None:
        token = encode_vc_jwt(make_credential(), signer=ISSUER.signer())
        assert decode(token, now=datetime(2024, 5, 1, 11, 59, tzinfo=UTC), leeway_s=120).verified

    def test_a_naive_now_is_a_programming_error(self) -> None:
        with pytest.raises(ValueError, match="timezone"):
            decode(encode_vc_jwt(make_credential(), signer=ISSUER.signer()), now=datetime(2025, 1, 1))


class TestDecodeVcJwtMalformedInput:
    @pytest.mark.parametrize(
        ("token", "message"),
        [
            ("", "the token is empty"),
            ("garbage", "3 dot-separated parts; this token has 1"),
            ("eyJhbGciOiJFZERTQSJ9.e30", "3 dot-separated parts; this token has 2"),
            ("eyJhbGciOiJFZERTQSJ9.e30.a.b", "3 dot-separated parts; this token has 4"),
            ("eyJh*GciOiJFZERTQSJ9.e30.AAAA", "header is not valid base64url"),
            ("eyJhbGciOiJFZERTQSJ9=.e30.AAAA", "header is not valid base64url"),
            ("eyJhbGciOiJFZERTQSJ9.e30.A", "signature is not valid base64url"),
            ("eyJhbGciOiJFZERTQSJ9.e31.AAAA", "non-canonical base64url"),
            (b64(b"not json") + ".e30.AAAA", "header is not valid JSON"),
            (b64(b"[1]") + ".e30.AAAA", "header must be a JSON object"),
            (b64(b'{"alg":"EdDSA"}') + "." + b64(b"\xff") + ".AAAA", "payload is not UTF-8"),
            (b64(b'{"alg":"EdDSA","x":NaN}') + ".e30.AAAA", "header is not valid JSON"),
            (b64(b'{"kid":"x"}') + ".e30.AAAA", "no alg"),
        ],
    )
    def test_bad_input_gives_a_failed_result_with_a_clear_error(self, token: str, message: str) -> None:
        result = decode(token)
        assert not result.verified and result.credential is None
        assert message in result.errors[0]

    def test_a_non_string_token_gives_a_failed_result(self) -> None:
        result = decode(None)  # type: ignore[arg-type]
        assert not result.verified and "not NoneType" in result.errors[0]

    def test_a_header_without_kid_or_jwk_is_refused(self) -> None:
        result = decode(hand_built({"alg": "EdDSA"}, {}, b"x" * 64))
        assert "neither kid nor jwk" in result.errors[0]

    def test_a_header_member_the_spec_does_not_allow_is_refused(self) -> None:
        result = decode(hand_built({"alg": "EdDSA", "kid": ISSUER.id, "x5u": "https://evil.example"}, {}, b"x" * 64))
        assert "['x5u'] are not allowed" in result.errors[0]

    def test_a_resolver_failure_becomes_an_error(self) -> None:
        result = decode(encode_vc_jwt(make_credential(), signer=ISSUER.signer(), kid="https://example.edu/keys/1"))
        assert not result.verified
        assert "could not resolve the key for kid 'https://example.edu/keys/1'" in result.errors[0]

    def test_a_payload_without_a_credential_fails(self) -> None:
        result = decode(hand_signed({"alg": "EdDSA", "kid": ISSUER.id}, {"iss": "x"}))
        assert not result.verified and "holds no credential" in result.errors[0]


class TestResolveDidKeyKid:
    def test_resolves_the_did_key_verification_method(self) -> None:
        key = resolve_did_key_kid(ISSUER.id, {})
        assert isinstance(key, Ed25519PublicKeyInfo)
        assert key.public_key == ISSUER.public_key and key.controller == ISSUER.controller

    def test_refuses_a_kid_that_is_not_a_did_key(self) -> None:
        with pytest.raises(ResolutionError, match="not a did:key"):
            resolve_did_key_kid("https://example.edu/keys/1", {})

    def test_refuses_a_fragment_that_is_not_the_keys_own(self) -> None:
        with pytest.raises(ResolutionError, match="no verification method"):
            resolve_did_key_kid(ISSUER.controller + "#key-1", {})

    def test_refuses_a_missing_kid(self) -> None:
        with pytest.raises(ResolutionError):
            resolve_did_key_kid(None, {"jwk": {}})


class TestJwkKeys:
    def test_an_ed25519_jwk_round_trips(self) -> None:
        jwk = public_jwk(ISSUER.public_info())
        assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519"
        key = key_from_jwk(jwk, id="k", controller="c")
        assert isinstance(key, Ed25519PublicKeyInfo) and key.public_key == ISSUER.public_key

    def test_an_rsa_jwk_round_trips_and_verifies(self, rsa_signer: RsaSigner) -> None:
        key = key_from_jwk(public_jwk(rsa_signer.public_key()), id=RSA_KID)
        assert key.verify(b"data", rsa_signer.sign(b"data"))
        assert not key.verify(b"date", rsa_signer.sign(b"data"))

    def test_a_jwk_with_private_material_is_refused(self) -> None:
        with pytest.raises(KeyFormatError, match="private"):
            key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": b64(ISSUER.public_key), "d": "AA"}, id="k")

    def test_an_unknown_key_type_is_refused(self) -> None:
        with pytest.raises(KeyFormatError, match="unsupported JWK"):
            key_from_jwk({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}, id="k")

    def test_rsa_keys_below_2048_bits_are_refused(self) -> None:
        with pytest.raises(KeyFormatError, match="2048"):
            RsaSigner(rsa.generate_private_key(public_exponent=65537, key_size=1024), id="k")

    def test_the_rsa_signer_does_not_print_its_key(self, rsa_signer: RsaSigner) -> None:
        assert repr(rsa_signer) == f"RsaSigner(id={RSA_KID!r})"
