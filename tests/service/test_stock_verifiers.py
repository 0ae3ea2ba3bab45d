"""What an employer's verifier or a learner's wallet says about our credentials.

DCC's verifier-core (the engine of VerifierPlus and the Learner Credential Wallet) and Digital
Bazaar's ``vc`` with the stock DCC security loader verify credentials from the real service
with only the contexts they ship: nobody hands them ours. Their one network is the live service
(did:web and status lists); any other URL they try is refused and reported.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from microcred.credentials import CONTEXTS, DocumentLoader, eu_elements, issue, schema, verify

from ..factories.service import EU_ELEMENTS, resolver
from ..interop.nodejs import js_stock_verify
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.asyncio, pytest.mark.interop]

STOCK_CONTEXTS = {CONTEXTS.VC_V2, CONTEXTS.OB_V3, CONTEXTS.DATA_INTEGRITY_V2, CONTEXTS.BITSTRING_STATUS_V1}


async def _stock(live: LiveService, credential: dict[str, Any]) -> dict[str, Any]:
    return await asyncio.to_thread(js_stock_verify, credential, origin=live.base_url)


def _assert_verified(result: dict[str, Any], credential: dict[str, Any]) -> None:
    core, db = result["verifierCore"], result["digitalBazaar"]
    assert core["errors"] == [] and core["verified"], result
    steps = {step["id"]: step["valid"] for step in core["log"]}
    # no registries were consulted: "not registered" is what any unlisted issuer gets, not an error
    assert steps.pop("registered_issuer") is False, result
    expected = {"valid_signature": True, "expiration": True}
    if "credentialStatus" in credential:
        expected["revocation_status"] = True  # fetched from the service, its proof checked
    assert steps == expected, result
    assert db == {"verified": True, "errors": []}, result
    # nothing a verifier needed came from anywhere but the service: at most the OB JSON Schema
    # verifier-core tries to fetch for its informational schema check
    assert all(url.startswith("https://purl.imsglobal.org/spec/ob/v3p0/schema/") for url in result["refused"]), result


async def test_a_default_award_verifies_with_only_the_stock_contexts(live: LiveService) -> None:
    issuer = await live.client.create_issuer()
    achievement = await live.client.create_achievement(issuer["id"])
    response = await live.client.award(issuer["id"], achievement["id"])
    assert response.status_code == 201, response.text
    credential = response.json()["credential"]
    assert set(credential["@context"]) <= STOCK_CONTEXTS, credential["@context"]
    # every EU element is still in it, machine-readable through OB 3.0 terms, and valid OB 3.0
    assert eu_elements.read(credential["credentialSubject"]["achievement"]) == {
        "notionalWorkloadHours": EU_ELEMENTS["notional_workload_hours"],
        "assessmentType": EU_ELEMENTS["assessment_type"],
        "participationForm": EU_ELEMENTS["participation_form"],
        "qualityAssurance": EU_ELEMENTS["quality_assurance"],
    }
    assert schema.validate(credential) == []

    _assert_verified(await _stock(live, credential), credential)


async def test_a_pathway_credential_verifies_with_only_the_stock_contexts(live: LiveService) -> None:
    client = live.client
    issuer_id = (await client.create_issuer())["id"]
    courses = [(await client.create_achievement(issuer_id, name=f"Course {n}"))["id"] for n in (1, 2)]
    track = (await client.create_achievement(issuer_id, name="Track"))["id"]
    created = await client.http.post(
        f"/api/v1/issuers/{issuer_id}/pathways",
        json={"name": "Track", "achievement_id": track, "components": [{"achievement_id": c} for c in courses]},
        headers=client.admin,
    )
    assert created.status_code == 201, created.text
    for course in courses:
        assert (await client.award(issuer_id, course, recipient={"email": "ada@example.org"})).status_code == 201
    listed = await client.http.get(f"/api/v1/issuers/{issuer_id}/credentials", params={"achievement_id": track}, headers=client.admin)
    [item] = listed.json()["items"]
    fetched = await client.http.get(f"/api/v1/issuers/{issuer_id}/credentials/{item['id']}", headers=client.admin)
    credential = fetched.json()["credential"]
    assert len(credential["relatedResource"]) == 2

    _assert_verified(await _stock(live, credential), credential)


async def test_an_endorsement_verifies_with_only_the_stock_contexts(live: LiveService) -> None:
    client = live.client
    certifier = await client.create_issuer(name="Dutch Accreditation Council", url="https://accreditation.example")
    provider = await client.create_issuer(name="Turning Academy Eindhoven")
    course = await client.create_achievement(provider["id"])
    body = {"subject_issuer_id": provider["id"], "subject_achievement_id": course["id"], "endorsement_comment": "Accredited, 2026 review."}
    response = await client.http.post(f"/api/v1/issuers/{certifier['id']}/endorsements", json=body, headers=client.admin)
    assert response.status_code == 201, response.text
    credential = response.json()["credential"]
    assert credential["type"] == ["VerifiableCredential", "EndorsementCredential"]

    _assert_verified(await _stock(live, credential), credential)


async def test_a_vc_api_credential_verifies_with_only_the_stock_contexts(live: LiveService) -> None:
    client = live.client
    issuer = await client.create_issuer(vc_api={"enabled": True})
    headers = client.auth(await client.issuer_key(issuer["id"]))
    unsigned = {
        "@context": [CONTEXTS.VC_V2],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential"],
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "name": "Zoë Jansen"},
    }
    response = await client.http.post("/credentials/issue", json={"credential": unsigned}, headers=headers)
    assert response.status_code == 201, response.text
    credential = response.json()["verifiableCredential"]
    assert credential["issuer"] == issuer["did"] and credential["issuer"].startswith("did:web:")

    _assert_verified(await _stock(live, credential), credential)


async def test_an_award_as_issued_before_with_the_microcred_context_fails_stock_verifiers_and_still_verifies_here(
    live: LiveService,
) -> None:
    """What main issued until issue 11: the elements in ``microCredential`` and the unregistered
    ``https://w3id.org/microcred/v1`` in ``@context``. Re-signed here with the issuer's own key."""
    issuer = await live.client.create_issuer()
    achievement = await live.client.create_achievement(issuer["id"])
    award = (await live.client.award(issuer["id"], achievement["id"])).json()["credential"]
    unsigned = {k: v for k, v in award.items() if k != "proof"}
    unsigned["@context"] = [*award["@context"], CONTEXTS.MICROCRED_V1]
    element_free = [a for a in award["credentialSubject"]["achievement"]["alignment"] if not eu_elements.is_element(a)]
    old_achievement = {**award["credentialSubject"]["achievement"], "alignment": element_free}
    old_achievement["microCredential"] = {"type": ["MicroCredentialElements"], **eu_elements.read(award["credentialSubject"]["achievement"])}
    unsigned["credentialSubject"] = {**award["credentialSubject"], "achievement": old_achievement}
    old = issue(unsigned, signer=live.runtime.keystore.signer(issuer["did"]), loader=DocumentLoader(), created=datetime.now(UTC))

    result = await _stock(live, old)
    # what an employer's VerifierPlus or a learner's wallet showed for every award until now
    assert result["verifierCore"]["errors"] == [{"name": "invalid_signature", "message": "The signature is not valid."}], result
    assert result["digitalBazaar"]["verified"] is False and CONTEXTS.MICROCRED_V1 in result["digitalBazaar"]["errors"][0], result
    assert CONTEXTS.MICROCRED_V1 in result["refused"]

    # microcred itself still verifies it (the context stays bundled) and reads its elements
    report = await asyncio.to_thread(verify, old, resolve_key=resolver(live.runtime), fetch_status_list=_from(live))
    assert report.verdict == "valid", report.to_dict()
    assert eu_elements.read(old["credentialSubject"]["achievement"]) == eu_elements.read(award["credentialSubject"]["achievement"])


def _from(live: LiveService) -> Any:
    def fetch_status_list(url: str) -> dict[str, Any]:
        assert url.startswith(f"{live.base_url}/"), url
        with httpx.Client(trust_env=False, timeout=10) as http:
            response = http.get(url)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    return fetch_status_list


async def test_an_opted_in_issuers_award_needs_its_served_context_so_stock_digital_bazaar_refuses_it(live: LiveService) -> None:
    """What the README says next to ``extension_context``: verifier-core fetches contexts it does
    not ship, so it reads the context this service serves; a loader of bundled contexts only
    (Digital Bazaar's ``vc`` with the stock security loader) refuses the credential."""
    issuer = await live.client.create_issuer(extension_context=True)
    achievement = await live.client.create_achievement(issuer["id"])
    credential = (await live.client.award(issuer["id"], achievement["id"])).json()["credential"]
    served = f"{live.base_url}/contexts/microcred/v1.jsonld"
    assert credential["@context"][-1] == served

    result = await _stock(live, credential)
    assert result["verifierCore"]["verified"] is True, result
    assert result["digitalBazaar"]["verified"] is False and served in result["digitalBazaar"]["errors"][0], result
