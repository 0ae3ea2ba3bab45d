"""One strict JSON reader on every way in: a credential with a duplicate member, or nested ten
thousand deep, is refused (4xx, naming what) by each endpoint that takes one, never read one way
here and another way elsewhere, and never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ..factories.service import ServiceClient, achievement_body
from .conftest import is_problem

pytestmark = pytest.mark.asyncio

DEEP = 10_000


async def _signed(service: ServiceClient) -> dict[str, Any]:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    response = await service.award(issuer["id"], achievement["id"])
    assert response.status_code == 201, response.text
    credential: dict[str, Any] = response.json()["credential"]
    return credential


def _with_duplicate_id(credential: dict[str, Any]) -> bytes:
    """The credential's text with a forged ``id`` before the signed one: a reader that keeps the
    last duplicate (Python's json) sees a valid credential, one that keeps the first (others) a
    forged id."""
    return b'{"id": "urn:uuid:00000000-0000-4000-8000-00000000f04d", ' + json.dumps(credential).encode()[1:]


def _deep(prefix: bytes = b"") -> bytes:
    return prefix + b'{"a":' * DEEP + b"1" + b"}" * DEEP + (b"}" if prefix else b"")


async def test_post_api_v1_verify_refuses_duplicates_and_deep_nesting(service: ServiceClient) -> None:
    credential = await _signed(service)
    assert (await service.http.post("/api/v1/verify", json=credential)).json()["verdict"] == "valid"

    for body, words in ((_with_duplicate_id(credential), "duplicate member 'id'"), (_deep(), "nested deeper than")):
        problem = is_problem(await service.http.post("/api/v1/verify", content=body, headers={"Content-Type": "application/ld+json"}), 422)
        assert words in problem["detail"], problem
        as_file = await service.http.post("/api/v1/verify", files={"file": ("credential.json", body, "application/json")})
        assert words in is_problem(as_file, 422)["detail"]


async def test_the_verify_page_upload_refuses_duplicates(service: ServiceClient) -> None:
    credential = await _signed(service)
    page = await service.http.post("/verify", files={"file": ("credential.json", _with_duplicate_id(credential), "application/json")})
    assert page.status_code == 422 and "duplicate member" in page.text, page.text[:500]
    deep = await service.http.post("/verify", files={"file": ("credential.json", _deep(), "application/json")})
    assert deep.status_code == 422 and "nested deeper than" in deep.text


async def test_the_vc_api_reads_bodies_strictly(service: ServiceClient) -> None:
    credential = await _signed(service)
    body = b'{"verifiableCredential": ' + _with_duplicate_id(credential) + b"}"
    problem = is_problem(await service.http.post("/credentials/verify", content=body, headers={"Content-Type": "application/json"}), 400)
    assert "duplicate member 'id'" in problem["detail"], problem
    deep = is_problem(await service.http.post("/credentials/verify", content=_deep(b'{"verifiableCredential": '), headers={"Content-Type": "application/json"}), 400)
    assert "nested deeper than" in deep["detail"]

    issuer = await service.create_issuer(vc_api={"enabled": True})
    headers = service.auth(await service.issuer_key(issuer["id"])) | {"Content-Type": "application/json"}
    unsigned = b'{"credential": {"type": ["VerifiableCredential"], "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"]}}'
    problem = is_problem(await service.http.post("/credentials/issue", content=unsigned, headers=headers), 400)
    assert "duplicate member 'type'" in problem["detail"]


async def test_the_issuer_api_reads_bodies_strictly(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    body = json.dumps(achievement_body()).encode()
    duplicated = b'{"name": "Another name", ' + body[1:]
    response = await service.http.post(
        f"/api/v1/issuers/{issuer['id']}/achievements", content=duplicated, headers=service.admin | {"Content-Type": "application/json"}
    )
    assert "duplicate member 'name'" in is_problem(response, 400)["detail"]
