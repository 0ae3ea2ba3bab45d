"""relatedResource pinning a resource on another host (VC 2.0 §5.3): the VC-API issuer fetches it
through the SSRF-safe fetcher and signs only a digest that matches; the verifier fetches it again
and rejects a credential whose pinned digest does not match what the host serves."""

from __future__ import annotations

import asyncio

import pytest

from microcred.config import Settings
from microcred.credentials import Ed25519KeyPair
from microcred.credentials.related import digest_multibase

from ..factories.service import ServiceClient
from ..interop.nodejs import js_sign
from .conftest import is_problem
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.asyncio


@pytest.fixture
def database_url(postgresql_url: str) -> str:
    """PostgreSQL only: here the live service shares the test's database, and on SQLite every
    transaction holds the write lock (BEGIN IMMEDIATE), so the issuing request would wait on the
    very service it fetches from."""
    return postgresql_url


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The fetcher may reach the live service on loopback (over http)."""
    return settings.model_copy(update={"verify_allow_loopback": True})


async def test_a_pinned_image_on_another_host_is_fetched_at_issue_and_at_verification(live: LiveService, service: ServiceClient) -> None:
    elsewhere = live.client
    issuer_id = (await elsewhere.create_issuer())["id"]
    achievement = await elsewhere.create_achievement(issuer_id)
    award = (await elsewhere.award(issuer_id, achievement["id"])).json()
    image_url = f"{award['url']}?format=png"
    assert image_url.startswith(live.base_url)
    image = (await elsewhere.http.get(image_url.removeprefix(live.base_url))).content

    vc_issuer = await service.create_issuer(vc_api={"enabled": True})
    headers = service.auth(await service.issuer_key(vc_issuer["id"]))
    pinned = {"id": image_url, "mediaType": "image/png", "digestMultibase": digest_multibase(image)}
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "name": "Ada"},
        "relatedResource": [pinned],
    }
    issued = await service.http.post("/credentials/issue", json={"credential": credential}, headers=headers)
    assert issued.status_code == 201, issued.text
    signed = issued.json()["verifiableCredential"]

    stale = {**pinned, "digestMultibase": digest_multibase(image + b"\0")}
    refused = is_problem(await service.http.post("/credentials/issue", json={"credential": {**credential, "relatedResource": [stale]}}, headers=headers), 400)
    assert refused["errors"][0]["pointer"] == "#/credential/relatedResource/0"

    verified = await service.http.post("/credentials/verify", json={"verifiableCredential": signed})
    assert verified.status_code == 200 and verified.json()["verified"] is True, verified.text
    assert "components" in verified.json()["checks"]

    # the same pin with a stale digest, signed by an issuer that did not check it (Digital Bazaar)
    seed = bytes(range(32))
    other = {**credential, "issuer": Ed25519KeyPair.from_seed(seed).controller, "relatedResource": [stale]}
    forged = await asyncio.to_thread(js_sign, other, suite="eddsa-rdfc-2022", seed=seed, created="2026-01-01T00:00:00Z")
    body = is_problem(await service.http.post("/credentials/verify", json={"verifiableCredential": forged}), 400)
    assert [e["title"] for e in body["errors"]] == ["components"]
    assert "do not match what the issuer pinned" in body["errors"][0]["detail"]
