"""A pathway credential issued on another host: its components are fetched over HTTP (asking for
the media type the issuer pinned), their digests checked on the bytes that arrive, and each one
verified, status included."""

from __future__ import annotations

from typing import Any

import pytest

from microcred.config import Settings

from ..factories.service import ServiceClient
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.asyncio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The verifier may reach the live service on loopback (over http)."""
    return settings.model_copy(update={"verify_allow_loopback": True})


async def test_components_on_another_host_are_fetched_checked_and_flagged_when_revoked(live: LiveService, service: ServiceClient) -> None:
    elsewhere = live.client
    issuer_id = (await elsewhere.create_issuer())["id"]
    courses = [(await elsewhere.create_achievement(issuer_id, name=f"Course {n}"))["id"] for n in (1, 2)]
    track = (await elsewhere.create_achievement(issuer_id, name="Track"))["id"]
    created = await elsewhere.http.post(
        f"/api/v1/issuers/{issuer_id}/pathways",
        json={"name": "Track", "achievement_id": track, "components": [{"achievement_id": c} for c in courses]},
        headers=elsewhere.admin,
    )
    assert created.status_code == 201, created.text
    awards = [(await elsewhere.award(issuer_id, course, recipient={"email": "ada@example.org"})).json() for course in courses]
    listed = await elsewhere.http.get(f"/api/v1/issuers/{issuer_id}/credentials", params={"achievement_id": track}, headers=elsewhere.admin)
    [item] = listed.json()["items"]
    credential: dict[str, Any] = (await elsewhere.http.get(f"/api/v1/issuers/{issuer_id}/credentials/{item['id']}", headers=elsewhere.admin)).json()["credential"]
    assert all(r["id"].startswith(f"{live.base_url}/credentials/") for r in credential["relatedResource"])

    # Verified here, where those URLs belong to another host.
    assert service.runtime.settings.base_url != live.base_url
    report = (await service.http.post("/api/v1/verify", json=credential)).json()
    assert report["valid"] and [c["state"] for c in report["components"]] == ["valid", "valid"], report

    revoked = await elsewhere.http.post(f"/api/v1/issuers/{issuer_id}/credentials/{awards[1]['id']}/revoke", headers=elsewhere.admin)
    assert revoked.status_code == 200
    report = (await service.http.post("/api/v1/verify", json=credential)).json()
    assert report["verdict"] == "valid" and [c["state"] for c in report["components"]] == ["valid", "revoked"], report
    assert next(c for c in report["checks"] if c["name"] == "components")["outcome"] == "warning"
