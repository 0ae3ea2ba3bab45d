"""An achievement's image on another host is copied and served from this service's own origin:
credentials and pages never hot-link it, and what cannot be copied is a 422 naming `image`."""

from __future__ import annotations

import pytest

from microcred.config import Settings
from microcred.credentials.baking import bake_png

from ..factories.service import ServiceClient
from .conftest import is_problem
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.asyncio


@pytest.fixture
def database_url(postgresql_url: str) -> str:
    """PostgreSQL only: the live service (the other host) shares the test's database, and on
    SQLite every transaction holds the write lock, so the live service would wait on the very
    request that fetches from it."""
    return postgresql_url


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The fetcher may reach the live service, the "other host" here, on loopback (over http)."""
    return settings.model_copy(update={"verify_allow_loopback": True})


async def test_an_image_on_another_host_is_copied_and_credentials_name_our_copy(live: LiveService, service: ServiceClient) -> None:
    # a badge image on the other host: one of its credentials baked into a PNG (not our default badge)
    other_issuer = await live.client.create_issuer()
    other = (await live.client.award(other_issuer["id"], (await live.client.create_achievement(other_issuer["id"]))["id"])).json()
    elsewhere = f"{other['url']}?format=png"
    original = (await live.client.http.get(elsewhere.removeprefix(live.base_url))).content
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"], image=elsewhere)
    ours = achievement["document"]["image"]["id"]
    base = service.runtime.settings.base_url
    assert ours.startswith(f"{base}/images/") and not ours.startswith(live.base_url)

    served = await service.http.get(ours.removeprefix(base))
    assert served.status_code == 200 and served.content == original
    assert served.headers["content-type"] == "image/png" and "immutable" in served.headers["cache-control"]
    assert served.headers["x-content-type-options"] == "nosniff"

    award = await service.award(issuer["id"], achievement["id"], recipient={"email": "zoe@example.org", "name": "Zoë Jansen"})
    assert award.status_code == 201, award.text
    credential = award.json()["credential"]
    assert credential["credentialSubject"]["achievement"]["image"]["id"] == ours
    page = await service.http.get(award.json()["url"].removeprefix(base), headers={"Accept": "text/html"})
    assert f'src="{ours}"' in page.text and live.base_url not in page.text

    # the baked badge is our copy with this credential inside, not the default badge
    baked = await service.http.get(award.json()["url"].removeprefix(base), params={"format": "png"})
    assert baked.status_code == 200 and baked.content == bake_png(original, credential)

    # the same image named again is stored once, under the same URL
    again = await service.create_achievement(issuer["id"], image=elsewhere)
    assert again["document"]["image"]["id"] == ours


async def test_an_image_that_cannot_be_copied_is_refused_naming_the_field(live: LiveService, service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    for url, why in ((f"{live.base_url}/badges/missing.png", "could not be fetched"), (f"{live.base_url}/verify", "PNG, JPEG or SVG")):
        response = await service.http.post(
            f"/api/v1/issuers/{issuer['id']}/achievements",
            json={"name": "Welding basics", "description": "Welding", "criteria": {"narrative": "Weld."}, "image": url},
            headers=service.admin,
        )
        body = is_problem(response, 422)
        assert body["errors"][0]["pointer"] == "#/image" and why in body["errors"][0]["detail"], body
    listed = await service.http.get(f"/api/v1/issuers/{issuer['id']}/achievements", headers=service.admin)
    assert listed.json()["items"] == []  # nothing half-written


async def test_an_unknown_image_is_not_found(service: ServiceClient) -> None:
    is_problem(await service.http.get("/images/" + "0" * 64), 404)
    is_problem(await service.http.get("/images/../etc"), 404)
