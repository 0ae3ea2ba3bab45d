"""Revocation and suspension as an independent verifier sees them.

The real service runs under uvicorn on 127.0.0.1; Digital Bazaar's vc-bitstring-status-list
fetches its status lists over HTTP (from that origin only), verifies their proofs with the
issuer's keys and reads the credential's bits; microcred's own verifier reads the same lists.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from microcred.credentials import verify

from ..factories.service import resolver
from ..interop.nodejs import js_check_status
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.asyncio, pytest.mark.interop]


@dataclass(frozen=True)
class Awarded:
    issuer_id: str
    credential_id: str
    credential: dict[str, Any]
    did_documents: dict[str, Any]


async def _award_with_suspension(live: LiveService) -> Awarded:
    issuer = await live.client.create_issuer(offers_suspension=True)
    assert issuer["offers_suspension"] is True
    achievement = await live.client.create_achievement(issuer["id"])
    response = await live.client.award(issuer["id"], achievement["id"])
    assert response.status_code == 201, response.text
    body = response.json()
    credential = body["credential"]
    did = credential["issuer"]["id"]
    return Awarded(issuer["id"], body["id"], credential, {did: live.runtime.keystore.did_document(did)})


async def _digital_bazaar(live: LiveService, awarded: Awarded, *, allow_origin: str | None = None) -> dict[str, Any]:
    return await asyncio.to_thread(
        js_check_status, awarded.credential, did_documents=awarded.did_documents, allow_origin=allow_origin or live.base_url
    )


async def _microcred_verdict(live: LiveService, awarded: Awarded) -> str:
    def fetch_status_list(url: str) -> dict[str, Any]:
        if not url.startswith(f"{live.base_url}/"):
            raise ValueError(f"refusing to fetch {url}: not on the live service")
        with httpx.Client(trust_env=False, timeout=10) as http:
            response = http.get(url)
        response.raise_for_status()
        assert response.headers["content-type"].startswith("application/vc+ld+json"), response.headers
        document: dict[str, Any] = response.json()
        return document

    report = await asyncio.to_thread(
        verify, awarded.credential, resolve_key=resolver(live.runtime), fetch_status_list=fetch_status_list
    )
    status_checks = [c for c in report.checks if c.name.startswith("status:")]
    assert [c.name for c in status_checks] == ["status:message"], report.to_dict()
    assert all(c.outcome in ("passed", "failed") for c in status_checks), report.to_dict()
    return report.verdict


async def _change(live: LiveService, awarded: Awarded, change: str, **body: str) -> str:
    path = f"/api/v1/issuers/{awarded.issuer_id}/credentials/{awarded.credential_id}/{change}"
    response = await live.client.http.post(path, json=body or None, headers=live.client.admin)
    assert response.status_code == 200, response.text
    state: str = response.json()["status"]
    return state


async def test_digital_bazaar_sees_suspension_lifted_and_revocation_final(live: LiveService) -> None:
    """One combined entry (statusPurpose "message", statusSize 2). Digital Bazaar reads one bit
    at the index whatever statusSize says; that bit is set while the credential is suspended or
    revoked (status.combined), so it refuses the credential then and accepts it otherwise,
    though only microcred's verifier, which reads the two bits, can say which."""
    awarded = await _award_with_suspension(live)
    entry = awarded.credential["credentialStatus"]
    assert (entry["statusPurpose"], entry["statusSize"]) == ("message", 2)
    assert entry["statusListCredential"].startswith(f"{live.base_url}/status-lists/")

    fresh = await _digital_bazaar(live, awarded)
    none_set = {"revocation": None, "suspension": None, "message": False}
    assert (fresh["verified"], fresh["error"], fresh["status"]) == (True, None, none_set), fresh
    assert await _microcred_verdict(live, awarded) == "valid"

    assert await _change(live, awarded, "suspend") == "suspended"
    suspended = await _digital_bazaar(live, awarded)
    assert (suspended["verified"], suspended["status"]) == (True, {**none_set, "message": True}), suspended
    assert await _microcred_verdict(live, awarded) == "suspended"

    assert await _change(live, awarded, "unsuspend") == "active"
    reinstated = await _digital_bazaar(live, awarded)
    assert (reinstated["verified"], reinstated["status"]) == (True, none_set), reinstated
    assert await _microcred_verdict(live, awarded) == "valid"

    assert await _change(live, awarded, "revoke", reason="awarded to the wrong learner") == "revoked"
    revoked = await _digital_bazaar(live, awarded)
    assert (revoked["verified"], revoked["status"]) == (True, {**none_set, "message": True}), revoked
    assert await _microcred_verdict(live, awarded) == "revoked"


async def test_a_status_is_known_only_from_a_list_fetched_from_the_allowed_origin_and_verified(live: LiveService) -> None:
    awarded = await _award_with_suspension(live)
    elsewhere = await _digital_bazaar(live, awarded, allow_origin="http://localhost:1")
    # the proof still verifies offline; neither list is fetched, so neither status is known
    assert elsewhere["verified"] is True
    assert elsewhere["status"] == {"revocation": None, "suspension": None, "message": None}
    assert f'refuses to fetch "{live.base_url}/status-lists/' in elsewhere["statusErrors"]["message"]

    # without the issuer's DID document the list's proof cannot be checked, so its bits are not believed
    unverifiable = await asyncio.to_thread(js_check_status, awarded.credential, did_documents={}, allow_origin=live.base_url)
    assert unverifiable["status"] == {"revocation": None, "suspension": None, "message": None}
    assert '"BitstringStatusListCredential" not verified' in unverifiable["statusErrors"]["message"]
