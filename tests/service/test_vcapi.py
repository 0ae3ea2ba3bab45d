"""The W3C VC-API: what it issues Digital Bazaar verifies, what Digital Bazaar signs it verifies,
bad input is a 400 naming the field (never a 500), and status changes reach the status lists."""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import json
import uuid
from typing import Any

import pytest

from microcred.credentials import Ed25519KeyPair
from microcred.credentials.loader import bundled_context_bytes
from microcred.credentials.status_list import BitstringStatusList

from ..factories.mutations import places, replaced
from ..factories.service import ServiceClient
from ..interop.nodejs import js_sign, js_sign_presentation, js_verify
from .conftest import is_problem

pytestmark = pytest.mark.asyncio

V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
#: VC 1.1 defines no claims of its own; the OB 3.0 context gives the subject a ``name``.
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
SUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
#: Digital Bazaar's signing keys: an issuer and a holder (test-only seeds).
ISSUER_SEED = bytes(range(32))
HOLDER_SEED = bytes(range(32, 64))
CHALLENGE = "c0ae1c8e-c7e7-469f-b252-86e6a0e7387e"
DOMAIN = "verifier.example"


def unsigned(version: str = "2.0", **fields: Any) -> dict[str, Any]:
    """A credential of any kind (not OB 3.0), VC 2.0 or VC 1.1, with context URLs only: Digital
    Bazaar's eddsa-jcs-2022 verifier compares ``@context`` entries by identity, so it rejects
    any JCS credential with an inline context object (its own too)."""
    credential: dict[str, Any] = {
        "@context": [V2] if version == "2.0" else [V1, OB],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:learner", "name": "Zoë Jansen"},
    }
    if version == "2.0":
        credential["validFrom"] = "2025-01-01T00:00:00Z"
    credential.update(fields)
    return credential


async def vc_issuer(service: ServiceClient, **vc_api: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """An issuer configured for the VC-API, and an API key of its own (every scope)."""
    issuer = await service.create_issuer(vc_api={"enabled": True, **vc_api})
    return issuer, service.auth(await service.issuer_key(issuer["id"]))


async def issue(service: ServiceClient, headers: dict[str, str], body: dict[str, Any], *, path: str = "/credentials/issue") -> Any:
    return await service.http.post(path, json=body, headers=headers)


def did_documents(service: ServiceClient, identifier: str) -> dict[str, Any]:
    """What Digital Bazaar is handed for a did:web (it resolves nothing); did:key needs nothing."""
    if identifier.startswith("did:key:"):
        return {}
    return {identifier: service.runtime.keystore.did_document(identifier)}


def tampered(credential: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(credential)
    changed["credentialSubject"]["name"] = "Zoë Janssen"
    return changed


# -- issuing -------------------------------------------------------------------------------------


class TestIssue:
    @pytest.mark.parametrize("did_method", ["did:web", "did:key"])
    @pytest.mark.parametrize("version", ["2.0", "1.1"])
    async def test_issued_credentials_verify_under_digital_bazaar_and_here(self, service: ServiceClient, version: str, did_method: str) -> None:
        issuer, headers = await vc_issuer(service, did_method=did_method)
        identifier = issuer["vc_api"]["issuer"]
        assert identifier.startswith(did_method + ":")
        for suite in SUITES:
            response = await issue(service, headers, {"credential": unsigned(version)}, path=f"/{suite}/credentials/issue")
            assert response.status_code == 201, response.text
            assert list(response.json()) == ["verifiableCredential"]
            signed = response.json()["verifiableCredential"]
            assert signed["issuer"] == identifier
            assert signed["proof"]["cryptosuite"] == suite
            assert signed["proof"]["verificationMethod"].startswith(identifier + "#")
            if version == "1.1":
                assert "issuanceDate" in signed and signed["@context"][-1] == "https://w3id.org/security/data-integrity/v2"
            else:
                assert "issuanceDate" not in signed

            verified = await asyncio.to_thread(js_verify, signed, did_documents=did_documents(service, identifier))
            assert verified == (True, None)
            ours = await service.http.post("/credentials/verify", json={"verifiableCredential": signed})
            assert ours.status_code == 200, ours.text
            assert ours.json()["verified"] is True and ours.json()["errors"] == []

            rejected = await asyncio.to_thread(js_verify, tampered(signed), did_documents=did_documents(service, identifier))
            assert rejected[0] is False

    async def test_the_cryptosuite_is_the_issuers_unless_options_choose(self, service: ServiceClient) -> None:
        _, headers = await vc_issuer(service)
        default = await issue(service, headers, {"credential": unsigned()})
        chosen = await issue(service, headers, {"credential": unsigned(), "options": {"cryptosuite": "eddsa-jcs-2022"}})
        assert default.json()["verifiableCredential"]["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
        assert chosen.json()["verifiableCredential"]["proof"]["cryptosuite"] == "eddsa-jcs-2022"
        clash = await issue(service, headers, {"credential": unsigned(), "options": {"cryptosuite": "eddsa-jcs-2022"}}, path="/eddsa-rdfc-2022/credentials/issue")
        assert is_problem(clash, 400)["errors"][0]["pointer"] == "#/options/cryptosuite"

    async def test_an_absent_issuer_is_the_configured_one_and_another_is_refused(self, service: ServiceClient) -> None:
        issuer, headers = await vc_issuer(service)
        credential = unsigned()
        assert "issuer" not in credential
        filled = await issue(service, headers, {"credential": credential})
        assert filled.json()["verifiableCredential"]["issuer"] == issuer["did"]
        as_object = await issue(service, headers, {"credential": unsigned(issuer={"id": issuer["did"], "name": "SPE"})})
        assert as_object.status_code == 201, as_object.text
        for other in ("did:web:elsewhere.example", {"id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}):
            body = is_problem(await issue(service, headers, {"credential": unsigned(issuer=other)}), 400)
            assert body["errors"][0]["pointer"] == "#/credential/issuer" and issuer["did"] in body["detail"]

    @pytest.mark.parametrize("version", ["2.0", "1.1"])
    async def test_an_undefined_term_is_refused_by_name(self, service: ServiceClient, version: str) -> None:
        _, headers = await vc_issuer(service)
        credential = unsigned(version)
        credential["credentialSubject"]["favouriteColour"] = "blue"
        body = is_problem(await issue(service, headers, {"credential": credential}), 400)
        assert "favouriteColour" in body["detail"]
        assert body["errors"][0]["pointer"].startswith("#/credential")

    @pytest.mark.parametrize(
        ("change", "pointer", "words"),
        [
            (lambda c: c.pop("credentialSubject"), "#/credential/credentialSubject", "credentialSubject is missing"),
            (lambda c: c.update(credentialSubject={}), "#/credential/credentialSubject", "at least one claim"),
            (lambda c: c.update(credentialSubject=[]), "#/credential/credentialSubject", "non-empty"),
            (lambda c: c.pop("type"), "#/credential/type", "type is missing"),
            (lambda c: c.update(type=["VerifiablePresentation"]), "#/credential/type", "VerifiableCredential"),
            (lambda c: c.update(type=4), "#/credential/type", "type must be"),
            (lambda c: c.update(issuer=4), "#/credential/issuer", "URL"),
            (lambda c: c.update(id="not a url"), "#/credential/id", "URL"),
            (lambda c: c.pop("@context"), "#/credential/@context", "missing"),
            (lambda c: c.update({"@context": V2}), "#/credential/@context", "array"),
            (lambda c: c.update({"@context": [{"name": "https://schema.org/name"}, V2]}), "#/credential/@context/0", "must start with"),
            (lambda c: c.update({"@context": [V2, "https://example.org/context.jsonld"]}), "#/credential/@context/1", "never fetched"),
            (lambda c: c.update({"@context": [V2, V1]}), "#/credential/@context/1", "mixed"),
            (lambda c: c.update(validFrom="2025-01-01"), "#/credential/validFrom", "dateTimeStamp"),
            (lambda c: c.update(validUntil="2024-01-01T00:00:00Z"), "#/credential/validUntil", "before validFrom"),
            (lambda c: c.update(issuanceDate="2025-01-01T00:00:00Z"), "#/credential/issuanceDate", "VC 1.1"),
            (lambda c: c.update(credentialStatus={"id": "https://x.example/1"}), "#/credential/credentialStatus/type", "need a type"),
            (lambda c: c.update(proof={"type": "DataIntegrityProof"}), "#/credential/proof", "signed already"),
        ],
    )
    async def test_a_credential_outside_the_data_model_is_refused_naming_the_field(
        self, service: ServiceClient, change: Any, pointer: str, words: str
    ) -> None:
        _, headers = await vc_issuer(service)
        credential = unsigned()
        change(credential)
        body = is_problem(await issue(service, headers, {"credential": credential}), 400)
        assert body["errors"][0]["pointer"] == pointer, body
        assert words in body["detail"], body

    async def test_vc_1_1_needs_an_rfc_3339_issuance_date_and_gets_one_when_absent(self, service: ServiceClient) -> None:
        _, headers = await vc_issuer(service)
        dated = await issue(service, headers, {"credential": unsigned("1.1", issuanceDate="2025-03-01T10:00:00Z")})
        assert dated.json()["verifiableCredential"]["issuanceDate"] == "2025-03-01T10:00:00Z"
        body = is_problem(await issue(service, headers, {"credential": unsigned("1.1", issuanceDate="yesterday")}), 400)
        assert body["errors"][0]["pointer"] == "#/credential/issuanceDate"

    async def test_who_may_issue(self, service: ServiceClient) -> None:
        issuer, headers = await vc_issuer(service)
        body = {"credential": unsigned()}
        assert is_problem(await issue(service, {}, body), 401)
        revoke_only = service.auth(await service.issuer_key(issuer["id"], "revoke"))
        assert is_problem(await issue(service, revoke_only, body), 403)
        # an admin key names the issuer; an issuer's key cannot name another
        assert is_problem(await issue(service, service.admin, body), 400)["errors"][0]["pointer"] == "#/options/issuer"
        admin = await issue(service, service.admin, {**body, "options": {"issuer": issuer["id"]}})
        assert admin.status_code == 201, admin.text
        other = await service.create_issuer(vc_api={"enabled": True})
        assert is_problem(await issue(service, headers, {**body, "options": {"issuer": other["id"]}}), 404)
        # an issuer that is not configured for the VC-API signs nothing through it
        plain = await service.create_issuer()
        assert plain["vc_api"] == {"enabled": False, "did_method": "did:web", "status": False, "issuer": plain["did"]}
        plain_key = service.auth(await service.issuer_key(plain["id"]))
        assert "vc_api.enabled" in is_problem(await issue(service, plain_key, body), 403)["detail"]

    async def test_status_entries_need_did_web(self, service: ServiceClient) -> None:
        issuer, _ = await vc_issuer(service, did_method="did:key")
        response = await service.http.patch(f"/api/v1/issuers/{issuer['id']}", json={"vc_api": {"status": True}}, headers=service.admin)
        assert is_problem(response, 422)["errors"][0]["pointer"] == "#/vc_api/status"
        switched = await service.http.patch(
            f"/api/v1/issuers/{issuer['id']}", json={"vc_api": {"did_method": "did:web", "status": True}}, headers=service.admin
        )
        assert switched.json()["vc_api"] == {"enabled": True, "did_method": "did:web", "status": True, "issuer": issuer["did"]}

    async def test_a_did_key_issuer_follows_its_key_and_old_credentials_keep_verifying(self, service: ServiceClient) -> None:
        issuer, headers = await vc_issuer(service, did_method="did:key")
        before = (await issue(service, headers, {"credential": unsigned()})).json()["verifiableCredential"]
        rotated = await service.http.post(f"/api/v1/issuers/{issuer['id']}/keys/rotate", headers=service.admin)
        assert rotated.status_code == 200, rotated.text
        now = (await service.http.get(f"/api/v1/issuers/{issuer['id']}", headers=service.admin)).json()["vc_api"]["issuer"]
        assert now != before["issuer"] and now == "did:key:" + rotated.json()["public_key_multibase"]
        after = (await issue(service, headers, {"credential": unsigned()})).json()["verifiableCredential"]
        assert after["issuer"] == now
        for credential in (before, after):
            assert (await service.http.post("/credentials/verify", json={"verifiableCredential": credential})).status_code == 200


EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


async def test_a_number_no_signature_would_protect_is_refused_naming_it(service: ServiceClient) -> None:
    """jsonld.js reads 1e-7 as the integer 0 (so 9e-7 would verify under the same proof): refused."""
    issuer, headers = await vc_issuer(service, did_method="did:key")
    credential = unsigned(**{"@context": [V2, EXAMPLES]})
    credential["credentialSubject"]["favouriteNumber"] = 1e-7
    response = await issue(service, headers, {"credential": credential}, path="/eddsa-rdfc-2022/credentials/issue")
    assert is_problem(response, 400)["errors"][0]["pointer"] == "#/credential/credentialSubject/favouriteNumber"


class TestContextConstructs:
    """Every valid way to write a context is processed as Digital Bazaar processes it; an invalid
    or unsafe one is a 400 naming the @context, never a 500."""

    @pytest.mark.parametrize(
        "contexts",
        [
            [V2, {"@vocab": None}],
            [V2, {"@language": None}],
            [V2, {"@direction": None}],
            [V2, EXAMPLES],
            [V2, EXAMPLES, {"@vocab": None}],
            [V2, {"@base": "https://base.example/"}],
            [V2, {"@version": 1.1, "@language": "nl", "@direction": "rtl"}],
            [V2, {"@propagate": False, "@protected": True, "color": "https://vocab.example/color"}],
            [V2, {"Thing": {"@id": "https://vocab.example/Thing", "@context": {"color": "https://vocab.example/color"}}}],
        ],
    )
    async def test_a_valid_context_issues_and_both_sides_verify(self, service: ServiceClient, contexts: list[Any]) -> None:
        issuer, headers = await vc_issuer(service, did_method="did:key")
        credential = unsigned(**{"@context": contexts})
        if any(isinstance(c, dict) and "color" in json.dumps(c) for c in contexts):
            credential["credentialSubject"]["color"] = "blue"
        if any(isinstance(c, dict) and "Thing" in c for c in contexts):
            credential["credentialSubject"]["type"] = "Thing"  # its type-scoped context defines color
        if EXAMPLES in contexts and {"@vocab": None} not in contexts:
            credential["credentialSubject"]["favouriteNumber"] = 1.5e-7  # a double in exponent form

        response = await issue(service, headers, {"credential": credential}, path="/eddsa-rdfc-2022/credentials/issue")
        assert response.status_code == 201, response.text
        signed = response.json()["verifiableCredential"]

        assert await asyncio.to_thread(js_verify, signed) == (True, None)
        ours = await service.http.post("/credentials/verify", json={"verifiableCredential": signed})
        assert ours.status_code == 200, ours.text
        verified = await service.http.post("/api/v1/verify", json=signed)
        assert verified.status_code == 200, verified.text  # a report (an OB 3.0 verifier: not an OB 3.0 credential)

    @pytest.mark.parametrize(
        ("contexts", "pointer", "words"),
        [
            ([V2, {"@vocab": "relative/"}], "#/credential/@context/1", "relative @vocab"),
            ([V2, {"@frobnicate": True}], "#/credential/@context/1", "@frobnicate"),
            ([V2, {"id": "https://vocab.example/id"}], "#/credential/@context", "protected term"),
            ([V2, {"@version": 1.0}], "#/credential/@context", "version"),
            ([V2, {"@direction": "up"}], "#/credential/@context", "direction"),
            ([V2, {"@import": "https://example.org/context.jsonld"}], "#/credential/@context", "not bundled"),
            ([V2, None], "#/credential/@context", "URL or a context object"),
        ],
    )
    async def test_an_invalid_or_unsafe_context_is_a_400_naming_it(
        self, service: ServiceClient, contexts: list[Any], pointer: str, words: str
    ) -> None:
        _, headers = await vc_issuer(service, did_method="did:key")
        credential = unsigned(**{"@context": contexts})

        body = is_problem(await issue(service, headers, {"credential": credential}), 400)
        assert body["errors"][0]["pointer"].startswith(pointer), body
        assert words in body["detail"], body
        response = await service.http.post("/credentials/verify", json={"verifiableCredential": {**credential, "proof": {}}})
        assert response.status_code == 400, response.text

    async def test_an_embedded_context_that_is_an_empty_url_is_a_400(self, service: ServiceClient) -> None:
        """pyld raises a bare ValueError resolving "" against no base IRI: found by the fuzz pass."""
        _, headers = await vc_issuer(service, did_method="did:key")
        credential = unsigned()
        credential["credentialSubject"]["@context"] = ""

        body = is_problem(await issue(service, headers, {"credential": credential}), 400)
        assert body["errors"][0]["pointer"].startswith("#/credential/@context"), body
        response = await service.http.post("/credentials/verify", json={"verifiableCredential": {**credential, "proof": {}}})
        assert response.status_code == 400, response.text
        assert (await service.http.post("/api/v1/verify", json={**credential, "proof": {}})).status_code < 500


# -- verifying -----------------------------------------------------------------------------------


def _db_signed(version: str, suite: str) -> dict[str, Any]:
    issuer = Ed25519KeyPair.from_seed(ISSUER_SEED).controller
    return js_sign(unsigned(version, issuer=issuer), suite=suite, seed=ISSUER_SEED)


def _sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


#: VC 2.0 §5.3 relatedResource rules, each broken once, with the field the refusal names
RELATED_BROKEN: dict[str, tuple[Any, str]] = {
    "a list of strings": (["https://example.org/a"], "/relatedResource/0"),
    "an object without id": ([{"digestSRI": _sri(b"x")}], "/relatedResource/0/id"),
    "duplicate ids": ([{"id": V2, "digestSRI": _sri(b"x")}, {"id": V2, "digestSRI": _sri(b"y")}], "/relatedResource/1/id"),
    "no digest": ([{"id": "https://example.org/a"}], "/relatedResource/0"),
}


class TestRelatedResource:
    async def test_the_issuer_refuses_each_broken_rule_naming_the_field(self, service: ServiceClient) -> None:
        _, headers = await vc_issuer(service)
        for case, (related, pointer) in RELATED_BROKEN.items():
            body = is_problem(await issue(service, headers, {"credential": unsigned(relatedResource=related)}), 400)
            assert body["errors"][0]["pointer"] == "#/credential" + pointer, (case, body)

    async def test_the_issuer_matches_digests_against_the_resource(self, service: ServiceClient) -> None:
        _, headers = await vc_issuer(service)
        # the VC 2.0 context is bundled: its digest is checked without a fetch
        right = {"id": V2, "digestSRI": _sri(bundled_context_bytes(V2) or b"")}
        issued = await issue(service, headers, {"credential": unsigned(relatedResource=[right])})
        assert issued.status_code == 201, issued.text
        wrong = is_problem(await issue(service, headers, {"credential": unsigned(relatedResource=[{**right, "digestSRI": _sri(b"other")}])}), 400)
        assert wrong["errors"][0]["pointer"] == "#/credential/relatedResource/0" and "does not match" in wrong["detail"]
        # anything else is fetched through the SSRF-safe fetcher, which never reaches loopback
        unreachable = {"id": "https://127.0.0.1/syllabus.pdf", "digestSRI": _sri(b"x")}
        refused = is_problem(await issue(service, headers, {"credential": unsigned(relatedResource=unreachable)}), 400)
        assert refused["errors"][0]["pointer"] == "#/credential/relatedResource/id" and "could not be retrieved" in refused["detail"]

    @pytest.mark.parametrize("case", list(RELATED_BROKEN))
    async def test_the_verifier_rejects_one_digital_bazaar_signed(self, service: ServiceClient, case: str) -> None:
        related, pointer = RELATED_BROKEN[case]
        credential = unsigned(issuer=Ed25519KeyPair.from_seed(ISSUER_SEED).controller, relatedResource=related)
        signed = await asyncio.to_thread(js_sign, credential, suite="eddsa-rdfc-2022", seed=ISSUER_SEED, created="2025-01-01T00:00:00Z")
        body = is_problem(await service.http.post("/credentials/verify", json={"verifiableCredential": signed}), 400)
        assert body["verified"] is False
        related_error = next(e for e in body["errors"] if e["title"] == "relatedResource")
        assert related_error["detail"].startswith(pointer)


class TestVerify:
    @pytest.mark.parametrize("suite", SUITES)
    @pytest.mark.parametrize("version", ["2.0", "1.1"])
    async def test_a_credential_digital_bazaar_signed_verifies_and_a_changed_one_does_not(
        self, service: ServiceClient, version: str, suite: str
    ) -> None:
        signed = await asyncio.to_thread(_db_signed, version, suite)

        response = await service.http.post("/credentials/verify", json={"verifiableCredential": signed, "options": {"checks": ["proof"]}})
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["verified"] is True and result["errors"] == []
        assert {"proof", "dataModel", "context", "validity"} <= set(result["checks"])

        response = await service.http.post("/credentials/verify", json={"verifiableCredential": tampered(signed)})
        body = is_problem(response, 400)
        assert body["verified"] is False
        assert [e["title"] for e in body["errors"]] == ["proof"]
        assert body["errors"][0]["type"] == "https://www.w3.org/TR/vc-data-model-2.0/#CRYPTOGRAPHIC_SECURITY_ERROR"

    async def test_a_proof_set_verifies_and_a_broken_member_is_named(self, service: ServiceClient) -> None:
        credential = unsigned(issuer=Ed25519KeyPair.from_seed(ISSUER_SEED).controller)
        first = await asyncio.to_thread(js_sign, credential, suite="eddsa-rdfc-2022", seed=ISSUER_SEED, created="2025-01-01T00:00:00Z")
        both = await asyncio.to_thread(js_sign, first, suite="eddsa-jcs-2022", seed=ISSUER_SEED, created="2025-01-01T00:00:00Z")
        response = await service.http.post("/credentials/verify", json={"verifiableCredential": both})
        assert response.status_code == 200 and response.json()["verified"] is True, response.text
        assert {"proof", "proof[1]", "proof[2]"} <= set(response.json()["checks"])

        broken = copy.deepcopy(both)
        broken["proof"][1]["created"] = "2025-01-02T00:00:00Z"
        body = is_problem(await service.http.post("/credentials/verify", json={"verifiableCredential": broken}), 400)
        assert [e["title"] for e in body["errors"]] == ["proof", "proof[2]"]
        assert {e["type"] for e in body["errors"]} == {"https://www.w3.org/TR/vc-data-model-2.0/#CRYPTOGRAPHIC_SECURITY_ERROR"}

    async def test_an_expired_credential_is_not_verified(self, service: ServiceClient) -> None:
        signed = await asyncio.to_thread(
            js_sign,
            unsigned("1.1", issuer=Ed25519KeyPair.from_seed(ISSUER_SEED).controller, issuanceDate="2025-01-01T00:00:00Z", expirationDate="2025-01-02T00:00:00Z"),
            suite="eddsa-rdfc-2022", seed=ISSUER_SEED, created="2025-01-01T00:00:00Z",
        )
        body = is_problem(await service.http.post("/credentials/verify", json={"verifiableCredential": signed}), 400)
        assert body["errors"] == [{"type": "https://w3id.org/microcred/problems/expired", "title": "validity", "detail": "expired on 2025-01-02T00:00:00Z"}]

    async def test_verification_is_public_and_an_ob3_award_verifies_too(self, service: ServiceClient) -> None:
        issuer = await service.create_issuer()
        achievement = await service.create_achievement(issuer["id"])
        award = await service.award(issuer["id"], achievement["id"])
        response = await service.http.post("/credentials/verify", json={"verifiableCredential": award.json()["credential"]})
        assert response.status_code == 200, response.text
        assert "status:revocation" in response.json()["checks"]


class TestPresentations:
    @pytest.mark.parametrize("suite", SUITES)
    @pytest.mark.parametrize("version", ["2.0", "1.1"])
    async def test_a_presentation_answers_the_challenge_or_is_refused(self, service: ServiceClient, version: str, suite: str) -> None:
        credential = await asyncio.to_thread(_db_signed, version, suite)
        holder = Ed25519KeyPair.from_seed(HOLDER_SEED).controller
        presentation = {
            "@context": [V2 if version == "2.0" else V1],
            "type": ["VerifiablePresentation"],
            "holder": holder,
            "verifiableCredential": [credential],
        }
        signed = await asyncio.to_thread(
            js_sign_presentation, presentation, suite=suite, seed=HOLDER_SEED, challenge=CHALLENGE, domain=DOMAIN
        )

        options = {"challenge": CHALLENGE, "domain": DOMAIN}
        response = await service.http.post("/presentations/verify", json={"verifiablePresentation": signed, "options": options})
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["verified"] is True and result["errors"] == []
        assert {"proof", "challenge", "domain"} <= set(result["checks"])
        assert [r["verified"] for r in result["credentialResults"]] == [True]

        for wrong, title in (({**options, "challenge": "another"}, "challenge"), ({**options, "domain": "elsewhere.example"}, "domain")):
            body = is_problem(await service.http.post("/presentations/verify", json={"verifiablePresentation": signed, "options": wrong}), 400)
            assert body["verified"] is False and [e["title"] for e in body["errors"]] == [title]

        changed = copy.deepcopy(signed)
        changed["verifiableCredential"][0] = tampered(credential)
        body = is_problem(await service.http.post("/presentations/verify", json={"verifiablePresentation": changed, "options": options}), 400)
        titles = [e["title"] for e in body["errors"]]
        assert titles == ["proof", "verifiableCredential/0"], body  # the holder's proof covers the credentials too

        someone_else = {**signed, "holder": Ed25519KeyPair.from_seed(ISSUER_SEED).controller}
        body = is_problem(await service.http.post("/presentations/verify", json={"verifiablePresentation": someone_else, "options": options}), 400)
        assert body["errors"][0]["title"] == "proof"

    async def test_an_unsigned_presentation_is_verified_for_its_credentials_only(self, service: ServiceClient) -> None:
        credential = await asyncio.to_thread(_db_signed, "2.0", "eddsa-rdfc-2022")
        presentation = {"@context": [V2], "type": ["VerifiablePresentation"], "verifiableCredential": credential}
        response = await service.http.post("/presentations/verify", json={"presentation": presentation})
        assert response.status_code == 200, response.text
        assert "proof" not in response.json()["checks"] and response.json()["credentialResults"][0]["verified"] is True
        # sent as a verifiable presentation, or with a challenge, it needs a proof
        for body in ({"verifiablePresentation": presentation}, {"presentation": presentation, "options": {"challenge": CHALLENGE}}):
            problem = is_problem(await service.http.post("/presentations/verify", json=body), 400)
            assert problem["errors"][0]["title"] == "proof" and "no proof" in problem["errors"][0]["detail"]
        both = await service.http.post("/presentations/verify", json={"presentation": presentation, "verifiablePresentation": presentation})
        assert "exactly one" in is_problem(both, 400)["detail"]


# -- status ----------------------------------------------------------------------------------------


async def _list_bit(service: ServiceClient, entry: dict[str, Any]) -> int:
    listed = await service.http.get(entry["statusListCredential"].removeprefix(service.runtime.settings.base_url))
    assert listed.status_code == 200, listed.text
    return BitstringStatusList.decode(listed.json()["credentialSubject"]["encodedList"]).get(int(entry["statusListIndex"]))


def _status_body(credential_id: str, purpose: str, status: bool) -> dict[str, Any]:
    return {"credentialId": credential_id, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose}, "status": status}


class TestStatus:
    @pytest.mark.parametrize("version", ["2.0", "1.1"])
    async def test_revoked_through_the_vc_api_and_seen_so_by_verifiers(self, service: ServiceClient, version: str) -> None:
        issuer, headers = await vc_issuer(service, status=True)
        credential = unsigned(version)
        credential.pop("id")
        response = await issue(service, headers, {"credential": credential, "options": {"credentialId": "urn:example:diploma-7"}})
        assert response.status_code == 201, response.text
        signed = response.json()["verifiableCredential"]
        assert "id" not in signed  # options.credentialId names it for the issuer alone
        entry = signed["credentialStatus"]
        assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
        if version == "1.1":
            assert "https://www.w3.org/ns/credentials/status/v1" in signed["@context"]
        assert await asyncio.to_thread(js_verify, signed, did_documents=did_documents(service, issuer["did"])) == (True, None)
        assert (await service.http.post("/credentials/verify", json={"verifiableCredential": signed})).status_code == 200
        assert await _list_bit(service, entry) == 0

        changed = await service.http.post("/credentials/status", json=_status_body("urn:example:diploma-7", "revocation", True), headers=headers)
        assert changed.status_code == 200, changed.text
        assert changed.json() == {"credentialId": "urn:example:diploma-7", "statusPurpose": "revocation", "status": True, "updated": 1}

        assert await _list_bit(service, entry) == 1
        body = is_problem(await service.http.post("/credentials/verify", json={"verifiableCredential": signed}), 400)
        assert body["errors"] == [
            {"type": "https://w3id.org/microcred/problems/revoked", "title": "status:revocation", "detail": "the issuer has revoked this credential"}
        ]
        # a revocation is final; repeating it changes nothing
        again = await service.http.post("/credentials/status", json=_status_body("urn:example:diploma-7", "revocation", True), headers=headers)
        assert again.status_code == 200
        undo = await service.http.post("/credentials/status", json=_status_body("urn:example:diploma-7", "revocation", False), headers=headers)
        assert "final" in is_problem(undo, 400)["detail"]

    async def test_suspension_comes_and_goes_when_the_issuer_offers_it(self, service: ServiceClient) -> None:
        issuer = await service.create_issuer(offers_suspension=True, vc_api={"enabled": True, "status": True})
        headers = service.auth(await service.issuer_key(issuer["id"], "award", "revoke"))
        credential = unsigned()
        credential.pop("id")
        signed = (await issue(service, headers, {"credential": credential})).json()["verifiableCredential"]
        assert signed["id"].startswith("urn:uuid:")  # generated: the handle for status changes
        suspension = next(e for e in signed["credentialStatus"] if e["statusPurpose"] == "suspension")
        for status, bit, code in ((True, 1, 400), (False, 0, 200)):
            response = await service.http.post("/credentials/status", json=_status_body(signed["id"], "suspension", status), headers=headers)
            assert response.status_code == 200, response.text
            assert await _list_bit(service, suspension) == bit
            assert (await service.http.post("/credentials/verify", json={"verifiableCredential": signed})).status_code == code

    async def test_who_may_change_a_status(self, service: ServiceClient) -> None:
        issuer, headers = await vc_issuer(service, status=True)
        signed = (await issue(service, headers, {"credential": unsigned()})).json()["verifiableCredential"]
        revoke = _status_body(signed["id"], "revocation", True)
        assert is_problem(await service.http.post("/credentials/status", json=revoke), 401)
        award_only = service.auth(await service.issuer_key(issuer["id"], "award"))
        assert is_problem(await service.http.post("/credentials/status", json=revoke, headers=award_only), 403)
        # another issuer's key finds no such credential, and changes nothing
        _, theirs = await vc_issuer(service, status=True)
        assert is_problem(await service.http.post("/credentials/status", json=revoke, headers=theirs), 404)
        assert is_problem(await service.http.post("/credentials/status", json={**revoke, "issuer": issuer["id"]}, headers=theirs), 404)
        assert await _list_bit(service, signed["credentialStatus"]) == 0
        # an admin key names the issuer
        assert is_problem(await service.http.post("/credentials/status", json=revoke, headers=service.admin), 400)
        admin = await service.http.post("/credentials/status", json={**revoke, "issuer": issuer["id"]}, headers=service.admin)
        assert admin.status_code == 200, admin.text
        assert is_problem(await service.http.post("/credentials/status", json=_status_body("urn:uuid:nothing", "revocation", True), headers=headers), 404)

    async def test_a_credential_issued_without_status_cannot_change_it(self, service: ServiceClient) -> None:
        _, headers = await vc_issuer(service)
        signed = (await issue(service, headers, {"credential": unsigned()})).json()["verifiableCredential"]
        assert "credentialStatus" not in signed
        body = is_problem(await service.http.post("/credentials/status", json=_status_body(signed["id"], "revocation", True), headers=headers), 400)
        assert "without status" in body["detail"]
        suspend = await service.http.post("/credentials/status", json=_status_body(signed["id"], "suspension", True), headers=headers)
        assert is_problem(suspend, 400)


# -- bad input -------------------------------------------------------------------------------------

NASTY: list[Any] = [None, 4, -1.5, True, "x", "", "a\u0000b", "\ud800", [], {}, [None], {"@context": None}, "é" * 5000, {"a": {"b": {"c": []}}}]


class TestBadInputNeverFails:
    async def test_garbage_and_mutated_requests_get_200_or_a_400_problem(self, service: ServiceClient) -> None:
        _, headers = await vc_issuer(service, status=True)
        signed = (await issue(service, headers, {"credential": unsigned()})).json()["verifiableCredential"]
        raw = [b"", b"{", b"null", b"[]", b'"x"', b"1e999", b'{"a":' * 5000 + b"1" + b"}" * 5000, "é".encode("latin-1"), b"\x00"]
        bodies: list[tuple[str, Any]] = [(path, None) for path in ("/credentials/issue", "/credentials/verify", "/presentations/verify", "/credentials/status")]
        for path, document in (
            ("/credentials/issue", {"credential": unsigned()}),
            ("/credentials/verify", {"verifiableCredential": signed}),
            ("/presentations/verify", {"presentation": {"@context": [V2], "type": ["VerifiablePresentation"], "verifiableCredential": [signed]}}),
            ("/credentials/status", _status_body(signed["id"], "suspension", True)),
        ):
            for where in places(document):
                for value in NASTY:
                    bodies.append((path, replaced(document, where, value)))
        seen: set[int] = set()
        for path, body in bodies:
            contents = raw if body is None else [json.dumps(body).encode()]
            for content in contents:
                response = await service.http.post(path, content=content, headers={**headers, "Content-Type": "application/json"})
                seen.add(response.status_code)
                assert response.status_code in (200, 201, 400, 403, 404), f"{response.status_code} for {path} {content[:200]!r}: {response.text[:300]}"
                if response.status_code >= 400:
                    is_problem(response, response.status_code)
        assert {200, 201, 400} <= seen
