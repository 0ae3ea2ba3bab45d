"""The catalogue's data layer and pages on SQLite and PostgreSQL: what is listed (published
achievements only), each filter, paging; a learner's pathway progress (valid, revoked, expired,
missing; the pathway credential once issued); the gap check with uploaded files, which writes
nothing. The browser tests (test_catalogue_browser.py) show the same to a person."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from microcred.catalogue import service as catalogue
from microcred.catalogue.service import Filters
from microcred.db.models import Base, Credential
from microcred.pathways.progress import progress

from ..factories.service import ServiceClient

pytestmark = pytest.mark.asyncio


async def _names(service: ServiceClient, filters: Filters) -> list[str]:
    async with service.runtime.sessions() as session:
        found = await catalogue.listing(session, filters=filters)
    return [e.name for e in found.achievements]


async def test_the_catalogue_lists_published_achievements_only_and_each_filter_narrows_it(service: ServiceClient) -> None:
    issuer = (await service.create_issuer())["id"]
    other = (await service.create_issuer(name="Delft Metrology Institute"))["id"]
    await service.create_achievement(issuer, name="Drawing", eqf_level=4, credits_available=2, field_of_study="Mechanical engineering")
    await service.create_achievement(issuer, name="Turning", eqf_level=5, credits_available=6, field_of_study="Mechanical engineering")
    await service.create_achievement(other, name="Measuring", eqf_level=5, credits_available=4, field_of_study="Metrology", provider={"id": "https://lab.example", "name": "Measuring Lab Delft"})
    await service.create_achievement(issuer, name="A draft", status="draft")
    retired = await service.create_achievement(issuer, name="Retired")
    assert (await service.http.post(f"/api/v1/issuers/{issuer}/achievements/{retired['id']}/retire", headers=service.admin)).status_code == 200

    assert await _names(service, Filters()) == ["Drawing", "Measuring", "Turning"]
    assert await _names(service, Filters(level=5)) == ["Measuring", "Turning"]
    assert await _names(service, Filters(field="metrology")) == ["Measuring"]
    assert await _names(service, Filters(provider="Measuring Lab Delft")) == ["Measuring"]
    assert await _names(service, Filters(min_credits=3, max_credits=5)) == ["Measuring"]
    assert await _names(service, Filters(text="DRAWING")) == ["Drawing"]
    assert await _names(service, Filters(issuer_id=other)) == ["Measuring"]

    page = await service.http.get("/catalogue", params={"level": "5", "min_credits": "", "field": ""})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Turning" in page.text and "Drawing" not in page.text and "A draft" not in page.text and "Retired" not in page.text
    assert '<html lang="en">' in page.text
    missing = await service.http.get("/catalogue/no-such-issuer")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    draft_page = await service.http.get(f"/catalogue/achievements/{retired['id']}")
    assert draft_page.status_code == 404


async def test_the_catalogue_pages_twenty_at_a_time(service: ServiceClient) -> None:
    issuer = (await service.create_issuer())["id"]
    for n in range(23):
        await service.create_achievement(issuer, name=f"Course {n:02d}")
    first = await service.http.get(f"/catalogue/{issuer}")
    assert first.text.count('class="catalogue-entry"') == 20 and "page 1 of 2" in first.text and 'rel="next"' in first.text
    second = await service.http.get(f"/catalogue/{issuer}", params={"page": 2})
    assert second.text.count('class="catalogue-entry"') == 3 and "Course 22" in second.text and 'rel="prev"' in second.text


async def _pathway(service: ServiceClient) -> tuple[str, list[dict[str, Any]], str]:
    issuer = (await service.create_issuer())["id"]
    courses = [await service.create_achievement(issuer, name=f"Course {n}") for n in "ABCD"]
    track = await service.create_achievement(issuer, name="Track")
    created = await service.http.post(
        f"/api/v1/issuers/{issuer}/pathways",
        json={"name": "Track", "achievement_id": track["id"], "components": [{"achievement_id": c["id"]} for c in courses]},
        headers=service.admin,
    )
    assert created.status_code == 201, created.text
    return issuer, courses, created.json()["id"]


async def test_progress_tells_valid_revoked_expired_and_missing_then_the_pathway_credential(service: ServiceClient) -> None:
    issuer, courses, pathway_id = await _pathway(service)
    email = "Ada@Example.org"
    awarded = [(await service.award(issuer, c["id"], recipient={"email": email})).json() for c in courses[:3]]
    revoked = await service.http.post(f"/api/v1/issuers/{issuer}/credentials/{awarded[1]['id']}/revoke", headers=service.admin)
    assert revoked.status_code == 200
    now = datetime.now(UTC)
    async with service.runtime.sessions() as session:
        await session.execute(update(Credential).where(Credential.id == awarded[2]["id"]).values(valid_until=now - timedelta(days=1)))
        await session.commit()
        [mine] = await progress(session, emails=["ada@example.org"], now=now, pathway_ids=[pathway_id])
    assert [c.state for c in mine.components] == ["valid", "revoked", "expired", "missing"]
    assert mine.held == 1 and mine.needed == 4 and mine.credential_id is None and mine.started

    # A new valid award of a revoked course counts; the fourth completes the pathway.
    for course in (courses[1], courses[2], courses[3]):
        assert (await service.award(issuer, course["id"], recipient={"email": email}, completion_date="2025-01-15")).status_code == 201
    async with service.runtime.sessions() as session:
        [mine] = await progress(session, emails=[email], now=datetime.now(UTC), pathway_ids=[pathway_id])
        stranger = await progress(session, emails=["nobody@example.org"], now=datetime.now(UTC))
    assert [c.state for c in mine.components] == ["valid"] * 4 and mine.credential_id is not None
    assert not any(p.started for p in stranger)


async def _row_counts(service: ServiceClient) -> dict[str, int]:
    async with service.runtime.sessions() as session:
        return {table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0) for table in Base.metadata.sorted_tables}


async def test_the_gap_check_reads_uploaded_files_and_writes_nothing(service: ServiceClient) -> None:
    issuer, courses, _ = await _pathway(service)
    awarded = [(await service.award(issuer, c["id"], recipient={"email": "sam@example.org"})).json() for c in courses[:2]]
    before = await _row_counts(service)
    files = [("files", (f"credential-{n}.json", json.dumps(a["credential"]).encode(), "application/json")) for n, a in enumerate(awarded)]
    files.append(("files", ("notes.txt", b"not a credential", "text/plain")))
    response = await service.http.post("/catalogue/gap-check", data={"urls": ""}, files=files)
    assert response.status_code == 200, response.text
    assert "Holds 2 of the 4 courses needed." in response.text
    assert response.text.count('data-state="missing"') == 2 and "Could not be read" in response.text
    assert await _row_counts(service) == before

    empty = await service.http.post("/catalogue/gap-check", data={"urls": ""}, files=[("files", ("", b"", "application/octet-stream"))])
    assert empty.status_code == 400 and "at least one credential" in empty.text
