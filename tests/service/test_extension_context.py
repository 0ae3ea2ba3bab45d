"""An issuer may opt into the microcred extension context: its credentials then also carry the
EU elements in a ``microCredential`` object, under a context this installation serves at its own
URL (and that its verifier knows without fetching)."""

from __future__ import annotations

from importlib import resources

import pytest

from microcred.credentials import CONTEXTS, eu_elements, schema

from ..factories.service import ServiceClient
from .conftest import BASE_URL

pytestmark = pytest.mark.asyncio

PATH = "/contexts/microcred/v1.jsonld"
BUNDLED = resources.files("microcred.credentials").joinpath("contexts/microcred-v1.jsonld").read_bytes()


async def test_the_extension_context_is_served_byte_for_byte_and_cacheable(service: ServiceClient) -> None:
    response = await service.http.get(PATH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    assert response.content == BUNDLED
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["access-control-allow-origin"] == "*"
    etag = response.headers["etag"]
    again = await service.http.get(PATH, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    stale = await service.http.get(PATH, headers={"If-None-Match": '"sha256-0"'})
    assert stale.status_code == 200 and stale.content == BUNDLED


async def test_an_issuer_that_opts_in_gets_the_served_context_and_both_carriers(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    assert issuer["extension_context"] is False
    achievement = await service.create_achievement(issuer["id"])
    plain = (await service.award(issuer["id"], achievement["id"])).json()["credential"]
    assert plain["@context"] == [CONTEXTS.VC_V2, CONTEXTS.OB_V3]

    patched = await service.http.patch(f"/api/v1/issuers/{issuer['id']}", json={"extension_context": True}, headers=service.admin)
    assert patched.status_code == 200 and patched.json()["extension_context"] is True
    response = await service.award(issuer["id"], achievement["id"])
    assert response.status_code == 201, response.text
    credential = response.json()["credential"]
    assert credential["@context"] == [CONTEXTS.VC_V2, CONTEXTS.OB_V3, f"{BASE_URL}{PATH}"]
    achieved = credential["credentialSubject"]["achievement"]
    assert achieved["microCredential"]["assessmentType"] == "Practical examination"
    assert eu_elements.read({"alignment": achieved["alignment"]}) == eu_elements.read({"microCredential": achieved["microCredential"]})
    assert schema.validate(credential) == []

    # this installation's verifier knows its own served context without fetching it
    report = (await service.http.post("/api/v1/verify", json=credential)).json()
    assert (report["verdict"], report["valid"]) == ("valid", True), report


async def test_an_issuer_may_opt_in_when_created(service: ServiceClient) -> None:
    issuer = await service.create_issuer(extension_context=True)
    assert issuer["extension_context"] is True
    achievement = await service.create_achievement(issuer["id"])
    credential = (await service.award(issuer["id"], achievement["id"])).json()["credential"]
    assert credential["@context"][-1] == f"{BASE_URL}{PATH}"
